import fc from 'fast-check';
import {
  createIpMatch,
  type IpMatch,
  IpMatchConfigError,
  type IpMatchDecision,
  type IpMatchOptions,
  localProvider,
  ProviderError,
} from 'ipmatch';
import request from 'supertest';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { RouteOptions } from '../../src/adapters/shared/route.js';

// Test data, checked against the bundled GeoIP data and libphonenumber-js.
export const GB_PHONE = '+447400123456';
export const GB_FICTIONAL = '+447700900001'; // Ofcom drama range: GB, valid: false
export const US_PHONE = '+12025550123';
export const GB_IP = '81.2.69.160';
export const KR_IP = '211.234.0.1';
export const US_IP = '8.8.8.8';
export const US_IPV6 = '2001:4860:4860::8888';

/** A logger that records warnings, and the `code` of each, as a user's log would show them. */
export function recorder() {
  const warn = vi.fn<(msg: string, meta?: object) => void>();
  // The bundled GeoIP data is older than maxAgeDays: its one stale-data warning is not what these tests count.
  const logger = {
    warn: (msg: string, meta?: object) =>
      (meta as { code?: string } | undefined)?.code === 'IPMATCH_DATA_STALE' ? undefined : warn(msg, meta),
    error: vi.fn(),
  };
  const codes = () => warn.mock.calls.map(([, meta]) => (meta as { code?: string } | undefined)?.code);
  return { logger, warn, codes };
}

const cores: IpMatch[] = [];
afterAll(() => Promise.all(cores.map((c) => c.close())));
/**
 * A core with a quiet logger, closed after the file's tests. Velocity is off: these tests send one number from
 * many countries and many numbers from one IP, which its signals rightly flag (test/signals/velocity*.test.ts).
 */
export function sharedCore(options: IpMatchOptions = {}) {
  const core = createIpMatch({ logger: recorder().logger, velocity: false, ...options });
  cores.push(core);
  return core;
}

/** What supertest can send requests to: an Express app, or a Koa app's `callback()`. */
export type Server = Parameters<typeof request>[0];

export interface AppOptions {
  /**
   * Trust the loopback proxy (supertest connects from 127.0.0.1) to forward the client's address in
   * X-Forwarded-For. Default true.
   */
  proxy?: boolean;
  /** 'json' (default): the framework's usual JSON parser; 'forms': urlencoded forms too; 'none': no parser. */
  parser?: 'json' | 'forms' | 'none';
}

/** How one framework does what the shared suite needs, each in the framework's own terms. */
export interface AdapterHarness<Req, OnBlock, Mw extends (...args: never[]) => unknown> {
  /** Names the describe block, e.g. 'Express 5'. */
  name: string;
  /** The adapter's entry point. */
  ipMatch: {
    (options?: IpMatchOptions & RouteOptions<Req, OnBlock>): Mw;
    (core: IpMatch, route?: RouteOptions<Req, OnBlock>): Mw;
  };
  /** An app as a user writes it: the body parser, `routes` as POST handlers, then a handler answering 200
   * `{ ok: true, decision }` with the decision it saw. */
  app(routes: Record<string, Mw>, options?: AppOptions): Server;
  /** The decision a handler sees: `req.ipMatch` or `ctx.state.ipMatch`. */
  decision(req: Req): IpMatchDecision | undefined;
  /** A request header, for function options. */
  header(req: Req, name: string): string | undefined;
  /** The parsed body, for function options (a promise where the framework reads it on demand, as Hono). */
  body(req: Req): unknown;
  /** An onBlock in the framework's signature that answers what `answer` returns. */
  onBlock(
    answer: (
      decision: IpMatchDecision,
      seen: IpMatchDecision | undefined,
    ) => { status: number; body: object },
  ): OnBlock;
  /**
   * Without a body parser: what the developer's warning names and says (the end user's 400 names none of it).
   * null where ipmatch reads the body itself (fetch-standard requests), so that no parser can be missing.
   */
  noParser: { names: string[]; warning: RegExp } | null;
  /**
   * false where the framework has no proxy setting of its own (Hono): the suite's trusted proxy is then a
   * load balancer that hands the client's address over as the connection's peer (PROXY protocol).
   */
  proxySetting?: boolean;
  /** How build-time option errors name the entry point. */
  entryPoint: RegExp;
}

