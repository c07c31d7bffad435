import { createRequire } from 'node:module';
import { bodyParser } from '@koa/bodyparser';
import fc from 'fast-check';
import { localProvider, ProviderError } from 'ipmatch';
import {
  createIpMatch,
  type IpMatch,
  IpMatchConfigError,
  type IpMatchDecision,
  type IpMatchMiddleware,
  ipMatch,
} from 'ipmatch/koa';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, describe, expect, test, vi } from 'vitest';

// Koa 2 is installed beside Koa 3 as the alias package `koa2`; it ships no types, and its API is Koa 3's here.
const require = createRequire(import.meta.url);
const Koa2 = require('koa2') as typeof Koa;
const KOAS = [
  ['Koa 3', Koa],
  ['Koa 2', Koa2],
] as const;

// Test data, checked against the bundled GeoIP data and libphonenumber-js.
const GB_PHONE = '+447400123456';
const GB_FICTIONAL = '+447700900001'; // Ofcom drama range: GB, valid: false
const US_PHONE = '+12025550123';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const US_IP = '8.8.8.8';
const US_IPV6 = '2001:4860:4860::8888';

function recorder() {
  const warn = vi.fn<(msg: string, meta?: object) => void>();
  const logger = { warn, error: vi.fn() };
  const codes = () => warn.mock.calls.map(([, meta]) => (meta as { code?: string } | undefined)?.code);
  return { logger, warn, codes };
}

const cores: IpMatch[] = [];
afterAll(() => Promise.all(cores.map((c) => c.close())));
function sharedCore(options: Parameters<typeof createIpMatch>[0] = {}) {
  const core = createIpMatch({ logger: recorder().logger, ...options });
  cores.push(core);
  return core;
}

interface AppOptions {
  Koa?: typeof Koa;
  proxy?: boolean;
  maxIpsCount?: number;
  parser?: boolean;
}

/**
 * A checkout app as a user writes it: behind one proxy (supertest plays it), a body parser, ipMatch, a handler
 * that answers with what ipMatch decided.
 */
function checkoutApp(
  middleware: IpMatchMiddleware,
  { Koa: App = Koa, proxy = true, maxIpsCount = 1, parser = true }: AppOptions = {},
) {
  const app = new App({ proxy, maxIpsCount });
  app.silent = true;
  if (parser) app.use(bodyParser());
  app.use(middleware);
  app.use((ctx) => {
    ctx.body = { ordered: true, decision: ctx.state.ipMatch };
  });
  return app;
}

/** A checkout from `ip`: supertest connects from 127.0.0.1, the proxy that forwards the client's address. */
const checkout = (app: Koa, ip: string, body: object | string = {}) =>
  request(app.callback()).post('/checkout').set('X-Forwarded-For', ip).send(body);

