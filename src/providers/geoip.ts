import { LRUCache } from 'lru-cache';
import * as z from 'zod/mini';
import { requireBuiltin } from '../core/builtins.js';
import { IpMatchConfigError } from '../core/errors.js';
import { ipv4Value } from '../core/ip.js';
import type { Logger } from '../core/types.js';
import { parseOptions, wholeNumber } from '../core/validate.js';
import { BUNDLED_SOURCE } from '../geodata/bundled.js';
import { asBuffer, inspectMmdb, type Mmdb, type MmdbFacts, openMmdb, WHAT_TO_PASS } from '../geodata/mmdb.js';
import { checkCandidate } from '../geodata/validate.js';
import { type Choice, chooseDatabase } from './geoip-choice.js';

export type { GeoIpSchema } from '../geodata/mmdb.js';

/** Options of `openGeoIp()`. */
export interface GeoIpOptions {
  /**
   * Path or bytes of any MMDB with a country per network: MaxMind GeoIP2/GeoLite2 Country or City,
   * ip-location-db, IPinfo, DB-IP. Default: the data dir's file (`ipmatch db update`) when it is valid and
   * newer than the bundled one, else the bundled geo-whois-asn-country data.
   */
  database?: string | Uint8Array | undefined;
  /**
   * IP → country results kept: IPv4 in a table of this many slots (rounded up to a power of two, at least
   * 16), where a new address takes the place of the one before it in its slot; IPv6 in an LRU of this size.
   * 0 turns both off. Default 10 000.
   */
  cacheSize?: number | undefined;
  /** Data older than this many days (by its build_epoch) is reported once through `logger.warn`. Default 45. */
  maxAgeDays?: number | undefined;
  /**
   * Watch the file for replacement (stat polling) and swap in a new one once it validates. Default: on,
   * every 60 s, without `database` (the data dir's file); off for an explicit path. Needs a path.
   */
  reload?: boolean | { intervalMs: number } | undefined;
}

/** Where the data in use came from. */
export type GeoIpOrigin = 'data-dir' | 'bundled' | 'path' | 'bytes';

/** What `info()` tells about the data in use. */
export interface GeoIpInfo extends MmdbFacts {
  /** 'geo-whois-asn-country (ip-location-db, CC BY 4.0 NRO)' for the bundled data, else the path, or 'bytes'. */
  source: string;
  /** Whole days since `buildDate`. */
  ageDays: number;
  origin: GeoIpOrigin;
  /** Why this file rather than another, e.g. "the data dir's file (built 2026-11-29) is newer than the bundled data". */
  reason: string;
  /** The data dir looked in; null when `database` was given or the runtime has no file system. */
  dataDir: string | null;
  /** The watched file and how often it is polled, when reload is on. */
  reload: { path: string; intervalMs: number } | null;
}

export interface GeoIp {
  /** ISO 3166-1 alpha-2 (upper case) of a canonical public address, or null when the data has none. */
  country(address: string): string | null;
  /** Loads the data if needed; throws IpMatchConfigError when it cannot. */
  info(): GeoIpInfo;
  /** Loads the data now if not loaded; throws IpMatchConfigError when it cannot. */
  load(): void;
  /** Looks at the file now; resolves true when new data was swapped in. Never rejects. */
  reload(): Promise<boolean>;
  /** Stops the reload timer. */
  close(): void;
}

/** Whether this process has already said that the bundled snapshot is stale (it says it once). */
let bundledStaleReported = false;

/** The default of `maxAgeDays`: the publishers rebuild daily to monthly, so 45 days means the refresh stopped. */
export const DATA_MAX_AGE_DAYS = 45;
/** The default reload interval. */
export const RELOAD_INTERVAL_MS = 60_000;

const DAY_MS = 86_400_000;
const WHERE = 'GeoIP database';
const NO_FILES = 'pass `database` as the bytes of an .mmdb file on this runtime';

const optionsSchema = z.strictObject({
  database: z.optional(
    z.union([z.string().check(z.minLength(1)), z.instanceof(Uint8Array)], {
      error: 'expected a file path or the MMDB bytes',
    }),
  ),
  cacheSize: z.optional(wholeNumber(0)),
  maxAgeDays: z.optional(z.number().check(z.positive())),
  reload: z.optional(
    z.union([z.boolean(), z.strictObject({ intervalMs: wholeNumber(100) })], {
      error: 'expected true, false or { intervalMs } with intervalMs ≥ 100',
    }),
  ),
});

