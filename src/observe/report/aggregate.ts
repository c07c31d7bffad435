import type { Action, MatchLevel } from '../../core/types.js';
import type {
  ActionCounts,
  BadLine,
  PairFigure,
  Report,
  RouteFigures,
  WhatIfResult,
  WhatIfRow,
} from './figures.js';
import type { LoggedDecision } from './parse-line.js';
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

const TOP_PAIRS = 20;
const TOP_PAIRS_PER_POLICY = 3;
const FIRST_BAD_LINES = 5;
const HOUR = 3_600_000;
/** Spans up to this long are drawn per hour; longer ones per day. */
const HOURLY_UP_TO = 3 * 24 * HOUR;
const ACTION_INDEX: Record<Action, number> = { allow: 0, flag: 1, block: 2 };
const LEVEL_INDEX: Record<MatchLevel, number> = { country: 0, mismatch: 1, unknown: 2 };
const UNKNOWN_COUNTRY = '??';

const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
const pairKey = (d: LoggedDecision) =>
  `${d.phoneCountry ?? UNKNOWN_COUNTRY}>${d.ipCountry ?? UNKNOWN_COUNTRY}`;
const actions = ([allow, flag, block]: number[]): ActionCounts => ({
  allow: allow!,
  flag: flag!,
  block: block!,
});
const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

function topPairs(map: Map<string, number>, whole: number, n: number): PairFigure[] {
  return sorted(map)
    .slice(0, n)
    .map(([key, count]) => {
      const [phoneCountry, ipCountry] = key.split('>') as [string, string];
      return { phoneCountry, ipCountry, count, share: share(count, whole) };
    });
}

/** Running counts for one route (or for all of them). */
class RouteCounts {
  decisions = 0;
  readonly action = [0, 0, 0];
  readonly policy = [0, 0, 0];
  readonly level = [0, 0, 0];
  readonly reasons = new Map<string, number>();
  readonly blocked = CANDIDATES.map(() => 0);
  readonly blockedPairs = CANDIDATES.map(() => new Map<string, number>());

  /** `pair` is computed only when some candidate blocks (`blocks` is not all false). */
  add(d: LoggedDecision, pair: string | undefined, blocks: readonly boolean[]): void {
    this.decisions++;
    this.action[ACTION_INDEX[d.action]]!++;
    this.policy[ACTION_INDEX[d.policyAction]]!++;
    this.level[LEVEL_INDEX[d.matchLevel]]!++;
    bump(this.reasons, d.reason);
    if (pair === undefined) return;
    for (let i = 0; i < blocks.length; i++) {
      if (!blocks[i]) continue;
      this.blocked[i]!++;
      bump(this.blockedPairs[i]!, pair);
    }
  }

  figures(route: string | null): RouteFigures {
    const [country, mismatch, unknown] = this.level as [number, number, number];
    return {
      route,
      decisions: this.decisions,
      byAction: actions(this.action),
      byPolicyAction: actions(this.policy),
      byMatchLevel: { country, mismatch, unknown },
      byReason: Object.fromEntries(sorted(this.reasons)),
    };
  }

  whatIf(route: string | null): WhatIfRow {
    const results: WhatIfResult[] = CANDIDATES.map((c, i) => ({
      policy: c.id,
      blocked: this.blocked[i]!,
      share: share(this.blocked[i]!, this.decisions),
      top: topPairs(this.blockedPairs[i]!, this.blocked[i]!, TOP_PAIRS_PER_POLICY),
    }));
    return { route, decisions: this.decisions, results };
  }
}

/** `*` in a --route pattern stands for anything; every other character is itself. */
function routeMatcher(pattern: string | undefined): ((route: string | null) => boolean) | undefined {
  if (pattern === undefined) return undefined;
  if (!pattern.includes('*')) return (route) => route === pattern;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`^${escaped.join('.*')}$`);
  return (route) => route !== null && re.test(route);
}

/**
 * Folds decision-log lines into the report's figures, one line at a time: memory grows with the number of
 * routes, countries and hours, never with the number of lines. Repeated numbers are counted on 52 bits of each
 * `phoneKey`, a number in a Set, so that a million distinct keys stay in tens of megabytes.
 */
