/** Opens MMDB bytes (metadata checked, the country field found) and reads an address's country from them. */
import { Reader } from 'mmdb-lib';
// Not re-exported by mmdb-lib's index: reading only the metadata is what keeps a first check cheap.
import { type Metadata, parseMetadata } from 'mmdb-lib/lib/metadata.js';
import { IpMatchConfigError } from '../core/errors.js';
import { dottedQuad, ipv4Value } from '../core/ip.js';
import { sampleNetworks } from './mmdb-sample.js';
import { ipv4Finder } from './mmdb-tree.js';

/** Where the record keeps its country: ip-location-db and IPinfo Lite, MaxMind and DB-IP, older IPinfo. */
export type GeoIpSchema = 'country_code' | 'country.iso_code' | 'country';

/** What an opened MMDB tells about itself. */
export interface MmdbFacts {
  /** The metadata's database_type, e.g. 'GeoLite2-Country' or 'country ipvAll'. */
  databaseType: string;
  /** When the data was built (ISO 8601), from the metadata's build_epoch. */
  buildDate: string;
  /** Whether IPv4 addresses can be found (an IPv6-only tree has no IPv4 subtree). */
  ipv4: boolean;
  /** Whether the tree is an IPv6 one (IPv4-only trees cannot answer IPv6 addresses). */
  ipv6: boolean;
  schema: GeoIpSchema;
}

/** An MMDB read into memory and checked: a reader, and the way to its records' country. */
export interface Mmdb {
  facts: MmdbFacts;
  /** ISO alpha-2 of a canonical address, or null when the data has none. */
  country(address: string): string | null;
  /** The same for an IPv4 address given as an unsigned 32-bit number (`ipv4Value`). */
  countryV4(value: number): string | null;
  /** The raw bytes (sampling walks the tree). */
  bytes: Buffer;
  metadata: Metadata;
}

const WHERE = 'GeoIP database';
/** The spec caps the metadata section at 128 KiB, so the marker is always within the file's tail. */
export const METADATA_MAX_BYTES = 128 * 1024;
const DECODED_MAX = 4096;
/**
 * Data pointers followed at once within one lookup. Real records nest a few levels (GeoLite2-City's about
 * five); mmdb-lib follows a pointer that leads back into the record being decoded until the stack overflows.
 */
const MAX_POINTER_DEPTH = 32;
export const WHAT_TO_PASS =
  'Pass the path (or bytes) of an .mmdb file such as GeoLite2-Country.mmdb, an ip-location-db *.mmdb or ' +
  "IPinfo's ipinfo_lite.mmdb, or leave `database` unset for the bundled geo-whois-asn-country data.";

type GeoRecord = Record<string, unknown> | null;

/** A record that cannot be read: the file is corrupt past its metadata (a pointer loop, a pointer out of the file). */
export class MmdbCorruptError extends IpMatchConfigError {
  constructor(
    label: string,
    readonly address: string,
    readonly why: string,
  ) {
    super(WHERE, [
      `database: ${label} is corrupt: its record for ${address} cannot be read (${why}). ${WHAT_TO_PASS}`,
    ]);
  }
}

/** A two-letter code, upper-cased; 'ZZ' is the conventional "unknown region". */
function alpha2(value: unknown): string | null {
  if (typeof value !== 'string' || value.length !== 2) return null;
  const code = value.toUpperCase();
  const a = code.charCodeAt(0);
  const b = code.charCodeAt(1);
  return a >= 65 && a <= 90 && b >= 65 && b <= 90 && code !== 'ZZ' ? code : null;
}

function isoCode(value: unknown): string | null {
  return typeof value === 'object' && value !== null
    ? alpha2((value as { iso_code?: unknown }).iso_code)
    : null;
}

const EXTRACT: Record<GeoIpSchema, (r: GeoRecord) => string | null> = {
  country_code: (r) => (r === null ? null : alpha2(r.country_code)),
  // MaxMind leaves `country` out for some networks (satellite, anycast); the registrant's is the next best.
  'country.iso_code': (r) => (r === null ? null : (isoCode(r.country) ?? isoCode(r.registered_country))),
  country: (r) => (r === null ? null : alpha2(r.country)),
};
const SCHEMAS = Object.keys(EXTRACT) as GeoIpSchema[];
/** Networks read to choose between schemas, and the most read to find any country at all. */
const SCHEMA_PROBE = 64;
const SCHEMA_PROBE_MAX = 4096;

