/** One velocity counter kind in memory: an open-addressing table of keys, each a fixed-width slot of (member, time) pairs. */

/** Slots a key may take, from its hash on: a lookup reads at most these, a new key evicts within them. */
export const PROBE_WINDOW = 8;

/**
 * The keys of one counter kind (one `cap`, one `windowMs`) in typed arrays, so that a new key allocates nothing
 * and nothing is left for the collector: slot `s` holds `counts[s]` pairs (0: free) at `members[s·cap…]` and
 * `times[s·cap…]`, oldest first, and its key and newest time side by side at `heads[2s…]`. Members are the low 32 bits of their 53-bit keyed hash (two members of one key
 * collide with odds of about cap² / 2³³).
 *
 * A key lives in one of the `PROBE_WINDOW` slots from its hash. A new key takes a free slot there, or one whose
 * members have all expired; else the table doubles, up to `maxSlots`; past that, it evicts the slot of the window
 * with the fewest members, the least recently used of those: that scan reads the window's heads and counts
 * only (a line or two), not each slot's times. Memory is at most `maxSlots · (18 + 12 · cap)` bytes, allocated as the table grows, never up front.
 */
export class SlotTable {
  readonly cap: number;
  readonly windowMs: number;
  readonly maxSlots: number;
  #mask: number;
  /** Per slot, its key and the time of its newest member side by side: a probe window reads a line or two. */
  #heads: Float64Array;
  #counts: Uint16Array;
  #members: Uint32Array;
  #times: Float64Array;
  /** Slots in use. */
  #live = 0;

  constructor(cap: number, windowMs: number, maxSlots: number) {
    this.cap = cap;
    this.windowMs = windowMs;
    this.maxSlots = maxSlots;
    // About 16k pairs to start with (at least 8 slots): a table nobody fills stays small.
    const slots = Math.min(maxSlots, Math.max(8, pow2Below(16_384 / cap)));
    this.#mask = slots - 1;
    this.#heads = new Float64Array(slots * 2);
    this.#counts = new Uint16Array(slots);
    this.#members = new Uint32Array(slots * cap);
    this.#times = new Float64Array(slots * cap);
  }

  /** Keys held. */
  get keys(): number {
    return this.#live;
  }

  /** Slots allocated (for the bench). */
  get slots(): number {
    return this.#mask + 1;
  }

  /**
   * Adds `member` (a non-negative hash; negative: count only) to `key` at `now`, as MemoryCounters.add, and
   * answers how many members the key holds.
   */
  add(key: number, member: number, now: number): number {
    let slot = this.#find(key);
    const m = member < 0 ? -1 : member >>> 0;
    if (slot < 0) {
      if (m < 0) return 0;
      slot = this.#place(key, now);
      this.#members[slot * this.cap] = m;
      this.#times[slot * this.cap] = now;
      this.#heads[slot * 2 + 1] = now;
      this.#counts[slot] = 1;
      return 1;
    }
    const cap = this.cap;
    const members = this.#members;
    const times = this.#times;
    const base = slot * cap;
    const n = this.#counts[slot]!;
    const since = now - this.windowMs;
    let from = 0;
    while (from < n && times[base + from]! <= since) from++;
    if (from === 0) {
      // Nothing expired: the usual cases touch the end of the slot only.
      if (m < 0) return n;
      if (members[base + n - 1] === m) {
        times[base + n - 1] = now;
        this.#heads[slot * 2 + 1] = now;
        return n;
      }
      let seen = false;
      for (let i = base; i < base + n - 1 && !seen; i++) seen = members[i] === m;
      if (n < cap && !seen) {
        members[base + n] = m;
        times[base + n] = now;
        this.#heads[slot * 2 + 1] = now;
        this.#counts[slot] = n + 1;
        return n + 1;
      }
    }
    // One pass, in place: drop the expired (the oldest, at the front) and `member`; then `member` newest.
    let to = 0;
    for (let i = from; i < n; i++) {
      if (members[base + i] === m) continue;
      members[base + to] = members[base + i]!;
      times[base + to] = times[base + i]!;
      to++;
    }
    if (m >= 0) {
      if (to === cap) {
        // Past the cap, the oldest goes.
        members.copyWithin(base, base + 1, base + to);
        times.copyWithin(base, base + 1, base + to);
        to--;
      }
      members[base + to] = m;
      times[base + to] = now;
      this.#heads[slot * 2 + 1] = now;
      to++;
    }
    this.#counts[slot] = to;
    if (to === 0) this.#live--;
    return to;
  }

