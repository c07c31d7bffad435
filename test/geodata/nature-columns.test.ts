import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/data/feeds/range.js';
import {
  compileNature,
  FEED_NAMES,
  type FeedInput,
  loadNatureTable,
  type NatureRange,
  NatureTable,
  readNatureColumns,
  writeNatureTable,
} from '../../src/geodata/nature/index.js';

const BUILT = '2026-08-22T00:00:00.000Z';
const COLUMNS = ['v4First', 'v4Last', 'v4Label', 'v6First', 'v6Last', 'v6Label'] as const;

const v4Cidr = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 }))
  .map(([n, p]) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p}`);
const v6Cidr = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 19, max: 128 }),
  )
  .map(([h, p]) => `${[0x2000 + (h[0]! & 0x1fff), ...h.slice(1)].map((x) => x.toString(16)).join(':')}/${p}`);
const feeds = fc
  .array(
    fc.record({
      name: fc.constantFrom(...FEED_NAMES),
      cidrs: fc.array(fc.oneof(v4Cidr, v6Cidr), { maxLength: 12 }),
    }),
    { maxLength: 4 },
  )
  .map((list): FeedInput[] => {
    const byName = new Map<string, NatureRange[]>();
    for (const f of list) {
      const ranges = byName.get(f.name) ?? [];
      for (const c of f.cidrs) {
        const r = parseCidr(c); // null for a private or reserved range, which no feed keeps
        if (r) ranges.push({ ...r, network: f.name });
      }
      byName.set(f.name, ranges);
    }
    return [...byName].map(([name, ranges]) => ({ name: name as FeedInput['name'], version: null, ranges }));
  });
const fileOf = (input: FeedInput[]): Uint8Array => writeNatureTable(compileNature(input), BUILT);

/** The same bytes at `shift` bytes into a fresh buffer: 0 keeps the columns aligned, 1 to 3 do not. */
function at(bytes: Uint8Array, shift: number): Uint8Array {
  const out = new Uint8Array(bytes.length + shift).subarray(shift);
  out.set(bytes);
  return out;
}

/** What a reader read, or the error it threw: the two readers must give the same, valid or not. */
function outcome(bytes: Uint8Array, shared: boolean, bundled = false): unknown {
  try {
    const c = readNatureColumns(bytes, 'the file', { shared, bundled });
    return { header: c.header, ...Object.fromEntries(COLUMNS.map((k) => [k, Array.from(c[k])])) };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

describe('the IP-nature columns, as views over a file read or as copies of bytes passed', () => {
  it('reads every valid table the same either way, and views only its own, aligned bytes', () => {
    fc.assert(
      fc.property(feeds, fc.integer({ min: 0, max: 3 }), (input, shift) => {
        const bytes = at(fileOf(input), shift);
        const viewed = readNatureColumns(bytes, 'the file', { shared: true });
        expect(outcome(bytes, true)).toEqual(outcome(bytes, false));
        // The bundled snapshot's reader, which skips the order check, reads every valid table as the full one.
        expect(outcome(bytes, true, true)).toEqual(outcome(bytes, false));
        const copied = readNatureColumns(bytes, 'the file');
        for (const k of COLUMNS) expect(copied[k].buffer).not.toBe(bytes.buffer);
        // A column is a view only where its words are aligned in memory (the u16 labels need 2, the bounds 4).
        expect(viewed.v4First.buffer === bytes.buffer).toBe(shift === 0);
        expect(viewed.v4Label.buffer === bytes.buffer).toBe(shift % 2 === 0);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same error or the same columns for any byte of a valid table changed', () => {
    fc.assert(
      fc.property(feeds, fc.nat(), fc.integer({ min: 1, max: 255 }), (input, where, xor) => {
        const bytes = Uint8Array.from(fileOf(input));
        const i = where % bytes.length;
        bytes[i] = bytes[i]! ^ xor;
        expect(outcome(bytes, true)).toEqual(outcome(bytes, false));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a table made from a caller's bytes as it was when the caller changes the bytes later", () => {
    const bytes = fileOf([{ name: 'tor', version: null, ranges: [{ ...parseCidr('185.220.101.0/24')! }] }]);
    const table = new NatureTable(bytes);
    bytes.fill(0, bytes.length - 40);
    expect(table.lookup('185.220.101.9')?.network).toBe('tor');
    expect(table.lookup('185.220.102.9')).toBeNull();
  });

  it('still refuses a file on disk whose segments are out of order (a data dir is never trusted)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-nature-columns-'));
    try {
      const good = fileOf([
        {
          name: 'tor',
          version: null,
          ranges: [{ ...parseCidr('185.220.101.1')! }, { ...parseCidr('185.220.101.9')! }],
        },
      ]);
      const swapped = Uint8Array.from(good);
      const end = swapped.length - 4 - 8; // the two IPv4 firsts, then their lasts, then labels (padded)
      swapped.set(good.subarray(end - 8, end - 4), end - 4);
      writeFileSync(join(dir, 'good.bin'), good);
      writeFileSync(join(dir, 'swapped.bin'), swapped);
      expect(loadNatureTable(join(dir, 'good.bin')).lookup('185.220.101.9')?.network).toBe('tor');
      expect(() => loadNatureTable(join(dir, 'swapped.bin'))).toThrow(/IPv4 segment 1 is out of order/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
