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
 * of the stream. The held keys are a min-heap by count, so each add costs O(log capacity) moves of numbers.
 */
export class TopKeys {
  readonly #capacity: number;
  /** Key → its slot. A slot's key, count and overcount stay at its index; only the heap moves slots. */
  readonly #slot = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #counts: number[] = [];
  readonly #over: number[] = [];
  /** Slots ordered as a min-heap by count, and each slot's place in it: a move rewrites two numbers. */
  readonly #heap: number[] = [];
  readonly #place: number[] = [];
  /** More distinct keys came than were held: counts may be over by their `overcount`. */
  approximate = false;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  add(key: string): void {
    const held = this.#slot.get(key);
    if (held !== undefined) {
      this.#counts[held]!++;
      this.#down(this.#place[held]!);
    } else if (this.#keys.length < this.#capacity) {
      const slot = this.#keys.length;
      this.#keys.push(key);
      this.#counts.push(1);
      this.#over.push(0);
      this.#heap.push(slot);
      this.#place.push(slot);
      this.#slot.set(key, slot);
      this.#up(slot);
    } else {
      this.approximate = true;
      const slot = this.#heap[0]!;
      const least = this.#counts[slot]!;
      this.#slot.delete(this.#keys[slot]!);
      this.#slot.set(key, slot);
      this.#keys[slot] = key;
      this.#counts[slot] = least + 1;
      this.#over[slot] = least;
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

  #countAt(i: number): number {
    return this.#counts[this.#heap[i]!]!;
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const a = heap[i]!;
    const b = heap[j]!;
    heap[i] = b;
    heap[j] = a;
    this.#place[b] = i;
    this.#place[a] = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#countAt(parent) <= this.#countAt(i)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < n && this.#countAt(l) < this.#countAt(least)) least = l;
      if (r < n && this.#countAt(r) < this.#countAt(least)) least = r;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
