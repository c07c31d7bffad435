/** The report's figures, built line by line from decision logs within fixed bounds. */
import type { Report } from './figures.js';
import { LIMITS, type ReportLimits } from './limits.js';
import type { LoggedDecision } from './parse-line.js';
import { pairKey, RouteCounts, topPairs } from './route-counts.js';
import { routeMatcher } from './route-pattern.js';
import { SignalCounts } from './signal-counts.js';
import { Tally } from './tally.js';
import { Timeline } from './timeline.js';
import { CANDIDATES } from './what-if.js';

/** What `--since`, `--until` and `--route` keep. */
export interface ReportFilters {
  /** Inclusive, ms since the epoch. */
  since?: number;
  /** Exclusive, ms since the epoch. */
  until?: number;
  /** An exact route, or a pattern where `*` stands for anything. */
  route?: string;
}

/** The row that counts every route past `limits.routes`, named so in the figures. */
export const OTHER_ROUTES = '(other routes)';
const TOP_PAIRS = 20;
const FIRST_BAD_LINES = 5;

/**
 * Folds decision-log lines into the report's figures, one line at a time. Memory is bounded whatever the log:
 * every per-name count is a capped Tally (see ReportLimits), the timeline coarsens as its span grows, and
 * repeated numbers are counted on 52 bits of each `phoneKey`, a number in a capped Set.
 */
export class ReportBuilder {
  readonly #filters: ReportFilters;
  readonly #limits: ReportLimits;
  readonly #routeMatches: ((route: string | null) => boolean) | undefined;
  readonly #all: RouteCounts;
  readonly #routes = new Map<string | null, RouteCounts>();
  #otherRoutes: RouteCounts | undefined;
  readonly #mismatchPairs: Tally;
  readonly #errors: Tally;
  readonly #signals: SignalCounts;
  readonly #timeline = new Timeline();
  readonly #seenPhones = new Set<number>();
  readonly #repeatedPhones = new Set<number>();
  readonly #bad: Report['input']['bad']['first'] = [];
  readonly #sources: string[] = [];
  /** Which candidates block the line at hand: one array reused for every line. */
  readonly #blocks = CANDIDATES.map(() => false);
  #keyed = 0;
  /** A keyed number came after `limits.phones` distinct ones were held, and was not remembered. */
  #phonesCapped = false;
  #badCount = 0;
  #lines = 0;
  #filtered = 0;
  #mismatches = 0;
  #from = Number.POSITIVE_INFINITY;
  #to = Number.NEGATIVE_INFINITY;

  constructor(filters: ReportFilters = {}, limits: ReportLimits = LIMITS) {
    this.#filters = filters;
    this.#limits = limits;
    this.#routeMatches = routeMatcher(filters.route);
    this.#all = new RouteCounts({ reasons: limits.reasons, pairs: limits.pairs, names: limits.names });
    this.#mismatchPairs = new Tally(limits.pairs);
    this.#errors = new Tally(limits.names);
    this.#signals = new SignalCounts(limits);
  }

  source(name: string): void {
    this.#sources.push(name);
  }

  bad(source: string, line: number, problem: string): void {
    this.#lines++;
    this.#badCount++;
    if (this.#bad.length < FIRST_BAD_LINES) this.#bad.push({ source, line, problem });
  }

  add(d: LoggedDecision): void {
    this.#lines++;
    const { since, until } = this.#filters;
    if (
      (since !== undefined && d.time < since) ||
      (until !== undefined && d.time >= until) ||
      (this.#routeMatches && !this.#routeMatches(d.route))
    ) {
      this.#filtered++;
      return;
    }
    if (d.time < this.#from) this.#from = d.time;
    if (d.time > this.#to) this.#to = d.time;
    const blocks = this.#blocks;
    let blocked = false;
    for (let i = 0; i < CANDIDATES.length; i++) {
      blocks[i] = CANDIDATES[i]!.blocks(d);
      blocked ||= blocks[i]!;
    }
    // Most lines are matches that no candidate blocks: they need no pair.
    const pair = blocked || d.matchLevel === 'mismatch' ? pairKey(d) : undefined;
    this.#all.add(d, pair, blocks);
    this.#routeCounts(d.route).add(d, pair, blocks);
    if (d.matchLevel === 'mismatch') {
      this.#mismatches++;
      this.#mismatchPairs.add(pair!);
    }
    if (d.errorCode !== null) this.#errors.add(d.errorCode);
    this.#signals.add(d);
    this.#timeline.add(d.time, d.policyAction);
    if (d.phoneKey !== null) this.#countPhone(d.phoneKey);
  }

  /** The route's counts; past `limits.routes` routes, the one row they share. */
  #routeCounts(route: string | null): RouteCounts {
    const held = this.#routes.get(route);
    if (held) return held;
    const limits = {
      reasons: this.#limits.reasons,
      pairs: this.#limits.routePairs,
      names: this.#limits.names,
    };
    if (this.#routes.size >= this.#limits.routes) {
      this.#otherRoutes ??= new RouteCounts(limits);
      return this.#otherRoutes;
    }
    const counts = new RouteCounts(limits);
    this.#routes.set(route, counts);
    return counts;
  }

  #countPhone(phoneKey: string): void {
    this.#keyed++;
    const key = Number.parseInt(phoneKey.slice(0, 13), 16);
    if (Number.isNaN(key)) return;
    if (this.#seenPhones.has(key)) this.#repeatedPhones.add(key);
    else if (this.#seenPhones.size < this.#limits.phones) this.#seenPhones.add(key);
    else this.#phonesCapped = true;
  }

  result(): Report {
    const routes = [...this.#routes].sort((a, b) => b[1].decisions - a[1].decisions);
    const other = this.#otherRoutes;
    const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : null);
    const { since, until, route } = this.#filters;
    return {
      input: {
        sources: this.#sources,
        lines: this.#lines,
        filtered: this.#filtered,
        bad: { count: this.#badCount, first: this.#bad },
      },
      filters: {
        since: since === undefined ? null : iso(since),
        until: until === undefined ? null : iso(until),
        route: route ?? null,
      },
      span: { from: iso(this.#from), to: iso(this.#to) },
      totals: this.#all.figures(null),
      routes: [
        ...routes.map(([name, counts]) => counts.figures(name)),
        ...(other ? [{ ...other.figures(OTHER_ROUTES), other: true as const }] : []),
      ],
      pairs: {
        mismatches: this.#mismatches,
        top: topPairs(this.#mismatchPairs, this.#mismatches, TOP_PAIRS),
      },
      errors: this.#errors.entries().map(([code, count]) => ({ code, count })),
      ...this.#signals.figures(this.#all.decisions),
      timeline: this.#timeline.result(),
      whatIf: {
        policies: CANDIDATES.map(({ id, label }) => ({ id, label })),
        rows: [
          { ...this.#all.whatIf(null), all: true },
          ...routes.map(([name, counts]) => counts.whatIf(name)),
          ...(other ? [{ ...other.whatIf(OTHER_ROUTES), other: true as const }] : []),
        ],
      },
      phones:
        this.#keyed === 0
          ? null
          : {
              keyedLines: this.#keyed,
              distinct: this.#seenPhones.size,
              repeated: this.#repeatedPhones.size,
              capped: this.#phonesCapped,
            },
    };
  }
}
