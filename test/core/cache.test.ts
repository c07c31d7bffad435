import { setTimeout as sleep } from 'node:timers/promises';
import { createIpMatch, type PhoneLookup, ProviderError, type Store } from 'ipmatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LookupCache, type LookupCacheOptions, type StoreOperation } from '../../src/core/lookup/cache.js';
import { MemoryStore } from '../../src/core/memory-store.js';
import { memoryLogger } from '../helpers/logger.js';
import { stubRemoteProvider } from '../helpers/stub-provider.js';

const GB_PHONE = '+447400123456';
const GB_IP = '81.2.69.160';
const KR_IP = '211.234.0.1';
const STORED_FIELDS = ['country', 'roamingCountry', 'networkType', 'valid', 'legacyIp'];

/** A lookup as rich as Vonage Advanced gives: most of it must never reach a store. */
const RICH: PhoneLookup = {
  country: 'GB',
  roamingCountry: 'FR',
  facts: {
    valid: true,
    carrier: 'Example Mobile',
    networkType: 'mobile',
    reachable: 'reachable',
    ported: 'not_ported',
    callerIdentity: { callerType: 'consumer', callerName: 'Jane Doe', firstName: 'Jane', lastName: 'Doe' },
  },
  cost: { price: '0.03000000', currency: 'EUR', remainingBalance: '9.97000000' },
  legacyIp: { matchLevel: 'mismatch', country: 'KR' },
};

/** A shared store with the lock of Redis (`SET NX PX`), in memory: what two servers on one Redis see. */
function lockableStore() {
  const data = new MemoryStore({ max: 1000, ttlMs: 60_000 });
  const locks = new Map<string, number>();
  let lockCalls = 0;
  return {
    data,
    locks,
    get lockCalls() {
      return lockCalls;
    },
    get: (key: string) => data.get(key),
    set: (key: string, value: string, ttlMs: number) => data.set(key, value, ttlMs),
    async lock(key: string, ttlMs: number) {
      lockCalls++;
      const until = locks.get(key);
      if (until !== undefined && until > performance.now()) return false;
      locks.set(key, performance.now() + ttlMs);
      return true;
    },
    async unlock(key: string) {
      locks.delete(key);
    },
  } satisfies Store & Record<string, unknown>;
}

function cacheOn(store: Store, extra: Partial<LookupCacheOptions> = {}) {
  const errors: StoreOperation[] = [];
  const cache = new LookupCache({
    store,
    ttlMs: 60_000,
    storeTimeoutMs: 50,
    onStoreError: (operation) => errors.push(operation),
    ...extra,
  });
  return { cache, errors };
}

