import { LRUCache } from 'lru-cache';
import { afterIo } from './builtins.js';
import { sha256Hex } from './hash.js';
import type { PhoneLookup } from './provider.js';
import type { Store } from './store.js';
import type { PhoneFacts } from './types.js';

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
   * Called when the store starts failing or being slow: on the first failure, and on the first one after a
   * call that worked (once per outage, not once per call). The check carries on without the store.
   */
  onStoreError: (operation: StoreOperation, error: unknown) => void;
  /**
   * For a provider whose roaming facts may not be persisted: they are kept in this process only, for at most
   * `ttlMs`, and the store gets the rest of the lookup. A stored lookup whose roaming this process no longer
   * holds is a miss. Default: roaming facts are stored as the rest.
   */
  roaming?: { ttlMs: number; max: number };
}

export type StoreOperation = 'get' | 'set' | 'lock' | 'unlock';

/** What a locked lookup came to: `fromStore` when another server's lookup answered it (no call of our own). */
export interface LockedLookup {
  lookup: PhoneLookup;
  fromStore: boolean;
}

/**
 * A check that finds another server holding the lock waits for its result, polling the store after 10-25 ms,
 * then a little less often (x1.5 a poll, at most every 50 ms) so that a burst of waiting checks does not
 * flood Redis; jittered so that waiting servers do not poll in step...
 */
const POLL_MIN_MS = 10;
const POLL_SPREAD_MS = 15;
const POLL_MAX_MS = 50;
/**
 * ...until only this share of its budget is left; then it looks the number up itself. A winner that failed or
 * crashed is noticed sooner: its lock is gone, and the waiting check takes it over.
 */
const OWN_LOOKUP_SHARE = 0.25;

const FAILED = Symbol('store failed');
/** A stored lookup whose roaming facts this process does not hold: usable by no one here. */
const WITHHELD = Symbol('roaming withheld');

/**
 * Runs one store call within `ms`; never rejects: a timeout or an error comes back as `{ error }`.
 * A synchronous store (the in-memory default) answers at once and needs no timer. For an asynchronous one the
 * timeout is settled with setImmediate, after the event loop's I/O phase: when the loop was busy (a burst of
 * checks), a reply that had already arrived is read first, and is not thrown away as a timeout.
 */
function bounded<T>(work: () => T | Promise<T>, ms: number): Promise<{ value: T } | { error: unknown }> {
  let pending: T | Promise<T>;
  try {
    pending = work();
  } catch (error) {
    return Promise.resolve({ error });
  }
  if (typeof (pending as { then?: unknown } | null)?.then !== 'function')
    return Promise.resolve({ value: pending as T });
  return new Promise((resolve) => {
    const timeout = () => resolve({ error: new Error(`store timeout after ${ms} ms`) });
    const timer = setTimeout(() => afterIo(timeout), ms);
    timer.unref?.();
    Promise.resolve(pending)
      .then(
        (value) => resolve({ value }),
        (error: unknown) => resolve({ error }),
      )
      .finally(() => clearTimeout(timer));
  });
}

/**
 * Remote lookups by a hash of the number: a store (memory or shared) plus single-flight, so that concurrent
 * checks of one number in this process make one upstream call. Failures are never cached.
 */
export class LookupCache {
  readonly #options: LookupCacheOptions;
  readonly #inflight = new Map<string, Promise<PhoneLookup>>();
  readonly #roaming: LRUCache<string, Roaming> | undefined;
  #failing = false;

