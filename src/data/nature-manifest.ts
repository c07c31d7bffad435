/** `ip-nature.json` in the data dir: when the installed IP-nature table was built, and each feed's last fetch. */
import { requireBuiltin } from '../core/builtins.js';
import { tempFile } from '../geodata/dir.js';
import { natureFile } from '../geodata/nature-files.js';
import type { FeedUpdate } from './nature-feed.js';

/** What the manifest says of one feed. Never holds a credential: URLs are redacted. */
export interface NatureManifestFeed extends FeedUpdate {
  /** The URLs read (redacted), null when the feed was not fetched. */
  url: string | null;
  /** The publisher's version or date of the ranges installed. */
  version: string | null;
  /** When the installed ranges were downloaded; null for ranges still from the bundled snapshot. */
  fetchedAt: string | null;
}

/** The IP-nature manifest: the file's facts and its feeds. */
export interface NatureManifest {
  builtAt: string;
  installedAt: string;
  sha256: string;
  size: number;
  feeds: NatureManifestFeed[];
}

/** The data dir's IP-nature manifest, or null when there is none or it cannot be read. */
export async function readNatureManifest(dir: string): Promise<NatureManifest | null> {
  const fs = requireBuiltin('node:fs', 'the manifest is a file on disk');
  try {
    const parsed = JSON.parse(await fs.promises.readFile(natureFile(dir, 'manifest'), 'utf8'));
    return typeof parsed?.builtAt === 'string' && Array.isArray(parsed.feeds) ? parsed : null;
  } catch {
    return null;
  }
}

/** Writes the manifest so that a reader sees the old or the new whole: temp file, fsync, rename. */
export async function writeNatureManifest(dir: string, manifest: NatureManifest): Promise<void> {
  const fs = requireBuiltin('node:fs', 'the manifest is a file on disk');
  const tmp = tempFile(dir, 'nature-manifest');
  const fh = await fs.promises.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, natureFile(dir, 'manifest'));
}
