import express, { type RequestHandler } from 'express';
import fc from 'fast-check';
import { localProvider, ProviderError } from 'ipmatch';
import {
  createIpMatch,
  type IpMatch,
  IpMatchConfigError,
  type IpMatchDecision,
  ipMatch,
} from 'ipmatch/express';
import request from 'supertest';
import { afterAll, describe, expect, test, vi } from 'vitest';

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
  trustProxy?: unknown;
  parser?: 'json' | 'urlencoded' | 'none';
}

/** A signup app as a user writes it: trust the loopback proxy (supertest), parse JSON, ipMatch, a handler. */
function signupApp(
  middleware: RequestHandler,
  { trustProxy = 'loopback', parser = 'json' }: AppOptions = {},
) {
  const app = express();
  app.set('trust proxy', trustProxy);
  if (parser === 'json') app.use(express.json());
  if (parser === 'urlencoded') app.use(express.urlencoded());
  app.post('/signup', middleware, (req, res) => {
    res.json({ created: true, decision: req.ipMatch });
  });
  return app;
}

/** A signup from `ip`: supertest connects from 127.0.0.1, a trusted proxy that forwards the client's address. */
const signup = (app: express.Express, ip: string, body: object | string = {}) =>
  request(app).post('/signup').set('X-Forwarded-For', ip).send(body);

describe('match, mismatch and unknown', () => {
  const app = signupApp(ipMatch(sharedCore()));

  test.each([
    ['IPv4', GB_PHONE, GB_IP, GB_IP],
    ['IPv6', US_PHONE, US_IPV6, US_IPV6],
    ['IPv4-mapped', GB_PHONE, `::ffff:${GB_IP}`, GB_IP],
    ['a fictional-range GB number', GB_FICTIONAL, GB_IP, GB_IP],
  ])('%s: same country is a match and reaches the handler', async (_, phone, ip, address) => {
    const res = await signup(app, ip, { phone });
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(true);
    expect(res.body.decision).toMatchObject({
      action: 'allow',
      matchLevel: 'country',
      reason: 'country_match',
      ip: { address },
    });
  });

  test.each([
    ['IPv4', GB_PHONE, KR_IP, 'KR'],
    ['IPv6', GB_PHONE, US_IPV6, 'US'],
    ['IPv4-mapped', US_PHONE, `::ffff:${KR_IP}`, 'KR'],
  ])('%s: another country is a mismatch, answered 403', async (_, phone, ip) => {
    const res = await signup(app, ip, { phone });
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
    const res = await signup(app, ip, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'ip_not_public',
    });
  });

  test('a non-geographic number is unknown', async () => {
    const res = await signup(app, GB_IP, { phone: '+882 16 5000 0000' });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({ matchLevel: 'unknown', reason: 'phone_country_unknown' });
  });

  test('an unknown match blocked by policy is ip_phone_unverified', async () => {
    const strict = signupApp(ipMatch({ logger: recorder().logger, policy: { unknown: 'block' } }));
    const res = await signup(strict, '10.1.2.3', { phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'ip_phone_unverified',
      matchLevel: 'unknown',
      reason: 'ip_not_public',
    });
  });

  test('a provider failure blocked by policy is ip_match_unavailable', async () => {
    const local = localProvider();
    const down = {
      ...local,
      name: 'down',
      lookup: () => {
        throw new ProviderError('upstream_down', 'the phone service is down');
      },
    };
    const app = signupApp(ipMatch({ logger: recorder().logger, provider: down, policy: { error: 'block' } }));
    const res = await signup(app, GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'ip_match_unavailable',
      matchLevel: 'unknown',
      reason: 'lookup_failed',
    });
  });
});

