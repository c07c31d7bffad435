import { createHash } from 'node:crypto';
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
  /** Called when the store fails or is slow; the check carries on without it. */
  onStoreError: (operation: 'get' | 'set', error: unknown) => void;
}

const TIMED_OUT = Symbol('timed out');

/** Resolves to `TIMED_OUT` if `work` takes longer than `ms`; never rejects (errors resolve to the error). */
function bounded<T>(
  work: () => T | Promise<T>,
  ms: number,
): Promise<T | typeof TIMED_OUT | { error: unknown }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref?.();
    Promise.resolve()
      .then(work)
      .then(
        (value) => resolve(value),
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

  constructor(options: LookupCacheOptions) {
    this.#options = options;
  }

  /** SHA-256 of scope, number and (when the lookup depends on it) IP: keys never hold a phone number. */
  static key(scope: string, number: string, ip: string | null): string {
    return createHash('sha256')
      .update(`ipmatch:v1|${scope}|${number}|${ip ?? ''}`)
      .digest('hex');
  }

  async get(key: string): Promise<PhoneLookup | undefined> {
    const got = await bounded(() => this.#options.store.get(key), this.#options.storeTimeoutMs);
    if (got === TIMED_OUT || (typeof got === 'object' && got !== null && 'error' in got)) {
      this.#options.onStoreError('get', got === TIMED_OUT ? new Error('store timeout') : got.error);
      return undefined;
    }
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
    const { store, ttlMs, storeTimeoutMs } = this.#options;
    const done = await bounded(() => store.set(key, JSON.stringify(facts), ttlMs), storeTimeoutMs);
    if (done === TIMED_OUT || (typeof done === 'object' && done !== null && 'error' in done)) {
      this.#options.onStoreError('set', done === TIMED_OUT ? new Error('store timeout') : done.error);
    }
  }

  /** The lookup already in flight for `key`, if any. */
  inflight(key: string): Promise<PhoneLookup> | undefined {
    return this.#inflight.get(key);
  }

  /** Registers `lookup` as the one in flight for `key` until it settles; successes are stored. */
  share(key: string, lookup: Promise<PhoneLookup>): Promise<PhoneLookup> {
    this.#inflight.set(key, lookup);
    lookup.then(
      (result) => {
        this.#inflight.delete(key);
        if (!result.budgetExceeded) void this.set(key, result);
      },
      () => this.#inflight.delete(key),
    );
    return lookup;
  }

  clear(): void {
    this.#inflight.clear();
  }
}
