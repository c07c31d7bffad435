/** `openGeoIp()`: opens the chosen GeoIP data, looks countries up through two caches, and follows reloads. */
import { LRUCache } from 'lru-cache';
import * as z from 'zod/mini';
import { requireBuiltin } from '../../core/builtins.js';
import { IpMatchConfigError } from '../../core/errors.js';
import { ipv4Value } from '../../core/ip.js';
import type { Logger } from '../../core/types.js';
import { parseOptions, wholeNumber } from '../../core/validate.js';
import { BUNDLED_SOURCE } from '../../geodata/bundled.js';
import { type FileWatch, RELOAD_INTERVAL_MS, watchFile } from '../../geodata/file-watch.js';
import { asBuffer, inspectMmdb, type Mmdb, type MmdbFacts, openMmdb } from '../../geodata/mmdb.js';
import { inspectFile } from '../../geodata/mmdb-file.js';
import { checkCandidate } from '../../geodata/validate.js';
import { type Choice, chooseDatabase, type GeoIpOrigin } from './choice.js';
import { recentTable } from './recent-table.js';

export type { GeoIpSchema } from '../../geodata/mmdb.js';
export type { GeoIpOrigin } from './choice.js';

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
  const intervalMs = typeof reloadOpt === 'object' ? reloadOpt.intervalMs : RELOAD_INTERVAL_MS;

  const cacheSize = opts.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new LRUCache<string, string>({ max: cacheSize }) : undefined;
  const recent = cacheSize > 0 ? recentTable(cacheSize) : undefined;
  let current: { mmdb: Mmdb; choice: Choice } | undefined;
  let failure: IpMatchConfigError | undefined;
  let failureReported = false;
  let staleReported = false;
  const badFiles = new Set<string>();
  // A change before the first read is no reload: the first lookup reads the newest file anyway.
  const watch: FileWatch | undefined =
    watchPath === undefined
      ? undefined
      : watchFile(watchPath, intervalMs, async (version) => (current ? swap(watchPath, version) : false));

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
      watch?.markRead();
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
  async function swap(path: string, version: string): Promise<boolean> {
    const fs = requireBuiltin('node:fs', NO_FILES);
    const was = load();
    let next: Mmdb;
    try {
      const bytes = await fs.promises.readFile(path);
      next = openMmdb(bytes, `"${path}"`);
      checkCandidate(next, { installed: was.mmdb, allowOlder: true });
    } catch (e) {
      if (!badFiles.has(version)) {
        badFiles.add(version);
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
    reload: async () => (watch === undefined ? false : watch.check()),
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
      watch?.close();
    },
  };
}