describe('observe mode', () => {
  test('never answers by itself: a mismatch is flagged, with what the policy wanted', async () => {
    const app = signupApp(ipMatch({ logger: recorder().logger, mode: 'observe' }));
    const res = await signup(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({
      action: 'flag',
      policyAction: 'block',
      matchLevel: 'mismatch',
    });
  });

  test('a missing or invalid phone passes on with a phone_invalid decision', async () => {
    const app = signupApp(ipMatch(sharedCore({ mode: 'observe' })));
    for (const body of [{}, { phone: 'nope' }]) {
      const res = await signup(app, GB_IP, body);
      expect(res.status).toBe(200);
      expect(res.body.decision).toMatchObject({ matchLevel: 'unknown', reason: 'phone_invalid' });
    }
  });

  test('even without a body parser, with the warning still given', async () => {
    const { logger, codes } = recorder();
    const app = signupApp(ipMatch({ logger, mode: 'observe' }), { parser: 'none' });
    const res = await signup(app, GB_IP, { phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision.reason).toBe('phone_invalid');
    expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
  });
});

describe('per-route overrides on one shared core', () => {
  const decisions: IpMatchDecision[] = [];
  const core = sharedCore({ onDecision: (d) => decisions.push(d) });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.json());
  const ok: RequestHandler = (req, res) => {
    res.json({ decision: req.ipMatch });
  };
  app.post('/signup', ipMatch(core), ok);
  app.post('/checkout', ipMatch(core, { policy: { mismatch: 'flag' } }), ok);
  app.post('/audit', ipMatch(core, { mode: 'observe' }), ok);
  app.post('/strict', ipMatch(core, { policy: { unknown: 'block' } }), ok);

  test('the same mismatch is blocked, flagged or observed depending on the route', async () => {
    const post = (path: string) =>
      request(app).post(path).set('X-Forwarded-For', KR_IP).send({ phone: GB_PHONE });
    decisions.length = 0;
    expect((await post('/signup')).status).toBe(403);
    const checkout = await post('/checkout');
    expect(checkout.status).toBe(200);
    expect(checkout.body.decision).toMatchObject({ action: 'flag', policyAction: 'flag' });
    const audit = await post('/audit');
    expect(audit.status).toBe(200);
    expect(audit.body.decision).toMatchObject({ action: 'flag', policyAction: 'block' });
    // Every route reported to the one core's onDecision: no route built a core of its own.
    expect(decisions.map((d) => d.action)).toEqual(['block', 'flag', 'flag']);
  });

  test('a route policy merges over the core policy', async () => {
    const res = await request(app)
      .post('/strict')
      .set('X-Forwarded-For', '10.0.0.7')
      .send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ip_phone_unverified');
    const match = await request(app).post('/strict').set('X-Forwarded-For', GB_IP).send({ phone: GB_PHONE });
    expect(match.status).toBe(200);
  });
});

describe('route options', () => {
  const core = sharedCore();

  test("phone: a dot path such as 'user.phone'", async () => {
    const app = signupApp(ipMatch(core, { phone: 'user.phone' }));
    expect((await signup(app, KR_IP, { user: { phone: GB_PHONE } })).status).toBe(403);
    expect((await signup(app, GB_IP, { user: { phone: GB_PHONE } })).status).toBe(200);
    expect((await signup(app, GB_IP, { phone: GB_PHONE })).body.message).toMatch(/"user\.phone"/);
  });

  test('phone: a function of the request', async () => {
    const app = signupApp(ipMatch(core, { phone: (req) => req.get('x-phone') }));
    const res = await request(app).post('/signup').set('X-Forwarded-For', KR_IP).set('X-Phone', GB_PHONE);
    expect(res.status).toBe(403);
  });

  test('phone from a urlencoded form', async () => {
    const app = signupApp(ipMatch(core), { parser: 'urlencoded' });
    const res = await request(app)
      .post('/signup')
      .set('X-Forwarded-For', GB_IP)
      .type('form')
      .send(`phone=${encodeURIComponent(GB_PHONE)}`);
    expect(res.status).toBe(200);
    expect(res.body.decision.reason).toBe('country_match');
  });

  test('country: a default region for national numbers, or a function', async () => {
    const gb = signupApp(ipMatch(core, { country: 'GB' }));
    const res = await signup(gb, GB_IP, { phone: '07400 123456' });
    expect(res.body.decision).toMatchObject({ reason: 'country_match', phone: { number: GB_PHONE } });

    const byHeader = signupApp(ipMatch(core, { country: (req) => req.get('x-country') }));
    const us = await signup(byHeader, US_IP, { phone: '(202) 555-0123' }).set('X-Country', 'US');
    expect(us.body.decision).toMatchObject({ reason: 'country_match', phone: { number: US_PHONE } });
  });

  test('clientIp: a function', async () => {
    const app = signupApp(ipMatch(core, { clientIp: (req) => req.get('x-test-ip') }));
    const res = await request(app).post('/signup').set('X-Test-IP', KR_IP).send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
  });

  test("clientIp: 'request-ip' behind trusted proxies", async () => {
    const app = signupApp(ipMatch(core, { clientIp: 'request-ip', trustedProxies: ['127.0.0.1'] }), {
      trustProxy: false,
    });
    const res = await request(app).post('/signup').set('X-Client-IP', KR_IP).send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
  });

  test('policy and mode', async () => {
    const flagAll = signupApp(ipMatch(core, { policy: () => 'flag' }));
    expect((await signup(flagAll, KR_IP, { phone: GB_PHONE })).body.decision.action).toBe('flag');
    const observe = signupApp(ipMatch(core, { mode: 'observe' }));
    expect((await signup(observe, KR_IP, { phone: GB_PHONE })).status).toBe(200);
  });

  test('onBlock replaces the 403, and sees the decision', async () => {
    const onBlock = vi.fn((req: express.Request, res: express.Response, decision: IpMatchDecision) => {
      res
        .status(401)
        .json({ challenge: 'verify-by-sms', level: decision.matchLevel, same: req.ipMatch === decision });
    });
    const app = signupApp(ipMatch(core, { onBlock }));
    const res = await signup(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ challenge: 'verify-by-sms', level: 'mismatch', same: true });
    expect((await signup(app, GB_IP, { phone: GB_PHONE })).status).toBe(200);
    expect(onBlock).toHaveBeenCalledTimes(1);
  });

  test('an async onBlock that rejects reaches the error handler', async () => {
    const app = signupApp(
      ipMatch(core, {
        onBlock: async () => {
          throw new Error('challenge service down');
        },
      }),
    );
    app.use(((err, _req, res, _next) => {
      res.status(502).json({ handled: (err as Error).message });
    }) as express.ErrorRequestHandler);
    const res = await signup(app, KR_IP, { phone: GB_PHONE });
    expect(res.status).toBe(502);
    expect(res.body.handled).toBe('challenge service down');
  });

  test("onInvalidPhone: 'skip' leaves bad phones to the handler", async () => {
    const app = signupApp(ipMatch(core, { onInvalidPhone: 'skip' }));
    const res = await signup(app, GB_IP, { phone: 'not a phone' });
    expect(res.status).toBe(200);
    expect(res.body.decision.reason).toBe('phone_invalid');
  });
});

