/** Compiles feeds' overlapping ranges into sorted, disjoint segments, each labelled with every source covering it. */
import { FEED_KIND, type FeedInput, type FeedName, type FeedSummary, NATURE_KINDS } from './types.js';

/** One list a segment can come from: a feed, a network inside it, and (relay only) a country. */
export interface NatureSource {
  feed: FeedName;
  network: string;
  country: string | null;
}

/** Disjoint, ascending segments of one family; `label[i]` indexes `CompiledNature.labels`. */
export interface CompiledFamily {
  first: bigint[];
  last: bigint[];
  label: number[];
}

/** The whole compiled dataset, before it is written as bytes. */
export interface CompiledNature {
  feeds: FeedSummary[];
  /** In precedence order: kind, then the feeds' order, then network, then country. */
  sources: NatureSource[];
  /** Each distinct set of sources covering a segment, as ascending source indexes (the first is the match). */
  labels: number[][];
  v4: CompiledFamily;
  v6: CompiledFamily;
}

/** How a decision names a feed's own list when the feed has a single network. */
export function defaultNetwork(feed: FeedName): string {
  return feed === 'icloud-relay' ? 'icloud-private-relay' : feed;
}

const byPosition = (a: [bigint, number], b: [bigint, number]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

/** Sorts and unions ranges (adjacent ones join), so that one source is never active twice at an address. */
function union(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [first, last] of ranges) {
    const prev = out[out.length - 1];
    if (prev && first <= prev[1] + 1n) {
      if (last > prev[1]) prev[1] = last;
    } else out.push([first, last]);
  }
  return out;
}

/** Sweeps one family's per-source unions into labelled segments; `labelOf` interns each active set. */
function sweep(
  perSource: Array<Array<[bigint, bigint]>>,
  labelOf: (active: number[]) => number,
): CompiledFamily {
  const events: Array<[bigint, number]> = []; // [position, id + 1 to open, -(id + 1) to close]
  perSource.forEach((ranges, id) => {
    for (const [first, last] of ranges) events.push([first, id + 1], [last + 1n, -(id + 1)]);
  });
  events.sort(byPosition);
  const out: CompiledFamily = { first: [], last: [], label: [] };
  const active: number[] = [];
  for (let i = 0; i < events.length; ) {
    const pos = events[i]![0];
    for (; i < events.length && events[i]![0] === pos; i++) {
      const e = events[i]![1];
      if (e > 0) active.splice(sortedIndex(active, e - 1), 0, e - 1);
      else active.splice(active.indexOf(-e - 1), 1);
    }
    if (active.length === 0 || i === events.length) continue;
    const label = labelOf(active);
    const end = events[i]![0] - 1n;
    const n = out.first.length;
    if (n > 0 && out.label[n - 1] === label && out.last[n - 1]! + 1n === pos) out.last[n - 1] = end;
    else {
      out.first.push(pos);
      out.last.push(end);
      out.label.push(label);
    }
  }
  return out;
}

function sortedIndex(sorted: number[], v: number): number {
  let i = 0;
  while (i < sorted.length && sorted[i]! < v) i++;
  return i;
}

/**
 * Compiles feeds into one dataset. Sources are ordered by precedence (relay, tor, vpn, hosting; then the order
 * of `feeds`; then network and country names), so a segment's first source is the match a decision reports.
 * A relay range keeps its country; other kinds' countries are dropped (they describe the server, not the user).
 */
export function compileNature(feeds: readonly FeedInput[]): CompiledNature {
  type Entry = {
    source: NatureSource;
    rank: [number, number];
    4: Array<[bigint, bigint]>;
    6: Array<[bigint, bigint]>;
  };
  const keyed = new Map<string, Entry>();
  feeds.forEach((feed, feedIndex) => {
    const kind = FEED_KIND[feed.name];
    for (const r of feed.ranges) {
      const network = r.network ?? defaultNetwork(feed.name);
      const country = kind === 'relay' ? (r.country ?? null) : null;
      const key = `${feed.name}\u0000${network}\u0000${country ?? ''}`;
      let entry = keyed.get(key);
      if (!entry) {
        const rank: [number, number] = [NATURE_KINDS.indexOf(kind), feedIndex];
        entry = { source: { feed: feed.name, network, country }, rank, 4: [], 6: [] };
        keyed.set(key, entry);
      }
      entry[r.family].push([r.first, r.last]);
    }
  });
  const entries = [...keyed.values()].sort(
    (a, b) =>
      a.rank[0] - b.rank[0] ||
      a.rank[1] - b.rank[1] ||
      cmp(a.source.network, b.source.network) ||
      cmp(a.source.country ?? '', b.source.country ?? ''),
  );
  const labels: number[][] = [];
  const labelIds = new Map<string, number>();
  const labelOf = (active: number[]): number => {
    const key = active.join(',');
    let id = labelIds.get(key);
    if (id === undefined) {
      id = labels.push([...active]) - 1;
      labelIds.set(key, id);
    }
    return id;
  };
  const v4 = sweep(
    entries.map((e) => union(e[4])),
    labelOf,
  );
  const v6 = sweep(
    entries.map((e) => union(e[6])),
    labelOf,
  );
  const summary = feeds.map((feed): FeedSummary => {
    const ids = new Set(entries.flatMap((e, id) => (e.source.feed === feed.name ? [id] : [])));
    let ranges = 0;
    for (const fam of [v4, v6]) ranges += countRuns(fam, (label) => labels[label]!.some((s) => ids.has(s)));
    return {
      name: feed.name,
      kind: FEED_KIND[feed.name],
      version: feed.version,
      ranges,
      skipped: feed.skipped ?? 0,
    };
  });
  return { feeds: summary, sources: entries.map((e) => e.source), labels, v4, v6 };
}

/** Contiguous runs of segments whose label passes `has`: one feed's ranges after merging. */
export function countRuns(fam: CompiledFamily, has: (label: number) => boolean): number {
  let runs = 0;
  for (let i = 0; i < fam.first.length; i++) {
    if (!has(fam.label[i]!)) continue;
    if (i === 0 || !has(fam.label[i - 1]!) || fam.last[i - 1]! + 1n !== fam.first[i]) runs++;
  }
  return runs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
