/** `ipmatch db update`'s IP-nature side: `--dataset`, repeatable `--feed NAME=URL`, and the per-feed lines. */
import { nearest } from '../core/validate.js';
import { allowedUrl } from '../data/redact.js';
import type { NatureUpdateResult } from '../data/update.js';
import type { IpMatchDataError } from '../geodata/errors.js';
import { FEED_NAMES, type FeedName } from '../geodata/nature/types.js';
import { naturePathInDataDir } from '../geodata/nature-files.js';
import { UsageError } from './usage-error.js';

export type Dataset = 'country' | 'ip-nature';
const DATASETS: readonly Dataset[] = ['country', 'ip-nature'];

/** `--dataset country|ip-nature`, or undefined when not given (both). */
export function datasetOf(value: string | true | undefined): Dataset | undefined {
  if (value === undefined) return undefined;
  if ((DATASETS as readonly unknown[]).includes(value)) return value as Dataset;
  const hit = nearest(String(value), DATASETS);
  throw new UsageError(
    `--dataset: unknown dataset "${value}"${hit === undefined ? '' : ` (did you mean ${hit}?)`}; expected country or ip-nature`,
  );
}

/**
 * Every `--feed NAME=URL` as `updateDatabase`'s `feeds`: a known feed name, once each, and a URL with
 * `--url`'s rules (https, or http to loopback only). The URL is never echoed: a mirror's may hold a token.
 */
export function feedsOf(values: readonly string[]): Partial<Record<FeedName, string>> {
  const feeds: Partial<Record<FeedName, string>> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq === -1 ? value : value.slice(0, eq);
    if (eq === -1 || eq === value.length - 1) {
      throw new UsageError(
        `--feed: expected NAME=URL, e.g. --feed tor=https://mirror.example/torbulkexitlist`,
      );
    }
    if (!(FEED_NAMES as readonly string[]).includes(name)) {
      const hit = nearest(name, FEED_NAMES);
      throw new UsageError(
        `--feed: unknown feed "${name}"${hit === undefined ? '' : ` (did you mean ${hit}?)`}; expected one of ${FEED_NAMES.join(', ')}`,
      );
    }
    if (Object.hasOwn(feeds, name)) throw new UsageError(`--feed: ${name} is given twice`);
    let ok = false;
    try {
      ok = allowedUrl(new URL(value.slice(eq + 1)));
    } catch {}
    if (!ok) {
      throw new UsageError(
        `--feed ${name}: expected an https URL (plain http only to 127.0.0.1, ::1 or localhost)`,
      );
    }
    feeds[name as FeedName] = value.slice(eq + 1);
  }
  return feeds;
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : 'none');

/** The result on stdout: the file, then one line per feed (what it holds, and why a feed kept old ranges). */
export function formatNatureUpdate(r: NatureUpdateResult): string {
  const width = Math.max(...r.feeds.map((f) => f.name.length));
  const feeds = r.feeds.map((f) => {
    const what =
      f.status === 'updated' ? 'updated' : f.status === 'kept' ? 'kept (no URL)' : `${f.status}, kept`;
    const skipped = f.skipped > 0 ? `, ${f.skipped} skipped` : '';
    return `  ${f.name.padEnd(width)}  ${what}: ${f.ranges} ranges${skipped}${f.error ? ` (${f.error})` : ''}\n`;
  });
  return `updated: IP-nature data built ${day(r.builtAt)} (was ${day(r.previousBuiltAt)}) in ${r.path}\n${feeds.join('')}`;
}

/** A warning on stderr for each feed that failed or was refused: its previous ranges stay in use. */
export function natureWarnings(r: NatureUpdateResult): string {
  return r.feeds
    .filter((f) => f.status === 'failed' || f.status === 'refused_truncated')
    .map(
      (f) =>
        `ipmatch: feed ${f.name} ${f.status.replace('_', ' as ')}, its previous ranges kept: ${f.error}\n`,
    )
    .join('');
}

/** The failed answer: nothing was installed, and the table readers use stays what it was. */
export function natureFailure(dir: string, error: IpMatchDataError) {
  return {
    dataset: 'ip-nature',
    status: 'failed',
    path: naturePathInDataDir(dir),
    error: { code: error.code, message: `db update: ${error.message}` },
  };
}