/** Why mmdb-lib could not decode: its own message, but a stack overflow (deep nesting, a loop) said plainly. */
function reasonOf(e: unknown): string {
  return e instanceof RangeError && /call stack/i.test(e.message)
    ? 'values nested too deep: a pointer loop'
    : (e as Error).message;
}

/** The marker that starts the metadata section; built on first use, not at import. */
let marker: Buffer | undefined;

function notMmdb(label: string, head: Uint8Array, why: string): IpMatchConfigError {
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const hint = gzip
    ? 'It is gzip-compressed: unpack it first (MaxMind downloads are .tar.gz archives holding the .mmdb).'
    : WHAT_TO_PASS;
  return new IpMatchConfigError(WHERE, [`database: ${label} ${why}. ${hint}`]);
}

/**
 * Checks that the bytes are an MMDB that mmdb-lib can read, touching only the metadata and the
 * 16-byte separator after the search tree; returns the metadata. Throws IpMatchConfigError saying what is wrong.
 */
export function inspectMmdb(
  label: string,
  size: number,
  read: (position: number, length: number) => Buffer,
): Metadata {
  marker ??= Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
  const tailStart = Math.max(0, size - METADATA_MAX_BYTES);
  const tail = read(tailStart, size - tailStart);
  const at = tail.lastIndexOf(marker);
  if (at === -1) throw notMmdb(label, read(0, 2), 'is not an MMDB file (no MaxMind DB metadata marker)');
  let m: Metadata;
  try {
    m = parseMetadata(tail);
  } catch (e) {
    throw notMmdb(label, read(0, 2), `has unreadable MMDB metadata (${reasonOf(e)})`);
  }
  const problems: string[] = [];
  if (m.binaryFormatMajorVersion !== 2) problems.push(`binary format ${m.binaryFormatMajorVersion}, not 2`);
  if (m.ipVersion !== 4 && m.ipVersion !== 6) problems.push(`ip_version ${m.ipVersion}`);
  if (!Number.isInteger(m.nodeCount) || m.nodeCount < 1) problems.push(`node_count ${m.nodeCount}`);
  if (Number.isNaN(m.buildEpoch.getTime())) problems.push('no build_epoch');
  if (problems.length > 0)
    throw notMmdb(label, read(0, 2), `has invalid MMDB metadata (${problems.join(', ')})`);
  const separator = m.searchTreeSize + 16 <= tailStart + at ? read(m.searchTreeSize, 16) : undefined;
  if (separator === undefined || separator.some((byte) => byte !== 0)) {
    throw notMmdb(
      label,
      read(0, 2),
      'is truncated or corrupt (its search tree does not end where its metadata says)',
    );
  }
  // Country-less MaxMind/DB-IP products: a common wrong download, worth naming at startup.
  if (
    /\b(asn|isp|domain|connection-type|anonymous-ip)\b/i.test(m.databaseType) &&
    !/country|city/i.test(m.databaseType)
  ) {
    throw new IpMatchConfigError(WHERE, [
      `database: ${label} is a "${m.databaseType}" database, which has no countries. ` +
        'Pass a country or city database instead, e.g. GeoLite2-Country.mmdb or dbip-country-lite.mmdb.',
    ]);
  }
  return m;
}

/** Bytes as a Buffer without a copy: mmdb-lib accepts nothing else. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Opens MMDB bytes already in memory: checks the metadata, finds which field holds the country by reading
 * real records, and builds the reader. Throws IpMatchConfigError when the bytes cannot serve countries.
 */
