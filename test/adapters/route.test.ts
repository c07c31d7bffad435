import {
  createIpMatch,
  IpMatchConfigError,
  type IpMatchDecision,
  type IpMatchProvider,
  localProvider,
  ProviderError,
} from 'ipmatch';
import { afterAll, describe, expect, test, vi } from 'vitest';
import {
  blockBody,
  buildRoute,
  type Framework,
  NO_BODY_PARSER,
  UnreadBody,
} from '../../src/adapters/shared/route.js';

/** A request as the shared route code sees it through a framework: here the socket address is the client. */
interface FakeReq {
  ip: string;
  headers: Record<string, string>;
}

const fw: Framework<FakeReq> = {
  name: 'ipMatch (test)',
  bodyParsers: 'the test body parser',
  ip: {
    raw: (req) => ({ headers: req.headers, socket: { remoteAddress: req.ip } }),
    framework: {
      ip: (req) => req.ip,
      trust: () => 'off',
      advice: { enableTrust: 'trust it', restrictTrust: 'restrict it' },
    },
  },
  routePattern: () => '/signup',
  method: () => 'POST',
};

const GB_PHONE = '+447400123456';
const US_PHONE = '+12025550123';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const req = (ip: string, headers: Record<string, string> = {}): FakeReq => ({ ip, headers });

function recorder() {
  const warn = vi.fn<(msg: string, meta?: object) => void>();
  const logger = { warn, error: vi.fn() };
  const codes = () => warn.mock.calls.map(([, meta]) => (meta as { code?: string } | undefined)?.code);
  return { logger, warn, codes };
}

const cores: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(cores.map((c) => c.close())));

function route(first?: unknown, second?: unknown) {
  const r = buildRoute<FakeReq, unknown>(first, second, fw);
  cores.push(r.core);
  return r;
}

