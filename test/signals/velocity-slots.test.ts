/** The in-memory counters' typed-array tables, held to a reference model of Store.distinct, and their bounds. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { memoryHasher } from '../../src/signals/velocity/keys.js';
import { MemoryCounters } from '../../src/signals/velocity/memory-counters.js';
import { MAX_CAP, PROBE_WINDOW, SlotTable } from '../../src/signals/velocity/slot-table.js';
import { capFor } from '../../src/signals/velocity/verdict.js';

/** Store.distinct's contract, plainly: per key, its members and when each was last seen, oldest first. */
function reference() {
  const keys = new Map<string, Map<number, number>>();
  return (key: string, member: number, windowMs: number, cap: number, now: number): number => {
    const set = keys.get(key) ?? new Map<number, number>();
    keys.set(key, set);
    for (const [m, at] of set) if (at <= now - windowMs) set.delete(m);
    if (member >= 0) {
      set.delete(member);
      set.set(member, now);
      for (const m of set.keys()) if (set.size > cap) set.delete(m);
    }
    return set.size;
  };
}

const kinds = [
  { cap: 10, windowMs: 1_000 },
  { cap: 10, windowMs: 5_000 },
  { cap: 3, windowMs: 2_000 },
  { cap: 21, windowMs: 1_000 },
  // A slot's newest member is in its head, the older ones in its pairs: none at a cap of 1, one at 2.
  { cap: 1, windowMs: 1_500 },
  { cap: 2, windowMs: 1_000 },
];

