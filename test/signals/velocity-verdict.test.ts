import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { velocitySettings } from '../../src/core/velocity-options.js';
import { verdictFor } from '../../src/signals/velocity/verdict.js';

/**
 * The rules as issue 23 states them, written out here rather than taken from the code: each counter's signal fires
 * when its count (this request included) is more than its threshold, and never when its kind is off;
 * `low_conversion_prefix` fires when the block was sent codes to at least 20 numbers and fewer than 20% of them
 * verified. A decision lists them in this order.
 */
function expected(
  s: ReturnType<typeof velocitySettings>,
  [ip, subnet, phoneCountries, prefix]: readonly number[],
  sent: number,
  verified: number,
): string[] {
  const out: string[] = [];
  if (s.ip && ip! > s.ip.max) out.push('ip_velocity');
  if (s.subnet && subnet! > s.subnet.max) out.push('subnet_velocity');
  if (s.phone && phoneCountries! > s.phone.maxCountries) out.push('phone_velocity');
  if (s.prefix && prefix! > s.prefix.max) out.push('prefix_burst');
  if (sent >= 20 && verified * 5 < sent) out.push('low_conversion_prefix');
  return out;
}

describe('velocity signals from one check’s counts (verdictFor, both sources)', () => {
  const max = fc.integer({ min: 1, max: 50 });
  const kind = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: false as const });
  const settings = fc
    .record({
      ip: kind(max.map((m) => ({ max: m }))),
      subnet: kind(max.map((m) => ({ max: m }))),
      phone: kind(max.map((m) => ({ maxCountries: m }))),
      prefix: kind(max.map((m) => ({ max: m }))),
    })
    .map((o) => velocitySettings(o, undefined));
  const count = fc.integer({ min: 0, max: 60 });

  it('property: names the issue’s signals, in order, at, below and above every threshold', () => {
    fc.assert(
      fc.property(
        settings,
        fc.tuple(count, count, count, count),
        fc.integer({ min: -1, max: 60 }),
        count,
        (s, counts, sent, verified) => {
          const [ip, subnet, phoneCountries, prefix] = counts;
          expect([...verdictFor(s)(ip, subnet, phoneCountries, prefix, sent, verified)]).toEqual(
            expected(s, counts, sent, verified),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('with the defaults: each signal at its threshold is silent, one past it fires', () => {
    const of = verdictFor(velocitySettings(undefined, undefined));
    // ip more than 3, subnet more than 10, phone countries more than 2, prefix more than 4.
    expect(of(3, 10, 2, 4, -1, 0)).toEqual([]);
    expect(of(4, 10, 2, 4, -1, 0)).toEqual(['ip_velocity']);
    expect(of(3, 11, 2, 4, -1, 0)).toEqual(['subnet_velocity']);
    expect(of(3, 10, 3, 4, -1, 0)).toEqual(['phone_velocity']);
    expect(of(3, 10, 2, 5, -1, 0)).toEqual(['prefix_burst']);
    // 20 sent, 4 verified is 20%: converting; 3 is not. 19 sent is too few to judge; -1: not counted.
    expect(of(0, 0, 0, 0, 20, 4)).toEqual([]);
    expect(of(0, 0, 0, 0, 20, 3)).toEqual(['low_conversion_prefix']);
    expect(of(0, 0, 0, 0, 19, 0)).toEqual([]);
    expect(of(4, 11, 3, 5, 20, 0)).toEqual([
      'ip_velocity',
      'subnet_velocity',
      'phone_velocity',
      'prefix_burst',
      'low_conversion_prefix',
    ]);
  });

  it('fires nothing for a kind turned off, however high its count', () => {
    const s = velocitySettings({ ip: false, subnet: false, phone: false, prefix: false }, undefined);
    expect(verdictFor(s)(1e6, 1e6, 1e6, 1e6, -1, 0)).toEqual([]);
  });
});