/** An upstream lookup that counts its calls and answers after `ms` (or fails, or never answers in time). */
function upstream(
  ms: number,
  answer: () => PhoneLookup | Error = () => ({ country: 'GB', roamingCountry: null }),
) {
  const counter = {
    calls: 0,
    lookup: async (): Promise<PhoneLookup> => {
      counter.calls++;
      await sleep(ms);
      const a = answer();
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return counter;
}

const budget = (timeoutMs: number) => ({ deadline: performance.now() + timeoutMs, timeoutMs });
const KEY = await LookupCache.key('vonage:advanced', GB_PHONE, null);

describe('LookupCache.key', () => {
  it('is a SHA-256 in hex that holds no part of the number or the IP', async () => {
    for (const [number, ip] of [
      [GB_PHONE, null],
      ['+12025550123', '81.2.69.160'],
      ['+33612345678', '2001:4860:4860::8888'],
    ] as const) {
      const key = await LookupCache.key('vonage:advanced', number, ip);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(key).not.toContain(number.slice(-9));
    }
  });

  it('differs by provider scope, number and IP, and is stable across processes', async () => {
    const keys = new Set([
      await LookupCache.key('vonage:advanced', GB_PHONE, null),
      await LookupCache.key('vonage:standard', GB_PHONE, null),
      await LookupCache.key('vonage:advanced', '+447400123457', null),
      await LookupCache.key('vonage:advanced', GB_PHONE, GB_IP),
    ]);
    expect(keys.size).toBe(4);
    // A fixed value: servers of one fleet (and versions of ipmatch) must agree on it to share lookups.
    expect(await LookupCache.key('vonage:advanced', GB_PHONE, null)).toBe(KEY);
    expect(KEY).toHaveLength(64);
  });
});

describe('LookupCache on the memory store', () => {
  it('stores only countries, roaming country, network type, validity and the legacy IP verdict', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store);
    await cache.set(KEY, RICH);
    const raw = store.get(KEY)!;
    expect(Object.keys(JSON.parse(raw)).sort()).toEqual([...STORED_FIELDS].sort());
    expect(JSON.parse(raw)).toEqual({
      country: 'GB',
      roamingCountry: 'FR',
      networkType: 'mobile',
      valid: true,
      legacyIp: { matchLevel: 'mismatch', country: 'KR' },
    });
    expect(raw).not.toMatch(/Jane|Doe|Example Mobile|0\.03|9\.97|7400123456|81\.2\.69/);
  });

  it('reads back what the match needs', async () => {
    const { cache } = cacheOn(new MemoryStore({ max: 10, ttlMs: 60_000 }));
    await cache.set(KEY, RICH);
    expect(await cache.get(KEY)).toEqual({
      country: 'GB',
      roamingCountry: 'FR',
      facts: { networkType: 'mobile', valid: true },
      legacyIp: { matchLevel: 'mismatch', country: 'KR' },
    });
    await cache.set(KEY, { country: 'US', roamingCountry: null });
    expect(await cache.get(KEY)).toEqual({ country: 'US', roamingCountry: null });
  });

  it('treats a value it cannot read as a miss', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache, errors } = cacheOn(store);
    for (const junk of ['not json', '42', 'null', '{"roamingCountry":null}']) {
      store.set(KEY, junk, 1000);
      expect(await cache.get(KEY)).toBeUndefined();
    }
    expect(errors).toEqual([]);
  });

  it('shares one lookup among concurrent callers and stores its result, but not a failure', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store);
    const up = upstream(20);
    const first = cache.share(KEY, up.lookup());
    expect(cache.inflight(KEY)).toBe(first);
    await first;
    await sleep(0);
    expect(cache.inflight(KEY)).toBeUndefined();
    expect(JSON.parse(store.get(KEY)!)).toEqual({ country: 'GB', roamingCountry: null });

    const other = await LookupCache.key('vonage:advanced', '+12025550123', null);
    const failing = cache.share(other, Promise.reject(new ProviderError('upstream_error', 'status 5')));
    await expect(failing).rejects.toThrow('status 5');
    expect(store.get(other)).toBeUndefined();
    expect(cache.inflight(other)).toBeUndefined();
  });

  it('does not store a lookup decided offline because a budget was spent', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store);
    await cache.share(KEY, Promise.resolve({ country: 'GB', roamingCountry: null, budgetExceeded: true }));
    await sleep(0);
    expect(store.size).toBe(0);
  });
});

describe('LookupCache with roaming kept in process', () => {
  const ROAMING: PhoneLookup = {
    country: 'GB',
    roamingCountry: 'ES',
    facts: { roamingCountries: ['ES', 'FR'], simSwap: { swapped: false, at: null }, networkType: 'MOBILE' },
    signals: [],
  };

  it('never writes roaming facts to the store, and reads them back from the process', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store, { roaming: { ttlMs: 60_000, max: 10 } });
    await cache.set(KEY, ROAMING);
    const raw = store.get(KEY)!;
    expect(raw).not.toMatch(/ES|FR/);
    expect(JSON.parse(raw)).toMatchObject({
      roamingCountry: null,
      roaming: 'withheld',
      simSwap: { swapped: false },
    });
    expect(await cache.get(KEY)).toEqual(ROAMING);
  });

  it('is a miss once the roaming facts have expired, or on another server sharing the store', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store, { roaming: { ttlMs: 20, max: 10 } });
    await cache.set(KEY, ROAMING);
    const other = cacheOn(store, { roaming: { ttlMs: 60_000, max: 10 } }).cache;
    expect(await other.get(KEY)).toBeUndefined();
    await sleep(40);
    expect(await cache.get(KEY)).toBeUndefined();
  });

  it('stores in full a lookup whose roaming insight did not answer', async () => {
    const store = new MemoryStore({ max: 10, ttlMs: 60_000 });
    const { cache } = cacheOn(store, { roaming: { ttlMs: 20, max: 10 } });
    const noRoaming: PhoneLookup = {
      country: 'GB',
      roamingCountry: null,
      facts: { missingInsights: { roaming: 'NO_COVERAGE' } },
    };
    await cache.set(KEY, noRoaming);
    const other = cacheOn(store, { roaming: { ttlMs: 60_000, max: 10 } }).cache;
    expect(await other.get(KEY)).toEqual(noRoaming);
  });

  it('does not wait for a locked winner whose roaming stayed on its own server', async () => {
    const store = lockableStore();
    const a = cacheOn(store, { roaming: { ttlMs: 60_000, max: 10 } }).cache;
    const b = cacheOn(store, { roaming: { ttlMs: 60_000, max: 10 } }).cache;
    const slow = upstream(30, () => ROAMING);
    const first = a.shareLocked(KEY, slow.lookup, budget(2000));
    await sleep(5);
    const started = performance.now();
    const second = await b.shareLocked(KEY, slow.lookup, budget(2000));
    await first;
    expect(second.fromStore).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(slow.calls).toBe(2);
  });
});

