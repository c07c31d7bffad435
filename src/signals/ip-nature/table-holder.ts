/** Holds the IP-nature table a core reads: loaded once (lazily or at `ready()`), replaceable by a reload. */
import { builtin } from '../../core/builtins.js';
import { IpMatchConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import { resolveDataDir } from '../../geodata/dir.js';
import { type FileWatch, RELOAD_INTERVAL_MS, watchFile } from '../../geodata/file-watch.js';
import { loadBundledNatureTable, loadNatureTable, type NatureTable } from '../../geodata/nature/index.js';
import { NATURE_MAX_AGE_DAYS, naturePathInDataDir } from '../../geodata/nature-files.js';

/** Where the table comes from and how old it may get. */
export interface NatureTableOptions {
  /**
   * A path to an IP-nature file, or its bytes. Default: the data dir's `ip-nature.bin` (written by
   * `npx ipmatch db update`) when it is valid and built after the bundled snapshot, else the bundled snapshot.
   */
  database?: string | Uint8Array | undefined;
  /**
   * Given data built longer ago than this earns one warning (IPMATCH_DATA_STALE, `dataset: 'ip-nature'`).
   * Default 7. The bundled snapshot's age is said by the GeoIP data's own line, once a process: the same
   * `npx ipmatch db update` refreshes both.
   */
  maxAgeDays?: number | undefined;
  /**
   * The provider's `reload`: poll the file (every 60 s, or `intervalMs`) and swap in a replacement once it
   * validates; a broken one is never swapped in (IPMATCH_DATA_RELOAD_FAILED). Default: on for the data dir's
   * file (without `database`), off for a given path; never for bytes.
   */
  reload?: boolean | { intervalMs: number } | undefined;
}

const DAY_MS = 86_400_000;

/** The table, loaded on first need; a failed load is said once and leaves checks without nature signals. */
export class NatureTableHolder {
  #table: NatureTable | undefined;
  #error: Error | undefined;
  #said = false;
  #watch: FileWatch | undefined;
  readonly #options: NatureTableOptions;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(options: NatureTableOptions, logger: Logger, now: () => number = Date.now) {
    this.#options = options;
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * The table, or null when it could not be loaded: the first check without it says so through the logger
   * (whether or not `ready()` rejected first), later ones stay quiet. Never throws.
   */
  get(): NatureTable | null {
    if (this.#table) return this.#table;
    if (this.#said) return null;
    try {
      return this.load();
    } catch (err) {
      this.#said = true;
      this.#logger.error('ipmatch: the IP-nature data cannot be read; checks go on without its signals', {
        code: 'IPMATCH_IP_NATURE_UNAVAILABLE',
        error: (err as Error).message.slice(0, 300),
      });
      return null;
    }
  }

  /** Loads the table now. Throws IpMatchDataError (a broken file) or IpMatchConfigError (nothing to read). */
  load(): NatureTable {
    if (this.#table) return this.#table;
    if (this.#error) throw this.#error;
    const { database } = this.#options;
    let bundled = false;
    try {
      if (database !== undefined) this.#table = loadNatureTable(database);
      else {
        const bundledTable = loadBundledNatureTable();
        const installed = dataDirTable();
        bundled = !installed || installed.builtAt <= bundledTable.builtAt;
        this.#table = bundled ? bundledTable : installed!;
      }
    } catch (err) {
      this.#error =
        err instanceof Error
          ? err
          : new IpMatchConfigError('IP-nature data', [`ipNature.database: ${String(err)}`]);
      throw this.#error;
    }
    if (!bundled) this.#warnIfStale(this.#table);
    this.#startWatch();
    return this.#table;
  }

  /** Stops watching the file. */
  close(): void {
    this.#watch?.close();
    this.#watch = undefined;
  }

  /** Watches the file a reload reads: the given path when `reload` is set, else the data dir's file. */
  #startWatch(): void {
    const { database, reload } = this.#options;
    if (this.#watch || reload === false || typeof database === 'object') return;
    if (typeof database === 'string' && reload === undefined) return;
    const path = database ?? dataDirPath();
    if (path === undefined) return;
    const intervalMs = typeof reload === 'object' ? reload.intervalMs : RELOAD_INTERVAL_MS;
    this.#watch = watchFile(path, intervalMs, async () => this.#reload(path));
    this.#watch.markRead();
  }

  async #reload(path: string): Promise<boolean> {
    try {
      this.replace(loadNatureTable(path));
      return true;
    } catch (err) {
      this.#logger.warn(
        `ipmatch: the IP-nature file ${path} changed but is not valid; the data in use stays`,
        {
          code: 'IPMATCH_DATA_RELOAD_FAILED',
          dataset: 'ip-nature',
          error: (err as Error).message.slice(0, 300),
        },
      );
      return false;
    }
  }

  /** Puts a newer, already validated table in service (a reload): the next check reads it. */
  replace(table: NatureTable): void {
    this.#table = table;
    this.#error = undefined;
    this.#said = false;
  }

  #warnIfStale(table: NatureTable): void {
    const maxAgeDays = this.#options.maxAgeDays ?? NATURE_MAX_AGE_DAYS;
    const ageDays = Math.floor((this.#now() - table.builtAt.getTime()) / DAY_MS);
    if (ageDays <= maxAgeDays) return;
    this.#logger.warn(
      `ipmatch: the IP-nature data (${this.#options.database === undefined ? 'data dir' : 'ipNature.database'}) was built ${ageDays} days ago, older than ${maxAgeDays} ` +
        'days: Tor exits, VPN endpoints and relay egress move within days. Refresh it daily (cron), e.g. with ' +
        '`npx ipmatch db update`.',
      { code: 'IPMATCH_DATA_STALE', dataset: 'ip-nature', builtAt: table.header.builtAt, ageDays },
    );
  }
}

/** The path of the data dir's table, or undefined on a runtime without files. */
function dataDirPath(): string | undefined {
  if (!builtin('node:fs') || !builtin('node:os') || !builtin('node:path')) return undefined;
  return naturePathInDataDir(resolveDataDir().dir);
}

/** The data dir's installed table, or undefined when there is none, no data dir here, or it does not load. */
function dataDirTable(): NatureTable | undefined {
  const path = dataDirPath();
  if (path === undefined) return undefined;
  try {
    return builtin('node:fs')!.existsSync(path) ? loadNatureTable(path) : undefined;
  } catch {
    // A broken installed file is never put in service: the updater validates before it installs, so this is
    // a file changed by hand; the bundled snapshot serves.
    return undefined;
  }
}
