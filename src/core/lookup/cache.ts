/** LookupCache: remote lookups by a hash of the number, stored without personal data, shared while in flight. */
import { LRUCache } from 'lru-cache';
import { sha256Hex } from '../hash.js';
import type { PhoneLookup } from '../provider.js';
import type { Store } from '../store.js';
import type { PhoneFacts } from '../types.js';
import { type LockedLookup, type LockingCache, lookUpLocked } from './locked.js';
import { FAILED, type StoreCall, type StoreOperation, storeCaller } from './store-call.js';

export type { LockedLookup } from './locked.js';
export type { StoreOperation } from './store-call.js';

type Facts = NonNullable<PhoneLookup['facts']>;

/** The provider facts a cached lookup keeps beside the countries: what the match and the policy need. */
const CACHED_FACTS = ['networkType', 'valid', 'simSwap', 'missingInsights', 'roamingCountries'] as const;

/**
 * The facts a cached lookup keeps: enough to match, nothing personal (no number, no caller name). `roaming:
 * 'withheld'` marks a lookup whose roaming facts may not be stored: they live only in this process.
 */
type CachedFacts = Pick<PhoneLookup, 'country' | 'roamingCountry' | 'legacyIp' | 'signals'> &
  Pick<Facts, (typeof CACHED_FACTS)[number]> & { roaming?: 'withheld' };

/** The roaming facts kept in process only. */
type Roaming = Pick<PhoneFacts, 'roamingCountry' | 'roamingCountries'>;

export interface LookupCacheOptions {
  store: Store;
  ttlMs: number;
  storeTimeoutMs: number;
  /**
   * Called when the store starts failing or being slow: on the first failure of each outage, which ends after
   * 30 s without a failure (store-call.ts's `outageTracker`), not once per call. The check carries on without
   * the store.
   */
  onStoreError: (operation: StoreOperation, error: unknown) => void;
  /**
   * For a provider whose roaming facts may not be persisted: they are kept in this process only, for at most
   * `ttlMs`, and the store gets the rest of the lookup. A stored lookup whose roaming this process no longer
   * holds is a miss. Default: roaming facts are stored as the rest.
   */
  roaming?: { ttlMs: number; max: number };
}

/**
 * Remote lookups by a hash of the number: a store (memory or shared) plus single-flight, so that concurrent
 * checks of one number in this process make one upstream call. Failures are never cached.
 */
export class LookupCache {
  readonly #options: LookupCacheOptions;
  readonly #inflight = new Map<string, Promise<PhoneLookup>>();
  readonly #roaming: LRUCache<string, Roaming> | undefined;
  /** One store call within `storeTimeoutMs`; a failure or a timeout is reported and comes back as FAILED. */
  readonly #call: StoreCall;
  readonly #locking: LockingCache;