describe('LookupCache with a store that fails', () => {
  it('answers a miss when get rejects, throws or hangs, and reports each', async () => {
    const stores: Store[] = [
      { get: () => Promise.reject(new Error('ECONNREFUSED')), set: () => {} },
      {
        get: () => {
          throw new Error('sync boom');
        },
        set: () => {},
      },
      { get: () => new Promise(() => {}), set: () => {} },
    ];
    for (const store of stores) {
      const { cache, errors } = cacheOn(store, { storeTimeoutMs: 20 });
      expect(await cache.get(KEY)).toBeUndefined();
      expect(errors).toEqual(['get']);
    }
  });

  it('reports once per outage: the first failure, not the first after a call that worked, and again after 30 s without one', async () => {
    let up = false;
    const store: Store = {
      get: () => (up ? undefined : Promise.reject(new Error('ECONNREFUSED'))),
      set: () => {},
    };
    vi.useFakeTimers({ toFake: ['Date'], now: 0 });
    try {
      const { cache, errors } = cacheOn(store);
      await cache.get(KEY);
      await cache.get(KEY);
      expect(errors).toEqual(['get']);
      // Calls that work between calls that fail (one cluster master down): the same outage.
      up = true;
      await cache.get(KEY);
      up = false;
      vi.setSystemTime(29_999);
      await cache.get(KEY);
      expect(errors).toEqual(['get']);
      vi.setSystemTime(29_999 + 30_000);
      await cache.get(KEY);
      await cache.get(KEY);
      expect(errors).toEqual(['get', 'get']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not wait on a set that hangs beyond storeTimeoutMs', async () => {
    const { cache, errors } = cacheOn(
      { get: () => undefined, set: () => new Promise(() => {}) },
      { storeTimeoutMs: 20 },
    );
    await cache.set(KEY, RICH);
    expect(errors).toEqual(['set']);
  });
});

describe('LookupCache.shareLocked: one lookup across servers', () => {
  it('lets one server look up while another waits for its result in the store', async () => {
    const store = lockableStore();
    const a = cacheOn(store);
    const b = cacheOn(store);
    const up = upstream(80);
    const [ra, rb] = await Promise.all([
      a.cache.shareLocked(KEY, up.lookup, budget(2000)),
      sleep(5).then(() => b.cache.shareLocked(KEY, up.lookup, budget(2000))),
    ]);
    expect(up.calls).toBe(1);
    expect(ra).toEqual({ lookup: { country: 'GB', roamingCountry: null }, fromStore: false });
    expect(rb).toEqual({ lookup: { country: 'GB', roamingCountry: null }, fromStore: true });
    await sleep(10);
    expect(store.locks.size).toBe(0);
  });

  it('shares a waiting lookup among the checks of one process: one lock attempt per poll, not per check', async () => {
    const store = lockableStore();
    const a = cacheOn(store);
    const b = cacheOn(store);
    const up = upstream(60);
    const winner = a.cache.shareLocked(KEY, up.lookup, budget(2000));
    await sleep(5);
    const led = b.cache.shareLocked(KEY, up.lookup, budget(2000));
    const joiners = Array.from({ length: 10 }, () => b.cache.inflight(KEY));
    expect(joiners.every((j) => j !== undefined)).toBe(true);
    await Promise.all([winner, led, ...joiners]);
    expect(up.calls).toBe(1);
    expect(store.lockCalls).toBeLessThan(10);
  });

  it('takes over at once when the winner fails and releases its lock', async () => {
    const store = lockableStore();
    const a = cacheOn(store);
    const b = cacheOn(store);
    const failing = upstream(30, () => new ProviderError('upstream_error', 'status 5'));
    const working = upstream(10);
    const ra = a.cache.shareLocked(KEY, failing.lookup, budget(10_000));
    await sleep(5);
    const started = performance.now();
    const rb = await b.cache.shareLocked(KEY, working.lookup, budget(10_000));
    await expect(ra).rejects.toThrow('status 5');
    expect(rb.fromStore).toBe(false);
    expect(working.calls).toBe(1);
    // It did not sit out three quarters of its 10 s budget.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('looks up itself when a quarter of its budget is left and the winner has still not answered', async () => {
    const store = lockableStore();
    const a = cacheOn(store);
    const b = cacheOn(store);
    const hung = upstream(3000);
    const working = upstream(0);
    void a.cache.shareLocked(KEY, hung.lookup, budget(3000)).catch(() => {});
    await sleep(5);
    const started = performance.now();
    const rb = await b.cache.shareLocked(KEY, working.lookup, budget(1000));
    const waited = performance.now() - started;
    expect(rb.fromStore).toBe(false);
    expect(working.calls).toBe(1);
    // It waited for the winner until 750 ms of its 1000 ms budget, then called with time to spare.
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(1000);
  });

  it('uses a result stored between its read and its lock instead of calling again', async () => {
    const store = lockableStore();
    const { cache } = cacheOn(store);
    await cacheOn(store).cache.set(KEY, { country: 'GB', roamingCountry: null });
    const up = upstream(0);
    expect(await cache.shareLocked(KEY, up.lookup, budget(2000))).toMatchObject({ fromStore: true });
    expect(up.calls).toBe(0);
    await sleep(0);
    expect(store.locks.size).toBe(0);
  });

  it('looks up at once when the lock call fails or hangs', async () => {
    for (const lock of [() => Promise.reject(new Error('READONLY')), () => new Promise<boolean>(() => {})]) {
      const store = { ...lockableStore(), lock };
      const { cache, errors } = cacheOn(store, { storeTimeoutMs: 20 });
      const up = upstream(0);
      const started = performance.now();
      expect(await cache.shareLocked(KEY, up.lookup, budget(2000))).toMatchObject({ fromStore: false });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(up.calls).toBe(1);
      expect(errors).toContain('lock');
    }
  });
});

describe('the lock, through createIpMatch', () => {
  const cores: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((c) => c.close()));
  });
  const gb = () => ({ country: 'GB', roamingCountry: null });

  it('makes one upstream call for 20 concurrent checks over two cores sharing a store', async () => {
    const store = lockableStore();
    const providers = [stubRemoteProvider(gb, { delayMs: 50 }), stubRemoteProvider(gb, { delayMs: 50 })];
    const ipms = providers.map((provider) => createIpMatch({ provider, cache: { store, lock: true } }));
    cores.push(...ipms);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ipms[i % 2]!.check({ phone: GB_PHONE, ip: i % 4 === 0 ? KR_IP : GB_IP }),
      ),
    );
    expect(providers[0]!.calls + providers[1]!.calls).toBe(1);
    expect(decisions.filter((d) => !d.cached)).toHaveLength(1);
    expect(decisions.filter((d) => d.matchLevel === 'mismatch')).toHaveLength(5);
    expect(decisions.filter((d) => d.matchLevel === 'country')).toHaveLength(15);
  });

  it('makes at most one call per core without the lock', async () => {
    const store = lockableStore();
    const providers = [stubRemoteProvider(gb, { delayMs: 50 }), stubRemoteProvider(gb, { delayMs: 50 })];
    const ipms = providers.map((provider) => createIpMatch({ provider, cache: { store } }));
    cores.push(...ipms);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => ipms[i % 2]!.check({ phone: GB_PHONE, ip: GB_IP })),
    );
    expect(providers.map((p) => p.calls)).toEqual([1, 1]);
    expect(store.lockCalls).toBe(0);
  });

  it('warns once, and works unlocked, when cache.lock is on but the store cannot lock', async () => {
    const logger = memoryLogger();
    const provider = stubRemoteProvider(gb);
    const ipm = createIpMatch({ provider, logger, cache: { lock: true } });
    cores.push(ipm);
    await ipm.check({ phone: GB_PHONE, ip: GB_IP });
    await ipm.check({ phone: '+447400123457', ip: GB_IP });
    expect(provider.calls).toBe(2);
    expect(logger.lines.map((l) => (l.meta as { code: string }).code)).toEqual(['IPMATCH_STORE_NO_LOCK']);
  });
});
