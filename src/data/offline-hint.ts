/** What to tell a user whose update could not reach its source: which data stays in use, and what to try next. */
import { dataFile } from '../geodata/dir.js';
import { IpMatchDataError } from '../geodata/errors.js';
import { readInstalled } from './installed.js';
import type { ProxySettings } from './proxy.js';

const day = (iso: string) => iso.slice(0, 10);

/** "the installed data (built 2025-06-01, in …/current.mmdb)" or "the bundled data (built …)". */
async function currentData(dir: string): Promise<string> {
  const current = dataFile(dir, 'current');
  const { mmdb, fromDataDir } = await readInstalled(current);
  if (mmdb === undefined) return 'no GeoIP data (neither the data dir nor the bundled file opens)';
  return fromDataDir
    ? `the installed data (built ${day(mmdb.facts.buildDate)}, in ${current})`
    : `the bundled data (built ${day(mmdb.facts.buildDate)})`;
}

/**
 * The same failure with its next steps: the data that stays in use, then a proxy, a mirror, or a file of the
 * user's own. Only for `unreachable`; any other error comes back as it is.
 */
export async function withOfflineHint(error: unknown, dir: string, proxy: ProxySettings): Promise<unknown> {
  if (!(error instanceof IpMatchDataError) || error.code !== 'unreachable') return error;
  const proxied = proxy.https !== undefined || proxy.http !== undefined;
  const hint =
    `Nothing changed: ${await currentData(dir)} stays in use. Next: ` +
    (proxied
      ? 'check the proxy in HTTPS_PROXY (and NO_PROXY); '
      : 'if this machine reaches the Internet through a proxy, set HTTPS_PROXY (and NO_PROXY); ') +
    'or download from a mirror you can reach with --url URL and --sha256-url URL (url, sha256Url); ' +
    "or give your own MMDB file to localProvider({ database: '/path/to/file.mmdb' }).";
  return new IpMatchDataError(error.code, `${error.message}. ${hint}`, { cause: error, hint });
}