describe.each(KOAS)('%s', (_, App) => {
  describe('match, mismatch and unknown', () => {
    const app = checkoutApp(ipMatch(sharedCore()), { Koa: App });

    test.each([
      ['IPv4', GB_PHONE, GB_IP, GB_IP],
      ['IPv6', US_PHONE, US_IPV6, US_IPV6],
      ['IPv4-mapped', GB_PHONE, `::ffff:${GB_IP}`, GB_IP],
      ['a fictional-range GB number', GB_FICTIONAL, GB_IP, GB_IP],
    ])('%s: same country is a match and reaches the handler', async (_, phone, ip, address) => {
      const res = await checkout(app, ip, { phone });
      expect(res.status).toBe(200);
      expect(res.body.ordered).toBe(true);
      expect(res.body.decision).toMatchObject({
        action: 'allow',
        matchLevel: 'country',
        reason: 'country_match',
        ip: { address },
      });
    });

    test.each([
      ['IPv4', GB_PHONE, KR_IP],
      ['IPv6', GB_PHONE, US_IPV6],
      ['IPv4-mapped', US_PHONE, `::ffff:${KR_IP}`],
    ])('%s: another country is a mismatch, answered 403', async (_, phone, ip) => {
      const res = await checkout(app, ip, { phone });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        error: 'ip_phone_mismatch',
        message: expect.stringContaining('country'),
        matchLevel: 'mismatch',
        reason: 'country_mismatch',
      });
    });

    test.each([
      ['IPv4', '10.1.2.3'],
      ['IPv6', 'fd00::1'],
      ['IPv4-mapped', '::ffff:192.168.1.20'],
    ])('%s: a private address is unknown, allowed by default', async (_, ip) => {
      const res = await checkout(app, ip, { phone: GB_PHONE });
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({
        action: 'allow',
        matchLevel: 'unknown',
        reason: 'ip_not_public',
      });
    });

    test('a form body works as well as JSON', async () => {
      const res = await request(app.callback())
        .post('/checkout')
        .set('X-Forwarded-For', KR_IP)
        .type('form')
        .send(`phone=${encodeURIComponent(GB_PHONE)}`);
      expect(res.status).toBe(403);
    });
  });

  describe('no body parser', () => {
    test('answers 400 naming a Koa body parser, and warns once', async () => {
      const { logger, warn, codes } = recorder();
      const app = checkoutApp(ipMatch({ logger }), { Koa: App, parser: false });
      for (let i = 0; i < 3; i++) {
        const res = await checkout(app, GB_IP, { phone: GB_PHONE });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: 'invalid_phone',
          message: expect.stringContaining('@koa/bodyparser'),
        });
      }
      expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
      expect(warn.mock.calls[0]?.[0]).toMatch(/mount a Koa body parser .* before ipMatch/);
    });

    test("a client's content type that the parser skips is a 400, never a 500", async () => {
      const { logger, codes } = recorder();
      const app = checkoutApp(ipMatch({ logger }), { Koa: App });
      for (const type of [
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/json',
      ]) {
        const res = await request(app.callback())
          .post('/checkout')
          .set('X-Forwarded-For', GB_IP)
          .set('Content-Type', type)
          .send(type === 'application/json' ? '{"phone":' : `phone=${GB_PHONE}`);
        expect(res.status).toBe(400);
      }
      // The parser is there: the client's odd bodies are not the operator's mistake.
      expect(codes()).toEqual([]);
    });

    test('a GET, which body parsers skip, is a 400 without the missing-parser warning', async () => {
      const { logger, codes } = recorder();
      const app = checkoutApp(ipMatch({ logger }), { Koa: App });
      const res = await request(app.callback()).get('/checkout').set('X-Forwarded-For', GB_IP);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_phone');
      expect(codes()).toEqual([]);
    });
  });

  describe('spoofing', () => {
    test('X-Forwarded-For is ignored while app.proxy is false, with a warning', async () => {
      const { logger, codes } = recorder();
      const app = checkoutApp(ipMatch({ logger }), { Koa: App, proxy: false });
      const res = await checkout(app, GB_IP, { phone: GB_PHONE });
      expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
      await checkout(app, GB_IP, { phone: GB_PHONE });
      expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
    });

    test('maxIpsCount 0 lets a client forge the left-most entry, so it warns once', async () => {
      const { logger, warn, codes } = recorder();
      const open = checkoutApp(ipMatch({ logger }), { Koa: App, maxIpsCount: 0 });
      // The client wrote GB_IP; the proxy appended the address it saw, KR_IP.
      const forged = await checkout(open, `${GB_IP}, ${KR_IP}`, { phone: GB_PHONE });
      expect(forged.body.decision.ip.address).toBe(GB_IP);
      await checkout(open, GB_IP, { phone: GB_PHONE });
      expect(codes()).toEqual(['IPMATCH_TRUST_PROXY_ALL']);
      expect(warn.mock.calls[0]?.[0]).toMatch(/left-most X-Forwarded-For.*set maxIpsCount/);

      const one = checkoutApp(ipMatch(sharedCore()), { Koa: App, maxIpsCount: 1 });
      const honest = await checkout(one, `${GB_IP}, ${KR_IP}`, { phone: GB_PHONE });
      expect(honest.status).toBe(403);
    });

    test('request-ip mode: X-Client-IP from an untrusted peer is ignored, with a warning', async () => {
      const { logger, codes } = recorder();
      const app = checkoutApp(ipMatch({ logger, clientIp: 'request-ip', trustedProxies: ['10.0.0.0/8'] }), {
        Koa: App,
        proxy: false,
      });
      const res = await checkout(app, GB_IP, { phone: GB_PHONE }).set('X-Client-IP', GB_IP);
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
      expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
    });

    test('request-ip mode: X-Client-IP from a trusted peer is honoured', async () => {
      const route = ipMatch(sharedCore(), { clientIp: 'request-ip', trustedProxies: ['loopback'] });
      const app = checkoutApp(route, { Koa: App, proxy: false });
      const res = await request(app.callback())
        .post('/checkout')
        .set('X-Client-IP', GB_IP)
        .send({ phone: GB_PHONE });
      expect(res.body.decision).toMatchObject({ reason: 'country_match', ip: { address: GB_IP } });
    });
  });

  test('onBlock replaces the 403, and sees the decision on ctx.state', async () => {
    const onBlock = vi.fn((ctx: Koa.Context, decision: IpMatchDecision) => {
      ctx.status = 401;
      ctx.body = { challenge: 'sms', level: decision.matchLevel, same: ctx.state.ipMatch === decision };
    });
    const app = checkoutApp(ipMatch(sharedCore(), { onBlock }), { Koa: App });
    const res = await checkout(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ challenge: 'sms', level: 'mismatch', same: true });
    expect((await checkout(app, GB_IP, { phone: GB_PHONE })).status).toBe(200);
    expect(onBlock).toHaveBeenCalledTimes(1);
  });
});

