import { type FakeVonage, type FakeVonageOptions, startFakeVonage } from 'ipmatch/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { IpMatchConfigError, ProviderError } from '../../src/core/errors.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../../src/core/provider.js';
import type { Logger } from '../../src/core/types.js';
import { createIpMatch } from '../../src/create-ip-match.js';
import { type VonageProviderOptions, vonageProvider } from '../../src/providers/vonage.js';

const GB = '+447400123456';
const FR = '+33612345678';
const US = '+14155550123';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function fakeVonage(options?: FakeVonageOptions): Promise<FakeVonage> {
  const fake = await startFakeVonage(options);
  open.push(fake);
  return fake;
}

function collect() {
  const lines: string[] = [];
  const logger: Logger = {
    warn: (msg, meta) => lines.push(`warn ${msg} ${JSON.stringify(meta ?? {})}`),
    error: (msg, meta) => lines.push(`error ${msg} ${JSON.stringify(meta ?? {})}`),
  };
  return { lines, logger };
}

function provider(fake: FakeVonage, options: Partial<VonageProviderOptions> = {}) {
  const p = vonageProvider({ apiKey: 'test-key', apiSecret: 'test-secret', baseUrl: fake.url, ...options });
  const log = collect();
  p.attach?.({ logger: log.logger });
  open.push({ close: () => p.close?.() ?? Promise.resolve() });
  return { p, lines: log.lines };
}

function request(
  p: IpMatchProvider,
  number: string,
  options: { ip?: string | null; budgetMs?: number; signal?: AbortSignal } = {},
): LookupRequest {
  const phone = p.parsePhone(number, undefined);
  if (!phone) throw new Error(`test number ${number} does not parse`);
  const budgetMs = options.budgetMs ?? 2000;
  return {
    phone,
    ip: options.ip ?? null,
    clientIp: options.ip ?? null,
    signal: options.signal ?? AbortSignal.timeout(budgetMs),
    deadline: performance.now() + budgetMs,
  };
}

const lookup = async (p: IpMatchProvider, number: string, options?: Parameters<typeof request>[2]) =>
  p.lookup!(request(p, number, options));

