import { z } from 'zod';
import { consoleLogger } from '../core/logger.js';
import { createPhoneParser } from '../core/phone.js';
import type { IpMatchProvider } from '../core/provider.js';
import type { Logger } from '../core/types.js';
import { parseOptions } from '../core/validate.js';
import { type GeoIpInfo, openGeoIp } from './geoip.js';

/** Options of `localProvider()`. */
export interface LocalProviderOptions {
  /**
   * Any MMDB file (path) or its bytes: MaxMind GeoIP2/GeoLite2 Country or City, ip-location-db, IPinfo.
   * Default: the bundled open geo-whois-asn-country data (CC BY 4.0, NRO), loaded once on first use.
   */
  database?: string | Uint8Array;
  /** IP → country results kept in an LRU. Default 10 000. */
  ipCacheSize?: number;
  /** Parsed phone numbers kept in an LRU. Default 10 000. */
  phoneCacheSize?: number;
}

/** The offline provider, with `info()` about the GeoIP data in use. */
export interface LocalProvider extends IpMatchProvider {
  /** Source, build date, age in days, IPv4/IPv6 coverage and record schema of the GeoIP data. */
  info(): GeoIpInfo;
}

const schema = z.strictObject({
  database: z.union([z.string().min(1), z.instanceof(Uint8Array)]).optional(),
  ipCacheSize: z.number().int().min(0).optional(),
  phoneCacheSize: z.number().int().min(1).optional(),
});

/**
 * The offline default: the phone's country from libphonenumber-js, the IP's from an MMDB read in-process.
 * No account, no network: a check costs microseconds.
 */
export function localProvider(options: LocalProviderOptions = {}): LocalProvider {
  const opts = parseOptions(schema, options, 'localProvider options');
  let logger: Logger = consoleLogger;
  const forward: Logger = {
    warn: (m, meta) => logger.warn(m, meta),
    error: (m, meta) => logger.error(m, meta),
  };
  const geo = openGeoIp({ database: opts.database, cacheSize: opts.ipCacheSize }, forward);
  const parsePhone = createPhoneParser({ max: opts.phoneCacheSize });
  return {
    name: 'local',
    remote: false,
    keyIncludesIp: false,
    attach(context) {
      logger = context.logger;
    },
    parsePhone,
    ipCountry: (address) => geo.country(address),
    lookup: ({ phone }) => ({ country: phone.country, roamingCountry: null, facts: { valid: phone.valid } }),
    info: () => geo.info(),
    async close() {},
  };
}
