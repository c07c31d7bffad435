import * as z from 'zod/mini';
import { builtin } from '../core/builtins.js';
import { IpMatchConfigError } from '../core/errors.js';
import { parseOptions, wholeNumber } from '../core/validate.js';
import { bundledDatabasePath } from '../providers/bundled.js';
import { type Mmdb, openMmdb } from '../providers/mmdb.js';
import { extractMmdb } from './archive.js';
import { isSha256, parseChecksum, sha256File } from './checksum.js';
import { dataFile, resolveDataDir, tempFile } from './dir.js';
import {
  DEFAULT_LIMITS,
  type DownloadLimits,
  downloadToFile,
  fetchText,
  type OnProgress,
} from './download.js';
import { IpMatchDataError } from './errors.js';
import { installCurrent, removeLeftovers } from './install.js';
import { acquireLock } from './lock.js';
import { type ManifestEntry, readManifest, writeManifest } from './manifest.js';
import { allowedUrl, redactUrl } from './redact.js';
import { DATA_SOURCES, type DataSource, type ResolvedSource, resolveSource } from './sources.js';
import { checkCandidate } from './validate.js';

/** Options of `updateDatabase()` (and the flags of `ipmatch db update`). */
export interface UpdateOptions {
  /** Which publisher's data. Default 'user-country' (ip-location-db, PDDL, daily). */
  source?: DataSource;
  /**
   * Any MMDB URL: https, or http to a loopback host. Alone it needs `sha256` or `sha256Url` (or
   * `insecureNoChecksum`); with `source` it is a mirror of that source, whose checksum address follows it.
   */
  url?: string;
  /** The expected SHA-256 (hex) of the download. */
  sha256?: string;
  /** Where the expected SHA-256 is published (`sha256sum` output, or a bare hex line). */
  sha256Url?: string;
  /** The data dir. Default: `IPMATCH_DATA_DIR`, else the user cache dir (`~/.cache/ipmatch`). */
  dir?: string;
  /** Install a build older than the installed one (to pin a known good file). Default false. */
  force?: boolean;
  /** With `url` alone: install without any checksum, on purpose. Default false. */
  insecureNoChecksum?: boolean;
  /** Timeouts and the size cap of each download. Defaults: 10 s connect, 30 s idle, 10 min total, 256 MiB. */
  limits?: DownloadLimits;
  /**
   * Pause before the one retry after a checksum mismatch: the publisher uploads the file and its checksum
   * seconds apart. Default 5 000 ms; at most 10 000.
   */
  retryDelayMs?: number;
  /** Longest wait for another updater (a cron overlap) to finish. Default 120 000 ms. */
  lockWaitMs?: number;
  /** Called as bytes arrive. */
  onProgress?: OnProgress;
  /** Where MAXMIND_ACCOUNT_ID, MAXMIND_LICENSE_KEY, IPINFO_TOKEN and IPMATCH_DATA_DIR are read. Default process.env. */
  env?: Record<string, string | undefined>;
}

/** What an update did. A failure rejects with `IpMatchDataError` instead, and changes nothing. */
export interface UpdateResult {
  status: 'updated' | 'up_to_date';
  /** The data dir's current file. */
  path: string;
  /** The source's name, or 'url'. */
  source: string;
  /** SHA-256 of the current file. */
  sha256: string;
  /** Build date (ISO 8601) of the current file, from its build_epoch. */
  buildDate: string;
  /** Build date of the file that was current before this run; null when the data dir had none. */
  previousBuildDate: string | null;
}

const RETRY_DELAY_MS = 5_000;
const LOCK_WAIT_MS = 120_000;

const urlSchema = z.string().check(
  z.refine(
    (value) => {
      try {
        return allowedUrl(new URL(value));
      } catch {
        return false;
      }
    },
    { error: 'expected an https URL (plain http only to 127.0.0.1, ::1 or localhost)' },
  ),
);
const ms = z.optional(z.number().check(z.int(), z.positive()));
const optionsSchema = z.strictObject({
  source: z.optional(z.enum(DATA_SOURCES as [DataSource, ...DataSource[]])),
  url: z.optional(urlSchema),
  sha256: z.optional(z.string().check(z.refine(isSha256, { error: 'expected 64 hex digits' }))),
  sha256Url: z.optional(urlSchema),
  dir: z.optional(z.string().check(z.minLength(1))),
  force: z.optional(z.boolean()),
  insecureNoChecksum: z.optional(z.boolean()),
  limits: z.optional(
    z.strictObject({
      connectTimeoutMs: ms,
      idleTimeoutMs: ms,
      totalTimeoutMs: ms,
      maxBytes: ms,
    }),
  ),
  retryDelayMs: z.optional(wholeNumber(0, 10_000)),
  lockWaitMs: z.optional(wholeNumber(0)),
  onProgress: z.optional(
    z.custom<OnProgress>((v) => typeof v === 'function', { error: 'expected a function' }),
  ),
  // process.env is not a plain object, which z.record refuses.
  env: z.optional(
    z.custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, {
      error: 'expected an object of environment variables',
    }),
  ),
});

