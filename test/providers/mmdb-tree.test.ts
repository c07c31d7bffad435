import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Reader } from 'mmdb-lib';
import { describe, expect, it } from 'vitest';
import { openMmdb } from '../../src/geodata/mmdb.js';
import { ipv4Finder } from '../../src/geodata/mmdb-tree.js';
import { assembleMmdb, type RecordSize, writeMmdb, writeRecord } from '../fixtures/mmdb-writer.js';

const bundled = readFileSync(
  createRequire(import.meta.url).resolve(
    '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
  ),
);

const dotted = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const ipv4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const RECORD_SIZES: RecordSize[] = [24, 28, 32];

/**
 * An address, another in its /16 and one in the next /16: the finder keeps where each /16 leads, so the second
 * reads what the first left there, and the third must not.
 */
const family = (v: number, low: number) => [v, ((v & 0xffff0000) | low) >>> 0, (v ^ 0x10000) >>> 0];

/** mmdb-lib's own answer: the record value its (private) tree walk ends on, 0 for none. */
function libPointer(reader: Reader<never>, address: string): number {
  const walk = (reader as unknown as { findAddressInTree(a: string): [number | null, number] })
    .findAddressInTree;
  return walk.call(reader, address)[0] ?? 0;
}

/** The country mmdb-lib's record gives, for ip-location-db's shape (`country_code`): two letters, not ZZ. */
function libCountry(reader: Reader<never>, address: string): string | null {
  const record = reader.get(address) as { country_code?: string } | null;
  const code = record?.country_code?.toUpperCase();
  return code === undefined || !/^[A-Z]{2}$/.test(code) || code === 'ZZ' ? null : code;
}