describe('observe mode', () => {
  test('never answers by itself: a mismatch is flagged, with what the policy wanted', async () => {
    const app = checkoutApp(ipMatch({ logger: recorder().logger, mode: 'observe' }));
    const res = await checkout(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({
      action: 'flag',
      policyAction: 'block',
      matchLevel: 'mismatch',
    });
  });

  test('a missing or invalid phone passes on with a phone_invalid decision', async () => {
    const app = checkoutApp(ipMatch(sharedCore({ mode: 'observe' })));
    for (const body of [{}, { phone: 'nope' }, { phone: ['+44'] }]) {
      const res = await checkout(app, GB_IP, body);
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({ matchLevel: 'unknown', reason: 'phone_invalid' });
    }
  });

  test('even without a body parser, with the warning still given', async () => {
    const { logger, codes } = recorder();
    const app = checkoutApp(ipMatch({ logger, mode: 'observe' }), { parser: false });
    const res = await checkout(app, GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision.reason).toBe('phone_invalid');
    expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
  });
});

describe('per-route overrides on one shared core', () => {
  const decisions: IpMatchDecision[] = [];
  const core = sharedCore({ onDecision: (d) => decisions.push(d) });
  const routes: Record<string, IpMatchMiddleware> = {
    '/signup': ipMatch(core),
    '/checkout': ipMatch(core, { policy: { mismatch: 'flag' } }),
    '/audit': ipMatch(core, { mode: 'observe' }),
    '/strict': ipMatch(core, { policy: { unknown: 'block' } }),
  };
  const app = new Koa({ proxy: true, maxIpsCount: 1 });
  app.use(bodyParser());
  app.use((ctx, next) => routes[ctx.path]!(ctx, next));
  app.use((ctx) => {
    ctx.body = { decision: ctx.state.ipMatch };
  });
  const post = (path: string, ip: string) =>
    request(app.callback()).post(path).set('X-Forwarded-For', ip).send({ phone: GB_PHONE });

  test('the same mismatch is blocked, flagged or observed depending on the route', async () => {
    decisions.length = 0;
    expect((await post('/signup', KR_IP)).status).toBe(403);
    const flagged = await post('/checkout', KR_IP);
    expect(flagged.status).toBe(200);
    expect(flagged.body.decision).toMatchObject({ action: 'flag', policyAction: 'flag' });
    const audit = await post('/audit', KR_IP);
    expect(audit.status).toBe(200);
    expect(audit.body.decision).toMatchObject({ action: 'flag', policyAction: 'block' });
    // Every route reported to the one core's onDecision: no route built a core of its own.
    expect(decisions.map((d) => d.action)).toEqual(['block', 'flag', 'flag']);
  });

  test('a route policy merges over the core policy', async () => {
    const res = await post('/strict', '10.0.0.7');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ip_phone_unverified');
    expect((await post('/strict', GB_IP)).status).toBe(200);
  });
});

describe('route options: function options receive ctx', () => {
  const core = sharedCore();

  test("phone: a dot path such as 'user.phone'", async () => {
    const app = checkoutApp(ipMatch(core, { phone: 'user.phone' }));
    expect((await checkout(app, KR_IP, { user: { phone: GB_PHONE } })).status).toBe(403);
    expect((await checkout(app, GB_IP, { user: { phone: GB_PHONE } })).status).toBe(200);
    expect((await checkout(app, GB_IP, { phone: GB_PHONE })).body.message).toMatch(/"user\.phone"/);
  });

  test('phone: a function of ctx, which needs no body parser', async () => {
    const app = checkoutApp(ipMatch(core, { phone: (ctx) => ctx.get('x-phone') }), { parser: false });
    const res = await checkout(app, KR_IP).set('X-Phone', GB_PHONE);
    expect(res.status).toBe(403);
  });

  test('country: a default region for national numbers, or a function of ctx', async () => {
    const gb = checkoutApp(ipMatch(core, { country: 'GB' }));
    const res = await checkout(gb, GB_IP, { phone: '07400 123456' });
    expect(res.body.decision).toMatchObject({ reason: 'country_match', phone: { number: GB_PHONE } });

    const byHeader = checkoutApp(ipMatch(core, { country: (ctx) => ctx.get('x-country') || undefined }));
    const us = await checkout(byHeader, US_IP, { phone: '(202) 555-0123' }).set('X-Country', 'US');
    expect(us.body.decision).toMatchObject({ reason: 'country_match', phone: { number: US_PHONE } });
  });

  test('clientIp: a function of ctx', async () => {
    const app = checkoutApp(ipMatch(core, { clientIp: (ctx) => ctx.get('x-test-ip') }), { proxy: false });
    const res = await request(app.callback())
      .post('/checkout')
      .set('X-Test-IP', KR_IP)
      .send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
  });

  test('a phone reader that throws is a missing phone (400), with one warning', async () => {
    const { logger, codes } = recorder();
    const app = checkoutApp(
      ipMatch({
        logger,
        phone: (ctx) => (ctx.request as unknown as { body: { user: { phone: string } } }).body.user.phone,
      }),
    );
    expect((await checkout(app, GB_IP, {})).status).toBe(400);
    expect((await checkout(app, GB_IP, {})).status).toBe(400);
    expect(codes()).toEqual(['IPMATCH_PHONE_READER_THREW']);
  });

  test("onInvalidPhone: 'skip' leaves bad phones to the handler", async () => {
    const app = checkoutApp(ipMatch(core, { onInvalidPhone: 'skip' }));
    const res = await checkout(app, GB_IP, { phone: 'not a phone' });
    expect(res.status).toBe(200);
    expect(res.body.decision.reason).toBe('phone_invalid');
  });

  test('an async onBlock that rejects reaches the error-handling middleware', async () => {
    const app = new Koa({ proxy: true, maxIpsCount: 1 });
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 502;
        ctx.body = { handled: (err as Error).message };
      }
    });
    app.use(bodyParser());
    app.use(
      ipMatch(core, {
        onBlock: async () => {
          throw new Error('challenge service down');
        },
      }),
    );
    const res = await checkout(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(502);
    expect(res.body.handled).toBe('challenge service down');
  });
});

