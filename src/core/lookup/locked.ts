/** The cross-server lock protocol: one server of a fleet looks a number up; the others wait for its stored result. */
import type { PhoneLookup } from '../provider.js';
import type { Store } from '../store.js';
import { FAILED, type StoreCall } from './store-call.js';

/** What a locked lookup came to: `fromStore` when another server's lookup answered it (no call of our own). */
export interface LockedLookup {
  lookup: PhoneLookup;
  fromStore: boolean;
}

/** What the protocol uses of the lookup cache. */
export interface LockingCache {
  /** A store that can lock (`store.lock` is a function). */
  readonly store: Store;
  readonly storeTimeoutMs: number;
  readonly call: StoreCall;
  /** The stored lookup; 'withheld' when it is stored without its roaming facts and this process lost them. */
  read(key: string): Promise<PhoneLookup | undefined | 'withheld'>;
  set(key: string, lookup: PhoneLookup): Promise<void>;
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

/**
 * Takes the store's lock for `key`. The winner calls `lookup`, stores the result, then unlocks. A loser polls
 * the store for the winner's result (`fromStore: true`) and looks the number up itself when the lock is gone
 * without a result, or when only a quarter of its budget is left. A store that cannot lock just now (down,
 * slow) never holds a check back: the check looks up as if there were no lock.
 */
export async function lookUpLocked(
  cache: LockingCache,
  key: string,
  lookup: () => Promise<PhoneLookup>,
  { deadline, timeoutMs }: { deadline: number; timeoutMs: number },
): Promise<LockedLookup> {
  const lockKey = `${key}:lock`;
  const waitUntil = deadline - timeoutMs * OWN_LOOKUP_SHARE;
  let interval = POLL_MIN_MS;
  for (;;) {
    // The lock outlives the winner's budget by one store call: time enough to store its result.
    const ttlMs = Math.max(1, Math.ceil(deadline - performance.now()) + cache.storeTimeoutMs);
    const held = await cache.call('lock', () => cache.store.lock!(lockKey, ttlMs));
    if (held === FAILED) return ownLookup(cache, key, lookup, undefined);
    if (held === true) {
      // Another server may have stored its result and unlocked between our read and our lock.
      const hit = await cache.read(key);
      if (!hit || hit === 'withheld') return ownLookup(cache, key, lookup, lockKey);
      void unlock(cache, lockKey);
      return { lookup: hit, fromStore: true };
    }
    const pause = Math.min(POLL_MAX_MS, interval + Math.random() * POLL_SPREAD_MS);
    interval *= 1.5;
    if (performance.now() + pause >= waitUntil) return ownLookup(cache, key, lookup, undefined);
    await new Promise((resolve) => setTimeout(resolve, pause));
    const hit = await cache.read(key);
    // The winner's roaming facts stayed on its server: waiting longer would not bring them here.
    if (hit === 'withheld') return ownLookup(cache, key, lookup, undefined);
    if (hit) return { lookup: hit, fromStore: true };
  }
}

/** Our own upstream call. Its result is stored, then the lock (if we hold it) released, in the background. */
async function ownLookup(
  cache: LockingCache,
  key: string,
  lookup: () => Promise<PhoneLookup>,
  lockKey: string | undefined,
): Promise<LockedLookup> {
  let result: PhoneLookup;
  try {
    result = await lookup();
  } catch (error) {
    if (lockKey) void unlock(cache, lockKey);
    throw error;
  }
  void (async () => {
    if (!result.budgetExceeded) await cache.set(key, result);
    if (lockKey) await unlock(cache, lockKey);
  })();
  return { lookup: result, fromStore: false };
}

async function unlock(cache: LockingCache, lockKey: string): Promise<void> {
  const { store } = cache;
  if (store.unlock) await cache.call('unlock', () => store.unlock!(lockKey));
}
