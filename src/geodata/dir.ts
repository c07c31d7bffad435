/** The data dir (option > IPMATCH_DATA_DIR > the user cache dir) and the files the updater keeps in it. */
import { requireBuiltin } from '../core/builtins.js';

/** The files the updater keeps in a data dir. Plain MMDB bytes, so that any MMDB tool can read them. */
export const DATA_FILES = {
  current: 'current.mmdb',
  previous: 'previous.mmdb',
  manifest: 'manifest.json',
  lock: 'update.lock',
} as const;

/** Where the data dir came from, for `ipmatch db` and `info()`. */
export type DataDirOrigin = 'option' | 'IPMATCH_DATA_DIR' | 'cache';

type Env = Record<string, string | undefined>;

const NODE_ONLY = 'the data dir is a folder on disk: pass `database` as bytes on this runtime';

/**
 * The data dir: `dir` (the `--dir` flag or option) > `IPMATCH_DATA_DIR` > the user's cache dir
 * (`$XDG_CACHE_HOME/ipmatch`, else `~/.cache/ipmatch`; `%LOCALAPPDATA%\ipmatch` on Windows). Node only.
 */
export function resolveDataDir(
  dir?: string,
  env: Env = (globalThis as { process?: { env: Env } }).process?.env ?? {},
): { dir: string; origin: DataDirOrigin } {
  const path = requireBuiltin('node:path', NODE_ONLY);
  if (dir) return { dir: path.resolve(dir), origin: 'option' };
  if (env.IPMATCH_DATA_DIR) return { dir: path.resolve(env.IPMATCH_DATA_DIR), origin: 'IPMATCH_DATA_DIR' };
  const os = requireBuiltin('node:os', NODE_ONLY);
  const base =
    os.platform() === 'win32'
      ? (env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'))
      : env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
        ? env.XDG_CACHE_HOME
        : path.join(os.homedir(), '.cache');
  return { dir: path.join(base, 'ipmatch'), origin: 'cache' };
}

/** The path of one of the data dir's files. */
export function dataFile(dir: string, name: keyof typeof DATA_FILES): string {
  return requireBuiltin('node:path', NODE_ONLY).join(dir, DATA_FILES[name]);
}

/**
 * A temporary file in the data dir itself, so that the final rename never crosses a file system (EXDEV).
 * The `.ipmatch-` prefix lets the next updater remove what a killed one left.
 */
export function tempFile(dir: string, what: string): string {
  const path = requireBuiltin('node:path', NODE_ONLY);
  const { randomBytes } = requireBuiltin('node:crypto', NODE_ONLY);
  return path.join(dir, `${TEMP_PREFIX}${what}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export const TEMP_PREFIX = '.ipmatch-';
