/** A fixed-size table of recent IPv4 → country answers, one slot per address: a miss allocates nothing. */

/** The IPv4 answers of recent lookups, by address number: see `recentTable`. */
export interface RecentTable {
  /** The country kept for the address (null: the data has none), or undefined when it is not kept. */
  get(value: number): string | null | undefined;
  set(value: number, country: string | null): void;
  clear(): void;
}

/**
 * A direct-mapped table of IPv4 → country: each address has one slot (a multiplicative hash of its number),
 * and a new address overwrites whatever was there. A hit costs a multiply and two array reads; a miss
 * allocates nothing and leaves nothing for the GC, where an LRU insert allocates an entry, keeps the address
 * string until it is evicted (long enough to reach the old generation) and evicts another: on a stream of new
 * IPs that cost more than the tree walk it saved. `size` is rounded up to a power of two, at least 16.
 */
export function recentTable(size: number): RecentTable {
  const bits = Math.max(4, Math.ceil(Math.log2(size)));
  const shift = 32 - bits;
  const keys = new Int32Array(1 << bits);
  const countries = new Array<string | null | undefined>(1 << bits).fill(undefined);
  const slotOf = (value: number) => Math.imul(value, 0x9e3779b1) >>> shift;
  return {
    get(value) {
      const slot = slotOf(value);
      return keys[slot] === (value | 0) ? countries[slot] : undefined;
    },
    set(value, country) {
      const slot = slotOf(value);
      keys[slot] = value;
      countries[slot] = country;
    },
    clear() {
      countries.fill(undefined);
    },
  };
}
