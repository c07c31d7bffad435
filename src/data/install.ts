/** Atomic installs and swaps in the data dir (renames a reader never sees half done), leftovers removed. */
import { requireBuiltin } from '../core/builtins.js';
import { dataFile, TEMP_PREFIX, tempFile } from '../geodata/dir.js';

const NODE_ONLY = 'installing data writes to disk';

/** Makes a rename durable: on Linux the new directory entry is only safe once the directory is synced. */
async function syncDir(dir: string): Promise<void> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  try {
    const fh = await fs.promises.open(dir, 'r');
    await fh.sync().finally(() => fh.close());
  } catch {
    // Windows cannot open a directory for syncing; its renames are durable without it.
  }
}

async function exists(path: string): Promise<boolean> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  return fs.promises.stat(path).then(
    () => true,
    () => false,
  );
}

/** A second name for the same bytes (a copy where hard links are not allowed), made under a temp name. */
async function duplicate(dir: string, from: string): Promise<string> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  const tmp = tempFile(dir, 'keep');
  await fs.promises.link(from, tmp).catch(() => fs.promises.copyFile(from, tmp));
  return tmp;
}

/**
 * Puts a verified, fsynced temp file in place as current.mmdb and keeps the file it replaces as
 * previous.mmdb. Each step is a rename within the data dir, so a reader opening current.mmdb at any moment
 * (even if this process is killed) gets the old file or the new one, whole; one that already has the old
 * file open keeps reading it.
 */
export async function installCurrent(dir: string, tmp: string): Promise<void> {
  await installAs(dir, tmp, dataFile(dir, 'current'), dataFile(dir, 'previous'));
}

/** `installCurrent` for any pair of names in the data dir (the IP-nature table's `ip-nature.bin`). */
export async function installAs(dir: string, tmp: string, current: string, previous: string): Promise<void> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  if (await exists(current)) await fs.promises.rename(await duplicate(dir, current), previous);
  await fs.promises.rename(tmp, current);
  await syncDir(dir);
}

/** Exchanges current.mmdb and previous.mmdb, with the same guarantee as `installCurrent`. */
export async function swapPrevious(dir: string): Promise<void> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  const current = dataFile(dir, 'current');
  const keep = (await exists(current)) ? await duplicate(dir, current) : undefined;
  await fs.promises.rename(dataFile(dir, 'previous'), current);
  if (keep !== undefined) await fs.promises.rename(keep, dataFile(dir, 'previous'));
  await syncDir(dir);
}

/** Removes what an updater killed mid-way left behind. Called under the lock, so none of it is in use. */
export async function removeLeftovers(dir: string): Promise<void> {
  const fs = requireBuiltin('node:fs', NODE_ONLY);
  const path = requireBuiltin('node:path', NODE_ONLY);
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(TEMP_PREFIX) && name.endsWith('.tmp'))
      .map((name) => fs.promises.rm(path.join(dir, name), { force: true })),
  );
}
