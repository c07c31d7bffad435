import { describe, expect, it } from 'vitest';
import { type BudgetLimit, LookupBudget, WINDOW_MS } from '../../src/providers/lookup-budget.js';

/** A budget on a clock the test moves, with every warning it gives. */
function budget(perMinute: number | false, perMinutePerIp: number | false, maxClients?: number) {
  let now = 0;
  const warnings: [BudgetLimit, number][] = [];
  const b = new LookupBudget({
    perMinute,
    perMinutePerIp,
    maxClients,
    now: () => now,
    onExceeded: (limit, max) => warnings.push([limit, max]),
  });
  return {
    b,
    warnings,
    at: (ms: number) => {
      now = ms;
    },
    /** How many of `n` lookups from `ip` the budget lets through. */
    take: (ip: string | null, n: number) => {
      let granted = 0;
      for (let i = 0; i < n; i++) if (b.take(ip) === undefined) granted++;
      return granted;
    },
  };
}

describe('LookupBudget: per client IP', () => {
  it('lets one IP make its allowance in a minute, then refuses it, and other IPs still get theirs', () => {
    const { b, take } = budget(false, 10);
    expect(take('203.0.113.7', 1000)).toBe(10);
    expect(b.take('203.0.113.7')).toBe('ip');
    expect(take('198.51.100.1', 3)).toBe(3);
  });

  it('slides: a full minute later the IP has its whole allowance back, and not before', () => {
    const { at, take } = budget(false, 10);
    at(5_000);
    expect(take('203.0.113.7', 10)).toBe(10);
    // Half of the previous window still overlaps the last 60 s: 5 of its 10 lookups still count.
    at(WINDOW_MS + WINDOW_MS / 2);
    expect(take('203.0.113.7', 10)).toBe(5);
    at(3 * WINDOW_MS);
    expect(take('203.0.113.7', 20)).toBe(10);
  });

  it('does not allow the double burst a fixed window allows at its edge', () => {
    const { at, take } = budget(false, 10);
    at(WINDOW_MS - 1);
    expect(take('203.0.113.7', 10)).toBe(10);
    // A fixed window would grant 10 more here, 2 ms later; the sliding estimate grants at most the rounding.
    at(WINDOW_MS + 1);
    expect(take('203.0.113.7', 10)).toBeLessThanOrEqual(1);
  });

  it('counts IPv6 clients by their /64, so rotating through one subscriber block does not help', () => {
    const { take } = budget(false, 10);
    let granted = 0;
    for (let i = 0; i < 100; i++) granted += take(`2001:db8:1:2::${i.toString(16)}`, 1);
    expect(granted).toBe(10);
    expect(take('2001:db8:1:3::1', 1)).toBe(1);
  });

  it('keeps memory bounded: it tracks at most maxClients addresses, forgetting the least recent', () => {
    const { b, take } = budget(false, 1, 100);
    for (let i = 0; i < 5000; i++) take(`10.0.${i >> 8}.${i & 255}`, 1);
    expect(b.trackedClients).toBe(100);
  });

  it('applies no per-IP limit to a lookup without a client IP', () => {
    const { take } = budget(false, 2);
    expect(take(null, 50)).toBe(50);
  });
});

describe('LookupBudget: global', () => {
  it('caps all clients together; a refused client does not eat into the global budget', () => {
    const { b, take } = budget(25, 10);
    expect(take('203.0.113.7', 100)).toBe(10);
    expect(take('203.0.113.8', 100)).toBe(10);
    expect(take('203.0.113.9', 100)).toBe(5);
    expect(b.take('203.0.113.10')).toBe('global');
  });

  it('with both limits off, never refuses', () => {
    const { take } = budget(false, false);
    expect(take('203.0.113.7', 10_000)).toBe(10_000);
  });
});

describe('LookupBudget: refunds and warnings', () => {
  it('gives a lookup back when it never reached the upstream', () => {
    const { b, take } = budget(false, 2);
    expect(take('203.0.113.7', 2)).toBe(2);
    b.refund('203.0.113.7');
    expect(take('203.0.113.7', 5)).toBe(1);
  });

  it('warns once per minute per limit, however many lookups it refuses', () => {
    const { at, take, warnings } = budget(15, 10);
    take('203.0.113.7', 500);
    take('203.0.113.8', 500);
    expect(warnings).toEqual([
      ['ip', 10],
      ['global', 15],
    ]);
    at(2 * WINDOW_MS);
    take('203.0.113.7', 500);
    expect(warnings).toHaveLength(3);
  });
});
