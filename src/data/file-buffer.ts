/** One buffer that files are read into in turn, so that the updater never holds two databases at once. */
import { requireBuiltin } from '../core/builtins.js';

/**
 * Reads whole files into one buffer, grown only when a file is larger than any before it. Each `read`
 * overwrites what the previous one returned: a reader opened on earlier bytes must be done with them.
 */
export class FileBuffer {
  #buffer: Buffer = Buffer.alloc(0);

  /** Sizes the buffer for files of up to `bytes`, so that later reads need not grow it. */
  reserve(bytes: number): void {
    if (bytes > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(bytes);
  }

  /** The file's bytes, a view of the shared buffer valid until the next `read`. */
  async read(path: string): Promise<Buffer> {
    const fs = requireBuiltin('node:fs', 'files are read from disk');
    const file = await fs.promises.open(path, 'r');
    try {
      const { size } = await file.stat();
      this.reserve(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await file.read(this.#buffer, filled, size - filled, filled);
        if (bytesRead === 0) break; // cut short while read: the MMDB checks refuse what is left
        filled += bytesRead;
      }
      return this.#buffer.subarray(0, filled);
    } finally {
      await file.close();
    }
  }
}