type Options = z.infer<typeof optionsSchema>;

/** The checksum choices that only make sense together, checked beyond the field types. */
function checkCombination(o: Options): void {
  const problems: string[] = [];
  if (o.sha256 !== undefined && o.sha256Url !== undefined)
    problems.push('sha256: give sha256 or sha256Url, not both');
  if ((o.sha256 !== undefined || o.sha256Url !== undefined) && o.url === undefined) {
    problems.push('sha256: a named source publishes its own checksum; sha256 and sha256Url go with url');
  }
  if (o.url !== undefined && o.source === undefined && o.sha256 === undefined && o.sha256Url === undefined) {
    if (!o.insecureNoChecksum) {
      problems.push(
        'url: a download is installed only when its SHA-256 matches: add sha256Url (--sha256-url) or sha256 ' +
          '(--sha256), or insecureNoChecksum (--insecure-no-checksum) to skip the check on purpose',
      );
    }
  }
  if (problems.length > 0) throw new IpMatchConfigError('update options', problems);
}

/**
 * The data readers use now: the data dir's current file if it opens, else the bundled file (what a
 * provider falls back to). `fromDataDir` says which.
 */
async function readInstalled(current: string): Promise<{ mmdb?: Mmdb; fromDataDir: boolean }> {
  const fs = builtin('node:fs')!;
  try {
    return { mmdb: openMmdb(await fs.promises.readFile(current), `"${current}"`), fromDataDir: true };
  } catch {
    try {
      return {
        mmdb: openMmdb(await fs.promises.readFile(bundledDatabasePath()), 'the bundled data'),
        fromDataDir: false,
      };
    } catch {
      return { fromDataDir: false };
    }
  }
}

/** The SHA-256 the installed file was downloaded as (the manifest's, when it still describes the file). */
async function installedSha(
  current: string,
  manifest: ManifestEntry | null,
): Promise<{ file: string; download: string } | null> {
  const fs = builtin('node:fs')!;
  const stat = await fs.promises.stat(current).catch(() => null);
  if (stat === null) return null;
  if (manifest && manifest.size === stat.size) {
    return { file: manifest.sha256, download: manifest.downloadSha256 ?? manifest.sha256 };
  }
  const sha = await sha256File(current);
  return { file: sha, download: sha };
}

const sleep = (msDelay: number) => new Promise((resolve) => setTimeout(resolve, msDelay));

/**
 * Downloads fresh GeoIP data into the data dir, verified and validated, and installs it atomically; running
 * providers that read the data dir pick it up at their next reload. Node only.
 *
 * Resolves `up_to_date` without downloading the database when the published checksum is the installed
 * file's. Rejects with `IpMatchConfigError` for options that cannot work and `IpMatchDataError` (with a
 * `code`) when the update failed; the installed data is then untouched.
 *
 * @example
 * const result = await updateDatabase({ source: 'user-country' });
 * console.log(result.status, result.buildDate);
 */
export async function updateDatabase(options: UpdateOptions = {}): Promise<UpdateResult> {
  const fs = builtin('node:fs');
  if (!fs || !builtin('node:crypto')) {
    throw new IpMatchDataError(
      'unsupported_runtime',
      'updateDatabase writes files: it runs on Node (or Bun, Deno) only',
    );
  }
  const o = parseOptions(optionsSchema, options, 'update options');
  checkCombination(o);
  const env = o.env ?? process.env;
  const source = resolveSource(o.source, o.url, env);
  const { dir } = resolveDataDir(o.dir, env);
  await fs.promises.mkdir(dir, { recursive: true });
  const lock = await acquireLock(dir, o.lockWaitMs ?? LOCK_WAIT_MS);
  try {
    await removeLeftovers(dir);
    return await update(dir, source, o, lock.stillHeld);
  } finally {
    await lock.release();
  }
}

