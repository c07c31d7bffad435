/** `updateDatabase()`: fresh GeoIP data into the data dir, under a lock, verified, then installed atomically. */
import { builtin } from '../core/builtins.js';
import { holdsSecrets, parseOptions } from '../core/validate.js';
import { dataFile, resolveDataDir, tempFile } from '../geodata/dir.js';
import { IpMatchDataError } from '../geodata/errors.js';
import { type Mmdb, openMmdb } from '../geodata/mmdb.js';
import { type ResolvedSource, resolveSource } from '../geodata/sources.js';
import { checkCandidate } from '../geodata/validate.js';
import { extractMmdb } from './archive.js';
import { parseChecksum, sha256File } from './checksum.js';
import { DEFAULT_LIMITS, fetchText } from './download.js';
import { downloadVerified } from './download-verified.js';
import { FileBuffer } from './file-buffer.js';
import { installCurrent, removeLeftovers } from './install.js';
import { installedSha, readInstalled, readInstalledBaseline } from './installed.js';
import { acquireLock } from './lock.js';
import { type Manifest, type ManifestEntry, readManifest, recordInstall } from './manifest.js';
import { type NatureUpdateResult, updateNature } from './nature-update.js';
import { withOfflineHint } from './offline-hint.js';
import { type ProxySettings, proxySettings } from './proxy.js';
import { redactUrl } from './redact.js';
import {
  checkCombination,
  datasetsOf,
  type Options,
  optionsSchema,
  type UpdateOptions,
} from './update-options.js';

export type { FeedUpdate, NatureUpdateResult } from './nature-update.js';
export type { UpdateOptions } from './update-options.js';

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
  /** The IP-nature data's update, when this run updated both datasets. */
  ipNature?: NatureUpdateResult;
}

const RETRY_DELAY_MS = 5_000;
const LOCK_WAIT_MS = 120_000;

const sleep = (msDelay: number) => new Promise((resolve) => setTimeout(resolve, msDelay));

/**
 * `updateDatabase`'s implementation, which `./update-database.ts` loads on the first call (the CLI imports it
 * directly). Documented there.
 */
export async function updateDatabase(
  options: UpdateOptions & { dataset: 'ip-nature' },
): Promise<NatureUpdateResult>;
export async function updateDatabase(options?: UpdateOptions): Promise<UpdateResult>;
export async function updateDatabase(
  options: UpdateOptions = {},
): Promise<UpdateResult | NatureUpdateResult> {
  const fs = builtin('node:fs');
  if (!fs || !builtin('node:crypto')) {
    throw new IpMatchDataError(
      'unsupported_runtime',
      'updateDatabase writes files: it runs on Node (or Bun, Deno) only',
    );
  }
  // The options hold licence keys and tokens (env, a url's query): a config error shows none of their values.
  const o = parseOptions(holdsSecrets(optionsSchema), options, 'update options');
  checkCombination(o);
  const env = o.env ?? process.env;
  const datasets = datasetsOf(o);
  const source = datasets.includes('country') ? resolveSource(o.source, o.url, env) : undefined;
  const proxy = proxySettings(env);
  const { dir } = resolveDataDir(o.dir, env);
  await fs.promises.mkdir(dir, { recursive: true });
  const lock = await acquireLock(dir, o.lockWaitMs ?? LOCK_WAIT_MS);
  try {
    await removeLeftovers(dir);
    const country = source && (await update(dir, source, o, proxy, lock.stillHeld));
    if (!datasets.includes('ip-nature')) return country as UpdateResult;
    const ipNature = await updateNatureIn(dir, o, proxy, lock.stillHeld);
    return country ? { ...country, ipNature } : ipNature;
  } catch (error) {
    throw await withOfflineHint(error, dir, proxy);
  } finally {
    await lock.release();
  }
}

/** The download limits: the defaults, with what the options give. */
function limitsOf(o: Options) {
  const given = Object.entries(o.limits ?? {}).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
}

/** The IP-nature update, under the same lock, limits and proxy; its temporary files are gone when it returns. */
async function updateNatureIn(
  dir: string,
  o: Options,
  proxy: ProxySettings,
  stillHeld: () => Promise<boolean>,
): Promise<NatureUpdateResult> {
  const created: string[] = [];
  const temp = (what: string) => {
    const path = tempFile(dir, what);
    created.push(path);
    return path;
  };
  const feeds = Object.fromEntries(Object.entries(o.feeds ?? {}).filter(([, url]) => url !== undefined));
  try {
    return await updateNature({
      dir,
      feeds,
      force: o.force === true,
      limits: limitsOf(o),
      proxy,
      temp,
      stillHeld,
    });
  } finally {
    const fs = builtin('node:fs')!;
    await Promise.all(created.map((path) => fs.promises.rm(path, { force: true })));
  }
}

