/** One store call within a time budget that never rejects, and a caller that reports a failing store once per outage. */
import { afterIo } from '../builtins.js';

export type StoreOperation = 'get' | 'set' | 'lock' | 'unlock';

/** What a store call that failed or timed out comes back as: the check carries on without the store. */
export const FAILED = Symbol('store failed');

/** One store call within the caller's budget; FAILED (already reported) when it failed or timed out. */
export type StoreCall = <T>(
  operation: StoreOperation,
  work: () => T | Promise<T>,
) => Promise<T | typeof FAILED>;

/**
 * Runs one store call within `ms`; never rejects: a timeout or an error comes back as `{ error }`.
 * A synchronous store (the in-memory default) answers at once and needs no timer. For an asynchronous one the
 * timeout is settled with setImmediate, after the event loop's I/O phase: when the loop was busy (a burst of
 * checks), a reply that had already arrived is read first, and is not thrown away as a timeout.
 */
export function bounded<T>(
  work: () => T | Promise<T>,
  ms: number,
): Promise<{ value: T } | { error: unknown }> {
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
    // The timer cleared in each callback, not in a `finally`: that would chain two more promises per call.
    Promise.resolve(pending).then(
      (value) => {
        clearTimeout(timer);
        resolve({ value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ error });
      },
    );
  });
}

/**
 * How long a store must go without failing before its next failure is reported as a new outage: 30 s. A success
 * does not end an outage: with one Redis Cluster master down, checks on its slots fail between checks on the
 * others' that work, and that is one outage, to be reported once.
 */
export const OUTAGE_QUIET_MS = 30_000;

/**
 * Tells, at each failure, whether it starts an outage: the first failure does, and so does the first after
 * `quietMs` without any (successes in between do not count). Reads `now` at failures only.
 */
export function outageTracker(now: () => number = Date.now, quietMs: number = OUTAGE_QUIET_MS) {
  let last = Number.NEGATIVE_INFINITY;
  return {
    /** Records a failure at `now()`; true when it is the first of an outage, the one to report. */
    failed(): boolean {
      const at = now();
      const starts = !(at - last < quietMs);
      last = at;
      return starts;
    },
  };
}

/**
 * Store calls within `timeoutMs` each. `onStoreError` hears of the first failure of each outage (see
 * `outageTracker`: a new one starts after `OUTAGE_QUIET_MS` without a failure), not of every call.
 */
export function storeCaller(
  timeoutMs: number,
  onStoreError: (operation: StoreOperation, error: unknown) => void,
  now: () => number = Date.now,
): StoreCall {
  const outage = outageTracker(now);
  return async (operation, work) => {
    const outcome = await bounded(work, timeoutMs);
    if ('value' in outcome) return outcome.value;
    if (outage.failed()) onStoreError(operation, outcome.error);
    return FAILED;
  };
}