  /** The members `key` holds, without adding or forgetting any (for tests). */
  peek(key: number): number {
    const slot = this.#find(key);
    return slot < 0 ? 0 : this.#counts[slot]!;
  }

  /** Every key and its members `[member, time, …]`, for the property test that no value is in clear. */
  *entries(): IterableIterator<[number, readonly number[]]> {
    for (let s = 0; s <= this.#mask; s++) {
      const n = this.#counts[s]!;
      if (n === 0) continue;
      const list: number[] = [];
      for (let i = 0; i < n; i++) list.push(this.#members[s * this.cap + i]!, this.#times[s * this.cap + i]!);
      yield [this.#heads[s * 2]!, list];
    }
  }

  clear(): void {
    this.#counts.fill(0);
    this.#live = 0;
  }

  /** The slot holding `key`, or -1. */
  #find(key: number): number {
    const mask = this.#mask;
    const start = spread(key);
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const s = (start + i) & mask;
      if (this.#counts[s] !== 0 && this.#heads[s * 2] === key) return s;
    }
    return -1;
  }

  /** A slot for a new `key`, emptied and counted as live: grows the table, or evicts, when it must. */
  #place(key: number, now: number): number {
    if (this.#live * 2 >= this.#mask + 1 && this.#mask + 1 < this.maxSlots) this.#grow();
    let s = this.#free(key, now - this.windowMs);
    while (s < 0 && this.#mask + 1 < this.maxSlots) {
      this.#grow();
      s = this.#free(key, now - this.windowMs);
    }
    if (s < 0) s = this.#victim(key);
    else if (this.#counts[s] === 0) this.#live++;
    this.#heads[s * 2] = key;
    this.#counts[s] = 0;
    return s;
  }

  /** A free slot in `key`'s window, or one whose members were all seen at `since` or before; -1 if none. */
  #free(key: number, since: number): number {
    const mask = this.#mask;
    const start = spread(key);
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const s = (start + i) & mask;
      const n = this.#counts[s]!;
      if (n === 0 || this.#heads[s * 2 + 1]! <= since) return s;
    }
    return -1;
  }

  /**
   * The slot in `key`'s window to evict: the one with the fewest members, and of those the one whose newest
   * member is the oldest. A flood of new keys (one member each) evicts its own kind first, not the keys that
   * are counting up to a threshold.
   */
  #victim(key: number): number {
    const mask = this.#mask;
    const start = spread(key);
    let best = start & mask;
    let bestCount = Number.POSITIVE_INFINITY;
    let bestTime = Number.POSITIVE_INFINITY;
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const s = (start + i) & mask;
      const n = this.#counts[s]!;
      const newest = this.#heads[s * 2 + 1]!;
      if (n < bestCount || (n === bestCount && newest < bestTime)) {
        best = s;
        bestCount = n;
        bestTime = newest;
      }
    }
    return best;
  }

  /** Doubles the slots and places every key again (a key whose window is full there is evicted, as on insert). */
  #grow(): void {
    const cap = this.cap;
    const heads = this.#heads;
    const counts = this.#counts;
    const members = this.#members;
    const times = this.#times;
    const slots = (this.#mask + 1) * 2;
    this.#mask = slots - 1;
    this.#heads = new Float64Array(slots * 2);
    this.#counts = new Uint16Array(slots);
    this.#members = new Uint32Array(slots * cap);
    this.#times = new Float64Array(slots * cap);
    this.#live = 0;
    for (let s = 0; s < counts.length; s++) {
      const n = counts[s]!;
      if (n === 0) continue;
      const key = heads[s * 2]!;
      let to = this.#free(key, Number.NEGATIVE_INFINITY);
      if (to < 0) {
        to = this.#victim(key);
        const there = this.#counts[to]!;
        if (n < there || (n === there && heads[s * 2 + 1]! < this.#heads[to * 2 + 1]!)) continue;
      } else this.#live++;
      this.#heads[to * 2] = key;
      this.#heads[to * 2 + 1] = heads[s * 2 + 1]!;
      this.#counts[to] = n;
      this.#members.set(members.subarray(s * cap, s * cap + n), to * cap);
      this.#times.set(times.subarray(s * cap, s * cap + n), to * cap);
    }
  }
}

/** The largest power of two at most `n` (1 below 2). */
export const pow2Below = (n: number): number => (n < 2 ? 1 : 2 ** Math.floor(Math.log2(n)));

/** Where `key`'s window starts, before the mask: both halves mixed, so that keys not random (tests) spread too. */
function spread(key: number): number {
  const h = Math.imul((key >>> 0) ^ ((key / 4294967296) | 0), 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}
