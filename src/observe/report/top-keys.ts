/** The most frequent keys of a stream in bounded memory: Space-Saving (Metwally, Agrawal, El Abbadi, 2005). */

/** A key among the most frequent, with its count: exact while `overcount` is 0, else at most that much high. */
export interface TopKey {
  key: string;
  count: number;
  /** The true count is between `count - overcount` and `count`. */
  overcount: number;
}

/**
 * Holds at most `capacity` keys. Once full, a new key takes the place of the least counted one and inherits
 * its count as `overcount`, so that any key seen more than `1/capacity` of the time is held whatever the order
 * of the stream. The held keys are a min-heap by count, so each add costs O(log capacity).
 */
export class TopKeys {
  readonly #capacity: number;
  readonly #at = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #counts: number[] = [];
  readonly #over: number[] = [];
  /** More distinct keys came than were held: counts may be over by their `overcount`. */
  approximate = false;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  add(key: string): void {
    const at = this.#at.get(key);
    if (at !== undefined) {
      this.#counts[at]!++;
      this.#down(at);
    } else if (this.#keys.length < this.#capacity) {
      this.#keys.push(key);
      this.#counts.push(1);
      this.#over.push(0);
      this.#at.set(key, this.#keys.length - 1);
      this.#up(this.#keys.length - 1);
    } else {
      this.approximate = true;
      const least = this.#counts[0]!;
      this.#at.delete(this.#keys[0]!);
      this.#keys[0] = key;
      this.#at.set(key, 0);
      this.#counts[0] = least + 1;
      this.#over[0] = least;
      this.#down(0);
    }
  }

  /** Keys held. */
  get size(): number {
    return this.#keys.length;
  }

  /** The `n` most counted keys, most first (ties by key). */
  top(n: number): TopKey[] {
    return this.#keys
      .map((key, i) => ({ key, count: this.#counts[i]!, overcount: this.#over[i]! }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }

  #swap(i: number, j: number): void {
    const keys = this.#keys;
    const counts = this.#counts;
    const over = this.#over;
    const key = keys[i]!;
    const count = counts[i]!;
    const o = over[i]!;
    keys[i] = keys[j]!;
    counts[i] = counts[j]!;
    over[i] = over[j]!;
    keys[j] = key;
    counts[j] = count;
    over[j] = o;
    this.#at.set(keys[i], i);
    this.#at.set(key, j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#counts[parent]! <= this.#counts[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < n && this.#counts[l]! < this.#counts[least]!) least = l;
      if (r < n && this.#counts[r]! < this.#counts[least]!) least = r;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
