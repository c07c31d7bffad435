/** Loads an IP-nature table from a path (Node, Bun, Deno) or from bytes (Workers and bundles). */
import { requireBuiltin } from '../../core/builtins.js';
import { bundledNaturePath } from './bundled.js';
import type { ReadHow } from './format.js';
import { NatureTable } from './table.js';

/** The table in the file at `path`, its columns views over the bytes read (nothing else holds them). */
function readTable(path: string, how: ReadHow): NatureTable {
  const fs = requireBuiltin('node:fs', 'pass the IP-nature data as bytes (a Uint8Array) on this runtime');
  return new NatureTable(fs.readFileSync(path), path, { ...how, shared: true });
}

/** The table in `source`: a path to read, or the file's bytes. Throws IpMatchDataError for a broken file. */
export function loadNatureTable(source: string | Uint8Array): NatureTable {
  return typeof source === 'string' ? readTable(source, {}) : new NatureTable(source);
}

/**
 * The snapshot shipped in this package: its header, counts and size are checked, not each segment's order (the
 * file is ours; a data dir's file or bytes passed go through `loadNatureTable`, checked in full).
 */
export function loadBundledNatureTable(): NatureTable {
  return readTable(bundledNaturePath(), { bundled: true });
}
