/** One velocity counter kind in memory: an open-addressing table of keys, each a slot of (member, time) pairs. */

/** Slots a key may take, from its hash on: a lookup reads at most these, a new key evicts within them. */
export const PROBE_WINDOW = 8;

/** Words of a slot's head: its key's low 32 bits, its high 21 bits, its count, its newest time. */
const HEAD = 4;
/** Times are Uint32 offsets from a base, re-based HALF before now (the clock may step back as far as forward). */
const MAX_OFFSET = 4294967295;
const HALF = 2147483648;

/**
 * The keys of one counter kind (one `cap`, one `windowMs`) in two Uint32Arrays, so that a new key allocates
 * nothing: per slot, a head of four words (its key's two words, its count (0: free), its newest member's time),
 * 16 bytes, so that a probe window's heads are two cache lines; and `cap` (member, time) pairs, oldest first, 8
 * bytes each, so that a new key writes one line. Members are 32-bit keyed hashes (keys.ts's, under the process's
 * secret seed): two of one key's members (at most cap: 21 for a subnet, 200 for a block's conversion) collide
 * with odds of about cap² / 2³³ (5·10⁻⁸ at 21), and without the seed nobody can aim for it. Times are whole ms,
 * offsets from the table's base: window edges stay exact on the injected clock; when the clock would leave the
 * offsets' range the table is re-based (windows are under 2³¹ ms, so a time clamped to the new base had expired
 * already, and still has; a time more than 2³¹ ms ahead of a clock that stepped back is clamped to that).
 *
 * A key lives in one of the `PROBE_WINDOW` slots from its hash. A new key takes a free slot there, or one whose
 * members have all expired; else the table doubles, up to `maxSlots`; past that, it evicts the slot of the window
 * with the fewest members, the least recently used of those. Memory is at most `maxSlots · (16 + 8 · cap)` bytes
 * (96 at a cap of 10, 184 at 21), allocated as the table grows, never up front.
 */
export class SlotTable {
  readonly cap: number;
  readonly windowMs: number;
  readonly maxSlots: number;
  #mask: number;
  #heads: Uint32Array;
  #pairs: Uint32Array;
  /** The time (ms) that offset 0 stands for; set on the first add. */
  #base = Number.NaN;
  /** Slots in use. */
  #live = 0;

  constructor(cap: number, windowMs: number, maxSlots: number) {
    if (!(windowMs < HALF)) throw new RangeError('a velocity window must be under 2^31 ms');
    this.cap = cap;
    this.windowMs = windowMs;
    this.maxSlots = maxSlots;
    // About 16k pairs to start with (at least 8 slots): a table nobody fills stays small.
    const slots = Math.min(maxSlots, Math.max(8, pow2Below(16_384 / cap)));
    this.#mask = slots - 1;
    this.#heads = new Uint32Array(slots * HEAD);
    this.#pairs = new Uint32Array(slots * 2 * cap);
  }

  /** Keys held. */
  get keys(): number {
    return this.#live;
  }
  /** Slots allocated (for the bench). */
  get slots(): number {
    return this.#mask + 1;
  }

  /** Where the head of the last `add`'s slot starts (-1: none, the key unknown): a hint for its key's next add. */
  lastAt = -1;

