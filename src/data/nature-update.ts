/** The IP-nature half of `updateDatabase()`: every feed refreshed on its own, compiled, validated, installed. */
import { builtin } from '../core/builtins.js';
import { IpMatchDataError } from '../geodata/errors.js';
import {
  bundledNaturePath,
  compileNature,
  FEED_NAMES,
  type FeedName,
  loadNatureTable,
  type NatureTable,
  writeNatureTable,
} from '../geodata/nature/index.js';
import { NATURE_MAX_AGE_DAYS, natureFile } from '../geodata/nature-files.js';
import { feedDocuments } from './feed-sources.js';
import { parseHostingAsnList } from './feeds/index.js';
import { installAs } from './install.js';
import { type FeedRun, type FeedUpdate, refreshFeed } from './nature-feed.js';
import { readNatureManifest, writeNatureManifest } from './nature-manifest.js';

export type { FeedUpdate } from './nature-feed.js';

/** What an IP-nature update did. When no feed could be used it rejects (`no_feed_usable`) and changes nothing. */
export interface NatureUpdateResult {
  dataset: 'ip-nature';
  status: 'updated';
  /** The data dir's `ip-nature.bin`. */
  path: string;
  sha256: string;
  /** When the installed table was compiled (ISO 8601): the date the stale warning counts from. */
  builtAt: string;
  /** When the table this one replaced was compiled; null when the data dir had none. */
  previousBuiltAt: string | null;
  /** The age in days past which the IP-nature signals warn that the data is stale. */
  maxAgeDays: number;
  /** Each feed, in `FEED_NAMES` order. */
  feeds: FeedUpdate[];
}

/** What the IP-nature update takes from `updateDatabase`'s run (options checked, lock held). */
export interface NatureUpdateRun extends Omit<FeedRun, 'previous' | 'installed' | 'hostingAsns'> {
  dir: string;
  feeds: Partial<Record<FeedName, string>>;
  stillHeld: () => Promise<boolean>;
}

/** The table readers use now: the data dir's if it loads, else the bundled snapshot, else none. */
function previousTable(dir: string): { table: NatureTable | null; fromDataDir: boolean } {
  try {
    return { table: loadNatureTable(natureFile(dir, 'current')), fromDataDir: true };
  } catch {
    try {
      return { table: loadNatureTable(bundledNaturePath()), fromDataDir: false };
    } catch {
      return { table: null, fromDataDir: false };
    }
  }
}

/** The curated hosting ASNs (`data/hosting-asns.txt`, shipped beside the bundled snapshot). */
async function hostingAsns(): Promise<ReadonlyMap<number, string>> {
  const fs = builtin('node:fs')!;
  const path = builtin('node:path')!;
  const file = path.join(path.dirname(bundledNaturePath()), 'hosting-asns.txt');
  const list = parseHostingAsnList(await fs.promises.readFile(file, 'utf8'));
  if (list.problems.length > 0) {
    throw new IpMatchDataError('invalid_database', `${file}: ${list.problems.join('; ')}`);
  }
  return list.networks;
}

/** Writes the bytes to a fresh temp file and fsyncs it. */
async function writeTemp(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await builtin('node:fs')!.promises.open(path, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Refreshes every feed in parallel, compiles the fresh ranges with the kept ones, validates the new file by
 * loading it, and installs it atomically as `ip-nature.bin` (the old one stays as `ip-nature.previous.bin`).
 */
export async function updateNature(run: NatureUpdateRun): Promise<NatureUpdateResult> {
  const { createHash } = builtin('node:crypto')!;
  const { table: previous, fromDataDir } = previousTable(run.dir);
  // What the manifest said of the installed ranges (when they were fetched), if they are the data dir's.
  const before = fromDataDir ? await readNatureManifest(run.dir) : null;
  const feedRun: FeedRun = { ...run, previous, installed: fromDataDir, hostingAsns: await hostingAsns() };
  const outcomes = await Promise.all(
    FEED_NAMES.map((name) => refreshFeed(name, feedDocuments(name, run.feeds[name]), feedRun)),
  );
  if (!outcomes.some((o) => o.report.status === 'updated')) {
    const why = outcomes.map((o) => `${o.report.name}: ${o.report.error ?? o.report.status}`);
    throw new IpMatchDataError(
      'no_feed_usable',
      `no IP-nature feed could be used, nothing installed (${why.join('; ')})`,
    );
  }
  const compiled = compileNature(outcomes.flatMap((o) => (o.input ? [o.input] : [])));
  const builtAt = new Date().toISOString();
  const bytes = writeNatureTable(compiled, builtAt);
  const tmp = run.temp('ip-nature');
  await writeTemp(tmp, bytes);
  loadNatureTable(tmp); // a broken file is never swapped in: it must load as a reader loads it
  if (!(await run.stillHeld())) {
    throw new IpMatchDataError(
      'locked',
      'another updater took the lock over while this one ran: nothing installed',
    );
  }
  await installAs(run.dir, tmp, natureFile(run.dir, 'current'), natureFile(run.dir, 'previous'));

  const feeds = outcomes.map((o) => {
    const summary = compiled.feeds.find((f) => f.name === o.report.name);
    const report: FeedUpdate = { ...o.report, ranges: summary?.ranges ?? 0 };
    const last = before?.feeds.find((f) => f.name === o.report.name);
    return {
      report,
      url: o.url ?? last?.url ?? null,
      version: summary?.version ?? null,
      fetchedAt: o.fetchedAt ?? last?.fetchedAt ?? null,
    };
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await writeNatureManifest(run.dir, {
    builtAt,
    installedAt: new Date().toISOString(),
    sha256,
    size: bytes.length,
    feeds: feeds.map((f) => ({ ...f.report, url: f.url, version: f.version, fetchedAt: f.fetchedAt })),
  });
  return {
    dataset: 'ip-nature',
    status: 'updated',
    path: natureFile(run.dir, 'current'),
    sha256,
    builtAt,
    previousBuiltAt: fromDataDir ? (previous?.header.builtAt ?? null) : null,
    maxAgeDays: NATURE_MAX_AGE_DAYS,
    feeds: feeds.map((f) => f.report),
  };
}
