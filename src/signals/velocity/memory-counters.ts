/** The in-memory distinct counters: sliding windows per key, bounded per key (cap) and in keys (a table per kind). */
import { pow2Below, SlotTable } from './slot-table.js';

/**
 * Members each counter kind holds at most (2²¹): its table has at most this many divided by its cap slots, a
 * power of two (131,072 keys at a cap of 10, 65,536 at 21), of 88 and 176 bytes. Past it, a new key evicts the
 * key of its window (two buckets of 4) with the fewest members, least recently used. 1,000,000 attackers' keys
 * (the default kinds) take 46.2 MB, bench/velocity.ts.
 */
export const DEFAULT_MAX_MEMBERS = 2_097_152;

/**
 * Distinct members per key, over a sliding window, as `Store.distinct` defines them, but synchronous: a check
 * on the in-memory counters needs no promise. Keys and members are non-negative integers (keyed hashes, see
 * keys.ts). Each counter kind (one `cap` and `windowMs`) has its own SlotTable, made on first use: fixed-width
 * slots in typed arrays, so a new key allocates nothing, and bounded (`maxMembers` members per kind).
 */
export class MemoryCounters {
  readonly #tables = new Map<number, SlotTable>();
  readonly #maxMembers: number;

  constructor(maxMembers: number = DEFAULT_MAX_MEMBERS) {
    this.#maxMembers = maxMembers;
  }

  /**
   * The table of the kind that keeps `cap` members per key over `windowMs` (the same one at every call): the
   * source takes its tables once, and adds to them directly.
   */
  table(cap: number, windowMs: number): SlotTable {
    const id = cap * 1e9 + windowMs;
    let table = this.#tables.get(id);
    if (table === undefined) {
      table = new SlotTable(cap, windowMs, pow2Below(Math.max(1, this.#maxMembers / cap)));
      this.#tables.set(id, table);
    }
    return table;
  }

  /**
   * Adds `member` to `key` at `now` (a member already there becomes the newest), forgets members seen
   * `windowMs` ago or earlier, keeps the `cap` newest, and answers how many the key holds. A negative `member`
   * adds nothing and only counts.
   */
  add(key: number, member: number, windowMs: number, cap: number, now: number): number {
    return this.table(cap, windowMs).add(key, member, now);
  }

  /** The members of `key` now, in whichever kind holds it, without adding or forgetting any (for tests). */
  peek(key: number): number {
    for (const table of this.#tables.values()) {
      const n = table.peek(key);
      if (n > 0) return n;
    }
    return 0;
  }

  /** Keys held, every kind (for tests and the bench). */
  get keys(): number {
    let n = 0;
    for (const table of this.#tables.values()) n += table.keys;
    return n;
  }

  /** Every key and member held, for the property test that no value is in clear. */
  *entries(): IterableIterator<[number, readonly number[]]> {
    for (const table of this.#tables.values()) yield* table.entries();
  }

  /** Forgets every count; the tables stay (the source holds them) but hold nothing. */
  clear(): void {
    for (const table of this.#tables.values()) table.clear();
  }
}