export class ReportBuilder {
  readonly #filters: ReportFilters;
  readonly #routeMatches: ((route: string | null) => boolean) | undefined;
  readonly #all = new RouteCounts();
  readonly #routes = new Map<string | null, RouteCounts>();
  readonly #mismatchPairs = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  readonly #signals = new Map<string, number>();
  readonly #hours = new Map<number, number[]>();
  readonly #seenPhones = new Set<number>();
  readonly #repeatedPhones = new Set<number>();
  readonly #bad: BadLine[] = [];
  readonly #sources: string[] = [];
  /** Which candidates block the line at hand: one array reused for every line. */
  readonly #blocks = CANDIDATES.map(() => false);
  #keyed = 0;
  #badCount = 0;
  #lines = 0;
  #filtered = 0;
  #mismatches = 0;
  #from = Number.POSITIVE_INFINITY;
  #to = Number.NEGATIVE_INFINITY;

  constructor(filters: ReportFilters = {}) {
    this.#filters = filters;
    this.#routeMatches = routeMatcher(filters.route);
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
    let route = this.#routes.get(d.route);
    if (!route) {
      route = new RouteCounts();
      this.#routes.set(d.route, route);
    }
    route.add(d, pair, blocks);
    if (d.matchLevel === 'mismatch') {
      this.#mismatches++;
      bump(this.#mismatchPairs, pair!);
    }
    if (d.errorCode !== null) bump(this.#errors, d.errorCode);
    for (const s of d.signals) bump(this.#signals, s);
    const hour = Math.floor(d.time / HOUR) * HOUR;
    let bucket = this.#hours.get(hour);
    if (!bucket) {
      bucket = [0, 0, 0];
      this.#hours.set(hour, bucket);
    }
    bucket[ACTION_INDEX[d.policyAction]]!++;
    if (d.phoneKey !== null) this.#countPhone(d.phoneKey);
  }

  #countPhone(phoneKey: string): void {
    this.#keyed++;
    const key = Number.parseInt(phoneKey.slice(0, 13), 16);
    if (Number.isNaN(key)) return;
    if (this.#seenPhones.has(key)) this.#repeatedPhones.add(key);
    else this.#seenPhones.add(key);
  }

  #timeline(): Report['timeline'] {
    const hours = [...this.#hours].sort((a, b) => a[0] - b[0]);
    const unit = this.#to - this.#from <= HOURLY_UP_TO ? 'hour' : 'day';
    const buckets = new Map<number, number[]>();
    for (const [hour, counts] of hours) {
      const start = unit === 'hour' ? hour : hour - (hour % (24 * HOUR));
      const b = buckets.get(start) ?? [0, 0, 0];
      for (let i = 0; i < 3; i++) b[i]! += counts[i]!;
      buckets.set(start, b);
    }
    // Every bucket of the span, empty ones too, so that a quiet day shows as a gap rather than vanishing.
    const step = unit === 'hour' ? HOUR : 24 * HOUR;
    const first = buckets.keys().next().value;
    const out: Report['timeline']['buckets'] = [];
    if (first !== undefined) {
      const last = Math.max(...buckets.keys());
      for (let t = first; t <= last; t += step) {
        out.push({ start: new Date(t).toISOString(), ...actions(buckets.get(t) ?? [0, 0, 0]) });
      }
    }
    return { unit, buckets: out };
  }

  result(): Report {
    const routes = [...this.#routes].sort((a, b) => b[1].decisions - a[1].decisions);
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
      routes: routes.map(([name, counts]) => counts.figures(name)),
      pairs: {
        mismatches: this.#mismatches,
        top: topPairs(this.#mismatchPairs, this.#mismatches, TOP_PAIRS),
      },
      errors: sorted(this.#errors).map(([code, count]) => ({ code, count })),
      signals: sorted(this.#signals).map(([signal, count]) => ({ signal, count })),
      timeline: this.#timeline(),
      whatIf: {
        policies: CANDIDATES.map(({ id, label }) => ({ id, label })),
        rows: [
          { ...this.#all.whatIf(null), all: true },
          ...routes.map(([name, counts]) => counts.whatIf(name)),
        ],
      },
      phones:
        this.#keyed === 0
          ? null
          : { keyedLines: this.#keyed, distinct: this.#seenPhones.size, repeated: this.#repeatedPhones.size },
    };
  }
}
