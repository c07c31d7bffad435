import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';
import { Reader } from 'mmdb-lib';
// Not re-exported by mmdb-lib's index: reading only the metadata is what keeps construction cheap.
import { type Metadata, parseMetadata } from 'mmdb-lib/lib/metadata.js';
import { z } from 'zod';
import { IpMatchConfigError } from '../core/errors.js';
import type { Logger } from '../core/types.js';
import { parseOptions } from '../core/validate.js';
import { readRecord } from './mmdb-tree.js';

/** Options of `openGeoIp()`. */
export interface GeoIpOptions {
  /**
   * Path or bytes of any MMDB with a country per network: MaxMind GeoIP2/GeoLite2 Country or City,
   * ip-location-db, IPinfo, DB-IP. Default: the combined IPv4+IPv6 file of
   * `@ip-location-db/geo-whois-asn-country-mmdb`.
   */
  database?: string | Uint8Array;
  /** IP → country results kept in an LRU. 0 turns it off. Default 10 000. */
  cacheSize?: number;
}

/** Where the record keeps its country: ip-location-db and IPinfo Lite, MaxMind and DB-IP, older IPinfo. */
export type GeoIpSchema = 'country_code' | 'country.iso_code' | 'country';

/** What `info()` tells about the data in use. */
export interface GeoIpInfo {
  /** 'geo-whois-asn-country (ip-location-db, CC BY 4.0 NRO)' for the default, else the path, or 'bytes'. */
  source: string;
  /** The metadata's database_type, e.g. 'GeoLite2-Country' or 'country ipvAll'. */
  databaseType: string;
  /** When the data was built (ISO 8601). */
  buildDate: string;
  /** Whole days since `buildDate`. */
  ageDays: number;
  /** Whether IPv4 addresses can be found (an IPv6-only tree has no IPv4 subtree). */
  ipv4: boolean;
  /** Whether the tree is an IPv6 one (IPv4-only trees cannot answer IPv6 addresses). */
  ipv6: boolean;
  schema: GeoIpSchema;
}

export interface GeoIp {
  /** ISO 3166-1 alpha-2 (upper case) of a canonical public address, or null when the data has none. */
  country(address: string): string | null;
  /** Loads the data if needed; throws IpMatchConfigError when it cannot. */
  info(): GeoIpInfo;
  /** Loads the data now if not loaded; throws IpMatchConfigError when it cannot. */
  load(): void;
}

/** Data older than this many days is reported through `logger.warn` (code IPMATCH_DATA_STALE). */
export const DATA_MAX_AGE_DAYS = 180;

const DEFAULT_FILE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';
const DEFAULT_SOURCE = 'geo-whois-asn-country (ip-location-db, CC BY 4.0 NRO)';
const MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
/** The spec caps the metadata section at 128 KiB, so the marker is always within the file's tail. */
const METADATA_MAX_BYTES = 128 * 1024;
const DAY_MS = 86_400_000;
const DECODED_MAX = 4096;
const WHERE = 'GeoIP database';
const WHAT_TO_PASS =
  'Pass the path (or bytes) of an .mmdb file such as GeoLite2-Country.mmdb, an ip-location-db *.mmdb or ' +
  "IPinfo's ipinfo_lite.mmdb, or leave `database` unset for the bundled geo-whois-asn-country data.";

const optionsSchema = z.strictObject({
  database: z
    .union([z.string().min(1), z.instanceof(Uint8Array)], { error: 'expected a file path or the MMDB bytes' })
    .optional(),
  cacheSize: z.number().int().min(0).optional(),
});

type GeoRecord = Record<string, unknown> | null;

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

/**
 * tsup's CJS output turns `import.meta` into an empty object, so `import.meta.url` is undefined there;
 * CJS has `require` instead. ESM has the URL and no `require`.
 */
function resolveDefault(): string {
  try {
    const url = import.meta.url as string | undefined;
    return (url ? createRequire(url) : require).resolve(DEFAULT_FILE);
  } catch {
    throw new IpMatchConfigError(WHERE, [
      'database: the bundled data (@ip-location-db/geo-whois-asn-country-mmdb) is not installed. ' +
        'Reinstall ipmatch, or pass `database`: the path or bytes of an .mmdb file.',
    ]);
  }
}