describe('one request', () => {
  const { logger } = recorder();

  test('a match passes on with its decision', async () => {
    const outcome = await route({ logger }).run(req(GB_IP), { phone: GB_PHONE });
    expect(outcome.kind).toBe('next');
    expect(outcome.decision).toMatchObject({
      action: 'allow',
      matchLevel: 'country',
      reason: 'country_match',
    });
  });

  test('a mismatch is blocked with the 403 body', async () => {
    const outcome = await route({ logger }).run(req(KR_IP), { phone: GB_PHONE });
    expect(outcome).toMatchObject({
      kind: 'block',
      status: 403,
      body: { error: 'ip_phone_mismatch', matchLevel: 'mismatch', reason: 'country_mismatch' },
    });
    expect(Object.keys(outcome.kind === 'block' ? outcome.body : {})).toEqual([
      'error',
      'message',
      'matchLevel',
      'reason',
    ]);
  });

  test('a missing phone is a 400 that says where the phone was expected', async () => {
    const outcome = await route({ logger, phone: 'user.phone' }).run(req(GB_IP), { user: {} });
    expect(outcome).toMatchObject({
      kind: 'invalid',
      status: 400,
      body: {
        error: 'invalid_phone',
        message: 'Missing phone number: expected it at "user.phone" in the request body.',
      },
    });
    expect(outcome.decision.reason).toBe('phone_invalid');
  });

  test('an unparseable phone is a 400 that shows the expected format', async () => {
    const outcome = await route({ logger }).run(req(GB_IP), { phone: 'call me maybe' });
    expect(outcome).toMatchObject({ kind: 'invalid', body: { error: 'invalid_phone' } });
    expect(outcome.kind === 'invalid' && outcome.body.message).toMatch(
      /^Not a valid phone number.*\+447400123456/,
    );
  });

  test('no body parser: a 400 for the end user, and one warning naming the parser for the developer', async () => {
    const rec = recorder();
    const r = route({ logger: rec.logger });
    for (let i = 0; i < 3; i++) {
      const outcome = await r.run(req(GB_IP), NO_BODY_PARSER);
      expect(outcome).toMatchObject({
        kind: 'invalid',
        status: 400,
        body: {
          error: 'invalid_phone',
          message: 'The phone number could not be read from the request body.',
        },
      });
    }
    expect(rec.codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
    expect(rec.warn.mock.calls[0]?.[0]).toContain('mount the test body parser before ipMatch');
  });

  test.each<[string, unknown, number, object]>([
    [
      'no body at all',
      undefined,
      400,
      {
        error: 'invalid_phone',
        message: 'Missing phone number: expected it at "phone" in the request body.',
      },
    ],
    [
      'a content type the parser skipped',
      UnreadBody.unsupported,
      415,
      {
        error: 'unsupported_content_type',
        message: 'Unsupported content type: the phone number cannot be read from a body of this type.',
      },
    ],
    [
      'a content type ipmatch does not read',
      UnreadBody.notJsonOrForm,
      415,
      {
        error: 'unsupported_content_type',
        message: 'Unsupported content type: send the phone number as JSON or a form.',
      },
    ],
    [
      'a body over the limit',
      UnreadBody.tooLarge,
      413,
      { error: 'body_too_large', message: 'The request body is too large: at most 1 MiB is read.' },
    ],
  ])("%s is the client's: answered %i, with no warning", async (_, body, status, answer) => {
    const rec = recorder();
    const outcome = await route({ logger: rec.logger }).run(req(GB_IP), body);
    expect(outcome).toMatchObject({
      kind: 'invalid',
      status,
      body: answer,
      decision: { reason: 'phone_invalid' },
    });
    expect(rec.warn).not.toHaveBeenCalled();
  });

  test('a phone function that throws is a missing phone, never a server error', async () => {
    const rec = recorder();
    const r = route({
      logger: rec.logger,
      phone: (r: FakeReq) => (r.headers as unknown as { user: { phone: string } }).user.phone,
    });
    const outcome = await r.run(req(GB_IP), {});
    await r.run(req(GB_IP), {});
    expect(outcome).toMatchObject({
      kind: 'invalid',
      body: { message: 'Missing phone number: expected it.' },
    });
    expect(rec.codes()).toEqual(['IPMATCH_PHONE_READER_THREW']);
  });

  test('a phone function may be async', async () => {
    const r = route({ logger, phone: async (r: FakeReq) => r.headers['x-phone'] });
    const outcome = await r.run(req(KR_IP, { 'x-phone': GB_PHONE }), {});
    expect(outcome.kind).toBe('block');
  });
});

describe('route options', () => {
  const { logger } = recorder();

  test("country reads national numbers ('gb' is fine too)", async () => {
    for (const country of ['GB', 'gb']) {
      const outcome = await route({ logger, country }).run(req(GB_IP), { phone: '07400 123456' });
      expect(outcome.decision).toMatchObject({ reason: 'country_match', phone: { number: GB_PHONE } });
    }
  });

  test('country may be a function of the request', async () => {
    const r = route({ logger, country: (r: FakeReq) => r.headers['x-country'] });
    const us = await r.run(req('8.8.8.8', { 'x-country': 'US' }), { phone: '(202) 555-0123' });
    expect(us.decision).toMatchObject({ reason: 'country_match', phone: { number: US_PHONE } });
    const none = await r.run(req('8.8.8.8'), { phone: '(202) 555-0123' });
    expect(none.decision.reason).toBe('phone_invalid');
  });

  test("onInvalidPhone 'skip' passes bad phones on with the decision", async () => {
    const outcome = await route({ logger, onInvalidPhone: 'skip' }).run(req(GB_IP), { phone: [GB_PHONE] });
    expect(outcome).toMatchObject({ kind: 'next', decision: { reason: 'phone_invalid' } });
  });

  test('observe mode never answers: a mismatch is flagged and a bad phone passes on', async () => {
    const r = route({ logger, mode: 'observe' });
    const mismatch = await r.run(req(KR_IP), { phone: GB_PHONE });
    expect(mismatch).toMatchObject({ kind: 'next', decision: { action: 'flag', policyAction: 'block' } });
    const bad = await r.run(req(GB_IP), NO_BODY_PARSER);
    expect(bad).toMatchObject({ kind: 'next', decision: { reason: 'phone_invalid' } });
  });

  test('a shared core in observe mode keeps routes from answering 400', async () => {
    const core = createIpMatch({ logger, mode: 'observe', policy: () => 'block' });
    cores.push(core);
    const r = route(core);
    const bad = await r.run(req(GB_IP), { phone: 'nope' });
    expect(bad).toMatchObject({ kind: 'next', decision: { reason: 'phone_invalid', policyAction: 'block' } });
    // The core's own policy function still decides: the mode probe must not replace it.
    const ok = await r.run(req(GB_IP), { phone: GB_PHONE });
    expect(ok.decision).toMatchObject({ policyAction: 'block', action: 'flag' });
  });

  test('per-route policy and mode apply to that route only, on the same core', async () => {
    const decisions: IpMatchDecision[] = [];
    const core = createIpMatch({ logger, onDecision: (d) => decisions.push(d) });
    cores.push(core);
    const strict = route(core);
    const lenient = route(core, { policy: { mismatch: 'flag' } });
    const watching = route(core, { mode: 'observe' });
    const paranoid = route(core, { policy: { unknown: 'block' } });

    expect((await strict.run(req(KR_IP), { phone: GB_PHONE })).kind).toBe('block');
    expect(await lenient.run(req(KR_IP), { phone: GB_PHONE })).toMatchObject({
      kind: 'next',
      decision: { action: 'flag', policyAction: 'flag' },
    });
    expect(await watching.run(req(KR_IP), { phone: GB_PHONE })).toMatchObject({
      kind: 'next',
      decision: { action: 'flag', policyAction: 'block' },
    });
    expect(await paranoid.run(req('10.0.0.1'), { phone: GB_PHONE })).toMatchObject({
      kind: 'block',
      body: { error: 'ip_phone_unverified', matchLevel: 'unknown', reason: 'ip_not_public' },
    });
    expect(strict.core).toBe(core);
    expect(lenient.core).toBe(core);
    expect(decisions).toHaveLength(4);
    // The core's own check is untouched by the routes' overrides.
    expect((await core.check({ phone: GB_PHONE, ip: KR_IP })).action).toBe('block');
  });
});

describe('the 403 body names the cause', () => {
  const local = localProvider();
  const broken: IpMatchProvider = {
    name: 'broken',
    remote: false,
    keyIncludesIp: false,
    parsePhone: local.parsePhone,
    ipCountry: local.ipCountry,
    lookup: () => {
      throw new ProviderError('upstream_down', 'the phone service is down');
    },
  };

  test('a provider failure blocked by the error policy is ip_match_unavailable', async () => {
    const { logger } = recorder();
    const outcome = await route({ logger, provider: broken, policy: { error: 'block' } }).run(req(GB_IP), {
      phone: GB_PHONE,
    });
    expect(outcome).toMatchObject({
      kind: 'block',
      body: { error: 'ip_match_unavailable', matchLevel: 'unknown', reason: 'lookup_failed' },
      decision: { error: { code: 'upstream_down' } },
    });
  });

  test('by default a provider failure fails open', async () => {
    const { logger } = recorder();
    const outcome = await route({ logger, provider: broken }).run(req(GB_IP), { phone: GB_PHONE });
    expect(outcome).toMatchObject({ kind: 'next', decision: { action: 'allow', reason: 'lookup_failed' } });
  });

  test('blockBody maps each match level', () => {
    const base = {
      ip: { address: null, country: null, network: null },
      phone: { number: null, country: null, roamingCountry: null, type: null },
    };
    const d = (over: Partial<IpMatchDecision>): IpMatchDecision => ({
      action: 'block',
      policyAction: 'block',
      matchLevel: 'unknown',
      reason: 'ip_country_unknown',
      provider: 'local',
      signals: [],
      cached: false,
      ...base,
      ...over,
    });
    expect(blockBody(d({ matchLevel: 'mismatch', reason: 'country_mismatch' }), null).error).toBe(
      'ip_phone_mismatch',
    );
    expect(blockBody(d({}), null).error).toBe('ip_phone_unverified');
    expect(blockBody(d({ signals: ['sim_swapped'] }), 'sim_swapped').error).toBe('sim_swapped');
    expect(
      blockBody(d({ reason: 'lookup_timeout', error: { code: 'timeout', message: 'slow' } }), null),
    ).toEqual({
      error: 'ip_match_unavailable',
      message: expect.any(String),
      matchLevel: 'unknown',
      reason: 'lookup_timeout',
    });
  });
});

describe('wrong options fail at construction with messages that correct them', () => {
  const core = createIpMatch({ logger: recorder().logger });
  cores.push(core);
  const problems = (build: () => unknown): string => {
    try {
      build();
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      return (err as Error).message;
    }
    throw new Error('expected IpMatchConfigError');
  };

  test.each<[string, unknown, RegExp]>([
    ['a typo of a route option', { phon: 'phone' }, /phon: unknown option; did you mean "phone"\?/],
    ['a typo of a core option', { polcy: {} }, /polcy: unknown option; did you mean "policy"\?/],
    ['a prototype path', { phone: '__proto__.phone' }, /phone: "__proto__" is not allowed/],
    ['a phone that is neither path nor function', { phone: 42 }, /phone: expected a dot path.*got 42/],
    ['an unknown region', { country: 'XX' }, /country: expected an ISO 3166-1 alpha-2 region.*got "XX"/],
    [
      'a clientIp that is no mode and no header name',
      { clientIp: 'x forwarded for' },
      /clientIp: expected 'framework', 'request-ip', the name of a header/,
    ],
    [
      'a typo of a clientIp mode',
      { clientIp: 'request_ip' },
      /clientIp: "request_ip" is not a mode; did you mean 'request-ip'\?/,
    ],
    ['request-ip without proxies', { clientIp: 'request-ip' }, /needs trustedProxies/],
    [
      'a bad proxy',
      { clientIp: 'request-ip', trustedProxies: ['10.0.0.0/33'] },
      /trustedProxies\.0: expected an IP/,
    ],
    [
      'proxies without request-ip',
      { trustedProxies: ['10.0.0.0/8'] },
      /only used with clientIp: 'request-ip'/,
    ],
    ['a bad onInvalidPhone', { onInvalidPhone: 'ignore' }, /onInvalidPhone: .*"reject".*"skip"/],
    ['onBlock not a function', { onBlock: 'deny' }, /onBlock: expected a function/],
    ['a bad mode', { mode: 'dry-run' }, /mode: .*"enforce".*"observe"/],
  ])('%s (own core)', (_, options, message) => {
    expect(problems(() => buildRoute(options, undefined, fw))).toMatch(message);
  });

  test('every problem is listed at once', () => {
    const message = problems(() => buildRoute({ phone: 7, country: 'Britain', mode: 'x' }, undefined, fw));
    for (const field of ['phone', 'country', 'mode']) expect(message).toContain(`  - ${field}: `);
  });

  test.each<[string, unknown, RegExp]>([
    ['a core option', { timeoutMs: 100 }, /timeoutMs: a core option.*createIpMatch\(\{ timeoutMs \}\)/],
    ['a typo', { onBlok: () => {} }, /onBlok: unknown option; did you mean "onBlock"\?/],
    ['a bad route policy', { policy: { mismatch: 'deny' } }, /policy/],
    ['request-ip without proxies', { clientIp: 'request-ip' }, /needs trustedProxies/],
  ])('%s beside a shared core', (_, options, message) => {
    expect(problems(() => buildRoute(core, options, fw))).toMatch(message);
  });

  test('route options as a second argument without a core', () => {
    expect(problems(() => buildRoute({}, { phone: 'p' }, fw))).toMatch(
      /route options go in the first argument/,
    );
  });

  test('a core-like object that createIpMatch did not build', () => {
    const fake = { check: async () => ({}), close: async () => {} };
    expect(problems(() => buildRoute(fake, undefined, fw))).toMatch(/expected a core built by createIpMatch/);
  });

  test('options that are not an object', () => {
    expect(problems(() => buildRoute('phone', undefined, fw))).toMatch(/ipMatch \(test\) options/);
  });
});
