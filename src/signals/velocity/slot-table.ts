/** One velocity counter kind in memory: an open-addressing table of keys in buckets, each key a slot of members. */
import { HALF, MAX_OFFSET, shiftTimes } from './slot-times.js';

/** Slots a key may take: its home bucket's and the next one's. A new key evicts within them. */
export const PROBE_WINDOW = 8;
/** Slots of a bucket: their heads are one aligned 64-byte run. */
const BUCKET_SLOTS = 4;
/** The largest count a slot holds (its count shares a word with the key's high bits): a cap may not pass it. */
export const MAX_CAP = 32767;

/** Words of a slot's head: its key's low word, its high 17 bits and count, its newest time and member. */
const HEAD = 4;
const BUCKET = BUCKET_SLOTS * HEAD;
/** A key's high bits times SPAN (shifted left 15), plus its count, is the head's second word. */
const SPAN = MAX_CAP + 1;
const HI_BITS = 131071;
/**
 * The keys of one counter kind (one `cap`, one `windowMs`) in two Uint32Arrays: a new key allocates nothing. Per
 * slot, a 16-byte head (its key's low word; its key's high 17 bits and its count, 0: free; its newest member's
 * time; that member) and `cap - 1` (member, time) pairs, its older members, oldest first. A key lives in its home
 * bucket of 4 slots (from its hash), or when that was full in the next: a lookup of a key at home reads one 64-byte
 * run of heads, and a new key, or a repeat of the newest member, writes its head only (a window of one bucket
 * forgot a sixth of the keys cycling at 3/4 of the bound). Keys are compared on 49 bits (keys.ts's hashes: a new
 * key is taken for one of 458,752 live ones with odds of 8·10⁻¹⁰). Members are 32-bit keyed hashes under the
 * process's secret seed: two of one key's (at most cap: 21 for a subnet, 200 for a block's conversion) collide with
 * odds of about cap² / 2³³ (5·10⁻⁸ at 21), and without the seed nobody can aim for it. Times are whole ms, offsets
 * from the table's base: window edges stay exact on the injected clock; when the clock would leave the offsets'
 * range the table is re-based (windows are under 2³¹ ms, so a time clamped to the new base had expired already, and
 * still has; a time more than 2³¹ ms ahead of a clock that stepped back is clamped to that).
 *
 * A new key takes a free slot of its window (home first), or one whose members have all expired; else the table
 * doubles, up to `maxSlots`; past that, it evicts the slot of the window with the fewest members, the least
 * recently used of those. Memory is at most `maxSlots · 8 · (cap + 1)` bytes (88 at a cap of 10, 176 at 21),
 * allocated as it grows.
 */
export class SlotTable {
  readonly cap: number;
  readonly windowMs: number;
  readonly maxSlots: number;
  #mask: number; // buckets less one: a key's bucket is its hash's spread, masked
  #heads: Uint32Array;
  #pairs: Uint32Array;
  readonly #stride: number; // words of pairs per slot
  #base = Number.NaN; // the time (ms) that offset 0 stands for, set on the first add
  #live = 0; // slots in use
  /** After a #probe that missed: the slot a new key would take, and whether it is free (or wholly expired). */
  #spot = 0;
  #spotFree = false;

  constructor(cap: number, windowMs: number, maxSlots: number) {
    if (!(windowMs < HALF)) throw new RangeError('a velocity window must be under 2^31 ms');
    if (!(cap >= 1 && cap <= MAX_CAP)) throw new RangeError(`a velocity cap must be 1 to ${MAX_CAP}`);
    this.cap = cap;
    this.windowMs = windowMs;
    this.maxSlots = Math.max(PROBE_WINDOW, maxSlots);
    this.#stride = 2 * (cap - 1);
    // About 16k pairs to start with (at least two buckets): a table nobody fills stays small.
    const slots = Math.min(this.maxSlots, Math.max(PROBE_WINDOW, pow2Below(16_384 / cap)));
    this.#mask = slots / BUCKET_SLOTS - 1;
    this.#heads = new Uint32Array(slots * HEAD);
    this.#pairs = new Uint32Array(slots * this.#stride);
  }

