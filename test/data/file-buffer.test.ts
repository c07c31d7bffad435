import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBuffer } from '../../src/data/file-buffer.js';

const dir = mkdtempSync(join(tmpdir(), 'ipmatch-file-buffer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileBuffer: the one buffer the updater reads the installed and the new database through', () => {
  it('reads each file whole, in one block of memory that later reads reuse', async () => {
    const files = new FileBuffer();
    writeFileSync(join(dir, 'a'), Buffer.alloc(300_000, 1));
    writeFileSync(join(dir, 'b'), Buffer.alloc(200_000, 2));
    files.reserve(300_000);
    const a = await files.read(join(dir, 'a'));
    expect(a.length).toBe(300_000);
    expect(a.every((b) => b === 1)).toBe(true);
    const b = await files.read(join(dir, 'b'));
    expect(b.length).toBe(200_000);
    expect(b.every((x) => x === 2)).toBe(true);
    expect(b.buffer).toBe(a.buffer); // no second copy: the first view now shows the second file
    expect(a[0]).toBe(2);
  });

  it('grows for a larger file, and returns exactly the bytes of any file', async () => {
    const files = new FileBuffer();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), async (bytes) => {
        const path = join(dir, 'p');
        writeFileSync(path, bytes);
        expect(Buffer.from(await files.read(path)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