/** Reads `length` bytes at `position` of an open file. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return n === length ? buf : buf.subarray(0, n);
}

function notMmdb(label: string, head: Buffer, why: string): IpMatchConfigError {
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const hint = gzip
    ? 'It is gzip-compressed: unpack it first (MaxMind downloads are .tar.gz archives holding the .mmdb).'
    : WHAT_TO_PASS;
  return new IpMatchConfigError(WHERE, [`database: ${label} ${why}. ${hint}`]);
}

/**
 * Checks that the bytes are an MMDB that mmdb-lib can read, touching only the metadata and the
 * 16-byte separator after the search tree; returns the metadata.
 */
function inspect(label: string, size: number, read: (position: number, length: number) => Buffer): Metadata {
  const tailStart = Math.max(0, size - METADATA_MAX_BYTES);
  const tail = read(tailStart, size - tailStart);
  const at = tail.lastIndexOf(MARKER);
  if (at === -1) throw notMmdb(label, read(0, 2), 'is not an MMDB file (no MaxMind DB metadata marker)');
  let m: Metadata;
  try {
    m = parseMetadata(tail);
  } catch (e) {
    throw notMmdb(label, read(0, 2), `has unreadable MMDB metadata (${(e as Error).message})`);
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

function inspectFile(path: string): Metadata {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no file at "${path}"` : `cannot open "${path}" (${code ?? String(e)})`;
    throw new IpMatchConfigError(WHERE, [`database: ${why}. ${WHAT_TO_PASS}`]);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new IpMatchConfigError(WHERE, [`database: "${path}" is not a file. ${WHAT_TO_PASS}`]);
    }
    return inspect(`"${path}"`, stat.size, (position, length) => readAt(fd, position, length));
  } finally {
    closeSync(fd);
  }
}

/** Addresses of the first networks in tree order: real records to read, whatever ranges the data covers. */
function sampleAddresses(db: Buffer, m: Metadata, limit: number): string[] {
  const width = m.ipVersion === 6 ? 128 : 32;
  const bits = new Uint8Array(width);
  const found: string[] = [];
  let budget = 100_000; // nodes, should the tree be odd
  const record = (node: number, right: number): number => readRecord(db, m, node, right);
  const address = (): string => {
    const groups: string[] = [];
    for (let i = 0; i < width; i += width === 32 ? 8 : 16) {
      let v = 0;
      for (let j = i; j < i + (width === 32 ? 8 : 16); j++) v = v * 2 + bits[j]!;
      groups.push(width === 32 ? String(v) : v.toString(16));
    }
    return groups.join(width === 32 ? '.' : ':');
  };
  const visit = (node: number, depth: number): void => {
    for (let bit = 0; bit < 2 && found.length < limit && budget-- > 0; bit++) {
      bits[depth] = bit;
      const next = record(node, bit);
      if (next > m.nodeCount) found.push(address());
      else if (next < m.nodeCount && depth + 1 < width) visit(next, depth + 1);
    }
    bits[depth] = 0;
  };
  visit(0, 0);
  return found;
}

interface Loaded {
  reader: Reader<never>;
  extract: (r: GeoRecord) => string | null;
  v4Only: boolean;
  info: Omit<GeoIpInfo, 'ageDays'>;
}

/**
 * Opens an MMDB for IP → country lookups. The file is checked now (metadata only) and read in full once,
 * on the first lookup, `load()` or `info()`. Throws IpMatchConfigError when `database` is not a readable MMDB.
 */
export function openGeoIp(options: GeoIpOptions, logger: Logger): GeoIp {
  const opts = parseOptions(optionsSchema, options, 'GeoIP options');
  const database = opts.database ?? resolveDefault();
  const source =
    opts.database === undefined ? DEFAULT_SOURCE : typeof database === 'string' ? database : 'bytes';
  let bytes: Buffer | undefined;
  if (typeof database === 'string') {
    inspectFile(database);
  } else {
    bytes = Buffer.isBuffer(database)
      ? database
      : Buffer.from(database.buffer, database.byteOffset, database.length);
    const b = bytes;
    inspect('the Uint8Array', b.length, (position, length) => b.subarray(position, position + length));
  }
  const cacheSize = opts.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new LRUCache<string, string>({ max: cacheSize }) : undefined;
  let loaded: Loaded | undefined;
  let failure: IpMatchConfigError | undefined;
  let failureReported = false;

  function load(): Loaded {
    if (loaded) return loaded;
    if (failure) throw failure;
    try {
      const db = bytes ?? readFileSync(database as string);
      // Country data holds a few hundred distinct records: keeping them decoded, by offset, skips about
      // half of a bare lookup. Cleared rather than evicted should a city-sized database overflow it.
      const decoded = new Map<string | number, unknown>();
      const reader = new Reader<never>(db, {
        cache: {
          get: (offset) => decoded.get(offset),
          set: (offset, value) => {
            if (decoded.size >= DECODED_MAX) decoded.clear();
            decoded.set(offset, value);
          },
        },
      });
      const m = reader.metadata;
      const samples = sampleAddresses(db, m, 64).map((address) => reader.get(address) as GeoRecord);
      const schema = SCHEMAS.find((s) => samples.some((r) => EXTRACT[s](r) !== null));
      if (schema === undefined) {
        throw new IpMatchConfigError(WHERE, [
          `database: ${source} ("${m.databaseType}") has no country in its records (looked for country_code, ` +
            'country.iso_code and country). Pass a country or city database, e.g. GeoLite2-Country.mmdb.',
        ]);
      }
      // In an IPv6 tree, IPv4 lives under ::/96; a tree without that subtree answers no IPv4 address.
      const [hit, depth] = reader.getWithPrefixLength('0.0.0.0');
      const info = {
        source,
        databaseType: m.databaseType,
        buildDate: m.buildEpoch.toISOString(),
        ipv4: m.ipVersion === 4 || hit !== null || depth > 0,
        ipv6: m.ipVersion === 6,
        schema,
      };
      loaded = { reader, extract: EXTRACT[schema], v4Only: m.ipVersion === 4, info };
    } catch (e) {
      failure =
        e instanceof IpMatchConfigError
          ? e
          : new IpMatchConfigError(WHERE, [`database: cannot load ${source}: ${(e as Error).message}`]);
      throw failure;
    }
    const ageDays = Math.floor((Date.now() - Date.parse(loaded.info.buildDate)) / DAY_MS);
    if (ageDays > DATA_MAX_AGE_DAYS) {
      logger.warn(
        `ipmatch: the GeoIP data (${source}) was built ${ageDays} days ago, on ${loaded.info.buildDate.slice(0, 10)}; ` +
          `networks move between countries, so data older than ${DATA_MAX_AGE_DAYS} days misplaces more IPs. ` +
          'Update the package or pass a fresh .mmdb as `database`.',
        { code: 'IPMATCH_DATA_STALE', source, buildDate: loaded.info.buildDate, ageDays },
      );
    }
    if (!loaded.info.ipv4) {
      logger.warn(
        `ipmatch: the GeoIP data (${source}) has no IPv4 networks; every IPv4 client gets no country.`,
        {
          code: 'IPMATCH_DATA_NO_IPV4',
          source,
        },
      );
    }
    return loaded;
  }

  function country(address: string): string | null {
    const hit = cache?.get(address);
    if (hit !== undefined) return hit === '' ? null : hit;
    let db: Loaded;
    try {
      db = load();
    } catch (e) {
      // Per request: never throw; say it once, then every IP is simply unknown.
      if (!failureReported) {
        failureReported = true;
        logger.error((e as Error).message, { code: 'IPMATCH_DATA_LOAD_FAILED', source });
      }
      return null;
    }
    // An IPv4 tree walked with 128 bits answers garbage for IPv6 rather than nothing.
    const found = db.v4Only && address.includes(':') ? null : db.extract(db.reader.get(address) as GeoRecord);
    cache?.set(address, found ?? '');
    return found;
  }

  return {
    country,
    load() {
      load();
    },
    info() {
      const { info } = load();
      return { ...info, ageDays: Math.floor((Date.now() - Date.parse(info.buildDate)) / DAY_MS) };
    },
  };
}