/** The ProviderError a lookup fails with (fails the test if it succeeds). */
async function failure(p: IpMatchProvider, number = GB, options?: Parameters<typeof request>[2]) {
  const outcome = await lookup(p, number, options).then(
    (value: PhoneLookup) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(ProviderError);
  return outcome.error as ProviderError;
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('vonageProvider: a successful lookup', () => {
  it('is a remote provider named vonage; the IP joins cache keys only with sendIp', async () => {
    const fake = await fakeVonage();
    expect(provider(fake).p).toMatchObject({ name: 'vonage', remote: true, keyIncludesIp: false });
    expect(provider(fake, { sendIp: true }).p.keyIncludesIp).toBe(true);
  });

  it('turns an Advanced answer into the phone’s country, facts and cost', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake);
    expect(await lookup(p, GB)).toEqual({
      country: 'GB',
      roamingCountry: null,
      facts: {
        carrier: 'Fake Vonage Carrier',
        networkType: 'mobile',
        valid: true,
        reachable: 'reachable',
        ported: 'not_ported',
      },
      cost: { price: '0.03000000', currency: 'EUR', remainingBalance: '10.00000000' },
    });
    expect(fake.requests[0]).toMatchObject({ path: '/ni/advanced/json', query: { number: '447400123456' } });
  });

  it('asks the configured level: basic gives the country only, standard adds carrier and cost', async () => {
    const fake = await fakeVonage();
    expect(await lookup(provider(fake, { level: 'basic' }).p, FR)).toEqual({
      country: 'FR',
      roamingCountry: null,
    });
    const standard = await lookup(provider(fake, { level: 'standard' }).p, FR);
    expect(standard).toMatchObject({
      country: 'FR',
      facts: { carrier: 'Fake Vonage Carrier' },
      cost: { price: '0.00500000' },
    });
    expect(standard.facts).not.toHaveProperty('reachable');
    expect(fake.requests.map((r) => r.level)).toEqual(['basic', 'standard']);
  });

  it('sends Basic auth in a header and never puts credentials in the URL', async () => {
    const fake = await fakeVonage();
    await lookup(provider(fake).p, GB, { ip: '81.2.69.160' });
    const [sent] = fake.requests;
    expect(sent).toMatchObject({ auth: 'header', authorized: true });
    expect(Object.keys(sent?.query ?? {})).toEqual(['number']);
  });

  it('sends the IP only with sendIp and a public IP, and cnam only when asked', async () => {
    const fake = await fakeVonage();
    await lookup(provider(fake, { sendIp: true }).p, GB, { ip: '81.2.69.160' });
    await lookup(provider(fake, { sendIp: true }).p, GB, { ip: null });
    await lookup(provider(fake, { sendIp: true, cnam: true }).p, GB, { ip: '2a00:1450:4009:81f::200e' });
    await lookup(provider(fake).p, GB, { ip: '81.2.69.160' });
    const withCnam = await lookup(provider(fake, { cnam: true }).p, US);
    expect(fake.requests.map((r) => r.query)).toEqual([
      { number: '447400123456', ip: '81.2.69.160' },
      { number: '447400123456' },
      { number: '447400123456', ip: '2a00:1450:4009:81f::200e', cnam: 'true' },
      { number: '447400123456' },
      { number: '14155550123', cnam: 'true' },
    ]);
    expect(withCnam.facts?.callerIdentity).toEqual({
      callerType: 'consumer',
      callerName: 'Jane Doe',
      firstName: 'Jane',
      lastName: 'Doe',
    });
  });

  it('reads roaming as an object, as "unknown" and as {status: "unknown"}', async () => {
    const fake = await fakeVonage({ roaming: { status: 'roaming', roaming_country_code: 'ES' } });
    const { p } = provider(fake);
    expect(await lookup(p, GB)).toMatchObject({ country: 'GB', roamingCountry: 'ES' });
    fake.set({ roaming: 'unknown' });
    expect(await lookup(p, GB)).toMatchObject({ country: 'GB', roamingCountry: null });
    fake.set({ roaming: { status: 'unknown' } });
    expect(await lookup(p, GB)).toMatchObject({ country: 'GB', roamingCountry: null });
  });

  it('honours a legacy ip object in both vocabularies', async () => {
    const fake = await fakeVonage({ ip: { ip_match_level: 'mismatch', ip_country: 'KR' } });
    const { p } = provider(fake, { sendIp: true });
    expect((await lookup(p, GB, { ip: '123.0.0.255' })).legacyIp).toEqual({
      matchLevel: 'mismatch',
      country: 'KR',
    });
    fake.set({ ip: { ip_match_level: 'Country Level', ip_country: 'GB' } });
    expect((await lookup(p, GB, { ip: '81.2.69.160' })).legacyIp).toEqual({
      matchLevel: 'country',
      country: 'GB',
    });
    fake.set({ ip: { ip_match_level: 'Mismatch', ip_country: 'KR' } });
    expect((await lookup(p, GB, { ip: '123.0.0.255' })).legacyIp).toEqual({
      matchLevel: 'mismatch',
      country: 'KR',
    });
  });

  it.each([43, 44, 45])('uses the partial data of status %i', async (status) => {
    const fake = await fakeVonage({ status });
    const result = await lookup(provider(fake).p, FR);
    expect(result).toMatchObject({
      country: 'FR',
      roamingCountry: null,
      facts: { carrier: 'Fake Vonage Carrier' },
    });
    expect(result.facts).not.toHaveProperty('reachable');
  });

  it('parses phones and IPs locally, without a call', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake);
    expect(p.parsePhone('+44 7400 123456', undefined)).toMatchObject({ number: GB, country: 'GB' });
    expect(p.parsePhone('not a phone', undefined)).toBeNull();
    expect(p.ipCountry('81.2.69.160')).toBe('GB');
    expect(fake.calls).toBe(0);
  });
});

