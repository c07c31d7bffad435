/** One parsed feed range, the result every feed parser returns, and the CIDR/address reader they share. */
import ipaddr from 'ipaddr.js';
import type { NatureRange } from '../../geodata/nature/types.js';
import { isPublicRange } from './public-range.js';

/** One parsed range: the compiler's NatureRange (family, first and last address, country, network). */
export type FeedRange = NatureRange;

/** What a parser gives back: the ranges it read, how many entries it could not read, and the feed's version. */
export interface FeedResult {
  ranges: FeedRange[];
  /**
   * Entries that did not parse, that covered more than the widest prefix allowed (see MIN_PREFIX), or that hold
   * an address that is not public unicast (see isPublicRange).
   */
  skipped: number;
  /** The publisher's own version or date (AWS syncToken/createDate, Azure changeNumber…), null when none. */
  version: string | null;
  /**
   * Set when the document as a whole is not the publisher's format (not JSON, no `prefixes` array…): the feed
   * failed, and the updater keeps its previous ranges. Parsers never throw.
   */
  problem?: string;
}

/**
 * The widest range a feed may list: a /8 of IPv4 (16.7M addresses) and a /19 of IPv6. The largest real entries
 * are AWS's and Azure's /10–/11 of IPv4 and their /24–/29 of IPv6; anything wider is a typo or a hostile feed,
 * and one such line must not mark a sixteenth of the Internet as hosting.
 */
export const MIN_PREFIX = { 4: 8, 6: 19 } as const;

const SIZE_LIMIT = { 4: 1n << BigInt(32 - MIN_PREFIX[4]), 6: 1n << BigInt(128 - MIN_PREFIX[6]) } as const;

/** True when a range of this family is no wider than MIN_PREFIX allows. */
export function withinSizeLimit(family: 4 | 6, first: bigint, last: bigint): boolean {
  return first <= last && last - first < SIZE_LIMIT[family];
}

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** An address (strict dotted quad or IPv6, no zone) as its family and value; null when it does not parse. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | null {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 4, value: toBigInt(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  return { family: 6, value: toBigInt(ipaddr.IPv6.parse(text).toByteArray()) };
}

/**
 * A CIDR (`198.51.100.0/24`, `2600:1f00::/24`) or a bare address (a /32 or /128) as a range; null when it does
 * not parse, when its prefix length is not a plain decimal in range, when it is wider than MIN_PREFIX, or when
 * any address in it is not public unicast (documentation, private, CGNAT, 6to4…: isPublicRange). Host bits
 * set below the prefix (`192.0.2.7/24`) are cleared, as every router reads it.
 */
export function parseCidr(raw: string, country?: string): FeedRange | null {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const addr = parseAddress(slash === -1 ? text : text.slice(0, slash));
  if (!addr) return null;
  const width = addr.family === 4 ? 32 : 128;
  let bits = width;
  if (slash !== -1) {
    const len = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len)) return null;
    bits = Number(len);
    if (bits > width) return null;
  }
  if (bits < MIN_PREFIX[addr.family]) return null;
  const host = (1n << BigInt(width - bits)) - 1n;
  const first = addr.value & ~host;
  if (!isPublicRange(addr.family, first, first | host)) return null;
  const range: FeedRange = { family: addr.family, first, last: first | host };
  if (country !== undefined) range.country = country;
  return range;
}

/** An ISO 3166-1 alpha-2 code, upper-cased, or undefined when the field is not one. */
export function countryCode(field: string | undefined): string | undefined {
  const c = field?.trim().toUpperCase();
  return c !== undefined && /^[A-Z]{2}$/.test(c) ? c : undefined;
}

/** Collects ranges and counts what did not parse, so that each parser stays a loop over its entries. */
export class RangeCollector {
  readonly ranges: FeedRange[] = [];
  skipped = 0;

  /** Adds the CIDR or address in `value`, or counts a skip when it is not a string that parses. */
  cidr(value: unknown, country?: string): void {
    const range = typeof value === 'string' ? parseCidr(value, country) : null;
    if (range) this.ranges.push(range);
    else this.skipped++;
  }

  result(version: string | null): FeedResult {
    return { ranges: this.ranges, skipped: this.skipped, version };
  }
}

/** The result of a document that is not the publisher's format at all. */
export function unreadable(problem: string): FeedResult {
  return { ranges: [], skipped: 0, version: null, problem };
}

/** A JSON document's top-level object, or null when the text is not JSON or not an object. */
export function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** An array field, or an empty one when the field is absent or not an array. */
export function arrayField(obj: unknown, key: string): unknown[] {
  const v = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
  return Array.isArray(v) ? v : [];
}

/** A field as the version string: strings as they are, numbers in decimal, anything else null. */
export function versionField(obj: Record<string, unknown>, ...keys: string[]): string | null {
  const parts: string[] = [];
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string' && v.length > 0 && v.length <= 64) parts.push(v);
    else if (typeof v === 'number' && Number.isFinite(v)) parts.push(String(v));
  }
  return parts.length > 0 ? parts.join(' ') : null;
}

/** Each line of a text feed, trimmed, without blank lines and `#` comments (whole-line or trailing). */
export function* contentLines(text: string): Generator<string> {
  for (const raw of text.split(/\r?\n/)) {
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line.length > 0) yield line;
  }
}
