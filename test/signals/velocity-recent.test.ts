/**
 * The in-memory source's fast path (recent.ts: a repeated number or IP reuses its hashes and its slots) held to
 * the slow path (hash every key, find every slot), and the tables' time offsets held exact across a re-basing.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { SignalContext } from '../../src/core/signal-source.js';
import { velocitySettings } from '../../src/core/velocity-options.js';
import { CONVERSION } from '../../src/signals/velocity/conversion.js';
import { blockEnd, memoryHasher, v6Groups } from '../../src/signals/velocity/keys.js';
import { MemoryCounters } from '../../src/signals/velocity/memory-counters.js';
import { memoryCounting } from '../../src/signals/velocity/memory-source.js';
import { RECENT_ENTRIES, Recent } from '../../src/signals/velocity/recent.js';
import { SlotTable } from '../../src/signals/velocity/slot-table.js';
import { capFor, verdictFor } from '../../src/signals/velocity/verdict.js';

const SEED: [number, number] = [0x1234_5678, 0x9abc_def0];
const settings = velocitySettings(
  {
    ip: { windowMs: 1_000, max: 3 },
    subnet: { windowMs: 1_000, max: 10 },
    phone: { windowMs: 2_000, maxCountries: 2 },
    prefix: { windowMs: 1_500, max: 4, digits: 3 },
  },
  undefined,
);

/** The slow path, spelled out: every key hashed afresh, every add without a hint, into tables of the same bound. */
function slowPath(maxMembers: number) {
  const hash = memoryHasher(SEED);
  const counters = new MemoryCounters(maxMembers);
  const s = settings;
  const signalsOf = verdictFor(s);
  const add = (key: number, member: number, w: { windowMs: number }, cap: number, now: number) =>
    counters.add(key, member, w.windowMs, cap, now);
  return {
    count(number: string, address: string | null, country: string | null, otp: boolean, now: number) {
      if (s.ip === false || s.subnet === false || s.phone === false || s.prefix === false) throw new Error();
      const end = blockEnd(number, s.prefix.digits);
      hash.pass(number, end);
      const member = hash.whole('number');
      const phoneKey = hash.whole('phone');
      const block = end > 0 ? hash.prefix('block') : -1;
      const sentKey = end > 0 ? hash.prefix('sent') : -1;
      const verifiedKey = end > 0 ? hash.prefix('verified') : -1;
      let ip = 0;
      let subnet = 0;
      if (address !== null) {
        const text = address.includes(':') ? v6Groups(address, 4) : address;
        hash.pass(text, text.lastIndexOf(address.includes(':') ? ':' : '.'));
        ip = add(hash.whole('ip'), member, s.ip, capFor(s.ip.max), now);
        subnet = add(hash.prefix('subnet'), member, s.subnet, capFor(s.subnet.max), now);
      }
      const seen = country === null ? -1 : hash.hash('country', country);
      const phoneCountries = add(phoneKey, seen, s.phone, capFor(s.phone.maxCountries), now);
      const prefix = block >= 0 ? add(block, member, s.prefix, capFor(s.prefix.max), now) : 0;
      let sent = -1;
      let verified = 0;
      if (otp && block >= 0) {
        sent = add(sentKey, member, CONVERSION, CONVERSION.cap, now);
        verified = add(verifiedKey, -1, CONVERSION, CONVERSION.cap, now);
      }
      const found = { ip, subnet, phoneCountries, prefix };
      return { found, signals: signalsOf(ip, subnet, phoneCountries, prefix, sent, verified) };
    },
    verified(number: string, now: number) {
      const end = blockEnd(number, 3);
      if (end < 0) return;
      hash.pass(number, end);
      counters.add(hash.prefix('verified'), hash.whole('number'), CONVERSION.windowMs, CONVERSION.cap, now);
    },
  };
}

