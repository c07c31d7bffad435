/** The named GeoIP sources: each one's download and checksum addresses, credentials and format. */
import { IpMatchConfigError } from '../core/errors.js';

/** The sources `ipmatch db update` knows by name. */
export type DataSource = 'user-country' | 'dbip-country' | 'geolite2' | 'ipinfo-lite';

export const DATA_SOURCES: readonly DataSource[] = [
  'user-country',
  'dbip-country',
  'geolite2',
  'ipinfo-lite',
];

/** How one download is fetched: the file, its checksum, the credentials and the file's wrapping. */
export interface ResolvedSource {
  /** The source name, or 'url' for a plain `--url`. */
  name: DataSource | 'url';
  url: string;
  /** Where the SHA-256 of the download is published; undefined when given inline or not at all. */
  checksumUrl?: string;
  /** Sent to the source's own host only: dropped on a redirect to another origin (a CDN). */
  headers: Record<string, string>;
  /** 'tar.gz' for MaxMind's archives, whose checksum is the archive's. */
  format: 'mmdb' | 'tar.gz';
}

type Env = Record<string, string | undefined>;

const IP_LOCATION_DB = 'https://github.com/sapics/ip-location-db/releases/download/latest/';

/** ip-location-db publishes `<file>.sha256` under the `checksum` tag beside the `latest` one. */
function ipLocationDbChecksum(url: string): string {
  return url.includes('/download/latest/')
    ? `${url.replace('/download/latest/', '/download/checksum/')}.sha256`
    : `${url}.sha256`;
}

interface SourceSpec {
  url: string;
  checksumUrl(url: string): string;
  format: 'mmdb' | 'tar.gz';
  /** Environment variables the source needs, and the header they become. */
  credentials?: { names: readonly string[]; header(env: Env): string; signup: string };
}

const SOURCES: Record<DataSource, SourceSpec> = {
  'user-country': {
    url: `${IP_LOCATION_DB}user-country.mmdb`,
    checksumUrl: ipLocationDbChecksum,
    format: 'mmdb',
  },
  'dbip-country': {
    url: `${IP_LOCATION_DB}dbip-country.mmdb`,
    checksumUrl: ipLocationDbChecksum,
    format: 'mmdb',
  },
  geolite2: {
    url: 'https://download.maxmind.com/geoip/databases/GeoLite2-Country/download?suffix=tar.gz',
    checksumUrl: (url) =>
      url.includes('suffix=tar.gz') ? url.replace('suffix=tar.gz', 'suffix=tar.gz.sha256') : `${url}.sha256`,
    format: 'tar.gz',
    credentials: {
      names: ['MAXMIND_ACCOUNT_ID', 'MAXMIND_LICENSE_KEY'],
      header: (env) => `Basic ${btoa(`${env.MAXMIND_ACCOUNT_ID}:${env.MAXMIND_LICENSE_KEY}`)}`,
      signup: 'a free GeoLite2 account at maxmind.com gives both',
    },
  },
  'ipinfo-lite': {
    url: 'https://ipinfo.io/data/ipinfo_lite.mmdb',
    // IPinfo's checksums endpoint: JSON { checksums: { sha256 } } beside each download.
    checksumUrl: (url) => {
      const u = new URL(url);
      u.pathname = `${u.pathname.replace(/\/$/, '')}/checksums`;
      return u.toString();
    },
    format: 'mmdb',
    credentials: {
      names: ['IPINFO_TOKEN'],
      // IPinfo takes its token as a bearer token as well as in `?token=`: the header keeps it out of URLs.
      header: (env) => `Bearer ${env.IPINFO_TOKEN}`,
      signup: 'a free IPinfo Lite account gives one',
    },
  },
};

/**
 * The download for `source` (default 'user-country'). With `url` too, the source's format, credentials
 * and checksum address apply to that URL (a mirror). Throws IpMatchConfigError when credentials are missing.
 */
export function resolveSource(
  source: DataSource | undefined,
  url: string | undefined,
  env: Env,
): ResolvedSource {
  if (source === undefined && url !== undefined) return { name: 'url', url, headers: {}, format: 'mmdb' };
  const name = source ?? 'user-country';
  const spec = SOURCES[name];
  const headers: Record<string, string> = {};
  if (spec.credentials) {
    const missing = spec.credentials.names.filter((n) => !env[n]);
    if (missing.length > 0) {
      throw new IpMatchConfigError('update options', [
        `source: "${name}" needs ${spec.credentials.names.join(' and ')} in the environment ` +
          `(missing: ${missing.join(', ')}); ${spec.credentials.signup}`,
      ]);
    }
    headers.authorization = spec.credentials.header(env);
  }
  const fileUrl = url ?? spec.url;
  return { name, url: fileUrl, checksumUrl: spec.checksumUrl(fileUrl), headers, format: spec.format };
}
