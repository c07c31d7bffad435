/** The in-memory distinct counters: sliding windows per key, bounded per key (cap) and in total (two generations). */

/**
 * How many members the counters hold at most, all keys together (each key holds at least one): about 60 MB at
 * the worst, measured in bench/velocity.ts. A key untouched for a whole generation is forgotten first.
 */
export const DEFAULT_MAX_MEMBERS = 500_000;

/**
 * Distinct members per key, over a sliding window, as `Store.distinct` defines them, but synchronous: a check
 * on the in-memory counters needs no promise. Keys and members are non-negative integers (keyed hashes, see
 * keys.ts); a key's list holds `[member, time, member, time, …]`, oldest first.
 *
 * The bound is two generations (as hashlru): keys live in `current` until it holds half of `maxMembers`, then
 * `current` becomes `old` and the previous `old` is dropped; a key read from `old` moves back to `current`. So
 * the keys in use stay, those nobody touched for a generation go, and memory never passes `maxMembers` members
 * (plus one key's cap), however many distinct keys an attacker sends.
 */
export class MemoryCounters {
  #current = new Map<number, number[]>();
  #old = new Map<number, number[]>();
  /** Members held in `current`. */
  #members = 0;
  readonly #half: number;

  constructor(maxMembers: number = DEFAULT_MAX_MEMBERS) {
    this.#half = Math.max(1, Math.floor(maxMembers / 2));
  }

  /**
   * Adds `member` to `key` at `now` (a member already there becomes the newest), forgets members seen
   * `windowMs` ago or earlier, keeps the `cap` newest, and answers how many the key holds. A negative `member`
   * adds nothing and only counts.
   */
  add(key: number, member: number, windowMs: number, cap: number, now: number): number {
    let list = this.#current.get(key);
    if (list === undefined) {
      list = this.#old.get(key);
      if (list !== undefined) {
        this.#old.delete(key);
        this.#current.set(key, list);
        this.#members += list.length >> 1;
      }
    }
    if (list === undefined) {
      if (member < 0) return 0;
      this.#current.set(key, [member, now]);
      this.#grew(1);
      return 1;
    }
    const before = list.length;
    const since = now - windowMs;
    let from = 0;
    while (from < before && list[from + 1]! <= since) from += 2;
    if (from === 0) {
      // Nothing expired: the usual cases touch the end of the list only.
      if (member < 0) return before >> 1;
      if (list[before - 2] === member) {
        list[before - 1] = now;
        return before >> 1;
      }
      if (before < cap * 2 && list.indexOf(member) === -1) {
        list.push(member, now);
        this.#grew(1);
        return (before >> 1) + 1;
      }
    }
    // One pass, in place (no splice: it allocates): drop the expired (the oldest, at the front) and `member`.
    let to = 0;
    for (let i = from; i < before; i += 2) {
      if (list[i] === member) continue;
      if (to !== i) {
        list[to] = list[i]!;
        list[to + 1] = list[i + 1]!;
      }
      to += 2;
    }
    if (member >= 0) {
      // The newest last; past the cap, the oldest go.
      const over = to + 2 - cap * 2;
      if (over > 0) {
        for (let i = over; i < to; i++) list[i - over] = list[i]!;
        to -= over;
      }
      list[to] = member;
      list[to + 1] = now;
      to += 2;
    }
    if (to !== list.length) list.length = to;
    if (list.length === 0) this.#current.delete(key);
    this.#grew((list.length - before) / 2);
    return list.length >> 1;
  }

  /** The members of `key` now, without adding or forgetting any (for tests). */
  peek(key: number): number {
    return (this.#current.get(key) ?? this.#old.get(key) ?? []).length >> 1;
  }

  /** Keys held, both generations (for tests and the bench). */
  get keys(): number {
    return this.#current.size + this.#old.size;
  }

  /** Every key and member held, in the order held, for the property test that no value is in clear. */
  *entries(): IterableIterator<[number, readonly number[]]> {
    yield* this.#old;
    yield* this.#current;
  }

  clear(): void {
    this.#current.clear();
    this.#old.clear();
    this.#members = 0;
  }

  #grew(by: number): void {
    this.#members += by;
    if (this.#members < this.#half) return;
    this.#old = this.#current;
    this.#current = new Map();
    this.#members = 0;
  }
}
