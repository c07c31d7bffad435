import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { velocitySettings } from '../../src/core/velocity-options.js';
import { verdict, verdictFor } from '../../src/signals/velocity/verdict.js';

// The in-memory source compiles its thresholds once (verdictFor); the store source reads them per check
// (verdict). Both must name the same signals for every setting and count.
describe('verdictFor, the thresholds read once', () => {
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

  it('names the same signals as verdict, at, below and above every threshold', () => {
    fc.assert(
      fc.property(
        settings,
        fc.tuple(count, count, count, count),
        fc.integer({ min: -1, max: 60 }),
        count,
        (s, [ip, subnet, phoneCountries, prefix], sent, verified) => {
          const expected = verdict(s, { ip, subnet, phoneCountries, prefix }, sent, verified);
          expect(verdictFor(s)(ip, subnet, phoneCountries, prefix, sent, verified)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fires nothing for a kind turned off, however high its count', () => {
    const s = velocitySettings({ ip: false, subnet: false, phone: false, prefix: false }, undefined);
    expect(verdictFor(s)(1e6, 1e6, 1e6, 1e6, -1, 0)).toEqual([]);
  });
});
