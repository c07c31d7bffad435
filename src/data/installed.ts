/** What the data dir holds now: the file readers use, and the SHA-256 it was downloaded as. */
import { builtin } from '../core/builtins.js';
import { bundledDatabasePath } from '../geodata/bundled.js';
import { type Mmdb, openMmdb } from '../geodata/mmdb.js';
import { type InstalledBaseline, installedBaseline } from '../geodata/validate.js';
import { sha256File } from './checksum.js';
import type { FileBuffer } from './file-buffer.js';
import type { ManifestEntry } from './manifest.js';

/**
 * The data readers use now: the data dir's current file if it opens, else the bundled file (what a
 * provider falls back to). `fromDataDir` says which.
 */
export async function readInstalled(current: string): Promise<{ mmdb?: Mmdb; fromDataDir: boolean }> {
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

/**
 * What the updater checks new data against, read through `files` (the buffer the new file is read into next):
 * the build date and sampled answers of the data readers use now, as `readInstalled` chooses it.
 */
export async function readInstalledBaseline(
  current: string,
  files: FileBuffer,
): Promise<{ baseline?: InstalledBaseline; fromDataDir: boolean }> {
  try {
    return {
      baseline: installedBaseline(openMmdb(await files.read(current), `"${current}"`)),
      fromDataDir: true,
    };
  } catch {
    try {
      const bundled = openMmdb(await files.read(bundledDatabasePath()), 'the bundled data');
      return { baseline: installedBaseline(bundled), fromDataDir: false };
    } catch {
      return { fromDataDir: false };
    }
  }
}

/** The SHA-256 the installed file was downloaded as (the manifest's, when it still describes the file). */
export async function installedSha(
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
