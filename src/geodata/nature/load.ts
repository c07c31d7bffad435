/** Loads an IP-nature table from a path (Node, Bun, Deno) or from bytes (Workers and bundles). */
import { requireBuiltin } from '../../core/builtins.js';
import { NatureTable } from './table.js';

/** The table in `source`: a path to read, or the file's bytes. Throws IpMatchDataError for a broken file. */
export function loadNatureTable(source: string | Uint8Array): NatureTable {
  if (typeof source !== 'string') return new NatureTable(source);
  const fs = requireBuiltin('node:fs', 'pass the IP-nature data as bytes (a Uint8Array) on this runtime');
  return new NatureTable(fs.readFileSync(source), source, true);
}
