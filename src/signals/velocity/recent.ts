/** The keyed hashes and table slots of the numbers (or IPs) checked last: a repeated one skips its hashing and probing. */

/** Entries: a power of two. A busy route's regulars (a retry, an office's few IPs) fit; a flood just overwrites. */
export const RECENT_ENTRIES = 256;

/** An entry's second word: what it holds. */
const EMPTY = 0;
/** A text, compared with `#texts` (its print in the first word). */
const TEXT = 1;
/** An IPv4 address as its 32-bit value (in the first word): compared without reading any string. */
const VALUE = 2;

/**
 * A direct-mapped table from a text (a number, an IP) to its `width` keyed hashes and `slotsPer` slot hints, one
 * per table it is counted in. A text's entry comes from its last characters (a number's and an IP's most
 * varied); an IPv4 address may be held by its value instead (`findValue`), so that a repeated one reads no
 * string. A new text overwrites the entry, allocating nothing. A hint is only a place to look first:
 * SlotTable.add checks that the slot still holds the key (an eviction or a table's growth may have moved it)
 * before using it. The texts are held as the check had them, like the phone parser's own table of recent
 * inputs, and forgotten with the counts (`clear`).
 *
 * Each entry is one run of `stride` words (a power of two, 64 bytes for a number's entry): its print
 * or value, what it holds, its slot hints, then each hash as a low and a high word. In a live server a check
 * finds these cold (the framework's work between two checks evicts them), so an entry read is one or two cache
 * lines, where one array per field cost one per field and one per array.
 */
export class Recent {
  readonly #slotsPer: number;
  /** Words per entry. */
  readonly stride: number;
  readonly #texts: (string | null)[] = new Array(RECENT_ENTRIES).fill(null);
  /** The entries' words (see the class). */
  readonly #data: Int32Array;
  /** Where an entry's hashes start, from the entry's first word. */
  readonly #hashesAt: number;
  /** The print (or value) `find` (or `findValue`) took last, and what it was. */
  #print = 0;
  #kind = EMPTY;

  constructor(width: number, slotsPer: number) {
    this.#slotsPer = slotsPer;
    this.#hashesAt = 2 + slotsPer;
    let stride = 1;
    while (stride < 2 + slotsPer + 2 * width) stride *= 2;
    this.stride = stride;
    this.#data = new Int32Array(RECENT_ENTRIES * stride);
  }

  /**
   * Where `text`'s entry starts in `data` if held (≥ 0), else the one's complement of where the entry it would
   * take starts (fill it with `take`).
   */
  find(text: string): number {
    let h = text.length;
    for (let i = Math.max(0, text.length - 8); i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
    }
    const e = (h >>> 24) & (RECENT_ENTRIES - 1);
    const at = e * this.stride;
    this.#print = h;
    this.#kind = TEXT;
    // The print first: comparing with another string would read it, a cache miss on a stream of new ones.
    const d = this.#data;
    return d[at] === h && d[at + 1] === TEXT && this.#texts[e] === text ? at : ~at;
  }

  /** As `find`, for an IPv4 address by its 32-bit value (`ipv4Value`): no string is read or held. */
  findValue(value: number): number {
    const e = (Math.imul(value, 0x9e3779b1) >>> 24) & (RECENT_ENTRIES - 1);
    const at = e * this.stride;
    this.#print = value | 0;
    this.#kind = VALUE;
    const d = this.#data;
    return d[at] === (value | 0) && d[at + 1] === VALUE ? at : ~at;
  }

  /**
   * Gives the entry at `at` to what `find` (or `findValue`) was just asked about, its slot hints none yet: the
   * caller writes its hashes (`setHash`).
   */
  take(at: number, text: string): void {
    const d = this.#data;
    this.#texts[at / this.stride] = this.#kind === TEXT ? text : null;
    d[at] = this.#print;
    d[at + 1] = this.#kind;
    for (let i = at + 2, end = i + this.#slotsPer; i < end; i++) d[i] = -1;
  }

  /** The entry's hash `i` (a non-negative 53-bit integer, or -1). */
  hash(at: number, i: number): number {
    const d = this.#data;
    const w = at + this.#hashesAt + 2 * i;
    return d[w + 1]! * 4294967296 + (d[w]! >>> 0);
  }

  setHash(at: number, i: number, value: number): void {
    const d = this.#data;
    const w = at + this.#hashesAt + 2 * i;
    d[w] = value >>> 0;
    d[w + 1] = value < 0 ? -1 : value / 4294967296;
  }

  /** The entry's slot hint `i` (-1: none), and setting it. */
  slot(at: number, i: number): number {
    return this.#data[at + 2 + i]!;
  }

  setSlot(at: number, i: number, slot: number): void {
    this.#data[at + 2 + i] = slot;
  }

  clear(): void {
    this.#texts.fill(null);
    this.#data.fill(0);
  }
}
