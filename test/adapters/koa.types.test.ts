import { bodyParser } from '@koa/bodyparser';
import {
  createIpMatch,
  type IpMatchDecision,
  type IpMatchMiddleware,
  ipMatch,
  type MatchLevel,
  type RouteOptions,
} from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { expectTypeOf, test } from 'vitest';

// Checked by tsc (npm run lint) as well as run: a type error here fails the build, not just this test.

test("a user's handler reads ctx.state.ipMatch.matchLevel, typed by declaration merging", async () => {
  const app = new Koa({ proxy: true, maxIpsCount: 1 });
  app.use(bodyParser());
  app.use(ipMatch({ logger: { warn() {}, error() {} } }));
  app.use((ctx) => {
    expectTypeOf(ctx.state.ipMatch).toEqualTypeOf<IpMatchDecision | undefined>();
    expectTypeOf(ctx.state.ipMatch!.matchLevel).toEqualTypeOf<MatchLevel>();
    expectTypeOf(ctx.state.ipMatch!.matchLevel).toEqualTypeOf<'country' | 'mismatch' | 'unknown'>();
    ctx.body = { matchLevel: ctx.state.ipMatch?.matchLevel };
  });
  const res = await request(app.callback())
    .post('/checkout')
    .set('X-Forwarded-For', '81.2.69.160')
    .send({ phone: '+447400123456' });
  if (res.body.matchLevel !== 'country') throw new Error(`expected a country match, got ${res.text}`);
});

test('function options receive ctx, and onBlock the decision too', () => {
  type Options = RouteOptions;
  expectTypeOf<Parameters<Extract<Options['phone'], Function>>[0]>().toEqualTypeOf<Koa.Context>();
  expectTypeOf<Parameters<Extract<Options['country'], Function>>[0]>().toEqualTypeOf<Koa.Context>();
  expectTypeOf<Parameters<Extract<Options['clientIp'], Function>>[0]>().toEqualTypeOf<Koa.Context>();
  expectTypeOf<Parameters<NonNullable<Options['onBlock']>>>().toEqualTypeOf<[Koa.Context, IpMatchDecision]>();
});

test('both call forms return a Koa middleware that app.use accepts', () => {
  const core = createIpMatch();
  const shared = ipMatch(core, { policy: { mismatch: 'flag' }, phone: (ctx) => ctx.get('x-phone') });
  expectTypeOf(shared).toEqualTypeOf<IpMatchMiddleware>();
  expectTypeOf(ipMatch({ timeoutMs: 500, phone: 'user.phone' })).toEqualTypeOf<IpMatchMiddleware>();
  expectTypeOf(ipMatch).toBeCallableWith();
  new Koa().use(shared);
  // Compile-time only: these must not type-check.
  const _never = () => {
    // @ts-expect-error a typo is not an option
    ipMatch({ phon: 'phone' });
    // @ts-expect-error a core option does not belong beside a shared core
    ipMatch(core, { timeoutMs: 500 });
    // @ts-expect-error Koa's onBlock takes (ctx, decision), not Express's (req, res, decision)
    ipMatch({ onBlock: (_ctx: Koa.Context, _res: object, _d: IpMatchDecision) => {} });
  };
  expectTypeOf(_never).toBeFunction();
  void core.close();
});