// Few numbers and IPs, so that they repeat; numbers sharing their last four digits, so that they share a recent
// entry; IPv4 and IPv6, and a short number without a block.
const numbers = [
  '+447400123450',
  '+447400124450',
  '+33612345450',
  '+447400123451',
  '+4474001',
  '+15551234567',
];
const addresses = ['203.0.113.9', '198.51.100.9', '203.0.113.10', '2001:db8::9', '2001:db8:0:1::9', null];

describe('velocity in memory: the fast path of repeated numbers and IPs', () => {
  test.each([
    // Tables at their bound (a few keys per table): evictions move keys out of the slots their hints name.
    { maxMembers: 80, runs: 200 },
    { maxMembers: 2_097_152, runs: 100 },
  ])(
    'property: every count and signal is the slow path’s (maxMembers $maxMembers)',
    ({ maxMembers, runs }) => {
      const check = fc.record({
        number: fc.integer({ min: 0, max: numbers.length - 1 }),
        // Many distinct numbers too, to fill the tables and the recent entries.
        fresh: fc.option(fc.integer({ min: 0, max: 5_000 }), { freq: 3 }),
        address: fc.integer({ min: 0, max: addresses.length - 1 }),
        freshIp: fc.option(fc.integer({ min: 0, max: 5_000 }), { freq: 3 }),
        country: fc.constantFrom('GB', 'FR', 'US', null),
        otp: fc.boolean(),
        verify: fc.boolean(),
        step: fc.oneof(
          { arbitrary: fc.constant(0), weight: 6 },
          { arbitrary: fc.integer({ min: 1, max: 600 }), weight: 3 },
          { arbitrary: fc.integer({ min: 900, max: 3_000 }), weight: 1 },
        ),
      });
      fc.assert(
        fc.property(fc.array(check, { minLength: 1, maxLength: 400 }), (checks) => {
          let now = 0;
          const fast = memoryCounting(
            settings,
            (ctx) => ctx.ip.address !== null,
            () => now,
            memoryHasher(SEED),
            new MemoryCounters(maxMembers),
          );
          const slow = slowPath(maxMembers);
          for (const c of checks) {
            now += c.step;
            const number = c.fresh === null ? numbers[c.number]! : `+4420${String(c.fresh).padStart(8, '0')}`;
            const address =
              c.freshIp === null ? addresses[c.address]! : `192.0.${c.freshIp >> 8}.${c.freshIp & 255}`;
            const ctx: SignalContext = {
              phone: { number, country: 'GB', roamingCountry: null, type: null },
              ip: { address, country: c.country, network: null },
              route: { readsIpHeader: false },
              ipPublic: true,
              now: () => now,
            };
            const signals = fast.count(ctx, c.otp);
            const want = slow.count(number, address, c.country, c.otp, now);
            expect(ctx.velocity).toEqual(want.found);
            expect(signals).toEqual(want.signals);
            if (c.verify) {
              fast.verified(number);
              slow.verified(number, now);
            }
          }
        }),
        { numRuns: runs },
      );
    },
  );

  test('a recent entry answers only its own text, and a new text takes the entry over with no hints', () => {
    const r = new Recent(1, 2);
    const e = ~r.find('+447400123450');
    expect(e).toBeGreaterThanOrEqual(0);
    expect(e).toBeLessThan(RECENT_ENTRIES * r.stride);
    expect(e % r.stride).toBe(0);
    r.take(e, '+447400123450');
    r.setSlot(e, 0, 64);
    r.setHash(e, 0, 2 ** 53 - 1);
    expect(r.find('+447400123450')).toBe(e);
    expect([r.slot(e, 0), r.slot(e, 1), r.hash(e, 0)]).toEqual([64, -1, 2 ** 53 - 1]);
    // The same last characters and length: the same entry, but not held.
    expect(r.find('+337400123450')).toBe(~e);
    r.take(e, '+337400123450');
    expect([r.slot(e, 0), r.slot(e, 1)]).toEqual([-1, -1]);
    r.clear();
    expect(r.find('+337400123450')).toBe(~e);
  });

  test('an entry’s hashes and slots keep every value they are given (53-bit hashes, -1, slots)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 53 - 1 })), {
          minLength: 5,
          maxLength: 5,
        }),
        fc.array(fc.integer({ min: -1, max: 2 ** 31 - 1 }), { minLength: 4, maxLength: 4 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        (hashes, slots, text) => {
          const r = new Recent(5, 4);
          const at = ~r.find(text);
          r.take(at, text);
          for (const [i, h] of hashes.entries()) r.setHash(at, i, h);
          for (const [i, x] of slots.entries()) r.setSlot(at, i, x);
          expect(r.find(text)).toBe(at);
          expect(hashes.map((_, i) => r.hash(at, i))).toEqual(hashes);
          expect(slots.map((_, i) => r.slot(at, i))).toEqual(slots);
        },
      ),
    );
  });

  test('an IPv4 address held by its value answers that value only, never a text of the same print', () => {
    const r = new Recent(2, 2);
    const v = 0xcb007109; // 203.0.113.9
    const at = ~r.findValue(v);
    r.take(at, '203.0.113.9');
    expect(r.findValue(v)).toBe(at);
    // Another value of the same entry: not held.
    const entry = (x: number) => (Math.imul(x, 0x9e3779b1) >>> 24) & (RECENT_ENTRIES - 1);
    let other = v + 1;
    while (entry(other) !== at / r.stride) other++;
    expect(r.findValue(other)).toBe(~at);
    // The address as a text: held only by value, so not found as one.
    expect(r.find('203.0.113.9')).toBeLessThan(0);
    r.clear();
    expect(r.findValue(v)).toBe(~at);
  });

  test('a hint naming a slot that no longer holds the key is not trusted', () => {
    const t = new SlotTable(10, 1_000, 8);
    t.add(1, 5, 0);
    const hint = t.lastAt;
    // At the bound of 8 slots, other keys evict key 1 (one member, the oldest).
    for (let k = 2; k <= 20; k++) {
      t.add(k * 1e6, 1, 10);
      t.add(k * 1e6, 2, 10);
    }
    expect(t.peek(1)).toBe(0);
    // Key 1 again, with its old hint: a new key, one member, not the count of whoever holds that slot now.
    expect(t.add(1, 6, 20, hint)).toBe(1);
    expect(t.add(3 * 1e6, -1, 20, hint)).toBe(t.peek(3 * 1e6));
  });
});

