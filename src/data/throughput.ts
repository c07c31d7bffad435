/** Cuts a body that averages under a minimum rate over a window, so a trickle cannot hold the update lock for the total timeout. */
import { IpMatchDataError } from '../geodata/errors.js';

export interface ThroughputGuard {
  /** Counts bytes received. */
  add(bytes: number): void;
  /** Stops watching (the body ended, or failed). */
  stop(): void;
}

/**
 * Judges the body in consecutive windows of `windowMs` from its first byte on: a window that ends with fewer
 * than `minBytesPerSecond × windowMs / 1000` bytes aborts `controller` with an IpMatchDataError('too_slow').
 * A body that ends inside a window is never judged on that part window. `minBytesPerSecond` 0 turns it off.
 */
export function guardThroughput(
  shown: string,
  limits: { minBytesPerSecond: number; throughputWindowMs: number },
  controller: AbortController,
): ThroughputGuard {
  const { minBytesPerSecond: rate, throughputWindowMs: windowMs } = limits;
  if (rate === 0) return { add() {}, stop() {} };
  const needed = (rate * windowMs) / 1000;
  let inWindow = 0;
  const timer = setInterval(() => {
    if (inWindow < needed) {
      clearInterval(timer);
      controller.abort(
        new IpMatchDataError(
          'too_slow',
          `${shown}: ${inWindow} bytes in ${windowMs / 1000} s, under the minimum of ${rate} bytes a second: ` +
            'cut so that a stalled transfer does not hold the update lock (try again later, or a mirror with --url)',
        ),
      );
    }
    inWindow = 0;
  }, windowMs);
  timer.unref?.();
  return {
    add(bytes) {
      inWindow += bytes;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
