import fc from 'fast-check';
import { IpMatchConfigError } from 'ipmatch';
import { ipMatch } from 'ipmatch/fetch';
import { describe, expect, test } from 'vitest';
import { GB_IP, GB_PHONE, KR_IP, recorder, sharedCore, US_IP } from '../helpers/adapter-suite.js';

const URL_ = 'https://shop.example/signup';

/** A request as Cloudflare hands it to a Worker: the client's body, and cf-connecting-ip set by the platform. */
const signup = (ip: string, body: string | FormData | object, headers: Record<string, string> = {}) =>
  new Request(URL_, {
    method: 'POST',
    headers: {
      'cf-connecting-ip': ip,
      ...(typeof body === 'string' || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body),
  });

describe('ipmatch/fetch', () => {
  const core = sharedCore();
  const guard = ipMatch(core, { clientIp: 'cf-connecting-ip' });

  test('a match goes on with its decision; a mismatch gets the 403 JSON Response', async () => {
    const pass = await guard(signup(GB_IP, { phone: GB_PHONE }));
    expect(pass.response).toBeNull();
    expect(pass.decision).toMatchObject({ action: 'allow', reason: 'country_match', ip: { address: GB_IP } });

    const blocked = await guard(signup(KR_IP, { phone: GB_PHONE }));
    expect(blocked.decision.action).toBe('block');
    expect(blocked.response?.status).toBe(403);
    expect(blocked.response?.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await blocked.response?.json()).toEqual({
      error: 'ip_phone_mismatch',
      message: expect.stringContaining('country'),
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
    });
  });

  test('the handler can still read the body after the guard', async () => {
    const request = signup(GB_IP, { phone: GB_PHONE, name: 'Ada' });
    await guard(request);
    expect(await request.json()).toEqual({ phone: GB_PHONE, name: 'Ada' });
  });

  test('urlencoded and multipart forms', async () => {
    const form = signup(KR_IP, `phone=${encodeURIComponent(GB_PHONE)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect((await guard(form)).response?.status).toBe(403);
    const multipart = new FormData();
    multipart.set('phone', GB_PHONE);
    multipart.set('avatar', new Blob(['png']), 'me.png');
    expect((await guard(signup(GB_IP, multipart))).decision.reason).toBe('country_match');
  });

  test.each<[string, Request]>([
    ['no body', new Request(URL_, { method: 'POST', headers: { 'cf-connecting-ip': GB_IP } })],
    ['a GET', new Request(URL_, { headers: { 'cf-connecting-ip': GB_IP } })],
    ['malformed JSON', signup(GB_IP, '{"phone":', { 'content-type': 'application/json' })],
    ['a phone that is not a number', signup(GB_IP, { phone: ['+44'] })],
  ])('%s is a 400 invalid_phone, never a crash', async (_, request) => {
    const { response, decision } = await guard(request);
    expect(response?.status).toBe(400);
    expect(await response?.json()).toEqual({ error: 'invalid_phone', message: expect.any(String) });
    expect(decision.reason).toBe('phone_invalid');
  });

  test.each<[string, Request, number, string, RegExp]>([
    [
      'a declared length over 1 MiB',
      signup(GB_IP, { phone: GB_PHONE }, { 'content-length': '2000000' }),
      413,
      'body_too_large',
      /too large: at most 1 MiB/,
    ],
    [
      'a streamed body over 1 MiB, the phone in it',
      signup(GB_IP, { phone: GB_PHONE, pad: 'x'.repeat(1_100_000) }),
      413,
      'body_too_large',
      /too large: at most 1 MiB/,
    ],
    [
      'text/plain',
      signup(GB_IP, `phone=${GB_PHONE}`, { 'content-type': 'text/plain' }),
      415,
      'unsupported_content_type',
      /^Unsupported content type: send the phone number as JSON or a form\.$/,
    ],
  ])('%s is a %i %s, in the 400 shape', async (_, request, status, error, message) => {
    const { response, decision } = await guard(request);
    expect(response?.status).toBe(status);
    expect(await response?.json()).toEqual({ error, message: expect.stringMatching(message) });
    expect(decision.reason).toBe('phone_invalid');
  });

  test('arbitrary bodies never reject and never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.constantFrom(
          'application/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ),
        async (body, type) => {
          const { response } = await guard(signup(GB_IP, body, { 'content-type': type }));
          expect(response === null || response.status < 500).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('clientIp: a header takes its right-most entry; a function receives the Request', async () => {
    const xff = ipMatch(core, { clientIp: 'x-forwarded-for' });
    // The client wrote GB_IP; the platform appended the address it saw, KR_IP.
    const forged = signup('', { phone: GB_PHONE }, { 'x-forwarded-for': `${GB_IP}, ${KR_IP}` });
    expect((await xff(forged)).response?.status).toBe(403);

    const mine = ipMatch(core, {
      clientIp: (request) => new URL(request.url).searchParams.get('ip') ?? undefined,
    });
    const { decision } = await mine(
      new Request(`${URL_}?ip=${US_IP}`, {
        method: 'POST',
        body: '{"phone":"+12025550123"}',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(decision).toMatchObject({ reason: 'country_match', ip: { address: US_IP } });
  });

  test('route options as in the other adapters: phone, country, onBlock, mode', async () => {
    const fromHeader = ipMatch(core, {
      clientIp: 'cf-connecting-ip',
      phone: (request) => request.headers.get('x-phone'),
      country: 'GB',
    });
    const national = new Request(URL_, {
      method: 'POST',
      headers: { 'cf-connecting-ip': KR_IP, 'x-phone': '07400 123456' },
    });
    expect((await fromHeader(national)).decision).toMatchObject({
      action: 'block',
      phone: { number: GB_PHONE },
    });

    const challenge = ipMatch(core, {
      clientIp: 'cf-connecting-ip',
      onBlock: (_request, decision) =>
        Response.json({ verify: 'sms', level: decision.matchLevel }, { status: 401 }),
    });
    const res = (await challenge(signup(KR_IP, { phone: GB_PHONE }))).response;
    expect(res?.status).toBe(401);
    expect(await res?.json()).toEqual({ verify: 'sms', level: 'mismatch' });

    const observe = ipMatch({ logger: recorder().logger, clientIp: 'cf-connecting-ip', mode: 'observe' });
    const seen = await observe(signup(KR_IP, { phone: GB_PHONE }));
    expect(seen.response).toBeNull();
    expect(seen.decision).toMatchObject({ action: 'flag', policyAction: 'block' });
    await observe(signup(GB_IP, {})).then(({ response }) => expect(response).toBeNull());
  });

  describe('clientIp is required: a Request has no socket', () => {
    test.each<[string, () => unknown]>([
      // @ts-expect-error clientIp is required
      ['own core, no clientIp', () => ipMatch({})],
      // @ts-expect-error clientIp is required
      ['shared core, no route', () => ipMatch(core)],
    ])('%s', (_, build) => {
      expect(build).toThrow(IpMatchConfigError);
      expect(build).toThrow(/ipmatch\/fetch/);
      expect(build).toThrow(/no socket.*'cf-connecting-ip'.*one-header spoof/);
    });

    test("'request-ip' needs trustedProxies, judged by the address given to the guard", () => {
      expect(() => ipMatch(core, { clientIp: 'request-ip' })).toThrow(/needs trustedProxies/);
      expect(() => ipMatch(core, { clientIp: 'request-ip', trustedProxies: ['loopback'] })).not.toThrow();
    });

    test('a typo of a mode is not taken for a header name', () => {
      expect(() => ipMatch(core, { clientIp: 'requestip' })).toThrow(/did you mean 'request-ip'/);
      expect(() => ipMatch(core, { clientIp: 'cf connecting ip' })).toThrow(/the name of a header/);
    });
  });

  test('the guard is a named function', () => {
    expect(guard.name).toBe('ipMatchGuard');
  });
});
