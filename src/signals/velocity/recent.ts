/** The keyed hashes and table slots of the numbers (or IPs) checked last: a repeated one skips its hashing and probing. */

/** Entries: a power of two. A busy route's regulars (a retry, an office's few IPs) fit; a flood just overwrites. */
export const RECENT_ENTRIES = 256;

/**
 * A direct-mapped table from a text (a number, an IP) to its `width` keyed hashes and `slots` slot hints, one
 * per table it is counted in. A text's entry comes from its last characters (a number's and an IP's most
 * varied); a new text overwrites it, allocating nothing. A hint is only a place to look first: SlotTable.add
 * checks that the slot still holds the key (an eviction or a table's growth may have moved it) before using it.
 * The texts are held as the check had them, like the phone parser's own table of recent inputs, and forgotten
 * with the counts (`clear`).
 */
export class Recent {
  readonly width: number;
  readonly slotsPer: number;
  readonly #texts: (string | null)[] = new Array(RECENT_ENTRIES).fill(null);
  /** Each entry's text's print (the hash `find` takes of its last characters), and the last one `find` took. */
  readonly #prints = new Int32Array(RECENT_ENTRIES);
  #print = 0;
  /** Entry `e`'s hashes at `e · width`. */
  readonly hashes: Float64Array;
  /** Entry `e`'s slot hints at `e · slotsPer` (-1: none). */
  readonly slots: Int32Array;

  constructor(width: number, slotsPer: number) {
    this.width = width;
    this.slotsPer = slotsPer;
    this.hashes = new Float64Array(RECENT_ENTRIES * width);
    this.slots = new Int32Array(RECENT_ENTRIES * slotsPer).fill(-1);
  }

  /** `text`'s entry if held (≥ 0), else the one's complement of the entry it would take (fill it with `take`). */
  find(text: string): number {
    let h = text.length;
    for (let i = Math.max(0, text.length - 8); i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
    }
    const e = (h >>> 24) & (RECENT_ENTRIES - 1);
    this.#print = h;
    // The print first: comparing with another string would read it, a cache miss on a stream of new ones.
    return this.#prints[e] === h && this.#texts[e] === text ? e : ~e;
  }

  /** Gives entry `e` to the text `find` was just asked about, its slot hints none yet: the caller writes its hashes. */
  take(e: number, text: string): void {
    this.#texts[e] = text;
    this.#prints[e] = this.#print;
    const slots = this.slots;
    for (let i = e * this.slotsPer, end = i + this.slotsPer; i < end; i++) slots[i] = -1;
  }

  clear(): void {
    this.#texts.fill(null);
    this.slots.fill(-1);
  }
}
