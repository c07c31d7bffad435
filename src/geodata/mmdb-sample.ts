/** Addresses to probe a database with: its first networks in tree order, and a spread over all of IPv4. */
import type { Metadata } from 'mmdb-lib/lib/metadata.js';
import { dottedQuad } from '../core/ip.js';
import { readRecord } from './mmdb-tree.js';

/**
 * Addresses of the first networks in tree order (at most `limit`): real records to read, whatever ranges the data
 * covers. Yielded as the walk finds them, so that a caller that stops early (the schema probe, which the bundled
 * data answers on its first record) walks no further: the whole 64 cost a cold start 1.5-4 ms, the first 0.3.
 */
export function* sampleNetworks(db: Buffer, m: Metadata, limit: number): Generator<string, void, undefined> {
  const width = m.ipVersion === 6 ? 128 : 32;
  const bits = new Uint8Array(width);
  let found = 0;
  let budget = 100_000; // nodes, should the tree be odd
  const address = (): string => {
    const groups: string[] = [];
    for (let i = 0; i < width; i += width === 32 ? 8 : 16) {
      let v = 0;
      for (let j = i; j < i + (width === 32 ? 8 : 16); j++) v = v * 2 + bits[j]!;
      groups.push(width === 32 ? String(v) : v.toString(16));
    }
    return groups.join(width === 32 ? '.' : ':');
  };
  function* visit(node: number, depth: number): Generator<string, void, undefined> {
    for (let bit = 0; bit < 2 && found < limit && budget-- > 0; bit++) {
      bits[depth] = bit;
      const next = readRecord(db, m, node, bit);
      if (next > m.nodeCount) {
        found++;
        yield address();
      } else if (next < m.nodeCount && depth + 1 < width) yield* visit(next, depth + 1);
    }
    bits[depth] = 0;
  }
  yield* visit(0, 0);
}

/**
 * `count` IPv4 addresses spread evenly over the whole address space: with 1024 of them every /8 is hit four
 * times, so a comparison of two databases sees every region's registries rather than the first few networks.
 */
export function spreadAddresses(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const v = Math.floor(((i + 0.5) * 2 ** 32) / count);
    out.push(dottedQuad(v));
  }
  return out;
}
