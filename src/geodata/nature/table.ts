/** The loaded IP-nature table: `lookup(address)` by binary search over typed arrays, and each feed's ranges back. */
import ipaddr from 'ipaddr.js';
import { ipv4Value } from '../../core/ip.js';
import { type NatureColumns, type NatureHeader, type ReadHow, readNatureColumns } from './format.js';
import { type FeedName, NATURE_KINDS, type NatureMatch, type NatureRange } from './types.js';
import { readV6Words } from './v6-words.js';

/** The answer for one label: built once, on the label's first match, then shared (frozen) by every lookup. */
function matchOf(h: NatureHeader, label: number): NatureMatch {
  const sources = h.labels[label]!;
  const kinds = NATURE_KINDS.filter((k) => sources.some((s) => kindOf(h, s) === k));
  const first = h.sources[sources[0]!]!;
  const relay = sources.find((s) => kindOf(h, s) === 'relay');
  const country = relay === undefined ? null : (h.sources[relay]!.country ?? null);
  return Object.freeze({ kinds: Object.freeze(kinds), network: first.network, country });
}

function kindOf(h: NatureHeader, source: number): string | undefined {
  const feed = h.sources[source]!.feed;
  return h.feeds.find((f) => f.name === feed)?.kind;
}

/** Compares the IPv6 bound at `i` (four words) with the key. */
function cmpKey(words: Uint32Array, i: number, key: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const d = words[i * 4 + k]! - key[k]!;
    if (d !== 0) return d;
  }
  return 0;
}

function toBigInt(words: Uint32Array, i: number): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(words[i * 4 + k]!);
  return v;
}

/** The IP-nature data, read from the compiled file's bytes. Immutable; safe to share across checks. */
export class NatureTable {
  readonly header: NatureHeader;
  readonly #c: NatureColumns;
  /** One answer per label, built on its first match: building all of them cost a cold start ~1-3 ms. */
  readonly #matches: (NatureMatch | undefined)[];
  readonly #key = new Uint32Array(4);

  /**
   * Validates the bytes first; throws IpMatchDataError('invalid_database') for a file that is not sound.
   * `how` (default: copies, every segment checked): see `ReadHow`.
   */
  constructor(bytes: Uint8Array, label?: string, how?: ReadHow) {
    this.#c = readNatureColumns(bytes, label, how);
    this.header = this.#c.header;
    this.#matches = new Array<NatureMatch | undefined>(this.header.labels.length);
  }

  /** When the file was compiled. */
  get builtAt(): Date {
    return new Date(this.header.builtAt);
  }

  /**
   * What the address is, or null when no feed lists it (or it is not an address). A strict dotted quad, any
   * IPv6 form, and `::ffff:a.b.c.d` (read as its IPv4 address) are accepted.
   */
  lookup(address: string): NatureMatch | null {
    if (address.indexOf(':') === -1) {
      const v = ipv4Value(address);
      return v < 0 ? null : this.lookupV4(v);
    }
    const key = this.#key;
    if (!readV6Words(address, key)) {
      // Rare forms (an embedded dotted quad such as ::ffff:1.2.3.4): the slow, allocating parse.
      let ip: ipaddr.IPv6;
      try {
        ip = ipaddr.IPv6.parse(address);
      } catch {
        return null;
      }
      const p = ip.parts;
      for (let k = 0; k < 4; k++) key[k] = p[k * 2]! * 65536 + p[k * 2 + 1]!;
    }
    if (key[0] === 0 && key[1] === 0 && key[2] === 0xffff) return this.lookupV4(key[3]!);
    return this.#lookupV6(key);
  }

  /** The IPv4 address given as an unsigned 32-bit number. */
  lookupV4(v: number): NatureMatch | null {
    const { v4First: first, v4Last: last, v4Label: label } = this.#c;
    let lo = 0;
    let hi = first.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid]! <= v) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && v <= last[at]! ? this.#match(label[at]!) : null;
  }

  #lookupV6(key: Uint32Array): NatureMatch | null {
    const { v6First: first, v6Last: last, v6Label: label } = this.#c;
    let lo = 0;
    let hi = label.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpKey(first, mid, key) <= 0) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && cmpKey(last, at, key) >= 0 ? this.#match(label[at]!) : null;
  }

  #match(label: number): NatureMatch {
    let match = this.#matches[label];
    if (match === undefined) {
      match = matchOf(this.header, label);
      this.#matches[label] = match;
    }
    return match;
  }

  /**
   * The ranges one feed contributed, merged, with their network and (relay) country: what the updater keeps
   * for a feed that failed to download or parse.
   */
  feedRanges(name: FeedName): NatureRange[] {
    const { header: h } = this;
    const out: NatureRange[] = [];
    const c = this.#c;
    const families = [
      {
        family: 4 as const,
        n: c.v4Label.length,
        label: c.v4Label,
        at: (w: Uint32Array, i: number) => BigInt(w[i]!),
        first: c.v4First,
        last: c.v4Last,
      },
      {
        family: 6 as const,
        n: c.v6Label.length,
        label: c.v6Label,
        at: toBigInt,
        first: c.v6First,
        last: c.v6Last,
      },
    ];
    for (const f of families) {
      const open = new Map<number, NatureRange>(); // source → its run that may still grow
      for (let i = 0; i < f.n; i++) {
        const first = f.at(f.first, i);
        const last = f.at(f.last, i);
        for (const s of h.labels[f.label[i]!]!) {
          const source = h.sources[s]!;
          if (source.feed !== name) continue;
          const run = open.get(s);
          if (run && run.last + 1n === first) run.last = last;
          else {
            const range: NatureRange = { family: f.family, first, last, network: source.network };
            if (source.country) range.country = source.country;
            open.set(s, range);
            out.push(range);
          }
        }
      }
    }
    return out;
  }
}