/** A signup from `ip`: supertest connects from 127.0.0.1, a trusted proxy that forwards the client's address. */
export const signup = (app: Server, ip: string, body: object | string = {}) =>
  request(app).post('/signup').set('X-Forwarded-For', ip).send(body);

/** The behaviour every adapter shares, checked through real apps of `fw`'s framework. */
export function describeAdapter<Req, OnBlock, Mw extends (...args: never[]) => unknown>(
  fw: AdapterHarness<Req, OnBlock, Mw>,
) {
  const { ipMatch } = fw;
  const signupApp = (middleware: Mw, options?: AppOptions) => fw.app({ '/signup': middleware }, options);

  describe(fw.name, () => {
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
        expect(res.body.ok).toBe(true);
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

      test('a form body works as well as JSON', async () => {
        const forms = signupApp(ipMatch(sharedCore()), { parser: 'forms' });
        const form = (ip: string) =>
          request(forms)
            .post('/signup')
            .set('X-Forwarded-For', ip)
            .type('form')
            .send(`phone=${encodeURIComponent(GB_PHONE)}`);
        const match = await form(GB_IP);
        expect(match.status).toBe(200);
        expect(match.body.decision.reason).toBe('country_match');
        expect((await form(KR_IP)).status).toBe(403);
      });
    });

    describe('blocked answers', () => {
      test('an unknown match blocked by policy is ip_phone_unverified', async () => {
        const app = signupApp(ipMatch({ logger: recorder().logger, policy: { unknown: 'block' } }));
        const res = await signup(app, '10.1.2.3', { phone: GB_PHONE });
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
        const app = signupApp(
          ipMatch({ logger: recorder().logger, provider: down, policy: { error: 'block' } }),
        );
        const res = await signup(app, GB_IP, { phone: GB_PHONE });
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({
          error: 'ip_match_unavailable',
          matchLevel: 'unknown',
          reason: 'lookup_failed',
        });
      });
    });

    describe('signals', () => {
      const swapped = {
        ...localProvider(),
        name: 'swapped',
        lookup: ({ phone }: { phone: { country: string | null } }) => ({
          country: phone.country,
          roamingCountry: null,
          signals: ['sim_swapped' as const],
        }),
      };
      const app = (policy: IpMatchOptions['policy'], mode?: 'observe') =>
        signupApp(
          ipMatch({ logger: recorder().logger, provider: swapped, policy, ...(mode ? { mode } : {}) }),
        );

      test('a swapped SIM is flagged by default and reaches the handler', async () => {
        const res = await signup(app(undefined), GB_IP, { phone: GB_PHONE });
        expect(res.status).toBe(200);
        expect(res.body.decision).toMatchObject({ action: 'flag', signals: ['sim_swapped'] });
      });

      test('a block decided by the signal names it; one the level decided names the level', async () => {
        const blocked = await signup(app({ sim_swapped: 'block' }), GB_IP, { phone: GB_PHONE });
        expect(blocked.status).toBe(403);
        expect(blocked.body).toEqual({
          error: 'sim_swapped',
          message: expect.stringMatching(/SIM/),
          matchLevel: 'country',
          reason: 'country_match',
        });
        const both = await signup(app({ sim_swapped: 'block' }), KR_IP, { phone: GB_PHONE });
        expect(both.body).toMatchObject({ error: 'ip_phone_mismatch', reason: 'country_mismatch' });
      });

      test('observe mode lets it through, saying what the policy wanted', async () => {
        const res = await signup(app({ sim_swapped: 'block' }, 'observe'), GB_IP, { phone: GB_PHONE });
        expect(res.status).toBe(200);
        expect(res.body.decision).toMatchObject({
          action: 'flag',
          policyAction: 'block',
          signals: ['sim_swapped'],
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
        for (const body of [{}, { phone: 'nope' }, { phone: ['+44'] }]) {
          const res = await signup(app, GB_IP, body);
          expect(res.status).toBe(200);
          expect(res.body.decision).toMatchObject({ matchLevel: 'unknown', reason: 'phone_invalid' });
        }
      });

      test.skipIf(!fw.noParser)('even without a body parser, with the warning still given', async () => {
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
      const app = fw.app({
        '/signup': ipMatch(core),
        '/checkout': ipMatch(core, { policy: { mismatch: 'flag' } }),
        '/audit': ipMatch(core, { mode: 'observe' }),
        '/strict': ipMatch(core, { policy: { unknown: 'block' } }),
      });
      const post = (path: string, ip: string) =>
        request(app).post(path).set('X-Forwarded-For', ip).send({ phone: GB_PHONE });

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

    describe('route options', () => {
      const core = sharedCore();

      test("phone: a dot path such as 'user.phone'", async () => {
        const app = signupApp(ipMatch(core, { phone: 'user.phone' }));
        expect((await signup(app, KR_IP, { user: { phone: GB_PHONE } })).status).toBe(403);
        expect((await signup(app, GB_IP, { user: { phone: GB_PHONE } })).status).toBe(200);
        expect((await signup(app, GB_IP, { phone: GB_PHONE })).body.message).toMatch(/"user\.phone"/);
      });

      test.each([
        ['json', 'a body parser'],
        ['none', 'no body parser'],
      ] as const)('phone: a function of the request, with %s parser (%s)', async (parser, _) => {
        const app = signupApp(ipMatch(core, { phone: (req) => fw.header(req, 'x-phone') }), { parser });
        const res = await signup(app, KR_IP).set('X-Phone', GB_PHONE);
        expect(res.status).toBe(403);
      });

      test('a phone reader that throws is a missing phone (400), with one warning', async () => {
        const { logger, codes } = recorder();
        const app = signupApp(
          ipMatch({
            logger,
            phone: async (req) => ((await fw.body(req)) as { user: { phone: string } }).user.phone,
          }),
        );
        expect((await signup(app, GB_IP, {})).status).toBe(400);
        expect((await signup(app, GB_IP, {})).status).toBe(400);
        expect(codes()).toEqual(['IPMATCH_PHONE_READER_THREW']);
      });

      test('country: a default region for national numbers, or a function', async () => {
        const gb = signupApp(ipMatch(core, { country: 'GB' }));
        const res = await signup(gb, GB_IP, { phone: '07400 123456' });
        expect(res.body.decision).toMatchObject({ reason: 'country_match', phone: { number: GB_PHONE } });

        const byHeader = signupApp(ipMatch(core, { country: (req) => fw.header(req, 'x-country') }));
        const us = await signup(byHeader, US_IP, { phone: '(202) 555-0123' }).set('X-Country', 'US');
        expect(us.body.decision).toMatchObject({ reason: 'country_match', phone: { number: US_PHONE } });
      });

      test.each([
        ['trusted', true],
        ['untrusted', false],
      ])('clientIp: a function, with the proxy %s', async (_, proxy) => {
        const app = signupApp(ipMatch(core, { clientIp: (req) => fw.header(req, 'x-test-ip') }), { proxy });
        const res = await request(app).post('/signup').set('X-Test-IP', KR_IP).send({ phone: GB_PHONE });
        expect(res.status).toBe(403);
      });

      test('policy and mode', async () => {
        const flagAll = signupApp(ipMatch(core, { policy: () => 'flag' }));
        expect((await signup(flagAll, KR_IP, { phone: GB_PHONE })).body.decision.action).toBe('flag');
        const observe = signupApp(ipMatch(core, { mode: 'observe' }));
        expect((await signup(observe, KR_IP, { phone: GB_PHONE })).status).toBe(200);
      });

      test('onBlock replaces the 403, and sees the decision the handler would', async () => {
        const answer = vi.fn((decision: IpMatchDecision, seen: IpMatchDecision | undefined) => ({
          status: 401,
          body: { challenge: 'verify-by-sms', level: decision.matchLevel, same: seen === decision },
        }));
        const app = signupApp(ipMatch(core, { onBlock: fw.onBlock(answer) }));
        const res = await signup(app, KR_IP, { phone: GB_PHONE });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ challenge: 'verify-by-sms', level: 'mismatch', same: true });
        expect((await signup(app, GB_IP, { phone: GB_PHONE })).status).toBe(200);
        expect(answer).toHaveBeenCalledTimes(1);
      });

      test("onInvalidPhone: 'skip' leaves bad phones to the handler", async () => {
        const app = signupApp(ipMatch(core, { onInvalidPhone: 'skip' }));
        const res = await signup(app, GB_IP, { phone: 'not a phone' });
        expect(res.status).toBe(200);
        expect(res.body.decision.reason).toBe('phone_invalid');
      });
    });

    describe('no body parser', () => {
      test.skipIf(!fw.noParser)(
        'the end user gets a 400 without server advice; the developer one warning naming the parsers',
        async () => {
          const { logger, warn, codes } = recorder();
          const app = signupApp(ipMatch({ logger }), { parser: 'none' });
          for (let i = 0; i < 3; i++) {
            const res = await signup(app, GB_IP, { phone: GB_PHONE });
            expect(res.status).toBe(400);
            expect(res.body).toEqual({
              error: 'invalid_phone',
              message: 'The phone number could not be read from the request body.',
            });
          }
          expect(codes()).toEqual(['IPMATCH_NO_BODY_PARSER']);
          expect(warn.mock.calls[0]?.[0]).toMatch(fw.noParser!.warning);
          for (const name of fw.noParser!.names) expect(warn.mock.calls[0]?.[0]).toContain(name);
        },
      );

      test("a content type nothing reads is a 415 for the client, never a 500 or the developer's warning", async () => {
        const { logger, codes } = recorder();
        const app = signupApp(ipMatch({ logger }));
        const post = (type: string, body: string) =>
          request(app).post('/signup').set('X-Forwarded-For', GB_IP).set('Content-Type', type).send(body);
        const text = await post('text/plain', `phone=${GB_PHONE}`);
        expect([text.status, text.body]).toEqual([
          415,
          {
            error: 'unsupported_content_type',
            message: expect.stringMatching(/^Unsupported content type: /),
          },
        ]);
        expect((await post('application/xml', `<phone>${GB_PHONE}</phone>`)).status).toBe(415);
        // ipmatch reads multipart itself where it reads the body (a malformed one has no phone: 400).
        const multipart = await post('multipart/form-data; boundary=x', `phone=${GB_PHONE}`);
        expect(multipart.status).toBe(fw.noParser ? 415 : 400);
        expect((await post('application/json', '{"phone":')).status).toBe(400);
        // A parser is there: the client's odd bodies are not the developer's mistake.
        expect(codes()).toEqual([]);
      });
    });

    describe('hints for the developer, once, without the number', () => {
      test('a phone sent as a JSON number is told to send a string, not to use the international format', async () => {
        const res = await signup(signupApp(ipMatch(sharedCore())), GB_IP, { phone: 447400123456 });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: 'invalid_phone',
          message:
            'Not a valid phone number at "phone" in the request body: send it as a string, such as ' +
            '"+447400123456", not as a number.',
        });
      });

      test('a national number without a region: one IPMATCH_NATIONAL_NUMBER naming defaultCountry', async () => {
        const { logger, warn, codes } = recorder();
        const app = signupApp(ipMatch({ logger }));
        for (const phone of ['07400 123456', '07400 654321']) {
          expect((await signup(app, GB_IP, { phone })).status).toBe(400);
        }
        expect(codes()).toEqual(['IPMATCH_NATIONAL_NUMBER']);
        expect(warn.mock.calls[0]?.[0]).toContain("defaultCountry: 'GB'");
        expect(JSON.stringify(warn.mock.calls)).not.toMatch(/7400|123456/);

        const regional = recorder();
        const gb = signupApp(ipMatch({ logger: regional.logger, defaultCountry: 'GB' }));
        expect((await signup(gb, GB_IP, { phone: '07400 1' })).status).toBe(400);
        expect(regional.codes()).toEqual([]);
      });

      test("a phone at another path: one IPMATCH_PHONE_PATH naming phone: 'user.phone'", async () => {
        const { logger, warn, codes } = recorder();
        const app = signupApp(ipMatch({ logger }));
        for (let i = 0; i < 2; i++) {
          const res = await signup(app, GB_IP, { user: { name: 'Ada', phone: GB_PHONE } });
          expect(res.body.message).toBe('Missing phone number: expected it at "phone" in the request body.');
        }
        expect(codes()).toEqual(['IPMATCH_PHONE_PATH']);
        expect(warn.mock.calls[0]?.[0]).toContain("phone: 'user.phone'");
        expect(JSON.stringify(warn.mock.calls)).not.toMatch(/7400|123456/);
      });
    });

    describe('spoofing', () => {
      test('X-Forwarded-For is ignored without a trusted proxy, with a warning', async () => {
        const { logger, codes } = recorder();
        const app = signupApp(ipMatch({ logger }), { proxy: false });
        const res = await signup(app, GB_IP, { phone: GB_PHONE });
        expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
        await signup(app, GB_IP, { phone: GB_PHONE });
        expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
      });

      test.each(
        (
          [
            ['trusted', true],
            ['untrusted', false],
          ] as const
        ).filter(([, proxy]) => proxy === false || fw.proxySetting !== false),
      )(
        'request-ip mode: X-Client-IP from an untrusted peer is ignored, with a warning, the framework proxy %s',
        async (_, proxy) => {
          const { logger, codes } = recorder();
          const route = ipMatch({ logger, clientIp: 'request-ip', trustedProxies: ['10.0.0.0/8'] });
          const res = await signup(signupApp(route, { proxy }), GB_IP, { phone: GB_PHONE }).set(
            'X-Client-IP',
            GB_IP,
          );
          expect(res.status).toBe(200);
          expect(res.body.decision).toMatchObject({ reason: 'ip_not_public', ip: { address: '127.0.0.1' } });
          expect(codes()).toEqual(['IPMATCH_XFF_UNTRUSTED']);
        },
      );

      test.each(
        (
          [
            ['loopback', 'trusted', true],
            ['loopback', 'untrusted', false],
            ['127.0.0.1', 'untrusted', false],
          ] as const
        ).filter(([, , proxy]) => proxy === false || fw.proxySetting !== false),
      )(
        'request-ip mode: from a trusted peer (%s), the right-most X-Forwarded-For entry, never X-Client-IP; the framework proxy %s',
        async (peer, _, proxy) => {
          const route = ipMatch(sharedCore(), { clientIp: 'request-ip', trustedProxies: [peer] });
          const app = signupApp(route, { proxy });
          const post = (xff: string) =>
            request(app)
              .post('/signup')
              .set('X-Forwarded-For', xff)
              .set('X-Client-IP', GB_IP)
              .send({ phone: GB_PHONE });
          const gb = await post(`${KR_IP}, ${GB_IP}`);
          expect(gb.body.decision).toMatchObject({ reason: 'country_match', ip: { address: GB_IP } });
          expect((await post(`${GB_IP}, ${KR_IP}`)).status).toBe(403);
        },
      );
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
              const res = await signup(app, GB_IP).set('Content-Type', 'application/json').send(json);
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
        [
          'a prototype path',
          () => ipMatch(core, { phone: 'constructor.name' }),
          /"constructor" is not allowed/,
        ],
        ['a core option on a route', () => ipMatch(core, { cache: false } as never), /cache: a core option/],
        ['a bad region', () => ipMatch({ country: 'UK' }), /country: expected an ISO 3166-1 alpha-2 region/],
      ])('%s', (_, build, message) => {
        expect(build).toThrow(IpMatchConfigError);
        expect(build).toThrow(message);
        expect(build).toThrow(fw.entryPoint);
      });
    });

    test('the middleware is a named function', () => {
      expect(ipMatch(sharedCore()).name).toBe('ipMatchMiddleware');
    });
  });
}
