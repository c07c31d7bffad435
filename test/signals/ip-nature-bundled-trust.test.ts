import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCidr } from '../../src/data/feeds/range.js';
import { IpMatchDataError } from '../../src/geodata/errors.js';
import { compileNature, writeNatureTable } from '../../src/geodata/nature/index.js';
import { naturePathInDataDir } from '../../src/geodata/nature-files.js';
import { NatureTableHolder } from '../../src/signals/ip-nature/table-holder.js';

/**
 * Only the snapshot shipped in the package is read without each segment's order checked. Here the "shipped"
 * path points at a table whose two segments are swapped: it loads, while the same kind of file as `database`
 * (a path or bytes) or in the data dir is refused.
 */
const dir = mkdtempSync(join(tmpdir(), 'ipmatch-bundled-trust-'));
const bundledPath = join(dir, 'bundled.bin');
vi.mock('../../src/geodata/nature/bundled.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  bundledNaturePath: () => bundledPath,
}));

/** A valid table of two Tor addresses built at `builtAt`, and the same with its IPv4 segments out of order. */
function tables(builtAt: string): { good: Uint8Array; swapped: Uint8Array } {
  const ranges = [parseCidr('185.220.101.1')!, parseCidr('185.220.101.9')!];
  const good = writeNatureTable(compileNature([{ name: 'tor', version: null, ranges }]), builtAt);
  const swapped = Uint8Array.from(good);
  const end = swapped.length - 4 - 8; // the two IPv4 firsts, then their lasts, then labels (padded)
  swapped.set(good.subarray(end - 8, end - 4), end - 4);
  return { good, swapped };
}

const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const dataDir = join(dir, 'data');
const before = process.env.IPMATCH_DATA_DIR;

beforeAll(() => {
  writeFileSync(bundledPath, tables('2026-01-01T00:00:00.000Z').swapped);
  process.env.IPMATCH_DATA_DIR = dataDir;
});
afterAll(() => {
  if (before === undefined) delete process.env.IPMATCH_DATA_DIR;
  else process.env.IPMATCH_DATA_DIR = before;
  rmSync(dir, { recursive: true, force: true });
});

describe('the bundled snapshot is the only file read without its order checked', () => {
  it('refuses an out-of-order table passed as database, as a path or as bytes', () => {
    const { swapped } = tables(new Date().toISOString());
    const path = join(dir, 'given.bin');
    writeFileSync(path, swapped);
    for (const database of [path, swapped]) {
      const holder = new NatureTableHolder({ database, reload: false }, logger);
      expect(() => holder.load()).toThrow(IpMatchDataError);
      expect(() => holder.load()).toThrow(/IPv4 segment 1 is out of order/);
    }
  });

  it('refuses an out-of-order table in the data dir, newer than the snapshot, and serves the snapshot', () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(naturePathInDataDir(dataDir), tables(new Date().toISOString()).swapped);
    const holder = new NatureTableHolder({ reload: false }, logger);
    const table = holder.load();
    holder.close();
    expect(table.builtAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
