/** Which GeoIP file a provider reads (given, the data dir's when newer, else the bundled one), and why. */
import { builtin } from '../../core/builtins.js';
import { BUNDLED_SOURCE, bundledDatabasePath } from '../../geodata/bundled.js';
import { dataFile, resolveDataDir } from '../../geodata/dir.js';

/** Where the data in use came from. */
export type GeoIpOrigin = 'data-dir' | 'bundled' | 'path' | 'bytes';

/** Which data a provider reads, and why: what `info()` and `ipmatch db` report. */
export interface Choice {
  /** What to read: a path, or the bytes themselves. */
  path: string | Uint8Array;
  /** How messages and `info().source` name it. */
  source: string;
  origin: GeoIpOrigin;
  reason: string;
  dataDir: string | null;
  /** The data dir's current file: watched when `database` is unset, whichever file is read now. */
  watch?: string;
  /** The choice once the watched file changed to a valid build of `buildDate`; undefined to keep the current one. */
  onReload(buildDate: string): Choice | undefined;
}

const day = (date: Date | string) => new Date(date).toISOString().slice(0, 10);
const keep = () => undefined;

/**
 * Without `database`: the data dir's current file when it is a valid MMDB built after the bundled one,
 * else the bundled file. An explicit path or bytes are used as given. `inspect` checks a file's metadata
 * and returns its build date (throwing IpMatchConfigError when it is not an MMDB). The bundled file, shipped
 * with the package, is inspected only when its build date is needed (a data dir's file to compare, a reload):
 * without one, reading it whole at the first lookup checks it as fully, and a cold start skips its tail.
 */
export function chooseDatabase(
  database: string | Uint8Array | undefined,
  inspect: (path: string) => Date,
): Choice {
  if (typeof database === 'object') {
    return {
      path: database,
      source: 'bytes',
      origin: 'bytes',
      reason: 'passed as bytes',
      dataDir: null,
      onReload: keep,
    };
  }
  if (typeof database === 'string') {
    inspect(database);
    return {
      path: database,
      source: database,
      origin: 'path',
      reason: 'passed as `database`',
      dataDir: null,
      onReload: keep,
    };
  }
  const bundled = bundledDatabasePath();
  let bundledEpoch: number | undefined;
  const bundledBuilt = () => (bundledEpoch ??= inspect(bundled).getTime());
  const bundledChoice = (reason: string, dataDir: string | null, watch?: string): Choice => ({
    path: bundled,
    source: BUNDLED_SOURCE,
    origin: 'bundled',
    reason,
    dataDir,
    ...(watch === undefined ? {} : { watch }),
    onReload: keep,
  });
  if (!builtin('node:os') || !builtin('node:path')) return bundledChoice('no data dir on this runtime', null);
  const { dir } = resolveDataDir();
  const current = dataFile(dir, 'current');
  /** A reloaded data-dir file is taken when it was built after the bundled data (whichever is in service). */
  const reload = (buildDate: string): Choice | undefined =>
    Date.parse(buildDate) > bundledBuilt() ? fromDataDir(Date.parse(buildDate)) : undefined;
  const fromDataDir = (built: number): Choice => ({
    path: current,
    source: current,
    origin: 'data-dir',
    reason: `the data dir's file (built ${day(new Date(built))}) is newer than the bundled data (built ${day(new Date(bundledBuilt()))})`,
    dataDir: dir,
    watch: current,
    onReload: reload,
  });
  const withReload = (choice: Choice): Choice => ({ ...choice, onReload: reload });
  if (!builtin('node:fs')?.existsSync(current)) {
    return withReload(
      bundledChoice('no file in the data dir yet: run `npx ipmatch db update`', dir, current),
    );
  }
  let built: number;
  try {
    built = inspect(current).getTime();
  } catch (e) {
    const why = (e as Error).message.replace(/^ipmatch: invalid GeoIP database: database: /, '');
    return withReload(bundledChoice(`the data dir's file is not usable: ${why}`, dir, current));
  }
  if (built > bundledBuilt()) return fromDataDir(built);
  return withReload(
    bundledChoice(
      `the data dir's file (built ${day(new Date(built))}) is not newer than the bundled data (built ${day(new Date(bundledBuilt()))})`,
      dir,
      current,
    ),
  );
}
