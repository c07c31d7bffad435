import { seeded } from '../src/testing/seeded.js';

/** The median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Rounds to `digits` decimals, for results.json. */
export const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/**
 * `estimate` over `items`, and a percentile bootstrap interval around it: `estimate` again over `resamples`
 * resamples of the items drawn with replacement, and the `(1 - level) / 2` and `(1 + level) / 2` quantiles.
 */
export function bootstrap<T>(
  items: readonly T[],
  estimate: (xs: readonly T[]) => number,
  { level = 0.9, resamples = 2000, seed = 1 } = {},
): { value: number; interval: [number, number] } {
  const random = seeded(seed);
  const values: number[] = [];
  for (let b = 0; b < resamples; b++) {
    values.push(estimate(items.map(() => items[Math.floor(random() * items.length)]!)));
  }
  values.sort((x, y) => x - y);
  const at = (q: number) => values[Math.min(values.length - 1, Math.max(0, Math.floor(q * values.length)))]!;
  return { value: estimate(items), interval: [at((1 - level) / 2), at((1 + level) / 2)] };
}
