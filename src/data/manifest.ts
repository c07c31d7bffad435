/** `manifest.json` in the data dir: what the current and previous files are; never a secret. */
import { requireBuiltin } from '../core/builtins.js';
import { dataFile, tempFile } from '../geodata/dir.js';

/** What the data dir's manifest says of one installed file. Never holds a credential. */
export interface ManifestEntry {
  /** 'user-country', 'dbip-country', 'geolite2', 'ipinfo-lite' or 'url'. */
  source: string;
  /** Where it came from, redacted (no user:password, no token or key in the query). */
  url: string;
  /** SHA-256 of the MMDB file as installed. */
  sha256: string;
  /** SHA-256 of what was downloaded when it differs from the MMDB's (MaxMind's .tar.gz). */
  downloadSha256?: string;
  /** The MMDB's own build date (ISO 8601). */
  buildDate: string;
  size: number;
  installedAt: string;
}

/** `manifest.json` in the data dir: the current file's entry, and the previous one's for a rollback. */
export interface Manifest extends ManifestEntry {
  previous: ManifestEntry | null;
}

/** The data dir's manifest, or null when there is none or it cannot be read (the files still can). */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const fs = requireBuiltin('node:fs', 'the manifest is a file on disk');
  try {
    const parsed = JSON.parse(await fs.promises.readFile(dataFile(dir, 'manifest'), 'utf8')) as Manifest;
    return typeof parsed?.sha256 === 'string' && typeof parsed.buildDate === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Writes a file so that a reader sees the old content or the new, never a part: temp file, fsync, rename. */
async function writeFileAtomic(dir: string, path: string, content: string): Promise<void> {
  const fs = requireBuiltin('node:fs', 'files are written to disk');
  const tmp = tempFile(dir, 'manifest');
  const fh = await fs.promises.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, path);
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(dir, dataFile(dir, 'manifest'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Records a file just installed: its entry, with the entry of the file it replaced as `previous` (what a
 * rollback restores). `replaced` is the manifest from before the install, or null when there was no current
 * file before it, or no manifest to say what it was.
 */
export async function recordInstall(
  dir: string,
  entry: ManifestEntry,
  replaced: Manifest | null,
): Promise<void> {
  const { previous: _, ...kept } = replaced ?? { previous: null };
  await writeManifest(dir, { ...entry, previous: replaced ? (kept as ManifestEntry) : null });
}