  /**
   * Adds `member` (a non-negative hash; negative: count only) to `key` (a non-negative 53-bit integer) at `now`,
   * as MemoryCounters.add, and answers how many members the key holds. `hint`, a `lastAt` of an earlier add of
   * the same key, is where the slot is looked for first: used only if that slot still holds the key.
   */
  add(key: number, member: number, now: number, hint = -1): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let t = Math.floor(now) - this.#base;
    if (!(t >= 0 && t <= MAX_OFFSET)) t = this.#rebase(now);
    let h = this.#heads;
    // A key is in one slot at most: a slot that holds it is its slot, wherever the hint came from.
    let at =
      hint >= 0 && hint < h.length && h[hint] === lo && h[hint + 1] === hi && h[hint + 2] !== 0
        ? hint
        : this.#find(lo, hi);
    const m = member < 0 ? -1 : member >>> 0;
    const cap = this.cap;
    if (at < 0) {
      this.lastAt = -1;
      if (m < 0) return 0;
      at = this.#place(lo, hi, t);
      // Placing may have grown the table into new arrays.
      h = this.#heads;
      this.lastAt = at;
      h[at + 2] = 1;
      h[at + 3] = t;
      this.#pairs[(at >> 2) * 2 * cap] = m;
      this.#pairs[(at >> 2) * 2 * cap + 1] = t;
      return 1;
    }
    this.lastAt = at;
    const d = this.#pairs;
    const n = h[at + 2]!;
    const since = t - this.windowMs;
    const first = (at >> 2) * 2 * cap;
    const end = first + 2 * n;
    let from = first;
    while (from < end && d[from + 1]! <= since) from += 2;
    if (from === first) {
      // Nothing expired: the usual cases touch the end of the slot only.
      if (m < 0) return n;
      if (d[end - 2] === m) {
        d[end - 1] = t;
        h[at + 3] = t;
        return n;
      }
      let j = first;
      while (j < end - 2 && d[j] !== m) j += 2;
      if (j === end - 2 && n < cap) {
        d[end] = m;
        d[end + 1] = t;
        h[at + 3] = t;
        h[at + 2] = n + 1;
        return n + 1;
      }
      // Seen before: it moves to the end, the newer ones down a pair. New to a full slot (a busy block or
      // subnet, every check): the oldest goes, the others down a pair.
      if (j === end - 2) j = first;
      for (; j < end - 2; j += 2) {
        d[j] = d[j + 2]!;
        d[j + 1] = d[j + 3]!;
      }
      d[end - 2] = m;
      d[end - 1] = t;
      h[at + 3] = t;
      return n;
    }
    // Some expired: one pass, in place, drops them (the oldest, at the front) and `member`; then `member` newest
    // (below the cap: at least one went).
    let to = first;
    for (let i = from; i < end; i += 2) {
      if (d[i] === m) continue;
      d[to] = d[i]!;
      d[to + 1] = d[i + 1]!;
      to += 2;
    }
    let count = (to - first) / 2;
    if (m >= 0) {
      d[to] = m;
      d[to + 1] = t;
      h[at + 3] = t;
      count++;
    }
    h[at + 2] = count;
    if (count === 0) this.#live--;
    return count;
  }

  /** The members `key` holds, without adding or forgetting any (for tests). */
  peek(key: number): number {
    const at = this.#find(key >>> 0, (key / 4294967296) >>> 0);
    return at < 0 ? 0 : this.#heads[at + 2]!;
  }
  /** Every key and its members `[member, time, …]` (times in ms), for the property test that no value is in clear. */
  *entries(): IterableIterator<[number, readonly number[]]> {
    const h = this.#heads;
    const d = this.#pairs;
    for (let at = 0; at < h.length; at += HEAD) {
      const n = h[at + 2]!;
      if (n === 0) continue;
      const list: number[] = [];
      const first = (at >> 2) * 2 * this.cap;
      for (let i = first; i < first + 2 * n; i += 2) list.push(d[i]!, this.#base + d[i + 1]!);
      yield [h[at + 1]! * 4294967296 + h[at]!, list];
    }
  }
  clear(): void {
    this.#heads.fill(0);
    this.#live = 0;
  }
  /** Where the head of the slot holding the key (`lo`, `hi`) starts, or -1. */
  #find(lo: number, hi: number): number {
    const d = this.#heads;
    const mask = this.#mask;
    const start = spread(lo, hi);
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const at = ((start + i) & mask) * HEAD;
      if (d[at] === lo && d[at + 1] === hi && d[at + 2] !== 0) return at;
    }
    return -1;
  }
  /** A slot for a new key, emptied and counted as live: grows the table, or evicts, when it must. */
  #place(lo: number, hi: number, t: number): number {
    if (this.#live * 2 >= this.#mask + 1 && this.#mask + 1 < this.maxSlots) this.#grow();
    let at = this.#free(lo, hi, t - this.windowMs);
    while (at < 0 && this.#mask + 1 < this.maxSlots) {
      this.#grow();
      at = this.#free(lo, hi, t - this.windowMs);
    }
    if (at < 0) at = this.#victim(lo, hi);
    else if (this.#heads[at + 2] === 0) this.#live++;
    this.#heads[at] = lo;
    this.#heads[at + 1] = hi;
    return at;
  }
  /** A free slot in the key's window, or one whose members were all seen at `since` or before; -1 if none. */
  #free(lo: number, hi: number, since: number): number {
    const d = this.#heads;
    const mask = this.#mask;
    const start = spread(lo, hi);
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const at = ((start + i) & mask) * HEAD;
      if (d[at + 2] === 0 || d[at + 3]! <= since) return at;
    }
    return -1;
  }

  /**
   * The slot in the key's window to evict: the one with the fewest members, and of those the one whose newest
   * member is the oldest. A flood of new keys (one member each) evicts its own kind first, not the keys that
   * are counting up to a threshold.
   */
  #victim(lo: number, hi: number): number {
    const d = this.#heads;
    const mask = this.#mask;
    const start = spread(lo, hi);
    let best = (start & mask) * HEAD;
    let bestCount = Number.POSITIVE_INFINITY;
    let bestTime = Number.POSITIVE_INFINITY;
    for (let i = 0; i < PROBE_WINDOW && i <= mask; i++) {
      const at = ((start + i) & mask) * HEAD;
      const n = d[at + 2]!;
      const newest = d[at + 3]!;
      if (n < bestCount || (n === bestCount && newest < bestTime)) {
        best = at;
        bestCount = n;
        bestTime = newest;
      }
    }
    return best;
  }
  /** Doubles the slots and places every key again (a key whose window is full there is evicted, as on insert). */
  #grow(): void {
    const cap = this.cap;
    const oldHeads = this.#heads;
    const oldPairs = this.#pairs;
    const slots = (this.#mask + 1) * 2;
    this.#mask = slots - 1;
    this.#heads = new Uint32Array(slots * HEAD);
    this.#pairs = new Uint32Array(slots * 2 * cap);
    const h = this.#heads;
    const pairs = this.#pairs;
    this.#live = 0;
    for (let from = 0; from < oldHeads.length; from += HEAD) {
      const n = oldHeads[from + 2]!;
      if (n === 0) continue;
      const lo = oldHeads[from]!;
      const hi = oldHeads[from + 1]!;
      let to = this.#free(lo, hi, Number.NEGATIVE_INFINITY);
      if (to < 0) {
        to = this.#victim(lo, hi);
        const there = h[to + 2]!;
        if (n < there || (n === there && oldHeads[from + 3]! < h[to + 3]!)) continue;
      } else this.#live++;
      // Word by word: two `subarray` views per key cost more than the placing.
      for (let w = 0; w < HEAD; w++) h[to + w] = oldHeads[from + w]!;
      const first = (from >> 2) * 2 * cap;
      const into = (to >> 2) * 2 * cap - first;
      for (let i = first; i < first + 2 * n; i++) pairs[i + into] = oldPairs[i]!;
    }
  }

  /**
   * Moves the base to half the offsets' range before `now`, and every time held with it (clamped to the range),
   * when the clock has run (or stepped back) about 24 days past it: answers `now`'s offset.
   */
  #rebase(now: number): number {
    const base = Math.floor(now) - HALF;
    if (!Number.isNaN(this.#base)) {
      const shift = this.#base - base;
      const h = this.#heads;
      const d = this.#pairs;
      const move = (x: number) => Math.min(MAX_OFFSET, Math.max(0, x + shift));
      // Each slot's newest time, then its pairs' times (a free slot's stale one too: harmless).
      for (let at = 0; at < h.length; at += HEAD) {
        h[at + 3] = move(h[at + 3]!);
        const first = (at >> 2) * 2 * this.cap;
        for (let i = first + 1; i < first + 2 * h[at + 2]!; i += 2) d[i] = move(d[i]!);
      }
    }
    this.#base = base;
    return HALF;
  }
}

/** The largest power of two at most `n` (1 below 2). */
export const pow2Below = (n: number): number => (n < 2 ? 1 : 2 ** Math.floor(Math.log2(n)));

/** Where a key's window starts, before the mask: both halves mixed, so that keys not random (tests) spread too. */
function spread(lo: number, hi: number): number {
  const h = Math.imul(lo ^ hi, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}
