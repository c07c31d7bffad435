/** Counts by name for a bounded number of names: a log of a million distinct names holds only the first few. */

/** The name the count of every name past the limit goes under, in the figures. */
export const OTHER = '(other)';

/**
 * Counts per key for the first `limit` distinct keys; later keys are counted together in `other`, so that the
 * memory a tally holds does not grow with the log. A key spelled like {@link OTHER} is counted there too.
 */
export class Tally {
  readonly #counts = new Map<string, number>();
  readonly #limit: number;
  /** Occurrences of keys that came after the limit was reached. */
  other = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(key: string): void {
    const n = this.#counts.get(key);
    if (n !== undefined) this.#counts.set(key, n + 1);
    else if (this.#counts.size < this.#limit && key !== OTHER) this.#counts.set(key, 1);
    else this.other++;
  }

  /** Most frequent first (ties by key), without `other`. */
  sorted(): [string, number][] {
    return [...this.#counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }

  /** {@link sorted}, then `[OTHER, other]` when some keys came past the limit. */
  entries(): [string, number][] {
    const all = this.sorted();
    if (this.other > 0) all.push([OTHER, this.other]);
    return all;
  }
}
