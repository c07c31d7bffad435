/** One IP-nature feed in an update: downloaded, parsed and judged on its own, else its previous ranges kept. */
import { builtin } from '../core/builtins.js';
import { compileNature, type FeedInput, type FeedName, type NatureTable } from '../geodata/nature/index.js';
import { type DownloadLimits, downloadToFile } from './download.js';
import { type FeedDocument, parseFeed } from './feed-sources.js';
import type { ProxySettings } from './proxy.js';
import { redactUrl } from './redact.js';

/** What happened to one feed, as `updateDatabase` and `ipmatch db update --json` report it. */
export interface FeedUpdate {
  name: FeedName;
  /**
   * `updated`: fresh ranges are in the new file. `kept`: not fetched (Azure without a URL), its previous ranges
   * stay. `failed`: the download or the document failed, its previous ranges stay. `refused_truncated`: it lost
   * more than half of its ranges (without `force`), its previous ranges stay.
   */
  status: 'updated' | 'kept' | 'failed' | 'refused_truncated';
  /** The feed's ranges in the installed file, after merging. */
  ranges: number;
  /** Entries of this run's documents that did not parse (or spanned more than a /8 or a /19), skipped. */
  skipped: number;
  /** Why it failed or was refused; never holds a secret (URLs are redacted). */
  error?: string;
}

/** What the update needs from the run: limits, proxy, temp files, and what readers used before it. */
export interface FeedRun {
  limits: Required<DownloadLimits>;
  proxy: ProxySettings;
  force: boolean;
  temp: (what: string) => string;
  /** The data dir's table, else the bundled snapshot; null when neither loads. */
  previous: NatureTable | null;
  /** Whether `previous` is the data dir's: only installed data is a measure of truncation, not the snapshot. */
  installed: boolean;
  hostingAsns: ReadonlyMap<number, string>;
}

/** One feed's outcome: the compiler's input (absent when there is nothing to compile) and its report. */
export interface FeedOutcome {
  input: FeedInput | null;
  report: FeedUpdate;
  /** The URLs read (redacted), null when nothing was fetched. */
  url: string | null;
  /** Set when fresh ranges were taken. */
  fetchedAt: string | null;
}

/** Downloads one document within the update's limits and proxy, as UTF-8 text. */
async function download(doc: FeedDocument, run: FeedRun): Promise<string> {
  const fs = builtin('node:fs')!;
  const path = run.temp('feed');
  await downloadToFile({ url: doc.url, headers: {}, limits: run.limits, proxy: run.proxy }, path);
  try {
    return await fs.promises.readFile(path, 'utf8');
  } finally {
    await fs.promises.rm(path, { force: true });
  }
}

/** The ranges the feed had before this run, which a feed that fails or is refused keeps. */
function previousInput(name: FeedName, run: FeedRun): FeedInput | null {
  const summary = run.previous?.header.feeds.find((f) => f.name === name);
  if (!run.previous || !summary) return null;
  return {
    name,
    version: summary.version,
    ranges: run.previous.feedRanges(name),
    skipped: summary.skipped,
  };
}

/** A feed's ranges after merging, counted as the header counts them. */
const mergedCount = (input: FeedInput): number => compileNature([input]).feeds[0]!.ranges;

/** Fetches, parses and judges one feed; never throws: a failure keeps the previous ranges and says why. */
export async function refreshFeed(
  name: FeedName,
  docs: readonly FeedDocument[],
  run: FeedRun,
): Promise<FeedOutcome> {
  const url = docs.length === 0 ? null : docs.map((d) => redactUrl(d.url)).join(' ');
  const kept = (status: FeedUpdate['status'], skipped: number, error?: string): FeedOutcome => ({
    input: previousInput(name, run),
    report: { name, status, ranges: 0, skipped, ...(error === undefined ? {} : { error }) },
    url,
    fetchedAt: null,
  });
  if (docs.length === 0) return kept('kept', 0);
  let texts: Array<{ doc: FeedDocument; text: string }>;
  try {
    texts = await Promise.all(docs.map(async (doc) => ({ doc, text: await download(doc, run) })));
  } catch (error) {
    return kept('failed', 0, (error as Error).message);
  }
  const parsed = parseFeed(name, texts, run.hostingAsns);
  if (parsed.problem !== undefined) {
    return kept('failed', parsed.skipped, `not the publisher's format: ${parsed.problem}`);
  }
  const fetchedAt = new Date().toISOString();
  // Line lists carry no version of their own: the day they were read dates them.
  const input: FeedInput = {
    name,
    version: parsed.version ?? fetchedAt.slice(0, 10),
    ranges: parsed.ranges,
    skipped: parsed.skipped,
  };
  const count = mergedCount(input);
  const before = run.installed ? (run.previous?.header.feeds.find((f) => f.name === name)?.ranges ?? 0) : 0;
  if (!run.force && count * 2 < before) {
    return kept(
      'refused_truncated',
      parsed.skipped,
      `${count} ranges where the installed data has ${before}: more than half lost, refused as truncated ` +
        '(force installs it)',
    );
  }
  return {
    input,
    report: { name, status: 'updated', ranges: 0, skipped: parsed.skipped },
    url,
    fetchedAt,
  };
}
