import express from 'express';
import {
  createIpMatch,
  type IpMatchDecision,
  type IpMatchMiddleware,
  ipMatch,
  type MatchLevel,
  type RouteOptions,
} from 'ipmatch/express';
import request from 'supertest';
import { expectTypeOf, test } from 'vitest';

// Checked by tsc (npm run lint) as well as run: a type error here fails the build, not just this test.

test("a user's handler reads req.ipMatch.matchLevel, typed by declaration merging", async () => {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  app.post('/signup', ipMatch({ logger: { warn() {}, error() {} } }), (req, res) => {
    expectTypeOf(req.ipMatch).toEqualTypeOf<IpMatchDecision | undefined>();
    expectTypeOf(req.ipMatch!.matchLevel).toEqualTypeOf<MatchLevel>();
    expectTypeOf(req.ipMatch!.matchLevel).toEqualTypeOf<'country' | 'mismatch' | 'unknown'>();
    res.json({ matchLevel: req.ipMatch?.matchLevel });
  });
  const res = await request(app)
    .post('/signup')
    .set('X-Forwarded-For', '81.2.69.160')
    .send({ phone: '+447400123456' });
  expectTypeOf(res.body).toBeAny();
  if (res.body.matchLevel !== 'country') throw new Error(`expected a country match, got ${res.text}`);
});

test('function options receive the Express request, onBlock also the response', () => {
  type Options = RouteOptions;
  expectTypeOf<Parameters<Extract<Options['phone'], Function>>[0]>().toEqualTypeOf<express.Request>();
  expectTypeOf<Parameters<Extract<Options['clientIp'], Function>>[0]>().toEqualTypeOf<express.Request>();
  expectTypeOf<Parameters<NonNullable<Options['onBlock']>>>().toEqualTypeOf<
    [express.Request, express.Response, IpMatchDecision]
  >();
});

test('both call forms return an Express middleware', () => {
  const core = createIpMatch();
  expectTypeOf(ipMatch(core, { policy: { mismatch: 'flag' } })).toEqualTypeOf<IpMatchMiddleware>();
  expectTypeOf(ipMatch({ timeoutMs: 500, phone: 'user.phone' })).toEqualTypeOf<IpMatchMiddleware>();
  expectTypeOf(ipMatch).toBeCallableWith();
  // Compile-time only: these must not type-check.
  const _never = () => {
    // @ts-expect-error a typo is not an option
    ipMatch({ phon: 'phone' });
    // @ts-expect-error a core option does not belong beside a shared core
    ipMatch(core, { timeoutMs: 500 });
    // @ts-expect-error onInvalidPhone is 'reject' | 'skip'
    ipMatch({ onInvalidPhone: 'ignore' });
  };
  expectTypeOf(_never).toBeFunction();
  void core.close();
});
