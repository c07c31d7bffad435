/** The running counts of one route (or of all of them), in bounded memory: what a report row is made of. */
import type { Action, MatchLevel } from '../../core/types.js';
import type { ActionCounts, PairFigure, RouteFigures, WhatIfResult, WhatIfRow } from './figures.js';
import type { LoggedDecision } from './parse-line.js';
import { Tally } from './tally.js';
import { CANDIDATES, signalBlockWouldAdd } from './what-if.js';

const ACTION_INDEX: Record<Action, number> = { allow: 0, flag: 1, block: 2 };
const LEVEL_INDEX: Record<MatchLevel, number> = { country: 0, mismatch: 1, unknown: 2 };
const UNKNOWN_COUNTRY = '??';
const TOP_PAIRS_PER_POLICY = 3;

export const pairKey = (d: LoggedDecision) =>
  `${d.phoneCountry ?? UNKNOWN_COUNTRY}>${d.ipCountry ?? UNKNOWN_COUNTRY}`;
export const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
const actions = ([allow, flag, block]: number[]): ActionCounts => ({
  allow: allow!,
  flag: flag!,
  block: block!,
});

/** The `n` biggest pairs of a tally, each with its share of `whole`; pairs past the tally's limit are none. */
export function topPairs(tally: Tally, whole: number, n: number): PairFigure[] {
  return tally
    .sorted()
    .slice(0, n)
    .map(([key, count]) => {
      const [phoneCountry, ipCountry] = key.split('>') as [string, string];
      return { phoneCountry, ipCountry, count, share: share(count, whole) };
    });
}

/** Running counts for one route (or for all of them); every tally in it is capped. */
export class RouteCounts {
  decisions = 0;
  readonly action = [0, 0, 0];
  readonly policy = [0, 0, 0];
  readonly level = [0, 0, 0];
  readonly reasons: Tally;
  readonly blocked = CANDIDATES.map(() => 0);
  readonly blockedPairs: Tally[];
  /** Per signal, the decisions that blocking it would add on this route (see `signalBlockWouldAdd`). */
  readonly signalBlocks: Tally;

  constructor(limits: { reasons: number; pairs: number; names: number }) {
    this.reasons = new Tally(limits.reasons);
    this.blockedPairs = CANDIDATES.map(() => new Tally(limits.pairs));
    this.signalBlocks = new Tally(limits.names);
  }

  /** `pair` is computed only when some candidate blocks (`blocks` is not all false). */
  add(d: LoggedDecision, pair: string | undefined, blocks: readonly boolean[]): void {
    this.decisions++;
    this.action[ACTION_INDEX[d.action]]!++;
    this.policy[ACTION_INDEX[d.policyAction]]!++;
    this.level[LEVEL_INDEX[d.matchLevel]]!++;
    this.reasons.add(d.reason);
    if (d.signals.length > 0 && signalBlockWouldAdd(d)) for (const s of d.signals) this.signalBlocks.add(s);
    if (pair === undefined) return;
    for (let i = 0; i < blocks.length; i++) {
      if (!blocks[i]) continue;
      this.blocked[i]!++;
      this.blockedPairs[i]!.add(pair);
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
      byReason: Object.fromEntries(this.reasons.entries()),
    };
  }

  whatIf(route: string | null): WhatIfRow {
    const results: WhatIfResult[] = CANDIDATES.map((c, i) => ({
      policy: c.id,
      blocked: this.blocked[i]!,
      share: share(this.blocked[i]!, this.decisions),
      top: topPairs(this.blockedPairs[i]!, this.blocked[i]!, TOP_PAIRS_PER_POLICY),
    }));
    const signals = this.signalBlocks
      .entries()
      .map(([signal, blocked]) => ({ signal, blocked, share: share(blocked, this.decisions) }));
    return { route, decisions: this.decisions, results, signals };
  }
}