  constructor(options: LookupCacheOptions) {
    this.#options = options;
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

  /** One store call within `storeTimeoutMs`; a failure or a timeout is reported and comes back as `FAILED`. */
  async #call<T>(operation: StoreOperation, work: () => T | Promise<T>): Promise<T | typeof FAILED> {
    const outcome = await bounded(work, this.#options.storeTimeoutMs);
    if ('value' in outcome) {
      this.#failing = false;
      return outcome.value;
    }
    if (!this.#failing) this.#options.onStoreError(operation, outcome.error);
    this.#failing = true;
    return FAILED;
  }

  async get(key: string): Promise<PhoneLookup | undefined> {
    const got = await this.#read(key);
    return got === WITHHELD ? undefined : got;
  }

  /** The stored lookup; WITHHELD when it is stored without its roaming facts and this process lost them. */
  async #read(key: string): Promise<PhoneLookup | undefined | typeof WITHHELD> {
    const got = await this.#call('get', () => this.#options.store.get(key));
    if (typeof got !== 'string') return undefined;
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
      if (!roaming) return WITHHELD;
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
   * `share` across servers, for a store that can lock. This process's one lookup for `key` first takes the
   * store's lock. The winner calls `lookup`, stores the result, then unlocks. A loser polls the store for the
   * winner's result (`fromStore: true`) and looks the number up itself when the lock is gone without a
   * result, or when only a quarter of its budget is left. A store that cannot lock just now (down, slow)
   * never holds a check back: the check looks up as if there were no lock.
   */
  shareLocked(
    key: string,
    lookup: () => Promise<PhoneLookup>,
    budget: { deadline: number; timeoutMs: number },
  ): Promise<LockedLookup> {
    const led = this.#lead(key, lookup, budget);
    this.#register(
      key,
      led.then((r) => r.lookup),
    );
    return led;
  }

  async #lead(
    key: string,
    lookup: () => Promise<PhoneLookup>,
    { deadline, timeoutMs }: { deadline: number; timeoutMs: number },
  ): Promise<LockedLookup> {
    const lockKey = `${key}:lock`;
    const waitUntil = deadline - timeoutMs * OWN_LOOKUP_SHARE;
    let interval = POLL_MIN_MS;
    for (;;) {
      // The lock outlives the winner's budget by one store call: time enough to store its result.
      const ttlMs = Math.max(1, Math.ceil(deadline - performance.now()) + this.#options.storeTimeoutMs);
      const held = await this.#call('lock', () => this.#options.store.lock!(lockKey, ttlMs));
      if (held === FAILED) return this.#lookUp(key, lookup, undefined);
      if (held === true) {
        // Another server may have stored its result and unlocked between our read and our lock.
        const hit = await this.#read(key);
        if (!hit || hit === WITHHELD) return this.#lookUp(key, lookup, lockKey);
        void this.#unlock(lockKey);
        return { lookup: hit, fromStore: true };
      }
      const pause = Math.min(POLL_MAX_MS, interval + Math.random() * POLL_SPREAD_MS);
      interval *= 1.5;
      if (performance.now() + pause >= waitUntil) return this.#lookUp(key, lookup, undefined);
      await new Promise((resolve) => setTimeout(resolve, pause));
      const hit = await this.#read(key);
      // The winner's roaming facts stayed on its server: waiting longer would not bring them here.
      if (hit === WITHHELD) return this.#lookUp(key, lookup, undefined);
      if (hit) return { lookup: hit, fromStore: true };
    }
  }

  /** Our own upstream call. Its result is stored, then the lock (if we hold it) released, in the background. */
  async #lookUp(
    key: string,
    lookup: () => Promise<PhoneLookup>,
    lockKey: string | undefined,
  ): Promise<LockedLookup> {
    let result: PhoneLookup;
    try {
      result = await lookup();
    } catch (error) {
      if (lockKey) void this.#unlock(lockKey);
      throw error;
    }
    void (async () => {
      if (!result.budgetExceeded) await this.set(key, result);
      if (lockKey) await this.#unlock(lockKey);
    })();
    return { lookup: result, fromStore: false };
  }

  async #unlock(lockKey: string): Promise<void> {
    const { store } = this.#options;
    if (store.unlock) await this.#call('unlock', () => store.unlock!(lockKey));
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
