/** Polls a file for replacement (stat: inode, size, mtime) and hands each new version of it to a callback. */
import { requireBuiltin } from '../core/builtins.js';

/** How often a data file is looked at for a replacement, by default: the GeoIP and the IP-nature data alike. */
export const RELOAD_INTERVAL_MS = 60_000;

/** A watched file, looked at every interval and on demand. */
export interface FileWatch {
  /**
   * Looks at the file now: when it changed since it was last seen, resolves what `onChange` resolves, else
   * false (unchanged, or missing). Calls made while a look is running share it.
   */
  check(): Promise<boolean>;
  /** Takes the file as it is now as seen: its reader has just read it, so only a later change counts. */
  markRead(): void;
  /** Stops the timer. */
  close(): void;
}

/** A file's identity: a rename gives a new inode, an in-place write a new size or mtime. */
function versionOf(stat: { ino: number; size: number; mtimeMs: number }): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/**
 * Watches `path` every `intervalMs` (an unref'd timer: it never keeps a process alive). Each version is handed
 * to `onChange` once, whatever it resolves, so that a broken file is not re-read at every tick. Throws
 * IpMatchConfigError on a runtime without a file system.
 */
export function watchFile(
  path: string,
  intervalMs: number,
  onChange: (version: string) => Promise<boolean>,
): FileWatch {
  const fs = requireBuiltin('node:fs', 'reload watches a file: it works on Node, Bun and Deno');
  const current = (): string | undefined => {
    try {
      return versionOf(fs.statSync(path));
    } catch {
      return undefined;
    }
  };
  let seen: string | undefined;
  let looking: Promise<boolean> | undefined;
  const check = (): Promise<boolean> => {
    looking ??= (async () => {
      const version = current();
      if (version === undefined || version === seen) return false;
      seen = version;
      return onChange(version);
    })().finally(() => {
      looking = undefined;
    });
    return looking;
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref?.();
  return {
    check,
    markRead() {
      seen = current();
    },
    close() {
      clearInterval(timer);
    },
  };
}
