/** A remote provider's lookup through the cache: a hit, a lookup already in flight, or one of our own. */
import { runWithBudget } from '../budget.js';
import { LookupCache } from '../lookup/cache.js';
import { MemoryStore } from '../memory-store.js';
import type { IpMatchProvider, LookupRequest, PhoneLookup } from '../provider.js';
import type { Store } from '../store.js';
import type { Logger } from '../types.js';

/** What a remote lookup came to, and whether this check made the provider call itself. */
export interface LookedUp {
  lookup: PhoneLookup;
  /** true for a cache hit, a lookup joined in flight, or another server's result (no call of our own). */
  cached: boolean;
}

export type CachedLookup = (
  request: Omit<LookupRequest, 'signal' | 'deadline'>,
  start: number,
) => Promise<LookedUp>;

export interface CachedLookupOptions {
  provider: IpMatchProvider;
  /** undefined: no cache (`cache: false`); every check calls the provider within its budget. */
  cache: LookupCache | undefined;
  /** Take the store's lock, so that one server of a fleet looks a number up (`cache.lock`). */
  locking: boolean;
  timeoutMs: number;
}

/**
 * Compiles a remote provider's lookup once. Keys are a keyed hash of the provider's scope, the number and (when
 * the lookup depends on it) the IP; concurrent identical checks share one upstream call.
 */
export function cachedLookup({ provider, cache, locking, timeoutMs }: CachedLookupOptions): CachedLookup {
  const scope = provider.cacheScope ?? provider.name;
  const call = (request: Omit<LookupRequest, 'signal' | 'deadline'>, start: number) =>
    runWithBudget(provider, request, start, timeoutMs);
  if (!cache) return async (request, start) => ({ lookup: await call(request, start), cached: false });
  return async (request, start) => {
    const hashed = LookupCache.key(scope, request.phone.number, provider.keyIncludesIp ? request.ip : null);
    const key = typeof hashed === 'string' ? hashed : await hashed;
    const hit = await cache.get(key);
    if (hit) return { lookup: hit, cached: true };
    const joined = cache.inflight(key);
    if (joined) return { lookup: await runWithBudget(joined, request, start, timeoutMs), cached: true };
    if (!locking) return { lookup: await cache.share(key, call(request, start)), cached: false };
    // Across servers: one takes the store's lock and looks up; the others wait for its result in the store.
    const { lookup, fromStore } = await cache.shareLocked(key, () => call(request, start), {
      deadline: start + timeoutMs,
      timeoutMs,
    });
    return { lookup, cached: fromStore };
  };
}

/** The cache options in force: the user's over the defaults. */
export interface CacheSettings {
  ttlMs: number;
  max: number;
  storeTimeoutMs: number;
  lock: boolean;
  store?: Store | undefined;
}

/**
 * A remote provider's lookup with its cache (none with `cache: false`), built once per core; undefined for an
 * in-process provider, which needs no cache. The cache reports a failing store once per outage.
 */
export function remoteLookupFor(
  provider: IpMatchProvider,
  settings: CacheSettings | undefined,
  timeoutMs: number,
  logger: Logger,
  warnOnce: (code: string, message: string) => void,
): { lookup: CachedLookup; cache: LookupCache | undefined } | undefined {
  if (!provider.remote || typeof provider.lookup !== 'function') return undefined;
  const cache = settings
    ? new LookupCache({
        store: settings.store ?? new MemoryStore({ max: settings.max, ttlMs: settings.ttlMs }),
        ttlMs: settings.ttlMs,
        storeTimeoutMs: settings.storeTimeoutMs,
        ...(provider.roamingTtlMs === undefined
          ? {}
          : { roaming: { ttlMs: provider.roamingTtlMs, max: settings.max } }),
        onStoreError: (operation, error) =>
          logger.warn(
            `ipmatch: the cache store failed on ${operation}; checks carry on without it until it recovers`,
            {
              code: 'IPMATCH_STORE_UNAVAILABLE',
              error: error instanceof Error ? error.message : String(error),
            },
          ),
      })
    : undefined;
  if (cache && settings?.lock && !cache.canLock) {
    warnOnce(
      'IPMATCH_STORE_NO_LOCK',
      'ipmatch: cache.lock is on but the store has no lock(); checks look up unlocked',
    );
  }
  const locking = settings?.lock === true && cache?.canLock === true;
  return { lookup: cachedLookup({ provider, cache, locking, timeoutMs }), cache };
}