describe('MemoryCounters in typed-array tables', () => {
  test.each([
    { keys: 41, ops: 600, runs: 300, jumps: 1 },
    // As many keys as a window has slots, in tables of one window (the smallest table: two buckets of 4, 8
    // slots): the window full of live keys, none evicted.
    { keys: PROBE_WINDOW, ops: 600, runs: 200, jumps: 1, maxMembers: 40 },
    // Enough keys, and rare enough jumps of the clock, that tables double, their keys placed again.
    { keys: 3_000, ops: 8_000, runs: 15, jumps: 0.002 },
  ])(
    'property: every count is the reference model’s, over random adds on a clock that jumps past windows ($keys keys)',
    ({ keys, ops: most, runs, jumps, maxMembers }) => {
      const op = fc.record({
        kind: fc.integer({ min: 0, max: kinds.length - 1 }),
        key: fc.integer({ min: 0, max: keys - 1 }),
        member: fc.integer({ min: -1, max: 30 }),
        step: fc.oneof(
          { arbitrary: fc.constant(0), weight: 1000 },
          { arbitrary: fc.integer({ min: 1, max: 400 }), weight: 1000 * jumps },
          { arbitrary: fc.integer({ min: 900, max: 6_000 }), weight: 1000 * jumps },
        ),
      });
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 2 ** 49 - 1 }), { minLength: keys, maxLength: keys }),
          fc.array(op, { minLength: most / 4, maxLength: most, size: 'max' }),
          (hashes, ops) => {
            const counters = new MemoryCounters(maxMembers);
            const model = reference();
            let now = 0;
            for (const { kind, key, member, step } of ops) {
              now += step;
              const { cap, windowMs } = kinds[kind]!;
              // A key is a 49-bit hash, in its kind's table; a member, any hash (0 to 30 here).
              const k = hashes[key]!;
              const want = model(`${kind}:${k}`, member, windowMs, cap, now);
              expect(counters.add(k, member, windowMs, cap, now)).toBe(want);
            }
          },
        ),
        // A long failing sequence is reported as found: shrinking thousands of adds would take minutes.
        { numRuns: runs, endOnFailure: keys > 100 },
      );
    },
  );

  test('a new key takes the slot of a key whose members have all expired before it evicts a live one', () => {
    // One window (the whole table: two buckets of 4), full: the other keys of two members seen at 0, one of a
    // single member at 900.
    const others = PROBE_WINDOW - 1;
    const t = new SlotTable(10, 1_000, PROBE_WINDOW);
    for (let k = 1; k <= others; k++) {
      t.add(k * 1e6, 1, 0);
      expect(t.add(k * 1e6, 2, 0)).toBe(2);
    }
    expect(t.add(42, 1, 900)).toBe(1);
    expect([t.keys, t.slots]).toEqual([PROBE_WINDOW, PROBE_WINDOW]);
    // At 1000 the others have expired: as many new keys take their slots, and 42, the one with fewest members
    // (the first to go were they all live), keeps its count.
    for (let k = 1; k <= others; k++) expect(t.add(k * 1e9, 1, 1_000)).toBe(1);
    expect(t.add(42, 2, 1_000)).toBe(2);
    for (let k = 1; k <= others; k++) expect(t.peek(k * 1e9)).toBe(1);
  });

  test.each([
    { cap: 3, members: 5 },
    // The slot's newest member lives in its head, the older ones in its pairs: a cap of 2 holds one pair.
    { cap: 2, members: 3 },
  ])(
    'property: in a full window, a new key never evicts a live key while a slot is free or wholly expired (cap $cap)',
    ({ cap, members }) => {
      // One window (the whole table): every key competes for its slots. Each slot's newest time is kept in its
      // head (what the window's scan reads); a stale one would make a refreshed key look expired and lose it.
      const op = fc.record({
        key: fc.integer({ min: 0, max: 3 * PROBE_WINDOW }),
        member: fc.integer({ min: -1, max: members }),
        step: fc.integer({ min: 0, max: 600 }),
      });
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
          const windowMs = 1_000;
          const t = new SlotTable(cap, windowMs, PROBE_WINDOW);
          let now = 0;
          for (const { key, member, step } of ops) {
            now += step;
            const k = key * 1e6 + 7;
            const before = new Map(t.entries());
            if (before.has(k) || member < 0) {
              t.add(k, member, now);
              continue;
            }
            const newest = (list: readonly number[]) => list[list.length - 1]!;
            const room =
              before.size < PROBE_WINDOW ||
              [...before.values()].some((list) => newest(list) <= now - windowMs);
            expect(t.add(k, member, now)).toBe(1);
            if (!room) continue;
            const after = new Map(t.entries());
            for (const [held, list] of before)
              if (newest(list) > now - windowMs) expect(after.get(held)).toEqual(list);
          }
        }),
        { numRuns: 300 },
      );
    },
  );

  test('grows by doubling from a few thousand pairs, never to its bound up front', () => {
    const t = new SlotTable(10, 60_000, 1 << 17);
    expect(t.slots).toBe(1024);
    for (let k = 0; k < 3_000; k++) t.add(k * 104_729, 1, k);
    expect(t.slots).toBeGreaterThanOrEqual(4096);
    expect(t.slots).toBeLessThanOrEqual(8192);
    expect(t.keys).toBe(3_000);
  });

  test('at three quarters of its bound, keys seen in turn over and over are nearly all kept', () => {
    // A key's window is its bucket and the next: a bucket of 4 alone overflows at this load, and its least
    // recently used key is the next to come back: a cycle would forget a sixth of the keys (7% here).
    const t = new SlotTable(10, 3_600_000, 4096);
    const keys = Array.from({ length: 3072 }, (_, i) => i * 2_654_435_761 + 12_345);
    let forgotten = 0;
    for (let round = 0; round < 5; round++)
      for (const k of keys) if (t.add(k, round, round * 10_000) === 1 && round === 4) forgotten++;
    expect(t.slots).toBe(4096);
    expect(forgotten / keys.length).toBeLessThan(0.12);
  });

  test('at its bound, a flood of one-member keys evicts its own kind, not a key counting up to its threshold', () => {
    const t = new SlotTable(10, 3_600_000, 64);
    for (let m = 0; m < 4; m++) t.add(42, m, m);
    for (let k = 0; k < 100_000; k++) t.add(1e9 + k * 31, 0, 10 + k);
    expect(t.keys).toBeLessThanOrEqual(64);
    expect(t.slots).toBe(64);
    expect(t.add(42, 4, 200_000)).toBe(5);
  });

  test('keys are 49-bit hashes, kept whole beside the count, up to the largest cap the options allow', () => {
    const hash = memoryHasher([1, 2]);
    const t = new SlotTable(capFor(10_000), 60_000, 8);
    const keys = Array.from({ length: 200 }, (_, i) => hash.hash('ip', `203.0.113.${i}`));
    for (const k of keys) expect(k).toBeLessThan(2 ** 49);
    expect(keys.some((k) => k >= 2 ** 48)).toBe(true);
    const key = keys.find((k) => k >= 2 ** 48)!;
    for (let m = 0; m <= t.cap; m++) t.add(key, m, m);
    expect(t.cap).toBe(20_001);
    expect(t.peek(key)).toBe(20_001);
    expect([...t.entries()].map(([k]) => k)).toEqual([key]);
    expect(() => new SlotTable(MAX_CAP + 1, 60_000, 8)).toThrow(RangeError);
  });

  test('each kind has at most maxMembers / cap slots (a power of two), whatever the keys', () => {
    const c = new MemoryCounters(10_000);
    for (let k = 0; k < 50_000; k++) {
      c.add(k * 2_654_435_761, k, 600_000, 10, k);
      c.add(k * 40_503, k, 600_000, 21, k);
    }
    expect(c.table(10, 600_000).slots).toBe(512);
    expect(c.table(21, 600_000).slots).toBe(256);
    expect(c.keys).toBeLessThanOrEqual(512 + 256);
    expect(PROBE_WINDOW).toBeLessThanOrEqual(256);
  });
});
