/** Takes the .mmdb out of a MaxMind .tar.gz, by its own file name, never by the archive's paths. */
import { requireBuiltin } from '../core/builtins.js';
import { IpMatchDataError } from '../geodata/errors.js';

/**
 * Writes the `.mmdb` inside a MaxMind `.tar.gz` (GeoLite2-Country_YYYYMMDD/GeoLite2-Country.mmdb, beside
 * COPYRIGHT.txt and LICENSE.txt) to `dest`, and fsyncs it. Only regular files are considered: nothing is
 * ever extracted by the archive's own paths. Uses node-tar, npm's own tar reader, which also un-gzips.
 */
/**
 * Kept out of the import's literal so that bundlers for Workers and browsers leave node-tar (Node streams and
 * fs) alone when they bundle `ipmatch`; Node resolves it at run time, and only the updater needs it.
 */
const TAR = 'tar';

export async function extractMmdb(archive: string, dest: string, maxBytes: number): Promise<number> {
  const fs = requireBuiltin('node:fs', 'archives are read from disk');
  const { Parser } = (await import(/* @vite-ignore */ TAR)) as typeof import('tar');
  let found: Promise<number> | undefined;
  let problem: IpMatchDataError | undefined;
  const parser = new Parser({
    onReadEntry(entry) {
      if (found !== undefined || entry.type !== 'File' || !entry.path.endsWith('.mmdb')) {
        entry.resume();
        return;
      }
      if ((entry.size ?? 0) > maxBytes) {
        problem = new IpMatchDataError(
          'too_large',
          `the archive's ${entry.path} is over the cap of ${maxBytes} bytes`,
        );
        entry.resume();
        return;
      }
      const out = fs.createWriteStream(dest, { flags: 'wx', mode: 0o644 });
      found = new Promise<number>((resolve, reject) => {
        out.on('error', reject);
        out.on('finish', () => resolve(out.bytesWritten));
      });
      entry.pipe(out);
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.on('warn', (code: string, message: string) => {
      // A damaged archive shows up as warnings (TAR_BAD_ARCHIVE, invalid gzip), not as an error.
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT' || code.startsWith('Z_'))
        reject(new Error(message));
    });
  });
  try {
    fs.createReadStream(archive)
      .on('error', (e) => parser.emit('error', e))
      .pipe(parser);
    await done;
    if (problem) throw problem;
    if (found === undefined) {
      throw new IpMatchDataError('invalid_database', 'the downloaded archive holds no .mmdb file');
    }
    const bytes = await found;
    const fd = await fs.promises.open(dest, 'r+');
    await fd.sync().finally(() => fd.close());
    return bytes;
  } catch (error) {
    await fs.promises.rm(dest, { force: true });
    if (error instanceof IpMatchDataError) throw error;
    throw new IpMatchDataError(
      'invalid_database',
      `the download is not a readable .tar.gz (${(error as Error).message})`,
    );
  }
}