describe('no body parser', () => {
  test('answers 400 naming the parsers to mount, and warns once', async () => {
    const { logger, warn, codes } = recorder();
    const app = signupApp(ipMatch({ logger }), { parser: 'none' });
    for (let i = 0; i < 3; i++) {
      const res = await signup(app, GB_IP, { phone: GB_PHONE });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_phone',
        message: expect.stringContaining('express.json()'),
      });
      expect(res.body.message).toContain('express.urlencoded()');
    }
    expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /mount express\.json\(\) or express\.urlencoded\(\) before ipMatch/,
    );
  });

  test("a client's content type that the parser skips is a 400, never a 500", async () => {
    const app = signupApp(ipMatch(sharedCore()));
    for (const type of [
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/json',
    ]) {
      const res = await request(app)
        .post('/signup')
        .set('X-Forwarded-For', GB_IP)
        .set('Content-Type', type)
        .send(type === 'application/json' ? '{"phone":' : `phone=${GB_PHONE}`);
      expect(res.status).toBe(400);
    }
  });
});

describe('spoofing', () => {
  const core = sharedCore();

  test('X-Forwarded-For is ignored without trust proxy, with a warning', async () => {
    const { logger, codes } = recorder();
    const app = signupApp(ipMatch({ logger }), { trustProxy: false });
    const res = await signup(app, GB_IP, { phone: GB_PHONE });
    expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
    await signup(app, GB_IP, { phone: GB_PHONE });
    expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
  });

  test('trust proxy true is forgeable, so it warns once', async () => {
    const { logger, codes } = recorder();
    const app = signupApp(ipMatch({ logger }), { trustProxy: true });
    await signup(app, GB_IP, { phone: GB_PHONE });
    await signup(app, GB_IP, { phone: GB_PHONE });
    expect(codes()).toEqual(['IPMATCH_TRUST_PROXY_ALL']);
  });

  test('a trust proxy set on the parent app applies to a mounted sub-app', async () => {
    const parent = express();
    parent.set('trust proxy', 'loopback');
    const sub = express();
    sub.use(express.json());
    sub.post('/signup', ipMatch(core), (req, res) => {
      res.json({ decision: req.ipMatch });
    });
    parent.use('/v1', sub);
    const res = await request(parent)
      .post('/v1/signup')
      .set('X-Forwarded-For', KR_IP)
      .send({ phone: GB_PHONE });
    expect(res.status).toBe(403);
  });

  test('request-ip mode: X-Client-IP from an untrusted peer is ignored', async () => {
    const app = signupApp(ipMatch(core, { clientIp: 'request-ip', trustedProxies: ['10.0.0.0/8'] }));
    const res = await request(app)
      .post('/signup')
      .set('X-Client-IP', GB_IP)
      .set('X-Forwarded-For', GB_IP)
      .send({ phone: GB_PHONE });
    expect(res.status).toBe(200);
    expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
  });

  test('request-ip mode: X-Client-IP from a trusted peer is honoured', async () => {
    const app = signupApp(ipMatch(core, { clientIp: 'request-ip', trustedProxies: ['loopback'] }));
    const res = await request(app).post('/signup').set('X-Client-IP', GB_IP).send({ phone: GB_PHONE });
    expect(res.body.decision).toMatchObject({ reason: 'country_match', ip: { address: GB_IP } });
  });
});

describe('bad input gets 400, never 500', () => {
  const app = signupApp(ipMatch(sharedCore()));

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
    const res = await signup(app, GB_IP, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_phone');
    expect(typeof res.body.message).toBe('string');
  });

  test('a body with a __proto__ key cannot supply the phone', async () => {
    const res = await signup(app, GB_IP, `{"__proto__": {"phone": "${GB_PHONE}"}}`).type('json');
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
          const res = await request(app)
            .post('/signup')
            .set('X-Forwarded-For', GB_IP)
            .set('Content-Type', 'application/json')
            .send(json);
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
  });
});

test('the middleware is a named function', () => {
  expect(ipMatch(sharedCore()).name).toBe('ipMatchMiddleware');
});
