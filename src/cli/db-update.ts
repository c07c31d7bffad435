/** `ipmatch db update` and `ipmatch db rollback`: their own options, the download's progress, exit 0/1/2. */
import { parseArgs } from 'node:util';
import { nearest } from '../core/validate.js';
import { readManifest } from '../data/manifest.js';
import { rollbackDatabase } from '../data/rollback.js';
import { type UpdateOptions, updateDatabase } from '../data/update.js';
import { dataFile, resolveDataDir } from '../geodata/dir.js';
import { IpMatchDataError } from '../geodata/errors.js';
import { DATA_SOURCES, type DataSource } from '../geodata/sources.js';
import { datasetOf, feedsOf, formatNatureUpdate, natureFailure, natureWarnings } from './db-update-nature.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

/** `ipmatch db update --help` and `ipmatch db rollback --help`. */
export const DB_UPDATE_USAGE = `Usage:
  ipmatch db update [--dataset country|ip-nature] [--feed NAME=URL]...
                    [--source user-country|dbip-country|geolite2|ipinfo-lite]
                    [--url URL [--sha256-url URL | --sha256 HEX | --insecure-no-checksum]]
                    [--dir DIR] [--timeout S] [--force] [--json]
  ipmatch db rollback [--dir DIR] [--json]

  update    Downloads fresh GeoIP data, checks its SHA-256, validates it, and installs it atomically in
            the data dir, where running servers pick it up. Nothing is downloaded when the published
            checksum is the installed file's. Then refreshes the IP-nature data (hosting, Tor, VPN and
            Private Relay lists): each feed on its own; one that fails, or loses more than half of its
            ranges (without --force), keeps its previous ranges.
  rollback  Makes the file installed before the last update current again.

Options:
  --dataset <name>         country or ip-nature. Default both (--source, --url and the checksum flags
                           pick country alone).
  --feed <name>=<url>      Read one IP-nature feed from a mirror, in its publisher's format (https; http
                           only to loopback); repeatable. Feeds: aws gcp oracle azure digitalocean linode
                           vultr hosting-asn tor icloud-relay vpn (azure is read only when given).
  --source <name>          Default user-country (ip-location-db, PDDL, daily). geolite2 reads
                           MAXMIND_ACCOUNT_ID and MAXMIND_LICENSE_KEY; ipinfo-lite reads IPINFO_TOKEN.
  --url <url>              Any MMDB (https; http only to loopback). Needs a checksum, or, with --source,
                           is a mirror of that source.
  --sha256-url <url>       Where the download's SHA-256 is published (sha256sum output).
  --sha256 <hex>           The download's SHA-256.
  --insecure-no-checksum   Install a --url download without any checksum, on purpose.
  --dir <dir>              The data dir. Default $IPMATCH_DATA_DIR, else ~/.cache/ipmatch
                           (%LOCALAPPDATA%\\ipmatch on Windows).
  --timeout <seconds>      The longest a download may take, whole seconds (default 600). A download
                           averaging under 1 KB/s over 30 s is cut sooner.
  --force                  Install a build older than the installed one; take an IP-nature feed that
                           lost more than half of its ranges.
  --json                   Print one JSON object: { status, path, source, sha256, buildDate,
                           previousBuildDate, error?: { code, message, hint? }, ipNature? }, or with
                           --dataset ip-nature { dataset, status, path, builtAt, previousBuiltAt,
                           maxAgeDays, feeds: [{ name, status, ranges, skipped, error? }], error? }.

Downloads go through HTTPS_PROXY (HTTP_PROXY), except for hosts in NO_PROXY and loopback.

Exit status: 0 updated or up to date, 1 usage error, 2 failed (the installed data is untouched; for the
IP-nature data: no feed could be used at all).
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
  'insecure-no-checksum': { type: 'boolean' },
  source: { type: 'string' },
  url: { type: 'string' },
  'sha256-url': { type: 'string' },
  sha256: { type: 'string' },
  dir: { type: 'string' },
  timeout: { type: 'string' },
  dataset: { type: 'string' },
  feed: { type: 'string' },
} as const;
type Flag = keyof typeof OPTIONS;

const ALLOWED: Record<'update' | 'rollback', readonly Flag[]> = {
  update: Object.keys(OPTIONS) as Flag[],
  rollback: ['help', 'json', 'dir'],
};

type Parsed =
  | { help: true }
  | { help: false; json: boolean; values: Partial<Record<Flag, string | true>>; feeds: string[] };

function parse(action: 'update' | 'rollback', argv: readonly string[]): Parsed {
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Partial<Record<Flag, string | true>> = {};
  const feeds: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') throw new UsageError(`"db ${action}" takes no arguments, got "${t.value}"`);
    if (t.kind !== 'option') continue;
    if (t.name === 'help') return { help: true };
    const allowed: readonly string[] = ALLOWED[action];
    if (!allowed.includes(t.name)) {
      const hit = nearest(t.name, allowed);
      const known = Object.hasOwn(OPTIONS, t.name);
      throw new UsageError(
        known
          ? `${t.rawName} is not an option of "db ${action}"`
          : `unknown option ${t.rawName}${hit === undefined ? '' : ` (did you mean --${hit}?)`}`,
      );
    }
    const type = OPTIONS[t.name as Flag].type;
    if (type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
    if (type === 'string' && !t.value) throw new UsageError(`${t.rawName} needs a value`);
    values[t.name as Flag] = t.value ?? true;
    if (t.name === 'feed') feeds.push(t.value!);
  }
  return { help: false, json: values.json === true, values, feeds };
}

function sourceOf(value: string | true | undefined): DataSource | undefined {
  if (value === undefined) return undefined;
  if ((DATA_SOURCES as readonly unknown[]).includes(value)) return value as DataSource;
  const hit = nearest(String(value), DATA_SOURCES);
  throw new UsageError(
    `--source: unknown source "${value}"${hit === undefined ? '' : ` (did you mean ${hit}?)`}; expected one of ${DATA_SOURCES.join(', ')}`,
  );
}

/** A day: longer is a hung download, not a slow one. */
const MAX_TIMEOUT_S = 86_400;

function timeoutOf(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d+$/.test(String(value)) ? Number(value) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_TIMEOUT_S)) {
    throw new UsageError(
      `--timeout: expected whole seconds from 1 to ${MAX_TIMEOUT_S}, got "${value}" (e.g. --timeout 120)`,
    );
  }
  return seconds * 1000;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** A line on stderr at most once a second, from the first second on: quick downloads print nothing. */
function progressPrinter(io: CliIo): UpdateOptions['onProgress'] {
  const start = Date.now();
  let last = start;
  return ({ bytes, total }) => {
    const now = Date.now();
    if (now - last < 1_000) return;
    last = now;
    const share = total ? ` of ${mb(total)} (${Math.floor((bytes / total) * 100)}%)` : '';
    io.stderr(`ipmatch: downloading: ${mb(bytes)}${share}\n`);
  };
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : 'none');

/** `ipmatch db update` and `ipmatch db rollback`: exit 0 done, 1 usage, 2 failed with the data untouched. */
export async function runDbUpdateOrRollback(
  action: 'update' | 'rollback',
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const parsed = parse(action, argv);
  if (parsed.help) {
    io.stdout(DB_UPDATE_USAGE);
    return 0;
  }
  const { values: v, json } = parsed;
  const str = (flag: Flag) => (typeof v[flag] === 'string' ? (v[flag] as string) : undefined);
  const dir = str('dir');
  try {
    if (action === 'rollback') {
      const r = await rollbackDatabase({ ...(dir === undefined ? {} : { dir }), env: io.env });
      io.stdout(
        json
          ? `${JSON.stringify(r)}\n`
          : `rolled back: ${r.path} is now the build of ${day(r.buildDate)} (was ${day(r.previousBuildDate)})\n`,
      );
      return 0;
    }
  } catch (error) {
    if (!(error instanceof IpMatchDataError)) throw error;
    io.stderr(`ipmatch: db ${action} failed (${error.code}): ${error.message}\n`);
    if (json) io.stdout(`${JSON.stringify(await failure(action, dir, io.env, error))}\n`);
    return 2;
  }
  const plan = planOf(v, parsed.feeds);
  const totalTimeoutMs = timeoutOf(v.timeout);
  const common = {
    ...(dir === undefined ? {} : { dir }),
    ...(totalTimeoutMs === undefined ? {} : { limits: { totalTimeoutMs } }),
    force: v.force === true,
    env: io.env,
  };
  let code = 0;
  let country: object | undefined;
  let ipNature: object | undefined;
  if (plan.country) {
    const source = sourceOf(v.source);
    const options: UpdateOptions = {
      ...common,
      dataset: 'country',
      ...(source === undefined ? {} : { source }),
      ...(str('url') === undefined ? {} : { url: str('url') }),
      ...(str('sha256') === undefined ? {} : { sha256: str('sha256') }),
      ...(str('sha256-url') === undefined ? {} : { sha256Url: str('sha256-url') }),
      insecureNoChecksum: v['insecure-no-checksum'] === true,
      ...(json ? {} : { onProgress: progressPrinter(io) }),
    };
    try {
      const r = await updateDatabase(options);
      country = r;
      if (!json) {
        io.stdout(
          r.status === 'updated'
            ? `updated: ${r.source} data built ${day(r.buildDate)} (was ${day(r.previousBuildDate)}) in ${r.path}\n`
            : `up to date: ${r.source} data built ${day(r.buildDate)} in ${r.path}\n`,
        );
      }
    } catch (error) {
      if (!(error instanceof IpMatchDataError)) throw error;
      io.stderr(`ipmatch: db update failed (${error.code}): ${error.message}\n`);
      country = await failure(action, dir, io.env, error);
      code = 2;
    }
  }
  if (plan.nature) {
    try {
      const r = await updateDatabase({ ...common, dataset: 'ip-nature', feeds: plan.feeds });
      ipNature = r;
      io.stderr(natureWarnings(r));
      if (!json) io.stdout(formatNatureUpdate(r));
    } catch (error) {
      if (!(error instanceof IpMatchDataError)) throw error;
      io.stderr(`ipmatch: db update of the IP-nature data failed (${error.code}): ${error.message}\n`);
      ipNature = natureFailure(resolveDataDir(dir, io.env).dir, error);
      code = 2;
    }
  }
  if (json)
    io.stdout(`${JSON.stringify(country ? { ...country, ...(ipNature ? { ipNature } : {}) } : ipNature)}\n`);
  return code;
}

/** Which datasets to update: `--dataset`, else country alone for the country's own flags (unless --feed), else both. */
function planOf(v: Partial<Record<Flag, string | true>>, feedArgs: readonly string[]) {
  const dataset = datasetOf(v.dataset);
  const feeds = feedsOf(feedArgs);
  const countryFlags = (['source', 'url', 'sha256', 'sha256-url', 'insecure-no-checksum'] as const).filter(
    (flag) => v[flag] !== undefined,
  );
  if (dataset === 'country' && feedArgs.length > 0) {
    throw new UsageError('--feed points an IP-nature feed at a mirror: drop it, or drop --dataset country');
  }
  if (dataset === 'ip-nature' && countryFlags.length > 0) {
    throw new UsageError(
      `--${countryFlags[0]} is for the country data: drop it, or drop --dataset ip-nature (mirror a feed with --feed NAME=URL)`,
    );
  }
  const country = dataset !== 'ip-nature';
  const nature =
    dataset === 'ip-nature' || (dataset === undefined && (countryFlags.length === 0 || feedArgs.length > 0));
  return { country, nature, feeds };
}

/** The failed answer: what stays installed, and why nothing changed. */
async function failure(action: string, dir: string | undefined, env: CliIo['env'], error: IpMatchDataError) {
  const { dir: where } = resolveDataDir(dir, env);
  const manifest = await readManifest(where);
  return {
    status: 'failed',
    path: dataFile(where, 'current'),
    source: manifest?.source ?? null,
    sha256: manifest?.sha256 ?? null,
    buildDate: manifest?.buildDate ?? null,
    previousBuildDate: manifest?.previous?.buildDate ?? null,
    error: {
      code: error.code,
      message: `db ${action}: ${error.message}`,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    },
  };
}
