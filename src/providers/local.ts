/** The offline provider: the phone's country from libphonenumber-js, the IP's from an MMDB read in-process. */
import * as z from 'zod/mini';
import { IpMatchConfigError } from '../core/errors.js';
import { consoleLogger } from '../core/logger.js';
import { createPhoneParser } from '../core/phone.js';
import type { IpMatchProvider } from '../core/provider.js';
import type { Logger } from '../core/types.js';
import { parseOptions, wholeNumber } from '../core/validate.js';
import { DATA_SOURCES, type DataSource } from '../geodata/sources.js';
import { startAutoUpdate, type Updater } from './auto-update.js';
import { type GeoIpInfo, openGeoIp } from './geoip/index.js';

/** Options of `localProvider()`. */
export interface LocalProviderOptions {
  /**
   * Any MMDB file (path) or its bytes: MaxMind GeoIP2/GeoLite2 Country or City, ip-location-db, IPinfo.
   * Default: the data dir's file (written by `npx ipmatch db update`) when it is valid and newer than the
   * bundled one, else the bundled open geo-whois-asn-country data (CC BY 4.0, NRO). Read once, on first use
   * or at `ready()`.
   */
  database?: string | Uint8Array | undefined;
  /** IP → country results kept in an LRU. Default 10 000. */
  ipCacheSize?: number | undefined;
  /** Parsed phone numbers kept in an LRU. Default 10 000. */
  phoneCacheSize?: number | undefined;
  /** Data older than this many days (by its build_epoch) earns one warning (IPMATCH_DATA_STALE). Default 45. */
  maxAgeDays?: number | undefined;
  /**
   * Poll the file (stat, every `intervalMs`, at least 100) and swap in a replacement once it validates; a
   * broken file is never swapped in (IPMATCH_DATA_RELOAD_FAILED, once per file). Default: on, every 60 s,
   * without `database`; off for an explicit path. Node, Bun and Deno only.
   */
  reload?: boolean | { intervalMs: number } | undefined;
  /**
   * Run the updater in this process, for a single server without cron: every `intervalMs` (default 12 h,
   * at least 1 min; the first run a few seconds after start), never on the request path. Needs `database`
   * unset (it writes to the data dir, which reload then picks up). Default off.
   */
  autoUpdate?: false | { source?: DataSource | undefined; intervalMs?: number | undefined } | undefined;
  /**
   * The IP-nature data behind the `hosting`, `tor_exit`, `vpn` and `private_relay` signals and `ip.network`
   * (docs/ip-signals.md). `database`: a compiled IP-nature file (path) or its bytes; default the bundled
   * snapshot, read once on first use or at `ready()` (on Workers, pass the bytes). `maxAgeDays`: given data
   * built longer ago earns one warning (IPMATCH_DATA_STALE), default 7; the bundled snapshot's age is said
   * by the GeoIP data's line. `false` turns the four signals off.
   */
  ipNature?:
    | false
    | { database?: string | Uint8Array | undefined; maxAgeDays?: number | undefined }
    | undefined;
}

/** The offline provider, with `info()` about the GeoIP data in use. */
export interface LocalProvider extends IpMatchProvider {
  /** Source, build date, age in days, coverage, schema, and which file was chosen and why. */
  info(): GeoIpInfo;
  /** Looks at the watched file now; resolves true when new data was swapped in (false without reload). */
  reload(): Promise<boolean>;
  /** Reads the GeoIP data now, so that the first check does not pay for it. Rejects when it cannot be read. */
  ready(): Promise<void>;
  /** The `ipNature` option as validated, with `reload`: the core builds the IP-nature signals from it. */
  readonly ipNature:
    | false
    | { database?: string | Uint8Array; maxAgeDays?: number; reload?: boolean | { intervalMs: number } };
}

const schema = z.strictObject({
  database: z.optional(z.union([z.string().check(z.minLength(1)), z.instanceof(Uint8Array)])),
  ipCacheSize: z.optional(wholeNumber(0)),
  phoneCacheSize: z.optional(wholeNumber(1)),
  maxAgeDays: z.optional(z.number().check(z.positive())),
  reload: z.optional(z.union([z.boolean(), z.strictObject({ intervalMs: wholeNumber(100) })])),
  autoUpdate: z.optional(
    z.union([
      z.literal(false),
      z.strictObject({
        source: z.optional(z.enum(DATA_SOURCES as [DataSource, ...DataSource[]])),
        intervalMs: z.optional(wholeNumber(60_000)),
      }),
    ]),
  ),
  ipNature: z.optional(
    z.union([
      z.literal(false),
      z.strictObject({
        database: z.optional(z.union([z.string().check(z.minLength(1)), z.instanceof(Uint8Array)])),
        maxAgeDays: z.optional(z.number().check(z.positive())),
      }),
    ]),
  ),
});

/**
 * The offline default: the phone's country from libphonenumber-js, the IP's from an MMDB read in-process.
 * No account, no network: a check costs microseconds.
 */
export function localProvider(options: LocalProviderOptions = {}, update?: Updater): LocalProvider {
  const opts = parseOptions(schema, options, 'localProvider options');
  if (opts.autoUpdate && opts.database !== undefined) {
    throw new IpMatchConfigError('localProvider options', [
      'autoUpdate: the updater writes to the data dir, which is read only when `database` is unset: ' +
        'remove `database`, or keep it and run `npx ipmatch db update` yourself',
    ]);
  }
  if (opts.autoUpdate && opts.reload === false) {
    throw new IpMatchConfigError('localProvider options', [
      'autoUpdate: the new data is picked up by reload, which is off: remove `reload: false`',
    ]);
  }
  if (opts.autoUpdate && update === undefined) {
    // The updater comes from the entry point (src/index.ts), so that providers/ never imports data/.
    throw new IpMatchConfigError('localProvider options', [
      "autoUpdate: this localProvider has no updater: use localProvider from 'ipmatch', which brings one",
    ]);
  }
  let logger: Logger = consoleLogger;
  const forward: Logger = {
    warn: (m, meta) => logger.warn(m, meta),
    error: (m, meta) => logger.error(m, meta),
  };
  const geo = openGeoIp(
    {
      database: opts.database,
      cacheSize: opts.ipCacheSize,
      maxAgeDays: opts.maxAgeDays,
      reload: opts.reload,
    },
    forward,
  );
  const parsePhone = createPhoneParser({ max: opts.phoneCacheSize });
  const updater =
    opts.autoUpdate && update ? startAutoUpdate(opts.autoUpdate, update, geo.reload, forward) : undefined;
  const provider: LocalProvider = {
    name: 'local',
    remote: false,
    keyIncludesIp: false,
    attach(context) {
      logger = context.logger;
    },
    parsePhone,
    ipCountry: (address) => geo.country(address),
    ipNature:
      opts.ipNature === false
        ? false
        : { ...opts.ipNature, ...(opts.reload === undefined ? {} : { reload: opts.reload }) },
    info: () => geo.info(),
    reload: () => geo.reload(),
    async ready() {
      geo.load();
      // First calls are the slow ones (the reader's and the parser's caches, the JIT): pay them here.
      geo.country('81.2.69.160');
      parsePhone('+447400123456', undefined);
    },
    async close() {
      geo.close();
      updater?.stop();
    },
  };
  return provider;
}