describe('vonageProvider: failures become ProviderErrors with a code', () => {
  it.each([
    [3, 'invalid_request'],
    [4, 'invalid_credentials'],
    [5, 'upstream_error'],
    [9, 'quota_exceeded'],
    [19, 'not_allowed'],
    [999, 'invalid_request'],
    [7, 'upstream_error'],
  ])('status %i → %s', async (status, code) => {
    const fake = await fakeVonage({ status });
    const error = await failure(provider(fake).p);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(new RegExp(`^Vonage answered status ${status}: `));
    expect(fake.calls).toBe(1);
  });

  it('wrong credentials are invalid_credentials, logged loudly once without the secret', async () => {
    const fake = await fakeVonage({ apiSecret: 'the-right-secret' });
    const { p, lines } = provider(fake, { apiSecret: 'a-wrong-secret' });
    expect((await failure(p)).code).toBe('invalid_credentials');
    expect((await failure(p)).code).toBe('invalid_credentials');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error ipmatch: Vonage rejected the API key and secret/);
    expect(lines[0]).toContain('IPMATCH_VONAGE_CREDENTIALS');
    expect(lines[0]).not.toContain('secret"');
    expect(lines.join('\n')).not.toContain('a-wrong-secret');
  });

  it.each([
    [502, 'http_502', true],
    [503, 'http_503', true],
    [404, 'http_404', false],
    [401, 'http_401', false],
  ])('HTTP %i → %s', async (httpStatus, code, upstream) => {
    const fake = await fakeVonage({ httpStatus });
    const { p, lines } = provider(fake);
    const error = await failure(p);
    expect(error).toMatchObject({ code, upstream, message: `Vonage answered HTTP ${httpStatus}` });
    // A 401 most likely means bad credentials too.
    expect(lines.some((l) => l.includes('IPMATCH_VONAGE_CREDENTIALS'))).toBe(httpStatus === 401);
  });

  it('a body that is not JSON, or truncated JSON, is invalid_response', async () => {
    const fake = await fakeVonage({ body: '<html>Service Unavailable</html>' });
    const { p } = provider(fake);
    expect(await failure(p)).toMatchObject({
      code: 'invalid_response',
      message: 'Vonage answered with a body that is not JSON',
    });
    fake.set({ body: undefined, truncate: true });
    expect((await failure(p)).code).toBe('invalid_response');
  });

  it('JSON of the wrong shape is invalid_response, naming fields but not values', async () => {
    const fake = await fakeVonage();
    fake.answer(GB, { international_format_number: 447400123456 as never });
    const error = await failure(provider(fake).p);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('international_format_number');
    expect(error.message).not.toContain('447400123456');
    fake.set({ body: '[]' });
    expect((await failure(provider(fake).p)).code).toBe('invalid_response');
  });

  it('a dropped connection or a refused one is network_error', async () => {
    const fake = await fakeVonage({ drop: true });
    const error = await failure(provider(fake).p);
    expect(error.code).toBe('network_error');
    expect(error.message).toMatch(/^Vonage request to 127\.0\.0\.1:\d+ failed: /);
    const gone = await startFakeVonage();
    await gone.close();
    const refused = await failure(provider(gone).p);
    expect(refused).toMatchObject({
      code: 'network_error',
      message: expect.stringContaining('connection refused'),
    });
  });

  it('a hung upstream is cut when the signal aborts, and leaves no socket behind', async () => {
    const fake = await fakeVonage({ hang: true });
    const { p } = provider(fake);
    const controller = new AbortController();
    const pending = lookup(p, GB, { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => fake.calls === 1, 'the request to reach the fake');
    const abortedAt = performance.now();
    controller.abort();
    const error = await Promise.race([
      pending,
      new Promise((r) => setTimeout(() => r('still pending'), 1000)),
    ]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'timeout', upstream: true });
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    await until(() => fake.inFlight === 0, 'the aborted request’s socket to close');
    // undici may open one idle keep-alive socket in its place; it stays within the pool's bound.
    expect(fake.openConnections).toBeLessThanOrEqual(1);
  });

  it('an already aborted signal makes no call', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake);
    expect((await failure(p, GB, { signal: AbortSignal.abort() })).code).toBe('timeout');
    expect(fake.calls).toBe(0);
  });

  it('lookups after close() fail with closed, and close() is idempotent', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake);
    await p.close?.();
    await p.close?.();
    expect(await failure(p)).toMatchObject({ code: 'closed', upstream: false });
    expect(fake.calls).toBe(0);
  });

  it('close() ends a lookup in flight', async () => {
    const fake = await fakeVonage({ hang: true });
    const { p } = provider(fake);
    const pending = lookup(p, GB).catch((e: unknown) => e);
    await until(() => fake.calls === 1, 'the request to reach the fake');
    await p.close?.();
    expect(await pending).toMatchObject({ code: 'closed' });
    await until(() => fake.openConnections === 0, 'the socket to close');
  });
});

