/** Holds the IP-nature table a core reads: loaded once (lazily or at `ready()`), replaceable by a reload. */
import { builtin } from '../../core/builtins.js';
import { IpMatchConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import { resolveDataDir } from '../../geodata/dir.js';
import { bundledNaturePath, loadNatureTable, type NatureTable } from '../../geodata/nature/index.js';
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
}

const DAY_MS = 86_400_000;

/** The table, loaded on first need; a failed load is said once and leaves checks without nature signals. */
export class NatureTableHolder {
  #table: NatureTable | undefined;
  #error: Error | undefined;
  #said = false;
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
        const bundledTable = loadNatureTable(bundledNaturePath());
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
    return this.#table;
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

/** The data dir's installed table, or undefined when there is none, no data dir here, or it does not load. */
function dataDirTable(): NatureTable | undefined {
  const fs = builtin('node:fs');
  if (!fs || !builtin('node:os') || !builtin('node:path')) return undefined;
  try {
    const path = naturePathInDataDir(resolveDataDir().dir);
    return fs.existsSync(path) ? loadNatureTable(path) : undefined;
  } catch {
    // A broken installed file is never put in service: the updater validates before it installs, so this is
    // a file changed by hand; the bundled snapshot serves.
    return undefined;
  }
}
