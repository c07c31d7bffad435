/** The in-memory counters: windows, the cap, the bound on keys, and no number, block or IP held in clear. */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, test } from 'vitest';
import type { SignalContext } from '../../src/core/signal-source.js';
import { velocitySettings } from '../../src/core/velocity-options.js';
import { memoryHasher, v6Groups } from '../../src/signals/velocity/keys.js';
import { MemoryCounters } from '../../src/signals/velocity/memory-counters.js';
import { memoryCounting } from '../../src/signals/velocity/memory-source.js';

describe('MemoryCounters', () => {
  test('a member is counted once, refreshed when seen again, and forgotten windowMs after it was last seen', () => {
    const c = new MemoryCounters();
    expect(c.add(1, 10, 1000, 10, 0)).toBe(1);
    expect(c.add(1, 11, 1000, 10, 500)).toBe(2);
    expect(c.add(1, 10, 1000, 10, 900)).toBe(2); // 10 is now as new as t = 900
    expect(c.add(1, -1, 1000, 10, 1499)).toBe(2);
    expect(c.add(1, -1, 1000, 10, 1500)).toBe(1); // 11 was seen exactly 1000 ms ago
    expect(c.add(1, -1, 1000, 10, 1900)).toBe(0);
    expect(c.keys).toBe(0); // an emptied key is dropped
  });

  test('the cap keeps the newest members', () => {
    const c = new MemoryCounters();
    for (let m = 0; m < 50; m++) c.add(7, m, 60_000, 5, m);
    expect(c.peek(7)).toBe(5);
    // The oldest were dropped: re-adding one of them counts as new but stays at the cap.
    expect(c.add(7, 0, 60_000, 5, 100)).toBe(5);
    expect(c.add(7, 49, 60_000, 5, 101)).toBe(5);
  });

  test('a count-only op on an unknown key adds nothing', () => {
    const c = new MemoryCounters();
    expect(c.add(3, -1, 1000, 10, 0)).toBe(0);
    expect(c.keys).toBe(0);
  });

  test('bounded in keys: 100,000 distinct keys in counters of 1,000 members hold at most 1,000 keys', () => {
    const c = new MemoryCounters(1000);
    let most = 0;
    for (let k = 0; k < 100_000; k++) {
      c.add(k + 1e9, k, 600_000, 10, k);
      // A key in use all along (an attacker's IP) survives the churn.
      if (k % 100 === 0) c.add(42, k, 600_000, 10, k);
      most = Math.max(most, c.keys);
    }
    expect(most).toBeLessThanOrEqual(1000);
    expect(c.peek(42)).toBe(10);
  });
});

describe('keys', () => {
  test('IPv6 groups of canonical addresses', () => {
    expect(v6Groups('2001:db8::1', 4)).toBe('2001:db8:0:0');
    expect(v6Groups('2001:db8:1:2:3:4:5:6', 3)).toBe('2001:db8:1');
    expect(v6Groups('::1', 4)).toBe('0:0:0:0');
    expect(v6Groups('2001:db8:1::', 4)).toBe('2001:db8:1:0');
  });

  test('property: IPv6 groups agree with ipaddr.js for every canonical address', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 1, max: 8 }), (ip, n) => {
        const parsed = ipaddr.IPv6.parse(ip);
        const want = parsed.parts.slice(0, n).map((p) => p.toString(16));
        expect(v6Groups(parsed.toRFC5952String(), n)).toBe(want.join(':'));
      }),
      { numRuns: 2000 },
    );
  });

  test('each kind is its own domain, and two processes (seeds) hash apart', () => {
    const h = memoryHasher([1, 2]);
    expect(h.hash('phone', '+447400123456')).not.toBe(h.hash('number', '+447400123456'));
    expect(h.hash('block', '+447400123456', 10)).toBe(h.hash('block', '+447400123'));
    h.pass('+447400123456', 10);
    expect([h.prefix('block'), h.whole('phone')]).toEqual([
      h.hash('block', '+447400123'),
      h.hash('phone', '+447400123456'),
    ]);
    expect(memoryHasher([3, 4]).hash('phone', '+447400123456')).not.toBe(h.hash('phone', '+447400123456'));
  });
});

describe('no number, block or IP in clear in memory', () => {
  test('property: every key and value held is a hash, none the number, its block or the IP as a number', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 999_999_999 }), fc.ipV4(), fc.boolean()), {
          minLength: 1,
          maxLength: 30,
        }),
        (checks) => {
          const counters = new MemoryCounters();
          const s = velocitySettings(undefined, undefined);
          const counting = memoryCounting(
            s,
            () => true,
            () => 5,
            memoryHasher(),
            counters,
          );
          const clear = new Set<number>();
          for (const [n, ip, otp] of checks) {
            const number = `+447${String(n).padStart(9, '0')}`;
            const ctx: SignalContext = {
              phone: { number, country: 'GB', roamingCountry: null, type: null },
              ip: { address: ip, country: 'GB', network: null },
              route: { readsIpHeader: false },
              ipPublic: true,
              now: () => 5,
            };
            counting.count(ctx, otp);
            counting.verified(number);
            const v4 = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
            for (const value of [Number(number.slice(1)), Number(number.slice(1, -3)), v4, v4 >>> 8]) {
              clear.add(value);
            }
          }
          for (const [key, list] of counters.entries()) {
            expect(typeof key).toBe('number');
            expect(clear.has(key)).toBe(false);
            // [member, time, …]: every member a hash, every time the clock's.
            for (let i = 0; i < list.length; i += 2) {
              expect(clear.has(list[i]!)).toBe(false);
              expect(list[i + 1]).toBe(5);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
