/** Where the bundled IP-nature snapshot ships: `data/ip-nature.bin` at the package root (package.json `files`). */
import { builtin } from '../../core/builtins.js';
import { IpMatchConfigError } from '../../core/errors.js';

/** The snapshot's path inside the package, beside package.json. */
export const BUNDLED_NATURE_FILE = 'data/ip-nature.bin';

/**
 * The path of the bundled snapshot. The package resolves itself by name (`ipmatch/package.json` is exported),
 * which works from dist/ (ESM and CJS) and from src/ alike. Throws IpMatchConfigError on a runtime without
 * files, naming what to pass instead.
 */
export function bundledNaturePath(): string {
  const mod = builtin('node:module');
  const path = builtin('node:path');
  if (!mod || !path) {
    throw new IpMatchConfigError('IP-nature data', [
      'ipNature.database: this runtime has no file system, so the bundled data cannot be read: pass ' +
        '`database` as the bytes of an IP-nature file (a Uint8Array), e.g. from your bundle or a KV store.',
    ]);
  }
  const url = import.meta.url as string | undefined;
  const manifest = (url ? mod.createRequire(url) : require).resolve('ipmatch/package.json');
  return path.join(path.dirname(manifest), BUNDLED_NATURE_FILE);
}
