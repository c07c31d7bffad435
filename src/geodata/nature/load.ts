/** Loads an IP-nature table from a path (Node, Bun, Deno) or from bytes (Workers and bundles). */
import { requireBuiltin } from '../../core/builtins.js';
import { bundledNaturePath } from './bundled.js';
import { NatureTable } from './table.js';

/** The table in `source`: a path to read, or the file's bytes. Throws IpMatchDataError for a broken file. */
export function loadNatureTable(source: string | Uint8Array): NatureTable {
  if (typeof source !== 'string') return new NatureTable(source);
  const fs = requireBuiltin('node:fs', 'pass the IP-nature data as bytes (a Uint8Array) on this runtime');
  return new NatureTable(fs.readFileSync(source), source, { shared: true });
}

/**
 * The snapshot shipped in this package: its header, counts and size are checked, not each segment's order (the
 * file is ours; a data dir's file or bytes passed go through `loadNatureTable`, checked in full).
 */
export function loadBundledNatureTable(): NatureTable {
  const path = bundledNaturePath();
  const fs = requireBuiltin('node:fs', 'pass the IP-nature data as bytes (a Uint8Array) on this runtime');
  return new NatureTable(fs.readFileSync(path), path, { shared: true, bundled: true });
}
