/** The figures of `ipmatch report`: what `--json` prints and the page and the summary show. */
import type { MatchLevel } from '../../core/types.js';
import type { ActionCounts, TimelineFigures } from './counts.js';

export type { ActionCounts } from './counts.js';

/** A phone-country → IP-country pair; `??` stands for a country that was not known. */
export interface PairFigure {
  phoneCountry: string;
  ipCountry: string;
  count: number;
  /** Of the population the pair was counted in (the mismatches, or a policy's blocks), 0 to 1. */
  share: number;
}

export interface RouteFigures {
  /** The route pattern or name; null for decisions made outside a route (a direct check()). */
  route: string | null;
  /** This row counts every route past the first 500 together (its route is "(other routes)"). */
  other?: true;
  decisions: number;
  byAction: ActionCounts;
  byPolicyAction: ActionCounts;
  byMatchLevel: Record<MatchLevel, number>;
  /** Reason → count, most frequent first; "(other)" last counts the reasons past the first 50. */
  byReason: Record<string, number>;
}

/** A candidate policy the what-if table replays over the log. */
export interface WhatIfPolicy {
  id: string;
  label: string;
}

export interface WhatIfResult {
  policy: string;
  blocked: number;
  /** blocked / the route's decisions, 0 to 1. */
  share: number;
  /** The biggest pairs behind the blocks (share of the blocks). */
  top: PairFigure[];
}

export interface WhatIfRow {
  /** null: decisions outside a route; the first row, with `all: true`, is every route together. */
  route: string | null;
  all?: true;
  /** Every route past the first 500 together, as in `routes`. */
  other?: true;
  decisions: number;
  results: WhatIfResult[];
  /**
   * Per signal the route's decisions carried, what `policy: { [signal]: 'block' }` would add to the policy in
   * force: the decisions with it that were not blocked (invalid phones left out), most first; "(other)" last
   * past the first 100 signals.
   */
  signals: { signal: string; blocked: number; share: number }[];
}

/** One signal: its family, its decisions, and what blocking it would add (see `Report['signals']`). */
export interface SignalFigure {
  signal: string;
  /** From observe/signal-families.ts; "other" for a signal this version does not know. */
  family: string;
  count: number;
  ifBlocked: number;
  ifBlockedShare: number;
}

/** A velocity count's spread: decisions per bucket of `VelocityFigures['buckets']`, and the largest count seen. */
export interface CountSpread {
  buckets: number[];
  max: number;
}

export interface VelocityFigures {
  /** Lines that carried velocity counts. */
  counted: number;
  /** Bucket names: '0' (not counted), '1', '2', '3', '4–5', '6–10', '>10'. */
  buckets: string[];
  /** Distinct numbers from the IP. */
  ip: CountSpread;
  /** Distinct numbers from the IP's subnet. */
  subnet: CountSpread;
  /** Distinct IP countries of the number. */
  phoneCountries: CountSpread;
  /** Distinct numbers in the number's block. */
  prefix: CountSpread;
}

export interface BadLine {
  source: string;
  line: number;
  problem: string;
}

/** Everything `ipmatch report` finds: `--json` prints this, and the page shows the same numbers. */
export interface Report {
  input: {
    sources: string[];
    /** Non-empty lines read. */
    lines: number;
    /** Lines left out by --since, --until or --route. */
    filtered: number;
    /**
     * Lines that were not JSON, lacked a field, were dated outside 2000–2100 or longer than 64 KiB: counted,
     * skipped, and the first few named.
     */
    bad: { count: number; first: BadLine[] };
  };
  filters: { since: string | null; until: string | null; route: string | null };
  /** First and last decision time among those counted. */
  span: { from: string | null; to: string | null };
  /** Every route together (`route` is null there, and means all). */
  totals: RouteFigures;
  /** By route, most decisions first. */
  routes: RouteFigures[];
  /** The top 20 phone-country → IP-country pairs among mismatches (of the first 2,000 distinct pairs). */
  pairs: { mismatches: number; top: PairFigure[] };
  /** Provider errors by code, most frequent first; code "(other)" last counts the codes past the first 100. */
  errors: { code: string; count: number }[];
  /**
   * Signals by family, in the order of `families`, then most frequent first (ties by name); those past the first
   * 100 are counted as "(other)", in the "other" family. `ifBlocked`: the decisions with the signal that the
   * policy did not block (invalid phones left out), which `policy: { [signal]: 'block' }` would have blocked;
   * `ifBlockedShare` is their share of all decisions.
   */
  signals: SignalFigure[];
  /**
   * The signal families in the report's order (observe/signal-families.ts), each with the decisions that carried
   * at least one of its signals; "other" only when the log held signals this version does not know.
   */
  families: { family: string; title: string; decisions: number }[];
  /** Decisions per IP-nature network (`aws`, `tor`, `icloud-private-relay`…), "(other)" last past the first 100. */
  networks: { network: string; count: number }[];
  /** Decisions per kind of number (`mobile`, `premium_rate`…), "(other)" last past the first 100. */
  phoneTypes: { type: string; count: number }[];
  /** How the velocity counts of the lines that carry them are spread, to tune thresholds by; null when none did. */
  velocity: VelocityFigures | null;
  /**
   * With keyed logs: the blocks of numbers (`prefixKey`) seen most often. Held in at most 10,000 counters
   * (Space-Saving): while `approximate` is false every count is exact; once more blocks came, a block's true
   * count is between `count - overcount` and `count`, and any block above 1/10,000 of the keyed lines is held.
   */
  prefixes: {
    keyedLines: number;
    held: number;
    approximate: boolean;
    top: { prefixKey: string; count: number; overcount: number }[];
  } | null;
  /**
   * Decisions per bucket, stacked by policyAction, empty buckets included: per hour for spans up to 3 days, per
   * day up to a year, per week (from Monday) up to 5 years, then per month.
   */
  timeline: TimelineFigures;
  whatIf: { policies: WhatIfPolicy[]; rows: WhatIfRow[] };
  /**
   * With keyed logs (`keySecret`): how many distinct numbers, and how many came more than once. `capped`: more
   * than 1,000,000 distinct numbers came, and those past it were not remembered (both figures are then floors).
   */
  phones: { keyedLines: number; distinct: number; repeated: number; capped: boolean } | null;
}