/** Nothing changed: the build that was current before this run still is. */
async function upToDate(
  current: string,
  sha256: string,
  manifest: Manifest | null,
  source: ResolvedSource,
): Promise<UpdateResult> {
  const { mmdb } = await readInstalled(current);
  const buildDate = mmdb?.facts.buildDate ?? manifest?.buildDate ?? '';
  const name = manifest?.source ?? source.name;
  return {
    status: 'up_to_date',
    path: current,
    source: name,
    sha256,
    buildDate,
    previousBuildDate: buildDate,
  };
}

/** Opens the new file as a reader would; what cannot serve countries is `invalid_database`. */
function openCandidate(bytes: Uint8Array): Mmdb {
  try {
    return openMmdb(bytes, 'the download');
  } catch (error) {
    throw new IpMatchDataError(
      'invalid_database',
      (error as Error).message.replace(/^ipmatch: invalid GeoIP database: /, ''),
    );
  }
}

/** One update, under the lock: every temporary file it made is gone when it returns or throws. */
async function update(
  dir: string,
  source: ResolvedSource,
  o: Options,
  proxy: ProxySettings,
  stillHeld: () => Promise<boolean>,
): Promise<UpdateResult> {
  const fs = builtin('node:fs')!;
  const limits = limitsOf(o);
  const current = dataFile(dir, 'current');
  const created: string[] = [];
  const temp = (what: string) => {
    const path = tempFile(dir, what);
    created.push(path);
    return path;
  };
  try {
    // 1. What is installed, and the SHA-256 the publisher gives for its file now.
    const manifest = await readManifest(dir);
    const installed = await installedSha(current, manifest);
    const checksumUrl = o.sha256Url ?? (o.sha256 === undefined ? source.checksumUrl : undefined);
    const fetchChecksum = async () =>
      checksumUrl === undefined
        ? o.sha256?.toLowerCase()
        : parseChecksum(
            await fetchText({ url: checksumUrl, headers: source.headers, limits, proxy }),
            redactUrl(checksumUrl),
          );
    const expected = { sha256: await fetchChecksum(), installed: installed?.download };

    // 2. Download the file, held to that SHA-256; nothing to do when it is the installed file.
    const request = { url: source.url, headers: source.headers, limits, proxy };
    const file = { request, temp: () => temp('download'), onProgress: o.onProgress };
    const got = await downloadVerified(file, expected, async () => {
      await sleep(o.retryDelayMs ?? RETRY_DELAY_MS);
      return fetchChecksum();
    });
    if (got === 'installed') return await upToDate(current, installed!.file, manifest, source);

    // 3. Take the MMDB out of MaxMind's archive; its checksum was the archive's.
    let mmdbPath = got.path;
    let sha256 = got.sha256;
    if (source.format === 'tar.gz') {
      mmdbPath = temp('mmdb');
      await extractMmdb(got.path, mmdbPath, limits.maxBytes);
      sha256 = await sha256File(mmdbPath);
    }

    // 4. Hold it to the data readers use now (build date, readable records, coverage). The two files go
    // through one buffer, sized for the new one: the installed file's baseline is taken first, then the new
    // file is read over it, so that the update never holds two databases (bench/data-update.ts).
    const files = new FileBuffer();
    files.reserve((await fs.promises.stat(mmdbPath)).size);
    const replaced = await readInstalledBaseline(current, files);
    const bytes = await files.read(mmdbPath);
    const candidate = openCandidate(bytes);
    checkCandidate(candidate, { installed: replaced.baseline, allowOlder: o.force === true });

    // 5. Install it atomically, only while the lock is still ours, and record it in the manifest.
    if (!(await stillHeld())) {
      throw new IpMatchDataError(
        'locked',
        'another updater took the lock over while this one ran: nothing installed',
      );
    }
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
    await recordInstall(dir, entry, installed === null ? null : manifest);

    // 6. Say what changed: the build before is the data dir's, or none (the bundled data is no install).
    return {
      status: 'updated',
      path: current,
      source: source.name,
      sha256,
      buildDate: entry.buildDate,
      previousBuildDate: replaced.fromDataDir ? (replaced.baseline?.buildDate ?? null) : null,
    };
  } finally {
    await Promise.all(created.map((path) => fs.promises.rm(path, { force: true })));
  }
}
