/** Checks an MMDB file's metadata without reading it whole: what choosing between files costs at start-up. */
import { requireBuiltin } from '../core/builtins.js';
import { IpMatchConfigError } from '../core/errors.js';
import { inspectMmdb, WHAT_TO_PASS } from './mmdb.js';

/**
 * Checks the file at `path` (its metadata and the separator after its tree) and returns its build date.
 * Throws IpMatchConfigError saying what is wrong: no file, not a file, not an MMDB, no file system.
 */
export function inspectFile(path: string): Date {
  const fs = requireBuiltin('node:fs', 'pass `database` as the bytes of an .mmdb file on this runtime');
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no file at "${path}"` : `cannot open "${path}" (${code ?? String(e)})`;
    throw new IpMatchConfigError('GeoIP database', [`database: ${why}. ${WHAT_TO_PASS}`]);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      throw new IpMatchConfigError('GeoIP database', [`database: "${path}" is not a file. ${WHAT_TO_PASS}`]);
    }
    return inspectMmdb(`"${path}"`, stat.size, (position, length) => {
      const buf = Buffer.alloc(length);
      const n = fs.readSync(fd, buf, 0, length, position);
      return n === length ? buf : buf.subarray(0, n);
    }).buildEpoch;
  } finally {
    fs.closeSync(fd);
  }
}