describe('ipv4Finder walks the tree as mmdb-lib does', () => {
  it('on the bundled data (IPv6 tree, 24-bit records): the same record and country for any IPv4', () => {
    const reader = new Reader<never>(bundled);
    const find = ipv4Finder(bundled, reader.metadata);
    const mmdb = openMmdb(bundled, 'the bundled data');
    fc.assert(
      fc.property(ipv4, fc.nat(0xffff), (v, low) => {
        for (const w of family(v, low)) {
          const address = dotted(w);
          expect(find(w)).toBe(libPointer(reader, address));
          expect(mmdb.country(address)).toBe(libCountry(reader, address));
        }
      }),
      { numRuns: 1000 },
    );
  });

  // Random node arrays, cycles included: every record value a node, the empty marker or a data pointer up to
  // the record size's limit, so the high bits of 28- and 32-bit records are read too. Only the walk is
  // compared (pointers beyond the data are never decoded).
  it.each(RECORD_SIZES)('on random %i-bit trees, IPv4 and IPv6 ones', (recordSize) => {
    const tree = fc.record({
      ipVersion: fc.constantFrom(4 as const, 6 as const),
      nodeCount: fc.integer({ min: 1, max: 40 }),
      seeds: fc.array(fc.tuple(fc.nat(3), fc.nat()), { minLength: 80, maxLength: 80 }),
    });
    fc.assert(
      fc.property(
        tree,
        fc.array(fc.tuple(ipv4, fc.nat(0xffff)), { minLength: 8, maxLength: 8 }),
        (t, seeds) => {
          const bytes = Buffer.alloc((t.nodeCount * recordSize) / 4);
          const max = 2 ** recordSize - 1;
          for (let i = 0; i < t.nodeCount * 2; i++) {
            const [kind, n] = t.seeds[i]!;
            // Mostly nodes (and mostly node 0's left side, so that an IPv6 tree's ::/96 path goes deep).
            const value =
              kind <= 1
                ? n % t.nodeCount
                : kind === 2
                  ? t.nodeCount
                  : t.nodeCount + 1 + (n % (max - t.nodeCount));
            writeRecord(bytes, recordSize, i >> 1, (i & 1) === 1, value);
          }
          const db = Buffer.from(
            assembleMmdb(bytes, [], {
              nodeCount: t.nodeCount,
              recordSize,
              ipVersion: t.ipVersion,
              databaseType: 'random',
            }),
          );
          const reader = new Reader<never>(db);
          const find = ipv4Finder(db, reader.metadata);
          for (const [v, low] of seeds)
            for (const w of family(v, low)) expect(find(w)).toBe(libPointer(reader, dotted(w)));
        },
      ),
      { numRuns: 150 },
    );
  });

  const countries = ['GB', 'US', 'KR', 'zz', 'se', 'XX1'];
  const network = fc
    .tuple(ipv4, fc.integer({ min: 1, max: 32 }), fc.constantFrom(...countries))
    .map(([v, len, code]) => ({ v: len === 32 ? v : v & ~((2 ** (32 - len) - 1) | 0), len, code }));

  it.each(RECORD_SIZES)(
    'on written %i-bit country databases: the same country as mmdb-lib for any IPv4',
    (recordSize) => {
      fc.assert(
        fc.property(
          fc.constantFrom(4 as const, 6 as const),
          fc.array(network, { minLength: 1, maxLength: 12 }),
          fc.array(ipv4, { minLength: 30, maxLength: 30 }),
          (ipVersion, nets, probes) => {
            const networks: Record<string, { country_code: string }> = {};
            // The writer takes wider networks first; one real country (a /32) keeps the schema detectable.
            const known = { v: 0x51_02_45_a0, len: 32, code: 'GB' };
            for (const n of [...nets, known].sort((a, b) => a.len - b.len))
              networks[`${dotted(n.v >>> 0)}/${n.len}`] = { country_code: n.code };
            const db = Buffer.from(writeMmdb({ ipVersion, recordSize, databaseType: 'country', networks }));
            const reader = new Reader<never>(db);
            const mmdb = openMmdb(db, 'the fixture');
            for (const v of [...probes, ...nets.map((n) => n.v >>> 0)]) {
              const address = dotted(v);
              expect(mmdb.countryV4(v)).toBe(libCountry(reader, address));
              expect(mmdb.country(address)).toBe(libCountry(reader, address));
            }
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  // fast-check found this one (seed 1739747944): 0.0.0.0/1 split around a /30 and two /32s leaves ~90 networks
  // with no country before the one real /32, and the schema probe stopped at 64 and refused the file.
  it('finds the country schema when the first 64 networks carry none', () => {
    const networks: Record<string, { country_code: string }> = {
      '0.0.0.0/1': { country_code: 'zz' },
      '8.0.0.0/30': { country_code: 'XX1' },
      '0.0.0.0/32': { country_code: 'zz' },
      '81.2.69.160/32': { country_code: 'GB' },
    };
    for (const recordSize of RECORD_SIZES) {
      const db = Buffer.from(writeMmdb({ ipVersion: 4, recordSize, databaseType: 'country', networks }));
      const mmdb = openMmdb(db, 'the fixture');
      expect(mmdb.country('81.2.69.160')).toBe('GB');
      expect(mmdb.country('81.2.69.161')).toBe(null);
    }
  });

  it('gives every IPv4 address the record an IPv6 tree puts on a prefix of ::/96, as mmdb-lib does', () => {
    for (const recordSize of RECORD_SIZES) {
      const db = Buffer.from(
        writeMmdb({
          ipVersion: 6,
          recordSize,
          databaseType: 'country',
          networks: { '::/8': { country_code: 'SE' }, '2001:4860::/32': { country_code: 'US' } },
        }),
      );
      const reader = new Reader<never>(db);
      const mmdb = openMmdb(db, 'the fixture');
      expect(libCountry(reader, '81.2.69.160')).toBe('SE');
      expect(mmdb.country('81.2.69.160')).toBe('SE');
      expect(mmdb.country('2001:4860::1')).toBe('US');
    }
  });
});