async function update(
  dir: string,
  source: ResolvedSource,
  o: Options,
  stillHeld: () => Promise<boolean>,
): Promise<UpdateResult> {
  const fs = builtin('node:fs')!;
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const current = dataFile(dir, 'current');
  const manifest = await readManifest(dir);
  const installed = await installedSha(current, manifest);
  const checksumUrl = o.sha256Url ?? (o.sha256 === undefined ? source.checksumUrl : undefined);
  const fetchChecksum = async () =>
    checksumUrl === undefined
      ? o.sha256?.toLowerCase()
      : parseChecksum(
          await fetchText({ url: checksumUrl, headers: source.headers, limits }),
          redactUrl(checksumUrl),
        );

  let expected = await fetchChecksum();
  // Nothing changed: the build before this run is the one still current.
  const upToDate = async (): Promise<UpdateResult> => {
    const { mmdb } = await readInstalled(current);
    const buildDate = mmdb?.facts.buildDate ?? manifest?.buildDate ?? '';
    const name = manifest?.source ?? source.name;
    return {
      status: 'up_to_date',
      path: current,
      source: name,
      sha256: installed!.file,
      buildDate,
      previousBuildDate: buildDate,
    };
  };
  if (expected !== undefined && installed?.download === expected) return upToDate();

  const created: string[] = [];
  const temp = (what: string) => {
    const path = tempFile(dir, what);
    created.push(path);
    return path;
  };
  try {
    let download = temp('download');
    let got = await downloadToFile(
      { url: source.url, headers: source.headers, limits },
      download,
      o.onProgress,
    );
    if (expected !== undefined && got.sha256 !== expected) {
      // The publisher replaces the file and its checksum seconds apart: look again once, after a pause.
      await sleep(o.retryDelayMs ?? RETRY_DELAY_MS);
      expected = await fetchChecksum();
      if (got.sha256 !== expected) {
        if (installed?.download === expected) return upToDate();
        download = temp('download');
        got = await downloadToFile(
          { url: source.url, headers: source.headers, limits },
          download,
          o.onProgress,
        );
        if (got.sha256 !== expected) {
          throw new IpMatchDataError(
            'checksum_mismatch',
            `${redactUrl(source.url)} has SHA-256 ${got.sha256}, but ${expected} was expected, twice: not installed ` +
              '(the publisher may be mid-upload; try again later)',
          );
        }
      }
    }
    if (installed?.download === got.sha256) return upToDate();

    let mmdbPath = download;
    let sha256 = got.sha256;
    if (source.format === 'tar.gz') {
      mmdbPath = temp('mmdb');
      await extractMmdb(download, mmdbPath, limits.maxBytes);
      sha256 = await sha256File(mmdbPath);
    }
    const bytes = await fs.promises.readFile(mmdbPath);
    let candidate: Mmdb;
    try {
      candidate = openMmdb(bytes, 'the download');
    } catch (error) {
      throw new IpMatchDataError(
        'invalid_database',
        (error as Error).message.replace(/^ipmatch: invalid GeoIP database: /, ''),
      );
    }
    const replaced = await readInstalled(current);
    checkCandidate(candidate, { installed: replaced.mmdb, allowOlder: o.force === true });
    if (!(await stillHeld())) {
      throw new IpMatchDataError(
        'locked',
        'another updater took the lock over while this one ran: nothing installed',
      );
    }
    const hadCurrent = installed !== null;
    await installCurrent(dir, mmdbPath);
    const entry: ManifestEntry = {
      source: source.name,
      url: redactUrl(source.url),
      sha256,
      ...(sha256 === got.sha256 ? {} : { downloadSha256: got.sha256 }),
      buildDate: candidate.facts.buildDate,
      size: bytes.length,
      installedAt: new Date().toISOString(),
    };
    const { previous: _, ...kept } = manifest ?? { previous: null };
    await writeManifest(dir, { ...entry, previous: hadCurrent && manifest ? (kept as ManifestEntry) : null });
    return {
      status: 'updated',
      path: current,
      source: source.name,
      sha256,
      buildDate: entry.buildDate,
      previousBuildDate: replaced.fromDataDir ? (replaced.mmdb?.facts.buildDate ?? null) : null,
    };
  } finally {
    await Promise.all(created.map((path) => fs.promises.rm(path, { force: true })));
  }
}