describe('velocity in memory: times as offsets from a table base', () => {
  test('property: window edges stay exact across re-basings, on a clock that runs for months', () => {
    // Steps of up to 30 days: past the Uint32 offsets' half range (about 24.8 days), where the table re-bases.
    const op = fc.record({
      key: fc.integer({ min: 0, max: 5 }),
      member: fc.integer({ min: -1, max: 12 }),
      step: fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 1_500 }), weight: 8 },
        { arbitrary: fc.integer({ min: 0, max: 2_600_000_000 }), weight: 1 },
      ),
    });
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (ops, t0) => {
          const windowMs = 1_000;
          const table = new SlotTable(10, windowMs, 64);
          const model = new Map<number, Map<number, number>>();
          let now = t0;
          for (const { key, member, step } of ops) {
            now += step;
            const set = model.get(key) ?? new Map<number, number>();
            model.set(key, set);
            for (const [m, at] of set) if (at <= now - windowMs) set.delete(m);
            if (member >= 0) {
              set.delete(member);
              set.set(member, now);
              for (const m of set.keys()) if (set.size > 10) set.delete(m);
            }
            expect(table.add(key * 1e6 + 1, member, now)).toBe(set.size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a member seen exactly windowMs ago has expired, on a clock past 2^32 ms from the first add', () => {
    const t = new SlotTable(10, 1_000, 8);
    const start = 1_700_000_000_000;
    expect(t.add(1, 1, start)).toBe(1);
    const later = start + 2 ** 32 + 17;
    expect(t.add(1, 2, later - 1_000)).toBe(1);
    expect(t.add(1, 3, later - 1)).toBe(2);
    expect(t.add(1, -1, later)).toBe(1);
  });
});
