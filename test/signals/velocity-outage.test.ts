/** A velocity Store that fails and answers in turn (one cluster master down) warns once per outage, on the core's clock. */
import { describe, expect, test } from 'vitest';
import { OUTAGE_QUIET_MS } from '../../src/core/lookup/store-call.js';
import type { SignalContext } from '../../src/core/signal-source.js';
import type { Store } from '../../src/core/store.js';
import { velocitySettings } from '../../src/core/velocity-options.js';
import { storeCounting } from '../../src/signals/velocity/store-source.js';

/**
 * A Store whose `distinct` fails on every other call while `half` (as checks whose counters live on a lost
 * master do), on every call while `down`, never while `up`; `failedAt` is the clock at its last failure.
 */
function flaky(clock: () => number) {
  let calls = 0;
  const state = { mode: 'half' as 'half' | 'down' | 'up', failedAt: Number.NaN };
  const store: Store = {
    get: () => undefined,
    set: () => undefined,
    distinct: async (ops) => {
      const fails = state.mode === 'down' || (state.mode === 'half' && calls % 2 === 1);
      calls++;
      if (fails) {
        state.failedAt = clock();
        throw new Error('CLUSTERDOWN The cluster is down');
      }
      return ops.map(() => 1);
    },
  };
  return { store, state };
}

const ctx = (i: number): SignalContext => ({
  phone: { number: `+4474001${String(i).padStart(5, '0')}`, country: 'GB', roamingCountry: null, type: null },
  ip: { address: `81.2.69.${i % 250}`, country: 'GB', network: null },
  route: { readsIpHeader: false },
  ipPublic: true,
  now: () => 0,
});

describe('storeCounting: one IPMATCH_VELOCITY_UNAVAILABLE per outage', () => {
  test('successes and failures in turn warn once; a failure after 30 s without one warns again', async () => {
    let t = 1_000_000;
    const warnings: unknown[] = [];
    const logger = { warn: (_m: string, meta?: unknown) => warnings.push(meta), error() {} };
    const clock = () => t;
    const { store, state } = flaky(clock);
    const counting = storeCounting(velocitySettings(undefined, undefined), store, () => true, logger, clock);
    const signals: string[] = [];
    for (let i = 0; i < 45; i++) {
      t += 200;
      signals.push(...(await counting.count(ctx(i), false)));
    }
    expect(signals.filter((s) => s === 'velocity_unavailable')).toHaveLength(22);
    expect(warnings).toEqual([
      { code: 'IPMATCH_VELOCITY_UNAVAILABLE', error: 'CLUSTERDOWN The cluster is down' },
    ]);
    // Only successes since, then a failure 1 ms short of 30 s after the last: the same outage.
    state.mode = 'up';
    t += 10_000;
    await counting.count(ctx(45), false);
    await counting.verified('+447400100046');
    state.mode = 'down';
    t = state.failedAt + OUTAGE_QUIET_MS - 1;
    expect(await counting.count(ctx(47), false)).toEqual(['velocity_unavailable']);
    expect(warnings).toHaveLength(1);
    // 30 s without a failure: the next one starts a new outage, and the one after it is part of it.
    t += OUTAGE_QUIET_MS;
    await counting.count(ctx(48), false);
    t += 1;
    await counting.count(ctx(49), false);
    expect(warnings).toHaveLength(2);
  });
});