  constructor(options: LookupCacheOptions) {
    this.#options = options;
    this.#call = storeCaller(options.storeTimeoutMs, options.onStoreError);
    this.#locking = {
      store: options.store,
      storeTimeoutMs: options.storeTimeoutMs,
      call: this.#call,
      read: (key) => this.#read(key),
      set: (key, lookup) => this.set(key, lookup),
    };
    const roaming = options.roaming;
    if (roaming) {
      this.#roaming = new LRUCache({ max: roaming.max, ttl: Math.min(roaming.ttlMs, options.ttlMs) });
    }
  }

  /**
   * SHA-256 of scope, number and (when the lookup depends on it) IP: keys never hold a phone number.
   * Synchronous where node:crypto is available; a promise on runtimes with only Web Crypto.
   */
  static key(scope: string, number: string, ip: string | null): string | Promise<string> {
    return sha256Hex(`ipmatch:v1|${scope}|${number}|${ip ?? ''}`);
  }

  /** Whether the store can take a lock (`RedisStore` can; the memory store has no need to). */
  get canLock(): boolean {
    return typeof this.#options.store.lock === 'function';
  }

  async get(key: string): Promise<PhoneLookup | undefined> {
    const got = await this.#read(key);
    return got === 'withheld' ? undefined : got;
  }

  /** The stored lookup; 'withheld' when it is stored without its roaming facts and this process lost them. */
  async #read(key: string): Promise<PhoneLookup | undefined | 'withheld'> {
    const got = await this.#call('get', () => this.#options.store.get(key));
    if (got === FAILED || typeof got !== 'string') return undefined;
    let cached: CachedFacts;
    try {
      cached = JSON.parse(got) as CachedFacts;
    } catch {
      return undefined;
    }
    if (typeof cached !== 'object' || cached === null || !('country' in cached)) return undefined;
    const lookup: PhoneLookup = { country: cached.country, roamingCountry: cached.roamingCountry ?? null };
    if (cached.legacyIp) lookup.legacyIp = cached.legacyIp;
    if (cached.signals) lookup.signals = cached.signals;
    const facts: Facts = {};
    for (const name of CACHED_FACTS) {
      if (cached[name] !== undefined) (facts as Record<string, unknown>)[name] = cached[name];
    }
    if (cached.roaming === 'withheld') {
      const roaming = this.#roaming?.get(key);
      if (!roaming) return 'withheld';
      lookup.roamingCountry = roaming.roamingCountry;
      if (roaming.roamingCountries) facts.roamingCountries = roaming.roamingCountries;
    }
    for (const _ in facts) {
      lookup.facts = facts;
      break;
    }
    return lookup;
  }

  /** Stores the match facts (roaming ones in process only, when so configured); does not wait for a slow store beyond its budget. */
  async set(key: string, lookup: PhoneLookup): Promise<void> {
    const cached: CachedFacts = { country: lookup.country, roamingCountry: lookup.roamingCountry };
    if (lookup.legacyIp) cached.legacyIp = lookup.legacyIp;
    if (lookup.signals) cached.signals = lookup.signals;
    for (const name of CACHED_FACTS) {
      const value = lookup.facts?.[name];
      if (value !== undefined) (cached as Record<string, unknown>)[name] = value;
    }
    const roamingAnswered = lookup.roamingCountry !== null || lookup.facts?.roamingCountries !== undefined;
    if (this.#roaming && roamingAnswered) {
      this.#roaming.set(key, {
        roamingCountry: lookup.roamingCountry,
        roamingCountries: lookup.facts?.roamingCountries,
      });
      cached.roamingCountry = null;
      delete cached.roamingCountries;
      cached.roaming = 'withheld';
    }
    const { store, ttlMs } = this.#options;
    await this.#call('set', () => store.set(key, JSON.stringify(cached), ttlMs));
  }

  /** The lookup already in flight for `key`, if any. */
  inflight(key: string): Promise<PhoneLookup> | undefined {
    return this.#inflight.get(key);
  }

  /** Registers `lookup` as the one in flight for `key` until it settles; successes are stored. */
  share(key: string, lookup: Promise<PhoneLookup>): Promise<PhoneLookup> {
    this.#register(key, lookup);
    lookup.then(
      (result) => {
        if (!result.budgetExceeded) void this.set(key, result);
      },
      () => {},
    );
    return lookup;
  }

  /**
   * `share` across servers, for a store that can lock (see lookUpLocked): this process's one lookup for `key`
   * first takes the store's lock; `fromStore` says another server's lookup answered it.
   */
  shareLocked(
    key: string,
    lookup: () => Promise<PhoneLookup>,
    budget: { deadline: number; timeoutMs: number },
  ): Promise<LockedLookup> {
    const led = lookUpLocked(this.#locking, key, lookup, budget);
    this.#register(
      key,
      led.then((r) => r.lookup),
    );
    return led;
  }

  /** Makes `lookup` the one in flight for `key` until it settles. */
  #register(key: string, lookup: Promise<PhoneLookup>): void {
    this.#inflight.set(key, lookup);
    const forget = () => {
      if (this.#inflight.get(key) === lookup) this.#inflight.delete(key);
    };
    lookup.then(forget, forget);
  }

  clear(): void {
    this.#inflight.clear();
    this.#roaming?.clear();
  }
}