describe('vonageProvider: throttling', () => {
  it('retries status 1 once when the budget allows, then gives up as throttled', async () => {
    const fake = await fakeVonage({ status: 1 });
    const error = await failure(provider(fake).p, GB, { budgetMs: 3000 });
    expect(error).toMatchObject({ code: 'throttled', upstream: true });
    expect(fake.calls).toBe(2);
  });

  it('a retry that is answered gives the data', async () => {
    const fake = await fakeVonage({ fault: () => (fake.calls === 1 ? { status: 1 } : undefined) });
    expect(await lookup(provider(fake).p, GB, { budgetMs: 3000 })).toMatchObject({ country: 'GB' });
    expect(fake.calls).toBe(2);
  });

  it('HTTP 429 is throttling too', async () => {
    const fake = await fakeVonage({ httpStatus: 429 });
    expect((await failure(provider(fake).p, GB, { budgetMs: 3000 })).code).toBe('throttled');
    expect(fake.calls).toBe(2);
  });

  it('does not retry when the budget has no room for a back-off and another attempt', async () => {
    const fake = await fakeVonage({ status: 1 });
    // The signal never fires here, so that a slow machine cannot turn this into a timeout.
    const signal = new AbortController().signal;
    expect((await failure(provider(fake).p, GB, { budgetMs: 120, signal })).code).toBe('throttled');
    expect(fake.calls).toBe(1);
  });
});

describe('vonageProvider: connections', () => {
  it('reuses keep-alive sockets: 30 sequential lookups open at most 2', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake);
    for (let i = 0; i < 30; i++) await lookup(p, `+3361234${String(i).padStart(4, '0')}`);
    expect(fake.calls).toBe(30);
    expect(fake.connections).toBeLessThanOrEqual(2);
  });

  it('opens no more than `connections` sockets under concurrency', async () => {
    const fake = await fakeVonage({ latencyMs: 20 });
    const { p } = provider(fake, { connections: 3 });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => lookup(p, `+3361234${String(i).padStart(4, '0')}`)),
    );
    expect(fake.calls).toBe(20);
    expect(fake.connections).toBeLessThanOrEqual(3);
  });
});

