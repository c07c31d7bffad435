/** Where the bundled GeoIP data (geo-whois-asn-country) is installed, and how it is named. */
import { builtin } from '../core/builtins.js';
import { IpMatchConfigError } from '../core/errors.js';

const BUNDLED_FILE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/** How `info()` names the bundled data. */
export const BUNDLED_SOURCE = 'geo-whois-asn-country (ip-location-db, CC BY 4.0 NRO)';

/**
 * The path of the bundled MMDB. tsup's CJS output turns `import.meta` into an empty object, so
 * `import.meta.url` is undefined there; CJS has `require` instead. ESM has the URL and no `require`.
 * Throws IpMatchConfigError when it is not installed, or on a runtime without files.
 */
export function bundledDatabasePath(): string {
  const mod = builtin('node:module');
  if (!mod) {
    throw new IpMatchConfigError('GeoIP database', [
      'database: this runtime has no file system, so the bundled data cannot be read: pass `database` as ' +
        'the bytes of an .mmdb file (a Uint8Array), e.g. from your bundle or a KV store.',
    ]);
  }
  try {
    const url = import.meta.url as string | undefined;
    return (url ? mod.createRequire(url) : require).resolve(BUNDLED_FILE);
  } catch {
    throw new IpMatchConfigError('GeoIP database', [
      'database: the bundled data (@ip-location-db/geo-whois-asn-country-mmdb) is not installed. ' +
        'Reinstall ipmatch, or pass `database`: the path or bytes of an .mmdb file.',
    ]);
  }
}