export function openMmdb(data: Uint8Array, label: string): Mmdb {
  const bytes = asBuffer(data);
  inspectMmdb(label, bytes.length, (position, length) => bytes.subarray(position, position + length));
  // Country data holds a few hundred distinct records: keeping them decoded, by offset, skips about
  // half of a bare lookup. Cleared rather than evicted should a city-sized database overflow it.
  const decoded = new Map<string | number, unknown>();
  // mmdb-lib asks this cache before it decodes what a pointer leads to, and fills it once decoded: misses not
  // yet filled are the pointers being followed now.
  let following = 0;
  const reader = new Reader<never>(bytes, {
    cache: {
      get: (offset) => {
        const hit = decoded.get(offset);
        if (hit === undefined && ++following > MAX_POINTER_DEPTH) {
          throw new Error(`data pointers nested over ${MAX_POINTER_DEPTH} deep (a pointer loop)`);
        }
        return hit;
      },
      set: (offset, value) => {
        following--;
        if (decoded.size >= DECODED_MAX) decoded.clear();
        decoded.set(offset, value);
      },
    },
  });
  /** A lookup, or IpMatchConfigError for a corrupt data section (a loop, a pointer out of the file). */
  const guarded = <T>(address: string, lookup: () => T): T => {
    following = 0;
    try {
      return lookup();
    } catch (e) {
      const why =
        e instanceof RangeError && /call stack/.test(e.message) ? 'nested too deep' : (e as Error).message;
      throw new MmdbCorruptError(label, address, why);
    }
  };
  const read = (address: string) => guarded(address, () => reader.get(address) as GeoRecord);
  const m = reader.metadata;
  // The first schema, in SCHEMAS order, that a sampled record has. Reading stops once that is the first schema:
  // each read is a cold tree walk at startup, and the bundled data answers on the first record. Past the first
  // 64 networks it stops at any schema found; a file whose first networks carry no country (reserved ranges
  // split around a few real ones) is walked further, up to SCHEMA_PROBE_MAX, before it is refused.
  let best = SCHEMAS.length;
  let seen = 0;
  for (const address of sampleNetworks(bytes, m, SCHEMA_PROBE_MAX)) {
    const record = read(address);
    const found = SCHEMAS.findIndex((s, i) => i < best && EXTRACT[s](record) !== null);
    if (found !== -1) best = found;
    if (best === 0 || (++seen >= SCHEMA_PROBE && best < SCHEMAS.length)) break;
  }
  const schema = SCHEMAS[best];
  if (schema === undefined) {
    throw new IpMatchConfigError(WHERE, [
      `database: ${label} ("${m.databaseType}") has no country in its records (looked for country_code, ` +
        'country.iso_code and country). Pass a country or city database, e.g. GeoLite2-Country.mmdb.',
    ]);
  }
  // In an IPv6 tree, IPv4 lives under ::/96; a tree without that subtree answers no IPv4 address.
  const [hit, depth] = guarded('0.0.0.0', () => reader.getWithPrefixLength('0.0.0.0'));
  const v4Only = m.ipVersion === 4;
  const extract = EXTRACT[schema];
  // IPv4 skips mmdb-lib: the tree is walked with the address's number, and the country kept per data
  // record (a country database has a few hundred), read once through mmdb-lib from an address that leads
  // there. Bounded like `decoded`, for a city database's hundreds of thousands of records.
  const findV4 = ipv4Finder(bytes, m);
  const byRecord = new Map<number, string | null>();
  const countryV4 = (value: number): string | null => {
    const pointer = findV4(value);
    if (pointer === 0) return null;
    let found = byRecord.get(pointer);
    if (found === undefined) {
      found = extract(read(dottedQuad(value)));
      if (byRecord.size >= DECODED_MAX) byRecord.clear();
      byRecord.set(pointer, found);
    }
    return found;
  };
  return {
    facts: {
      databaseType: m.databaseType,
      buildDate: m.buildEpoch.toISOString(),
      ipv4: v4Only || hit !== null || depth > 0,
      ipv6: m.ipVersion === 6,
      schema,
    },
    country(address) {
      const v = ipv4Value(address);
      if (v >= 0) return countryV4(v);
      // An IPv4 tree walked with 128 bits answers garbage for IPv6 rather than nothing.
      return v4Only && address.includes(':') ? null : extract(read(address));
    },
    countryV4,
    bytes,
    metadata: m,
  };
}