  /** Keys held. */
  get keys(): number {
    return this.#live;
  }
  /** Slots allocated (for the bench). */
  get slots(): number {
    return (this.#mask + 1) * BUCKET_SLOTS;
  }

  /** Where the head of the last `add`'s slot starts (-1: none, the key unknown): a hint for its key's next add. */
  lastAt = -1;

  /**
   * Adds `member` (a non-negative hash; negative: count only) to `key` (a non-negative integer, compared on its
   * low 49 bits) at `now`, as MemoryCounters.add, and answers how many members the key holds. `hint`, a `lastAt`
   * of an earlier add of the same key, is where the slot is looked for first: used only if it still holds the key.
   */
  add(key: number, member: number, now: number, hint = -1): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) & HI_BITS;
    const tag = hi * SPAN;
    let t = Math.floor(now) - this.#base;
    if (!(t >= 0 && t <= MAX_OFFSET)) t = this.#rebase(now);
    const since = t - this.windowMs;
    let h = this.#heads;
    // A key is in one slot at most: a slot that holds it is its slot, wherever the hint came from.
    let at =
      hint >= 0 &&
      hint < h.length &&
      h[hint] === lo &&
      h[hint + 1]! >>> 15 === hi &&
      (h[hint + 1]! & MAX_CAP) !== 0
        ? hint
        : this.#probe(lo, hi, since);
    const m = member < 0 ? -1 : member >>> 0;
    if (at < 0) {
      this.lastAt = -1;
      if (m < 0) return 0;
      at = this.#place(lo, hi, since);
      // Placing may have grown the table into new arrays. A new key writes its head only.
      h = this.#heads;
      this.lastAt = at;
      h[at] = lo;
      h[at + 1] = tag + 1;
      h[at + 2] = t;
      h[at + 3] = m;
      return 1;
    }
    this.lastAt = at;
    const n = h[at + 1]! & MAX_CAP;
    if (h[at + 2]! <= since) {
      // Its newest has expired, so have all: the slot starts again, or is freed.
      if (m < 0) {
        h[at + 1] = tag;
        this.#live--;
        return 0;
      }
      h[at + 1] = tag + 1;
      h[at + 2] = t;
      h[at + 3] = m;
      return 1;
    }
    const d = this.#pairs;
    const first = (at >> 2) * this.#stride;
    const end = first + 2 * (n - 1);
    let from = first;
    while (from < end && d[from + 1]! <= since) from += 2;
    if (from === first) {
      // Nothing expired: the usual cases touch the head, and the end of the pairs at most.
      if (m < 0) return n;
      if (h[at + 3] === m) {
        h[at + 2] = t;
        return n;
      }
      let j = first;
      while (j < end && d[j] !== m) j += 2;
      if (j === end && n < this.cap) {
        d[end] = h[at + 3]!;
        d[end + 1] = h[at + 2]!;
        h[at + 1] = tag + n + 1;
        h[at + 2] = t;
        h[at + 3] = m;
        return n + 1;
      }
      // Seen before: it leaves the pairs, the newer ones down one, and the old newest joins them at the end. New
      // to a full slot (a busy block or subnet, every check): the oldest goes instead.
      if (end > first) {
        if (j === end) j = first;
        for (; j < end - 2; j += 2) {
          d[j] = d[j + 2]!;
          d[j + 1] = d[j + 3]!;
        }
        d[end - 2] = h[at + 3]!;
        d[end - 1] = h[at + 2]!;
      }
      h[at + 2] = t;
      h[at + 3] = m;
      return n;
    }
    // Some expired (the oldest, at the front), the newest not: one pass, in place, drops them and `member`;
    // then the old newest joins the pairs and `member` takes the head (below the cap: at least one went).
    let to = first;
    for (let i = from; i < end; i += 2) {
      if (d[i] === m) continue;
      d[to] = d[i]!;
      d[to + 1] = d[i + 1]!;
      to += 2;
    }
    if (m >= 0) {
      if (h[at + 3] !== m) {
        d[to] = h[at + 3]!;
        d[to + 1] = h[at + 2]!;
        to += 2;
        h[at + 3] = m;
      }
      h[at + 2] = t;
    }
    const count = (to - first) / 2 + 1;
    h[at + 1] = tag + count;
    return count;
  }

  /** The members `key` holds, without adding or forgetting any (for tests). */
  peek(key: number): number {
    const at = this.#probe(key >>> 0, (key / 4294967296) & HI_BITS, Number.NEGATIVE_INFINITY);
    return at < 0 ? 0 : this.#heads[at + 1]! & MAX_CAP;
  }
  /** Every key and its members `[member, time, …]` (times in ms), for the property test that no value is in clear. */
  *entries(): IterableIterator<[number, readonly number[]]> {
    const h = this.#heads;
    const d = this.#pairs;
    for (let at = 0; at < h.length; at += HEAD) {
      const n = h[at + 1]! & MAX_CAP;
      if (n === 0) continue;
      const list: number[] = [];
      const first = (at >> 2) * this.#stride;
      for (let i = first; i < first + 2 * (n - 1); i += 2) list.push(d[i]!, this.#base + d[i + 1]!);
      list.push(h[at + 3]!, this.#base + h[at + 2]!);
      yield [(h[at + 1]! >>> 15) * 4294967296 + h[at]!, list];
    }
  }
  clear(): void {
    this.#heads.fill(0);
    this.#live = 0;
  }

  /**
   * One pass over the key's window: where its slot's head starts; or -1, and #spot is the slot a new key would
   * take: the first free or wholly expired (at `since`) one (#spotFree), else the one with the fewest members, the
   * oldest newest member of those. A flood of new keys (one member each) evicts its own kind, not a key counting up.
   */
  #probe(lo: number, hi: number, since: number): number {
    const h = this.#heads;
    const mask = this.#mask;
    const home = spread(lo, hi) & mask;
    let spot = -1;
    let worst = home * BUCKET;
    let worstCount = SPAN;
    let worstTime = Number.POSITIVE_INFINITY;
    for (let at = home * BUCKET, k = 0; k < PROBE_WINDOW; k++, at += HEAD) {
      if (k === BUCKET_SLOTS) at = ((home + 1) & mask) * BUCKET;
      const x = h[at + 1]!;
      const n = x & MAX_CAP;
      if (x >>> 15 === hi && n !== 0 && h[at] === lo) return at;
      if (spot >= 0) continue;
      const newest = h[at + 2]!;
      if (n === 0 || newest <= since) spot = at;
      else if (n < worstCount || (n === worstCount && newest < worstTime)) {
        worst = at;
        worstCount = n;
        worstTime = newest;
      }
    }
    this.#spotFree = spot >= 0;
    this.#spot = spot >= 0 ? spot : worst;
    return -1;
  }
  /** A slot for a new key (after a #probe that missed it), counted as live: grows, or evicts, when it must. */
  #place(lo: number, hi: number, since: number): number {
    while (this.slots < this.maxSlots && (!this.#spotFree || this.#live * 2 >= this.slots)) {
      this.#grow();
      this.#probe(lo, hi, since);
    }
    if ((this.#heads[this.#spot + 1]! & MAX_CAP) === 0) this.#live++;
    return this.#spot;
  }
  /** Doubles the slots and places every key again (a key whose window is full there is evicted, as on insert). */
  #grow(): void {
    const stride = this.#stride;
    const oldHeads = this.#heads;
    const oldPairs = this.#pairs;
    const slots = this.slots * 2;
    this.#mask = slots / BUCKET_SLOTS - 1;
    const h = new Uint32Array(slots * HEAD);
    const pairs = new Uint32Array(slots * stride);
    this.#heads = h;
    this.#pairs = pairs;
    this.#live = 0;
    for (let from = 0; from < oldHeads.length; from += HEAD) {
      const x = oldHeads[from + 1]!;
      const n = x & MAX_CAP;
      if (n === 0) continue;
      this.#probe(oldHeads[from]!, x >>> 15, Number.NEGATIVE_INFINITY);
      const to = this.#spot;
      if (this.#spotFree) this.#live++;
      else {
        const there = h[to + 1]! & MAX_CAP;
        if (n < there || (n === there && oldHeads[from + 2]! < h[to + 2]!)) continue;
      }
      // Word by word: two `subarray` views per key cost more than the placing.
      for (let w = 0; w < HEAD; w++) h[to + w] = oldHeads[from + w]!;
      const first = (from >> 2) * stride;
      const into = (to >> 2) * stride - first;
      for (let i = first; i < first + 2 * (n - 1); i++) pairs[i + into] = oldPairs[i]!;
    }
  }

  /** Moves the base HALF before `now`, every held time with it, once the clock is ~24 days off: `now`'s offset. */
  #rebase(now: number): number {
    const base = Math.floor(now) - HALF;
    if (!Number.isNaN(this.#base))
      shiftTimes(this.#heads, this.#pairs, this.#stride, MAX_CAP, this.#base - base);
    this.#base = base;
    return HALF;
  }
}

/** The largest power of two at most `n` (1 below 2). */
export const pow2Below = (n: number): number => (n < 2 ? 1 : 2 ** Math.floor(Math.log2(n)));

/** Where a key's bucket is, before the mask: both halves mixed, so that keys not random (tests) spread too. */
function spread(lo: number, hi: number): number {
  const h = Math.imul(lo ^ hi, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}