describe('blocked answers match the Express adapter', () => {
  test('an unknown match blocked by policy is ip_phone_unverified', async () => {
    const app = checkoutApp(ipMatch({ logger: recorder().logger, policy: { unknown: 'block' } }));
    const res = await checkout(app, '10.1.2.3', { phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'ip_phone_unverified',
      message: expect.any(String),
      matchLevel: 'unknown',
      reason: 'ip_not_public',
    });
  });

  test('a provider failure blocked by policy is ip_match_unavailable', async () => {
    const down = {
      ...localProvider(),
      name: 'down',
      lookup: () => {
        throw new ProviderError('upstream_down', 'the phone service is down');
      },
    };
    const app = checkoutApp(
      ipMatch({ logger: recorder().logger, provider: down, policy: { error: 'block' } }),
    );
    const res = await checkout(app, GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'ip_match_unavailable',
      matchLevel: 'unknown',
      reason: 'lookup_failed',
    });
  });
});

describe('bad input gets 400, never 500', () => {
  const app = checkoutApp(ipMatch(sharedCore()));

  test.each<[string, object]>([
    ['no phone', {}],
    ['null', { phone: null }],
    ['an array', { phone: [GB_PHONE] }],
    ['an object', { phone: { number: GB_PHONE } }],
    ['a number', { phone: 447400123456 }],
    ['a boolean', { phone: true }],
    ['an empty string', { phone: '' }],
    ['letters', { phone: 'four four seven' }],
    ['20 000 digits', { phone: '4'.repeat(20_000) }],
    ['full-width digits', { phone: '＋４４７４００１２３４５６' }],
    ['control characters', { phone: '+44\u0000 7400\u0007123456' }],
    ['a newline in the middle', { phone: '+44 7400\n123456' }],
    ['an emoji', { phone: '+44 7400 12345📞' }],
    ['a JSON array body', [GB_PHONE]],
  ])('%s', async (_, body) => {
    const res = await checkout(app, GB_IP, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_phone');
    expect(typeof res.body.message).toBe('string');
  });

  test('a body with a __proto__ key cannot supply the phone', async () => {
    const res = await checkout(app, GB_IP, `{"__proto__": {"phone": "${GB_PHONE}"}}`).type('json');
    expect(res.status).toBe(400);
  });

  test('arbitrary JSON bodies never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((phone) => JSON.stringify({ phone })),
        ),
        async (json) => {
          const res = await checkout(app, GB_IP).set('Content-Type', 'application/json').send(json);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('wrong options throw IpMatchConfigError when the middleware is built', () => {
  const core = sharedCore();

  test.each<[string, () => unknown, RegExp]>([
    ['a typo', () => ipMatch({ phon: 'phone' } as never), /phon: unknown option; did you mean "phone"\?/],
    [
      'request-ip without trustedProxies',
      () => ipMatch({ clientIp: 'request-ip' }),
      /clientIp: 'request-ip' needs trustedProxies/,
    ],
    ['a prototype path', () => ipMatch(core, { phone: 'constructor.name' }), /"constructor" is not allowed/],
    ['a core option on a route', () => ipMatch(core, { cache: false } as never), /cache: a core option/],
    ['a bad region', () => ipMatch({ country: 'UK' }), /country: expected an ISO 3166-1 alpha-2 region/],
  ])('%s', (_, build, message) => {
    expect(build).toThrow(IpMatchConfigError);
    expect(build).toThrow(message);
    expect(build).toThrow(/ipmatch\/koa/);
  });
});

test('the Koa 2 run really is on Koa 2', () => {
  expect((require('koa2/package.json') as { version: string }).version).toMatch(/^2\./);
  expect((require('koa/package.json') as { version: string }).version).toMatch(/^3\./);
});

test('the middleware is a named function', () => {
  expect(ipMatch(sharedCore()).name).toBe('ipMatchMiddleware');
});
