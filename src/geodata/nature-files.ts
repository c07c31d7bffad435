/** The IP-nature files the updater keeps in the data dir, beside the country MMDB, and their paths. */
import { requireBuiltin } from '../core/builtins.js';

/** `ip-nature.bin` is what readers load; the one it replaced and the manifest of feeds sit beside it. */
export const NATURE_FILES = {
  current: 'ip-nature.bin',
  previous: 'ip-nature.previous.bin',
  manifest: 'ip-nature.json',
} as const;

/** How old the IP-nature data may grow before the signals warn: Tor and relay lists go stale in days. */
export const NATURE_MAX_AGE_DAYS = 7;

/** The path of one of the IP-nature files in a data dir. */
export function natureFile(dir: string, name: keyof typeof NATURE_FILES): string {
  return requireBuiltin('node:path', 'the data dir is a folder on disk').join(dir, NATURE_FILES[name]);
}

/** The installed IP-nature table in a data dir (`ip-nature.bin`), which running servers watch and reload. */
export function naturePathInDataDir(dir: string): string {
  return natureFile(dir, 'current');
}
