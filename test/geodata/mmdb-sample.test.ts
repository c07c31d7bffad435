/** The schema probe's sample of an MMDB's first networks, yielded as the tree walk finds them. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Reader } from 'mmdb-lib';
import { describe, expect, it } from 'vitest';
import { sampleNetworks } from '../../src/geodata/mmdb-sample.js';

const bundled = readFileSync(
  createRequire(import.meta.url).resolve(
    '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
  ),
);
const metadata = new Reader(bundled).metadata;

/** The bundled bytes, counting the tree records read (each record is one readUIntBE/readUInt32BE call). */
function counted(): { db: Buffer; reads: () => number } {
  const db = Buffer.from(bundled);
  let n = 0;
  for (const name of ['readUIntBE', 'readUInt32BE'] as const) {
    const own = db[name].bind(db) as (...args: number[]) => number;
    const count = (...args: number[]) => {
      n++;
      return own(...args);
    };
    Object.defineProperty(db, name, { value: count });
  }
  return { db, reads: () => n };
}

describe('sampleNetworks', () => {
  it('walks no further than the networks taken: the first of 64 costs its own path down the tree alone', () => {
    const first = counted();
    const iterator = sampleNetworks(first.db, metadata, 64);
    expect(iterator.next()).toEqual({ done: false, value: '0:0:0:0:0:0:100:0' });
    const all = counted();
    expect([...sampleNetworks(all.db, metadata, 64)]).toHaveLength(64);
    // Down to the first network, 121 records deep in this IPv6 tree; the walk to all 64 reads twice that.
    expect(first.reads()).toBe(121);
    expect(all.reads()).toBeGreaterThanOrEqual(2 * first.reads());
  });

  it('yields, for any limit, the first networks of the same tree-order walk', () => {
    const all = [...sampleNetworks(bundled, metadata, 64)];
    expect(new Set(all).size).toBe(64);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), (limit) => {
        expect([...sampleNetworks(bundled, metadata, limit)]).toEqual(all.slice(0, limit));
      }),
      { numRuns: 30 },
    );
  });
});
