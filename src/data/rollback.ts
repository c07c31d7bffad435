/** `rollbackDatabase()` (`ipmatch db rollback`): previous.mmdb made current again, validated first. */
import { builtin } from '../core/builtins.js';
import { dataFile, resolveDataDir } from '../geodata/dir.js';
import { IpMatchDataError } from '../geodata/errors.js';
import { type Mmdb, openMmdb } from '../geodata/mmdb.js';
import { swapPrevious } from './install.js';
import { acquireLock } from './lock.js';
import { readManifest, writeManifest } from './manifest.js';

/** What a rollback did: the file now current, and the one it replaced (kept as previous). */
export interface RollbackResult {
  status: 'rolled_back';
  path: string;
  source: string;
  sha256: string | null;
  buildDate: string;
  previousBuildDate: string | null;
}

/**
 * `ipmatch db rollback`: makes previous.mmdb current again (and keeps the replaced file as previous, so a
 * second rollback undoes the first). The previous file is validated first; readers see one file or the
 * other, whole. Running providers pick it up at their next reload. Node only.
 */
export async function rollbackDatabase(
  options: { dir?: string; env?: Record<string, string | undefined>; lockWaitMs?: number } = {},
): Promise<RollbackResult> {
  const fs = builtin('node:fs');
  if (!fs) throw new IpMatchDataError('unsupported_runtime', 'a rollback moves files: it runs on Node only');
  const { dir } = resolveDataDir(options.dir, options.env);
  const previous = dataFile(dir, 'previous');
  const lock = await acquireLock(dir, options.lockWaitMs ?? 120_000);
  try {
    const bytes = await fs.promises.readFile(previous).catch(() => undefined);
    if (bytes === undefined) {
      throw new IpMatchDataError('no_previous', `there is no previous file in ${dir} to roll back to`);
    }
    let older: Mmdb;
    try {
      older = openMmdb(bytes, `"${previous}"`);
    } catch (error) {
      throw new IpMatchDataError(
        'invalid_database',
        (error as Error).message.replace(/^ipmatch: invalid GeoIP database: /, ''),
      );
    }
    const current = dataFile(dir, 'current');
    // The file being rolled back from may be missing or broken: that is often why one rolls back.
    let replaced: Mmdb | undefined;
    try {
      replaced = openMmdb(await fs.promises.readFile(current), `"${current}"`);
    } catch {
      replaced = undefined;
    }
    const manifest = await readManifest(dir);
    await swapPrevious(dir);
    if (manifest?.previous) {
      const { previous: back, ...now } = manifest;
      await writeManifest(dir, { ...back, previous: now });
    } else {
      await fs.promises.rm(dataFile(dir, 'manifest'), { force: true });
    }
    return {
      status: 'rolled_back',
      path: current,
      source: manifest?.previous?.source ?? 'unknown',
      sha256: manifest?.previous?.sha256 ?? null,
      buildDate: older.facts.buildDate,
      previousBuildDate: replaced?.facts.buildDate ?? null,
    };
  } finally {
    await lock.release();
  }
}
