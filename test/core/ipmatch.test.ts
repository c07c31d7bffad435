import fc from 'fast-check';
import {
  createIpMatch,
  IpMatchConfigError,
  type IpMatchDecision,
  localProvider,
  ProviderError,
} from 'ipmatch';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../helpers/logger.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const GB_PHONE = '+447400123456';
const US_PHONE = '+12025550123';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const US_IP6 = '2001:4860:4860::8888';

const cores: { close(): Promise<void> }[] = [];
function core(...args: Parameters<typeof createIpMatch>) {
  const c = createIpMatch(...args);
  cores.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});

describe('createIpMatch() on the offline default', () => {
  it('allows a GB phone from a GB IP, with every field of the decision', async () => {
    const d = await core().check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toEqual({
      action: 'allow',
      policyAction: 'allow',
      matchLevel: 'country',
      reason: 'country_match',
      ip: { address: GB_IP, country: 'GB', network: null },
      phone: { number: GB_PHONE, country: 'GB', roamingCountry: null, type: 'mobile', valid: true },
      provider: 'local',
      signals: [],
      cached: false,
      velocity: { ip: 1, subnet: 1, phoneCountries: 1, prefix: 1 },
    });
  });

  it('blocks a GB phone from a KR IP (the seed example)', async () => {
    const d = await core().check({ phone: '+44 7700 900001', ip: KR_IP });
    expect(d).toMatchObject({
      action: 'block',
      policyAction: 'block',
      matchLevel: 'mismatch',
      reason: 'country_mismatch',
      ip: { address: KR_IP, country: 'KR' },
      phone: { number: '+447700900001', country: 'GB', valid: false },
    });
  });

  it('matches IPv6 and unwraps IPv4-mapped addresses', async () => {
    const ipm = core();
    expect(await ipm.check({ phone: US_PHONE, ip: US_IP6 })).toMatchObject({
      matchLevel: 'country',
      ip: { address: US_IP6, country: 'US' },
    });
    expect(await ipm.check({ phone: GB_PHONE, ip: `::ffff:${GB_IP}` })).toMatchObject({
      matchLevel: 'country',
      ip: { address: GB_IP, country: 'GB' },
    });
    expect(await ipm.check({ phone: US_PHONE, ip: `::ffff:${KR_IP}` })).toMatchObject({
      matchLevel: 'mismatch',
      ip: { address: KR_IP, country: 'KR' },
    });
  });

  it.each([
    ['a private IPv4', '10.1.2.3', '10.1.2.3'],
    ['loopback', '127.0.0.1', '127.0.0.1'],
    ['IPv6 loopback', '::1', '::1'],
    ['CGNAT', '100.64.0.1', '100.64.0.1'],
    ['link-local', '169.254.1.1', '169.254.1.1'],
    ['documentation', '203.0.113.7', '203.0.113.7'],
    ['garbage', 'not-an-ip', null],
    ['missing', undefined, null],
    ['null', null, null],
  ])('gives unknown / ip_not_public for %s', async (_name, ip, address) => {
    const d = await core().check({ phone: GB_PHONE, ip });
    expect(d).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'ip_not_public',
      ip: { address, country: null },
      phone: { number: GB_PHONE, country: 'GB' },
    });
  });

  it('gives ip_country_unknown for a public address missing from the data', async () => {
    const d = await core().check({ phone: GB_PHONE, ip: '3000::1' });
    expect(d).toMatchObject({ matchLevel: 'unknown', reason: 'ip_country_unknown', ip: { country: null } });
  });

  it('gives phone_country_unknown for a non-geographic number (+882)', async () => {
    const d = await core().check({ phone: '+882 3456 789', ip: GB_IP });
    expect(d).toMatchObject({
      matchLevel: 'unknown',
      reason: 'phone_country_unknown',
      phone: { number: '+8823456789', country: null },
    });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a number', 447400123456],
    ['an array', [GB_PHONE]],
    ['an object', { phone: GB_PHONE }],
    ['letters', 'call me maybe'],
    ['20 000 digits', '4'.repeat(20_000)],
    ['full-width digits', '＋４４７４００１２３４５６'],
    ['control characters', '+44740\u00000123456'],
  ])('gives phone_invalid for %s', async (_name, phone) => {
    const d = await core().check({ phone, ip: GB_IP });
    expect(d).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'phone_invalid',
      phone: { number: null, country: null, roamingCountry: null },
    });
  });

  it('reads national numbers with the request country, then defaultCountry', async () => {
    expect((await core().check({ phone: '07400 123456', ip: GB_IP })).reason).toBe('phone_invalid');
    expect(await core({ defaultCountry: 'gb' }).check({ phone: '07400 123456', ip: GB_IP })).toMatchObject({
      matchLevel: 'country',
      phone: { number: GB_PHONE, country: 'GB' },
    });
    expect(
      await core({ defaultCountry: 'US' }).check({ phone: '07400 123456', ip: GB_IP, country: 'GB' }),
    ).toMatchObject({
      phone: { number: GB_PHONE },
    });
  });

  it('returns plain JSON: a decision survives a JSON round trip unchanged', async () => {
    const d = await core().check({ phone: GB_PHONE, ip: KR_IP });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe('policy and mode', () => {
  it('merges a policy map over the defaults', async () => {
    const ipm = core({ policy: { mismatch: 'flag', unknown: 'block' } });
    expect((await ipm.check({ phone: GB_PHONE, ip: KR_IP })).action).toBe('flag');
    expect((await ipm.check({ phone: GB_PHONE, ip: '10.0.0.1' })).action).toBe('block');
    expect((await ipm.check({ phone: GB_PHONE, ip: GB_IP })).action).toBe('allow');
  });

  it('takes a policy function of the match result', async () => {
    const ipm = core({ policy: (r) => (r.reason === 'ip_not_public' ? 'flag' : 'allow') });
    expect((await ipm.check({ phone: GB_PHONE, ip: '10.0.0.1' })).action).toBe('flag');
    expect((await ipm.check({ phone: GB_PHONE, ip: KR_IP })).action).toBe('allow');
  });

  it('falls back to the default policy, and logs, when a policy function throws or returns junk', async () => {
    const logger = memoryLogger();
    const throwing = core({
      logger,
      policy: () => {
        throw new Error('boom');
      },
    });
    expect((await throwing.check({ phone: GB_PHONE, ip: KR_IP })).action).toBe('block');
    const junk = core({ logger, policy: () => 'deny' as never });
    expect((await junk.check({ phone: GB_PHONE, ip: GB_IP })).action).toBe('allow');
    expect(logger.lines.map((l) => (l.meta as { code: string }).code)).toEqual([
      'IPMATCH_POLICY_THREW',
      'IPMATCH_POLICY_RESULT',
    ]);
  });

  it('observe mode never blocks; policyAction keeps what the policy wanted', async () => {
    const d = await core({ mode: 'observe' }).check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({ action: 'flag', policyAction: 'block', matchLevel: 'mismatch' });
  });
});

describe('onDecision', () => {
  it('sees every decision, and its exceptions are logged, never thrown', async () => {
    const logger = memoryLogger();
    const seen: IpMatchDecision[] = [];
    const ipm = core({
      logger,
      onDecision: (d) => {
        seen.push(d);
        throw new Error('listener broke');
      },
    });
    const d = await ipm.check({ phone: GB_PHONE, ip: KR_IP });
    await ipm.check({ phone: 'junk', ip: KR_IP });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(d);
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toMatchObject({ level: 'error', meta: { code: 'IPMATCH_ON_DECISION_THREW' } });
  });
});

describe('an async onDecision', () => {
  it('that rejects is logged, not left as an unhandled rejection', async () => {
    const logger = memoryLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ipm = core({ logger, onDecision: async () => Promise.reject(new Error('metrics down')) });
      expect((await ipm.check({ phone: GB_PHONE, ip: KR_IP })).action).toBe('block');
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(logger.lines).toMatchObject([
      { level: 'error', meta: { code: 'IPMATCH_ON_DECISION_THREW', error: 'metrics down' } },
    ]);
  });
});

describe('options are checked when the core is built', () => {
  const bad = (options: unknown) => {
    try {
      createIpMatch(options as never);
    } catch (err) {
      expect(err).toBeInstanceOf(IpMatchConfigError);
      return (err as Error).message;
    }
    throw new Error('expected IpMatchConfigError');
  };

  it('suggests the nearest option for a typo', () => {
    expect(bad({ polcy: { mismatch: 'block' } })).toMatch(/polcy: unknown option; did you mean "policy"\?/);
    expect(bad({ timeout: 100 })).toMatch(/did you mean "timeoutMs"/);
    expect(bad({ cache: { ttl: 5 } })).toMatch(/cache\.ttl: unknown option; did you mean "ttlMs"/);
  });

  it('lists every problem with the field, what was expected and what it got', () => {
    const message = bad({
      mode: 'enforcing',
      timeoutMs: -5,
      policy: { mismatch: 'deny' },
      defaultCountry: 'United Kingdom',
    });
    expect(message).toMatch(/mode: .*"enforce".*"observe".*got "enforcing"/);
    expect(message).toMatch(/timeoutMs: .*>=1.*got -5/);
    expect(message).toMatch(/policy/);
    expect(message).toMatch(/defaultCountry: expected an ISO 3166-1 alpha-2 region.*got "United Kingdom"/);
  });

  it('rejects a provider, logger or store of the wrong shape', () => {
    expect(bad({ provider: {} })).toMatch(/provider: expected a provider such as localProvider\(\)/);
    expect(bad({ logger: { log() {} } })).toMatch(/logger: expected an object with warn/);
    expect(bad({ cache: { store: { get() {} } } })).toMatch(/cache\.store: expected a Store/);
    expect(bad({ onDecision: 'log' })).toMatch(/onDecision: expected a function/);
  });
});

describe('a remote provider through the core', () => {
  const gb = () => ({ country: 'GB', roamingCountry: null });

  it('caches lookups by number: the second check makes no call and says cached', async () => {
    const provider = stubRemoteProvider(gb);
    const ipm = core({ provider });
    const first = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    const second = await ipm.check({ phone: GB_PHONE, ip: KR_IP });
    expect(provider.calls).toBe(1);
    expect(first).toMatchObject({ cached: false, matchLevel: 'country', provider: 'stub' });
    expect(second).toMatchObject({ cached: true, matchLevel: 'mismatch', ip: { country: 'KR' } });
  });

  it('shares one upstream call among concurrent checks of one number', async () => {
    const provider = stubRemoteProvider(gb, { delayMs: 30 });
    const ipm = core({ provider });
    const decisions = await Promise.all(
      Array.from({ length: 100 }, () => ipm.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(provider.calls).toBe(1);
    expect(decisions.filter((d) => !d.cached)).toHaveLength(1);
    expect(decisions.every((d) => d.matchLevel === 'country')).toBe(true);
  });

  it('keys by number and IP when the provider sends the IP', async () => {
    const provider = stubRemoteProvider(gb, { keyIncludesIp: true });
    const ipm = core({ provider });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    await ipm.check({ phone: GB_PHONE, ip: KR_IP });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect(provider.calls).toBe(2);
  });

  it('makes a call every time with cache: false', async () => {
    const provider = stubRemoteProvider(gb);
    const ipm = core({ provider, cache: false });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect(provider.calls).toBe(2);
  });

  it('expires cached lookups after ttlMs', async () => {
    const provider = stubRemoteProvider(gb);
    const ipm = core({ provider, cache: { ttlMs: 30 } });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    await new Promise((r) => setTimeout(r, 60));
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect(provider.calls).toBe(2);
  });

  it('never looks up a private IP or an invalid phone', async () => {
    const provider = stubRemoteProvider(gb);
    const ipm = core({ provider });
    expect((await ipm.check({ phone: GB_PHONE, ip: '192.168.1.10' })).reason).toBe('ip_not_public');
    expect((await ipm.check({ phone: 'nope', ip: GB_IP })).reason).toBe('phone_invalid');
    expect(provider.calls).toBe(0);
  });

  it('counts a phone roaming in the IP country as a match', async () => {
    const provider = stubRemoteProvider(() => ({ country: 'GB', roamingCountry: 'KR' }));
    const d = await core({ provider }).check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({
      matchLevel: 'country',
      reason: 'roaming_match',
      phone: { country: 'GB', roamingCountry: 'KR' },
    });
  });

  it('lets a legacy IP verdict decide the match and the IP country', async () => {
    const provider = stubRemoteProvider(() => ({
      country: 'GB',
      roamingCountry: null,
      legacyIp: { matchLevel: 'mismatch', country: 'KR' },
    }));
    const d = await core({ provider }).check({ phone: GB_PHONE, ip: GB_IP });
    expect(d).toMatchObject({ matchLevel: 'mismatch', reason: 'country_mismatch', ip: { country: 'KR' } });
  });

  it('turns a provider failure into a decision; the error policy decides, failures are not cached', async () => {
    let fail = true;
    const provider = stubRemoteProvider(() =>
      fail ? new ProviderError('upstream_error', 'Vonage status 5') : gb(),
    );
    const open = core({ provider, remoteDown: 'error' });
    expect(await open.check({ phone: GB_PHONE, ip: GB_IP })).toMatchObject({
      action: 'allow',
      matchLevel: 'unknown',
      reason: 'lookup_failed',
      error: { code: 'upstream_error', message: 'Vonage status 5' },
      phone: { number: GB_PHONE, country: 'GB' },
      ip: { country: 'GB' },
    });
    fail = false;
    expect(await open.check({ phone: GB_PHONE, ip: GB_IP })).toMatchObject({
      cached: false,
      reason: 'country_match',
    });
    fail = true;
    const closed = core({ provider, policy: { error: 'block' }, remoteDown: 'error' });
    expect((await closed.check({ phone: US_PHONE, ip: GB_IP })).action).toBe('block');
  });

  it('cuts a hung lookup at timeoutMs, even one that ignores its AbortSignal', async () => {
    for (const ignoreAbort of [false, true]) {
      const provider = stubRemoteProvider(gb, { delayMs: 10_000, ignoreAbort });
      const ipm = core({ provider, timeoutMs: 100, remoteDown: 'error' });
      const started = performance.now();
      const d = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
      const took = performance.now() - started;
      expect(d).toMatchObject({ reason: 'lookup_timeout', error: { code: 'timeout' }, action: 'allow' });
      expect(took).toBeGreaterThanOrEqual(95);
      expect(took).toBeLessThan(1000);
      // The decision goes out first; the provider's signal fires once no other budget has run out for a moment.
      await new Promise((r) => setTimeout(r, 60));
      expect(provider.aborted).toBe(ignoreAbort ? 0 : 1);
    }
  });

  it('carries on without a store that fails, warning once', async () => {
    const logger = memoryLogger();
    const provider = stubRemoteProvider(gb);
    const store = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => new Promise(() => {}),
    };
    const ipm = core({ provider, logger, cache: { store, storeTimeoutMs: 20 } });
    const d1 = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    const d2 = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect([d1.reason, d2.reason]).toEqual(['country_match', 'country_match']);
    expect(provider.calls).toBe(2);
    expect(
      logger.lines.filter((l) => (l.meta as { code?: string }).code === 'IPMATCH_STORE_UNAVAILABLE'),
    ).toHaveLength(1);
  });
});

describe('signals', () => {
  const swapped = () => ({
    country: 'GB',
    roamingCountry: null,
    facts: { simSwap: { swapped: true, at: '2026-11-29T10:00:00Z' } },
    signals: ['sim_swapped' as const],
  });

  it('flags a swapped SIM by default, blocks it when the policy says so, and only flags in observe mode', async () => {
    const flagged = await core({ provider: stubRemoteProvider(swapped) }).check({
      phone: GB_PHONE,
      ip: GB_IP,
    });
    expect(flagged).toMatchObject({ action: 'flag', matchLevel: 'country', signals: ['sim_swapped'] });
    expect(flagged.phone.simSwap).toEqual({ swapped: true, at: '2026-11-29T10:00:00Z' });
    const policy = { sim_swapped: 'block' } as const;
    const blocked = await core({ provider: stubRemoteProvider(swapped), policy }).check({
      phone: GB_PHONE,
      ip: GB_IP,
    });
    expect(blocked).toMatchObject({ action: 'block', policyAction: 'block' });
    const observed = await core({ provider: stubRemoteProvider(swapped), policy, mode: 'observe' }).check({
      phone: GB_PHONE,
      ip: GB_IP,
    });
    expect(observed).toMatchObject({ action: 'flag', policyAction: 'block', signals: ['sim_swapped'] });
  });

  it('survives the cache: a cached decision carries the signals of its lookup', async () => {
    const provider = stubRemoteProvider(swapped);
    const ipm = core({ provider });
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    const again = await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    expect(provider.calls).toBe(1);
    expect(again).toMatchObject({ cached: true, signals: ['sim_swapped'], action: 'flag' });
    expect(again.phone.simSwap).toEqual({ swapped: true, at: '2026-11-29T10:00:00Z' });
  });

  it('is empty on errors, invalid phones and private IPs, and per decision (not shared)', async () => {
    const failing = stubRemoteProvider(() => new ProviderError('upstream_error', 'down'));
    const ipm = core({ provider: failing });
    expect((await ipm.check({ phone: GB_PHONE, ip: GB_IP })).signals).toEqual([]);
    expect((await ipm.check({ phone: 'nope', ip: GB_IP })).signals).toEqual([]);
    expect((await ipm.check({ phone: GB_PHONE, ip: '10.0.0.1' })).signals).toEqual([]);
    const shared = core({ provider: stubRemoteProvider(swapped, { delayMs: 10 }) });
    const [a, b] = await Promise.all([
      shared.check({ phone: GB_PHONE, ip: GB_IP }),
      shared.check({ phone: GB_PHONE, ip: GB_IP }),
    ]);
    expect(a.signals).not.toBe(b.signals);
  });

  it('rejects an unknown policy key, naming the signal it resembles', () => {
    expect(() => createIpMatch({ policy: { sim_swap: 'block' } as never })).toThrow(/sim_swapped/);
  });
});

describe('roaming in several countries', () => {
  it('is a roaming match when any of the countries is the IP country', async () => {
    const provider = stubRemoteProvider(() => ({
      country: 'GB',
      roamingCountry: 'FR',
      facts: { roamingCountries: ['FR', 'KR'] },
    }));
    const d = await core({ provider }).check({ phone: GB_PHONE, ip: KR_IP });
    expect(d).toMatchObject({
      matchLevel: 'country',
      reason: 'roaming_match',
      phone: { roamingCountry: 'FR', roamingCountries: ['FR', 'KR'] },
    });
  });
});

describe('check() never rejects', () => {
  it('resolves to a well-formed decision for arbitrary phone and ip values', async () => {
    const ipm = core();
    const anything = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.stringMatching(/^\+?[0-9 ()\-.]{0,30}$/),
      fc.ipV4(),
      fc.ipV6(),
    );
    await fc.assert(
      fc.asyncProperty(anything, anything, async (phone, ip) => {
        const d = await ipm.check({ phone, ip: ip as string });
        expect(['allow', 'flag', 'block']).toContain(d.action);
        expect(['country', 'mismatch', 'unknown']).toContain(d.matchLevel);
        expect(typeof d.reason).toBe('string');
        expect(d.phone.number === null || /^\+[1-9]\d{2,16}$/.test(d.phone.number)).toBe(true);
        expect(d.ip.address === null || typeof d.ip.address === 'string').toBe(true);
        expect(d.signals).toEqual([]);
        expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      }),
      { numRuns: 500 },
    );
  });

  it('a provider without lookup, matched on its parse, decides as one whose lookup restates the parse, field for field and in order', async () => {
    // localProvider() has no lookup: the core matches its parse directly. The same provider with a lookup that
    // only restates the parse goes the lookup path, as any other in-process provider would.
    const direct = core({ provider: localProvider() });
    const offline = localProvider();
    expect(offline.lookup).toBeUndefined();
    const viaLookup = core({
      provider: {
        ...offline,
        lookup: ({ phone }) => ({
          country: phone.country,
          roamingCountry: null,
          facts: { valid: phone.valid },
        }),
      },
    });
    const region = fc.constantFrom('GB', 'US', 'DE', 'KR', 'FR', 'IN', 'BR', 'NG', 'JP', 'AU');
    const phone = fc.oneof(
      fc.stringMatching(/^\+(1|44|49|82|33|91|55|234|81|61)[0-9]{6,11}$/),
      fc.stringMatching(/^[0-9 ()\-.]{4,16}$/),
    );
    const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom(GB_IP, KR_IP, US_IP6, '10.0.0.1'));
    await fc.assert(
      fc.asyncProperty(phone, ip, fc.option(region, { nil: undefined }), async (p, address, country) => {
        const input = { phone: p, ip: address, ...(country ? { country } : {}) };
        const a = await direct.check(input);
        const b = await viaLookup.check(input);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { numRuns: 400 },
    );
  });

  it('survives a missing or garbage input object', async () => {
    const ipm = core();
    expect((await ipm.check(undefined as never)).reason).toBe('phone_invalid');
    expect((await ipm.check(null as never)).reason).toBe('phone_invalid');
  });
});
