import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PhoneLookup } from './provider.js';
import type { Store } from './store.js';

/** The facts a cached lookup keeps: enough to match, nothing personal (no number, no caller name). */
type CachedFacts = Pick<PhoneLookup, 'country' | 'roamingCountry' | 'legacyIp'> & {
  networkType?: string | null;
  valid?: boolean;
};

export interface LookupCacheOptions {
  store: Store;
  ttlMs: number;
  storeTimeoutMs: number;
  /**
   * Called when the store starts failing or being slow: on the first failure, and on the first one after a
   * call that worked (once per outage, not once per call). The check carries on without the store.
   */
  onStoreError: (operation: StoreOperation, error: unknown) => void;
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
    const timer = setTimeout(() => setImmediate(timeout), ms);
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
  #failing = false;

  constructor(options: LookupCacheOptions) {
    this.#options = options;
  }

  /** SHA-256 of scope, number and (when the lookup depends on it) IP: keys never hold a phone number. */
  static key(scope: string, number: string, ip: string | null): string {
    return createHash('sha256')
      .update(`ipmatch:v1|${scope}|${number}|${ip ?? ''}`)
      .digest('hex');
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
    const got = await this.#call('get', () => this.#options.store.get(key));
    if (typeof got !== 'string') return undefined;
    try {
      const facts = JSON.parse(got) as CachedFacts;
      if (typeof facts !== 'object' || facts === null || !('country' in facts)) return undefined;
      const { networkType, valid, ...rest } = facts;
      const lookup: PhoneLookup = { ...rest, roamingCountry: rest.roamingCountry ?? null };
      if (networkType !== undefined || valid !== undefined) {
        lookup.facts = {};
        if (networkType !== undefined) lookup.facts.networkType = networkType;
        if (valid !== undefined) lookup.facts.valid = valid;
      }
      return lookup;
    } catch {
      return undefined;
    }
  }

  /** Stores the match facts; does not wait for a slow store beyond its budget. */
  async set(key: string, lookup: PhoneLookup): Promise<void> {
    const facts: CachedFacts = { country: lookup.country, roamingCountry: lookup.roamingCountry };
    if (lookup.legacyIp) facts.legacyIp = lookup.legacyIp;
    if (lookup.facts?.networkType !== undefined) facts.networkType = lookup.facts.networkType;
    if (lookup.facts?.valid !== undefined) facts.valid = lookup.facts.valid;
    const { store, ttlMs } = this.#options;
    await this.#call('set', () => store.set(key, JSON.stringify(facts), ttlMs));
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
        const hit = await this.get(key);
        if (!hit) return this.#lookUp(key, lookup, lockKey);
        void this.#unlock(lockKey);
        return { lookup: hit, fromStore: true };
      }
      const pause = Math.min(POLL_MAX_MS, interval + Math.random() * POLL_SPREAD_MS);
      interval *= 1.5;
      if (performance.now() + pause >= waitUntil) return this.#lookUp(key, lookup, undefined);
      await sleep(pause);
      const hit = await this.get(key);
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
  }
}