describe('vonageProvider: circuit breaker', () => {
  it('opens after 5 consecutive failures, skips upstream, and a successful probe closes it', async () => {
    const fake = await fakeVonage({ httpStatus: 502 });
    const { p, lines } = provider(fake, { breaker: { cooldownMs: 150 } });
    for (let i = 0; i < 5; i++) expect((await failure(p)).code).toBe('http_502');
    const refused = await failure(p);
    expect(refused).toMatchObject({ code: 'circuit_open', upstream: false });
    expect(fake.calls).toBe(5);
    expect(lines.filter((l) => l.includes('IPMATCH_CIRCUIT_OPEN'))).toHaveLength(1);

    fake.set({ httpStatus: undefined });
    await new Promise((r) => setTimeout(r, 200));
    expect(await lookup(p, GB)).toMatchObject({ country: 'GB' });
    expect(fake.calls).toBe(6);
    expect(lines.filter((l) => l.includes('IPMATCH_CIRCUIT_CLOSED'))).toHaveLength(1);
    expect(await lookup(p, GB)).toMatchObject({ country: 'GB' });
  });

  it('counts timeouts, but not errors about the request or the account', async () => {
    const fake = await fakeVonage({ status: 3 });
    const { p } = provider(fake, { breaker: { failures: 2, cooldownMs: 60_000 } });
    for (let i = 0; i < 4; i++) expect((await failure(p)).code).toBe('invalid_request');
    fake.set({ status: 0, hang: true });
    for (let i = 0; i < 2; i++) expect((await failure(p, GB, { budgetMs: 50 })).code).toBe('timeout');
    expect((await failure(p)).code).toBe('circuit_open');
    expect(fake.calls).toBe(6);
  });

  it('breaker: false never opens', async () => {
    const fake = await fakeVonage({ httpStatus: 500 });
    const { p } = provider(fake, { breaker: false });
    for (let i = 0; i < 7; i++) expect((await failure(p)).code).toBe('http_500');
    expect(fake.calls).toBe(7);
  });
});

describe('vonageProvider: balance', () => {
  it('warns once when the remaining balance falls under the threshold', async () => {
    const fake = await fakeVonage({ balance: 2 });
    const { p, lines } = provider(fake, { lowBalanceWarning: 5 });
    await lookup(p, GB);
    await lookup(p, GB);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warn ipmatch: Vonage balance is low: 2\.00000000 EUR left \(warning under 5 EUR\)/,
    );
    expect(lines[0]).toContain('IPMATCH_VONAGE_LOW_BALANCE');
  });

  it('stays quiet above the threshold, and with lowBalanceWarning: false', async () => {
    const fake = await fakeVonage({ balance: 0.5 });
    const quiet = provider(fake, { lowBalanceWarning: false });
    await lookup(quiet.p, GB);
    fake.set({ balance: 50 });
    const above = provider(fake);
    await lookup(above.p, GB);
    expect([...quiet.lines, ...above.lines]).toEqual([]);
  });
});