/** Checks a file's metadata without reading it whole; returns its build date. */
export function inspectFile(path: string): Date {
  const fs = requireBuiltin('node:fs', NO_FILES);
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no file at "${path}"` : `cannot open "${path}" (${code ?? String(e)})`;
    throw new IpMatchConfigError(WHERE, [`database: ${why}. ${WHAT_TO_PASS}`]);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      throw new IpMatchConfigError(WHERE, [`database: "${path}" is not a file. ${WHAT_TO_PASS}`]);
    }
    return inspectMmdb(`"${path}"`, stat.size, (position, length) => {
      const buf = Buffer.alloc(length);
      const n = fs.readSync(fd, buf, 0, length, position);
      return n === length ? buf : buf.subarray(0, n);
    }).buildEpoch;
  } finally {
    fs.closeSync(fd);
  }
}

/** A file's identity: a rename gives a new inode, an in-place write a new size or mtime. */
function signature(stat: { ino: number; size: number; mtimeMs: number }): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/**
 * Opens an MMDB for IP → country lookups. The file is checked now (metadata only) and read in full once,
 * on the first lookup, `load()` or `info()`. Throws IpMatchConfigError when `database` is not a readable MMDB.
 */
export function openGeoIp(options: GeoIpOptions, logger: Logger): GeoIp {
  const opts = parseOptions(optionsSchema, options, 'GeoIP options');
  if (opts.reload && typeof opts.database === 'object') {
    throw new IpMatchConfigError(WHERE, [
      'reload: reload watches a file, but `database` is bytes: pass a path, or leave reload off',
    ]);
  }
  if (typeof opts.database === 'object') {
    const bytes = asBuffer(opts.database);
    inspectMmdb('the Uint8Array', bytes.length, (position, length) =>
      bytes.subarray(position, position + length),
    );
  }
  const choice: Choice = chooseDatabase(opts.database, inspectFile);
  const maxAgeDays = opts.maxAgeDays ?? DATA_MAX_AGE_DAYS;
  const reloadOpt = opts.reload ?? choice.watch !== undefined;
  const watchPath = reloadOpt ? (choice.watch ?? (choice.path as string)) : undefined;
  if (watchPath !== undefined)
    requireBuiltin('node:fs', 'reload watches a file: it works on Node, Bun and Deno');
  const intervalMs = typeof reloadOpt === 'object' ? reloadOpt.intervalMs : RELOAD_INTERVAL_MS;

  const cacheSize = opts.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new LRUCache<string, string>({ max: cacheSize }) : undefined;
  const recent = cacheSize > 0 ? recentTable(cacheSize) : undefined;
  let current: { mmdb: Mmdb; choice: Choice } | undefined;
  let failure: IpMatchConfigError | undefined;
  let failureReported = false;
  let staleReported = false;
  let seen: string | undefined;
  const badFiles = new Set<string>();
  let reloading: Promise<boolean> | undefined;

  function statOf(path: string): string | undefined {
    try {
      return signature(requireBuiltin('node:fs', NO_FILES).statSync(path));
    } catch {
      return undefined;
    }
  }

  function warnIfStale(mmdb: Mmdb, source: string): void {
    const ageDays = Math.floor((Date.now() - Date.parse(mmdb.facts.buildDate)) / DAY_MS);
    if (staleReported || ageDays <= maxAgeDays) return;
    staleReported = true;
    // The bundled snapshot is as old in every core of a process: one line per process says it.
    if (source === BUNDLED_SOURCE) {
      if (bundledStaleReported) return;
      bundledStaleReported = true;
    }
    logger.warn(
      `ipmatch: the GeoIP data (${source}) was built ${ageDays} days ago, on ${mmdb.facts.buildDate.slice(0, 10)}, ` +
        `older than ${maxAgeDays} days, so it misplaces more IPs as networks move. ` +
        'Run `npx ipmatch db update` daily (cron) for fresh data: running servers pick it up by themselves.',
      { code: 'IPMATCH_DATA_STALE', source, buildDate: mmdb.facts.buildDate, ageDays },
    );
  }

  function load(): { mmdb: Mmdb; choice: Choice } {
    if (current) return current;
    if (failure) throw failure;
    try {
      if (watchPath !== undefined) seen = statOf(watchPath);
      const bytes =
        typeof choice.path === 'string'
          ? requireBuiltin('node:fs', NO_FILES).readFileSync(choice.path)
          : choice.path;
      current = {
        mmdb: openMmdb(bytes, choice.source === 'bytes' ? 'the Uint8Array' : choice.source),
        choice,
      };
    } catch (e) {
      failure =
        e instanceof IpMatchConfigError
          ? e
          : new IpMatchConfigError(WHERE, [
              `database: cannot load ${choice.source}: ${(e as Error).message}`,
            ]);
      throw failure;
    }
    warnIfStale(current.mmdb, choice.source);
    if (!current.mmdb.facts.ipv4) {
      logger.warn(
        `ipmatch: the GeoIP data (${choice.source}) has no IPv4 networks; every IPv4 client gets no country.`,
        {
          code: 'IPMATCH_DATA_NO_IPV4',
          source: choice.source,
        },
      );
    }
    return current;
  }

  /**
   * Reads the replaced file whole, validates it as the updater does (but follows an older build: a
   * rollback is a deliberate step back), then swaps readers between two lookups. Lookups are synchronous,
   * so none is ever half on the old reader and half on the new.
   */
  async function swap(path: string, sig: string): Promise<boolean> {
    const fs = requireBuiltin('node:fs', NO_FILES);
    const was = load();
    let next: Mmdb;
    try {
      const bytes = await fs.promises.readFile(path);
      next = openMmdb(bytes, `"${path}"`);
      checkCandidate(next, { installed: was.mmdb, allowOlder: true });
    } catch (e) {
      if (!badFiles.has(sig)) {
        badFiles.add(sig);
        const why = (e as Error).message.replace(/^ipmatch: invalid GeoIP database: /, '');
        logger.warn(
          `ipmatch: the replaced GeoIP file "${path}" was not loaded, the previous data stays in use: ${why}`,
          {
            code: 'IPMATCH_DATA_RELOAD_FAILED',
            path,
          },
        );
      }
      return false;
    }
    const nextChoice = choice.watch === undefined ? choice : choice.onReload(next.facts.buildDate);
    if (nextChoice === undefined) return false; // the data dir's file is no newer than the bundled one
    current = { mmdb: next, choice: nextChoice };
    failure = undefined;
    cache?.clear();
    recent?.clear();
    warnIfStale(next, nextChoice.source);
    return true;
  }

  async function reload(): Promise<boolean> {
    if (watchPath === undefined) return false;
    reloading ??= (async () => {
      const sig = statOf(watchPath);
      if (sig === undefined || sig === seen) return false;
      if (!current) {
        // Not read yet: the first lookup reads the newest file anyway.
        seen = sig;
        return false;
      }
      seen = sig;
      return swap(watchPath, sig);
    })().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  const timer = watchPath === undefined ? undefined : setInterval(() => void reload(), intervalMs);
  timer?.unref?.();

  /** The data, or undefined (said once) when it cannot be loaded: per request, never throw. */
  function loaded(): Mmdb | undefined {
    if (current) return current.mmdb;
    try {
      return load().mmdb;
    } catch (e) {
      if (!failureReported) {
        failureReported = true;
        logger.error((e as Error).message, { code: 'IPMATCH_DATA_LOAD_FAILED', source: choice.source });
      }
      return undefined;
    }
  }

  function country(address: string): string | null {
    const v = ipv4Value(address);
    if (v >= 0) {
      const known = recent?.get(v);
      if (known !== undefined) return known;
      const db = loaded();
      if (db === undefined) return null;
      const found = db.countryV4(v);
      recent?.set(v, found);
      return found;
    }
    const hit = cache?.get(address);
    if (hit !== undefined) return hit === '' ? null : hit;
    const db = loaded();
    if (db === undefined) return null;
    const found = db.country(address);
    cache?.set(address, found ?? '');
    return found;
  }

  return {
    country,
    load() {
      load();
    },
    reload,
    info() {
      const { mmdb, choice: c } = load();
      return {
        source: c.source,
        ...mmdb.facts,
        ageDays: Math.floor((Date.now() - Date.parse(mmdb.facts.buildDate)) / DAY_MS),
        origin: c.origin,
        reason: c.reason,
        dataDir: c.dataDir,
        reload: watchPath === undefined ? null : { path: watchPath, intervalMs },
      };
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

/** The IPv4 answers of recent lookups, by address number: see `recentTable`. */
interface RecentTable {
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
 * IPs that cost more than the tree walk it saved.
 */
function recentTable(size: number): RecentTable {
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
