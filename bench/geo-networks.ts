import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader } from 'mmdb-lib';
import { readRecord } from '../src/geodata/mmdb-tree.js';

/** One IPv4 network of the GeoIP data: its first address as an unsigned 32-bit number, and its size. */
export interface Network {
  start: number;
  size: number;
}

export const DEFAULT_MMDB = createRequire(import.meta.url).resolve(
  '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
);

export const v4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;

/**
 * Every IPv4 network of the bundled GeoIP data, by country, read by walking the MMDB search tree. The bench
 * draws client IPs from these, so that every IP it sends is one the data places in a known country.
 */
export function networksByCountry(path = DEFAULT_MMDB): Map<string, Network[]> {
  const db = readFileSync(path);
  const reader = new Reader<Record<string, unknown>>(db);
  const m = reader.metadata;
  const record = (node: number, right: number): number => readRecord(db, m, node, right);
  // In an IPv6 tree, IPv4 lives under ::/96: 96 left turns from the root.
  let root = 0;
  for (let i = 0; m.ipVersion === 6 && i < 96 && root < m.nodeCount; i++) root = record(root, 0);
  const countryOf = new Map<number, string | null>();
  const byCountry = new Map<string, Network[]>();
  const visit = (node: number, depth: number, prefix: number): void => {
    for (let bit = 0; bit < 2; bit++) {
      const next = record(node, bit);
      const start = (prefix | (bit << (31 - depth))) >>> 0;
      if (next < m.nodeCount) {
        if (depth < 31) visit(next, depth + 1, start);
        continue;
      }
      if (next === m.nodeCount) continue; // no data for this network
      let country = countryOf.get(next);
      if (country === undefined) {
        const code = reader.get(v4(start))?.country_code;
        country = typeof code === 'string' && code.length === 2 ? code.toUpperCase() : null;
        countryOf.set(next, country);
      }
      if (country === null) continue;
      const list = byCountry.get(country) ?? [];
      if (list.length === 0) byCountry.set(country, list);
      list.push({ start, size: 2 ** (31 - depth) });
    }
  };
  visit(root, 0, 0);
  return byCountry;
}