describe('vonageProvider: lookup budget', () => {
  const ATTACKER = '81.2.69.160';
  const KR_IP = '211.234.0.1';

  /** A core on the Vonage provider, with the logger the provider reports to. */
  async function guarded(options: Partial<VonageProviderOptions> = {}) {
    const fake = await fakeVonage();
    const log = collect();
    const core = createIpMatch({
      provider: vonageProvider({
        apiKey: 'test-key',
        apiSecret: 'test-secret',
        baseUrl: fake.url,
        ...options,
      }),
      logger: log.logger,
    });
    open.push(core);
    return { fake, core, lines: log.lines };
  }

  /** `count` distinct valid UK mobile numbers, as an enumeration attack would post them. */
  const numbers = (count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => `+44740012${String(from + i).padStart(4, '0')}`);

  it('an attacker posting 1 000 distinct numbers from one IP makes 10 paid lookups; the rest are decided offline', async () => {
    const { fake, core, lines } = await guarded();
    const decisions = [];
    for (const batch of chunks(numbers(1000), 50)) {
      decisions.push(...(await Promise.all(batch.map((phone) => core.check({ phone, ip: ATTACKER })))));
    }
    expect(fake.calls).toBe(10);
    const paid = decisions.filter((d) => d.provider === 'vonage');
    const offline = decisions.filter((d) => d.budgetExceeded);
    expect(paid).toHaveLength(10);
    expect(offline).toHaveLength(990);
    expect(offline[0]).toMatchObject({
      provider: 'local',
      budgetExceeded: true,
      cached: false,
      phone: { country: 'GB', roamingCountry: null, valid: true },
    });
    expect(offline.every((d) => d.provider === 'local' && d.error === undefined && !d.cost)).toBe(true);
    // One warning for the whole flood, with a code and no number in it.
    const warnings = lines.filter((l) => l.includes('IPMATCH_LOOKUP_BUDGET'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/one client IP reached maxLookupsPerMinutePerIp \(10\)/);
    expect(lines.join('\n')).not.toMatch(/7400\d{6}/);
  });

  it('other IPs still get lookups, and numbers already looked up still answer from the cache', async () => {
    const { fake, core } = await guarded();
    const [first] = numbers(1);
    await core.check({ phone: first, ip: ATTACKER });
    for (const phone of numbers(30, 1)) await core.check({ phone, ip: ATTACKER });
    expect(fake.calls).toBe(10);
    expect(await core.check({ phone: first, ip: ATTACKER })).toMatchObject({
      provider: 'vonage',
      cached: true,
    });
    const other = await core.check({ phone: numbers(1, 500)[0], ip: KR_IP });
    expect(other).toMatchObject({ provider: 'vonage', cached: false, matchLevel: 'mismatch' });
    expect(other.budgetExceeded).toBeUndefined();
    expect(fake.calls).toBe(11);
  });

  it('an offline decision is not cached: the same number from another IP gets a real lookup', async () => {
    const { fake, core } = await guarded({ maxLookupsPerMinutePerIp: 1 });
    const [a, b] = numbers(2);
    await core.check({ phone: a, ip: ATTACKER });
    expect(await core.check({ phone: b, ip: ATTACKER })).toMatchObject({
      provider: 'local',
      budgetExceeded: true,
    });
    expect(await core.check({ phone: b, ip: KR_IP })).toMatchObject({ provider: 'vonage', cached: false });
    expect(fake.calls).toBe(2);
  });

  it('the policy still decides offline decisions: a GB phone from a KR IP is blocked', async () => {
    const { core } = await guarded({ maxLookupsPerMinutePerIp: 1 });
    await core.check({ phone: numbers(1)[0], ip: KR_IP });
    expect(await core.check({ phone: numbers(1, 1)[0], ip: KR_IP })).toMatchObject({
      action: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      provider: 'local',
      budgetExceeded: true,
    });
  });

  it('maxLookupsPerMinute caps every client together (a distributed attack)', async () => {
    const { fake, core, lines } = await guarded({ maxLookupsPerMinute: 25 });
    const phones = numbers(200);
    const decisions = await Promise.all(
      phones.map((phone, i) => core.check({ phone, ip: `81.2.69.${i % 200}` })),
    );
    expect(fake.calls).toBe(25);
    expect(decisions.filter((d) => d.budgetExceeded)).toHaveLength(175);
    expect(
      lines.filter((l) => l.includes('all clients together reached maxLookupsPerMinute (25)')),
    ).toHaveLength(1);
  });

  it('false turns each limit off', async () => {
    const { fake, core } = await guarded({ maxLookupsPerMinute: false, maxLookupsPerMinutePerIp: false });
    for (const phone of numbers(40)) await core.check({ phone, ip: ATTACKER });
    expect(fake.calls).toBe(40);
  });

  it('lookups refused by an open circuit do not spend the budget', async () => {
    const fake = await fakeVonage({ httpStatus: 502 });
    const { p } = provider(fake, {
      maxLookupsPerMinutePerIp: 3,
      breaker: { failures: 1, cooldownMs: 60_000 },
    });
    expect((await failure(p, GB, { ip: ATTACKER })).code).toBe('http_502');
    for (let i = 0; i < 5; i++) expect((await failure(p, GB, { ip: ATTACKER })).code).toBe('circuit_open');
    expect(fake.calls).toBe(1);
  });

  it('validates the limits when the provider is built', () => {
    const base = { apiKey: 'k', apiSecret: 's' };
    for (const bad of [0, -1, 2.5, '10', true]) {
      expect(() => vonageProvider({ ...base, maxLookupsPerMinutePerIp: bad as never })).toThrow(
        /maxLookupsPerMinutePerIp: expected a whole number of lookups per minute \(at least 1\), or false/,
      );
    }
    expect(() => vonageProvider({ ...base, maxLookupsPerMinute: 0 })).toThrow(/maxLookupsPerMinute: /);
    expect(() => vonageProvider({ ...base, maxLookupsPerMinutPerIp: 5 } as never)).toThrow(
      /did you mean "maxLookupsPerMinutePerIp"/,
    );
  });
});

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

describe('vonageProvider: secrets and personal data', () => {
  it('the secret, the Authorization header and the full number appear in no error, log line or result', async () => {
    const secret = 'Sup3r-Secret-Value';
    const basic = Buffer.from(`test-key:${secret}`).toString('base64');
    const fake = await fakeVonage({ apiSecret: secret });
    const seen: string[] = [];
    const { p, lines } = provider(fake, {
      apiSecret: secret,
      breaker: { failures: 100 },
      lowBalanceWarning: 100,
    });
    const scenarios: Partial<Parameters<FakeVonage['set']>[0]>[] = [
      {},
      { status: 1 },
      { status: 3 },
      { status: 4 },
      { status: 5 },
      { status: 9 },
      { status: 19 },
      { status: 44 },
      { status: 999 },
      { status: 0, httpStatus: 401 },
      { httpStatus: 429 },
      { httpStatus: 502 },
      { httpStatus: undefined, body: 'nope' },
      { body: undefined, truncate: true },
      { truncate: false, drop: true },
      { drop: false, hang: true },
    ];
    for (const scenario of scenarios) {
      fake.set(scenario);
      const outcome = await lookup(p, GB, { budgetMs: 400, ip: '81.2.69.160' }).catch((e: unknown) => e);
      seen.push(JSON.stringify(outcome));
      if (outcome instanceof Error) seen.push(outcome.message, String(outcome.stack), String(outcome.cause));
    }
    // A wrong secret logs, too.
    const wrong = provider(fake, { apiSecret: `${secret}-wrong` });
    fake.set({ hang: false });
    seen.push(String(await lookup(wrong.p, GB).catch((e: Error) => e.message)));
    const everything = [...seen, ...lines, ...wrong.lines].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(basic);
    expect(everything).not.toMatch(/authorization/i);
    expect(everything).not.toContain('7400123456');
    expect(JSON.stringify(fake.requests)).not.toContain(secret);
  });
});

describe('vonageProvider options', () => {
  const build = (options: unknown) => () => vonageProvider(options as VonageProviderOptions);

  it('requires apiKey and apiSecret', () => {
    expect(build({ apiSecret: 's' })).toThrow(IpMatchConfigError);
    expect(build({ apiSecret: 's' })).toThrow(/apiKey: expected your Vonage API key as a string/);
    expect(build({ apiKey: 'k', apiSecret: '' })).toThrow(/apiSecret: expected a non-empty API secret/);
  });

  it('suggests the right name for a misspelt option', () => {
    expect(build({ apikey: 'k', apiSecret: 's' })).toThrow(/apikey: unknown option; did you mean "apiKey"\?/);
    expect(build({ apiKey: 'k', apiSecret: 's', sendIP: true })).toThrow(/did you mean "sendIp"/);
    expect(build({ apiKey: 'k', apiSecret: 's', breaker: { cooldown: 5 } })).toThrow(
      /breaker\.cooldown: unknown option; did you mean "cooldownMs"/,
    );
  });

  it('never echoes a wrongly typed secret', () => {
    const error = (() => {
      try {
        vonageProvider({ apiKey: 'k', apiSecret: 987654321 as never });
      } catch (e) {
        return e as IpMatchConfigError;
      }
    })();
    expect(error?.problems).toEqual([
      'apiSecret: expected your Vonage API secret as a string, got a number (value not shown)',
    ]);
    expect(error?.message).not.toContain('987654321');
  });

  it('never echoes a secret pasted into another option, or a base URL that may hold credentials', () => {
    const secret = 'Sup3r-Secret-Value-0123456789';
    const message = (options: object) => {
      try {
        vonageProvider({ apiKey: 'k', apiSecret: secret, ...options } as VonageProviderOptions);
      } catch (e) {
        return (e as IpMatchConfigError).message;
      }
      throw new Error('expected a config error');
    };
    const messages = [
      message({ baseUrl: `https://k:${secret}@api.nexmo.com` }),
      message({ baseUrl: `https://api.nexmo.com/?api_secret=${secret}` }),
      message({ baseUrl: 'https://user:other-password@proxy.example' }),
      message({ level: secret }),
      message({ [secret]: true }),
    ];
    expect(messages[0]).toMatch(/baseUrl: expected an http\(s\) URL without credentials, query or hash/);
    expect(messages[3]).toMatch(/level: Invalid option: expected one of/);
    for (const m of messages) {
      expect(m).not.toContain(secret.slice(0, 6));
      expect(m).not.toContain('other-password');
    }
    // No value is shown, not even one that could not be a secret; a typo still gets its did-you-mean.
    expect(message({ level: 'premium' })).toMatch(/level: .*got a string \(value not shown\)$/);
    expect(message({ level: 'advance' })).toMatch(/did you mean "advanced"\?/);
  });

  it('rejects settings that cannot work, saying why', () => {
    const base = { apiKey: 'k', apiSecret: 's' };
    expect(build({ ...base, level: 'premium' })).toThrow(/level: /);
    expect(build({ ...base, level: 'basic', sendIp: true })).toThrow(
      /sendIp: the ip parameter needs level 'advanced'/,
    );
    expect(build({ ...base, level: 'basic', cnam: true })).toThrow(
      /cnam: cnam needs level 'standard' or 'advanced'/,
    );
    expect(build({ ...base, baseUrl: 'https://api.nexmo.com/?api_secret=x' })).toThrow(
      /baseUrl: expected an http\(s\) URL/,
    );
    expect(build({ ...base, baseUrl: 'ftp://example.com' })).toThrow(/baseUrl/);
    expect(build({ ...base, connections: 0 })).toThrow(/connections/);
    expect(build({ ...base, breaker: { failures: 0 } })).toThrow(/breaker\.failures/);
  });

  it('accepts a base URL with a path prefix (a proxy)', async () => {
    const fake = await fakeVonage();
    const { p } = provider(fake, { baseUrl: `${fake.url}/vonage/` });
    await failure(p);
    expect(fake.requests[0]?.path).toBe('/vonage/ni/advanced/json');
  });
});

describe('the Number Insight v1 shutdown on 2027-02-04', () => {
  const at = (iso: string) => () => Date.parse(iso);

  it('is silent before 2027-01-05, then warns once when the core is built, naming the replacement', async () => {
    const fake = await fakeVonage();
    expect(provider(fake, { now: at('2027-01-04T23:59:59Z') }).lines).toEqual([]);
    const { lines } = provider(fake, { now: at('2027-01-05T00:00:00Z') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warn .*Number Insight v1 down on 2027-02-04: move to identityInsightsProvider\(\).*IPMATCH_VONAGE_NI_SHUTDOWN/,
    );
  });

  it('after the shutdown, every lookup error says so; before it, errors are as they were', async () => {
    const fake = await fakeVonage({ httpStatus: 410 });
    const request = (): LookupRequest => ({
      phone: { number: GB, country: 'GB', valid: true },
      ip: null,
      clientIp: null,
      signal: new AbortController().signal,
      deadline: performance.now() + 2000,
    });
    const after = provider(fake, { now: at('2027-02-04T00:00:00Z') }).p;
    const error = await Promise.resolve(after.lookup!(request())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      code: 'http_410',
      message:
        /HTTP 410\. Vonage shuts Number Insight v1 down on 2027-02-04: move to identityInsightsProvider/,
    });
    const before = provider(fake, { now: at('2027-02-03T23:59:59Z') }).p;
    const plain = await Promise.resolve(before.lookup!(request())).catch((e: unknown) => e);
    expect((plain as Error).message).toBe('Vonage answered HTTP 410');
  });
});
