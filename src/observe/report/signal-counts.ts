/** The report's signal figures, by family: signals and their what-if, networks, number types, velocity, blocks. */
import { FAMILIES, familyOf, OTHER_FAMILY } from '../signal-families.js';
import type { Report } from './figures.js';
import type { ReportLimits } from './limits.js';
import type { LoggedDecision } from './parse-line.js';
import { share } from './route-counts.js';
import { Tally } from './tally.js';
import { TopKeys } from './top-keys.js';
import { signalBlockWouldAdd } from './what-if.js';

/** The velocity counts' buckets: 0 is "not counted" (an IP not public or allow-listed, a country not known). */
export const VELOCITY_BUCKETS = ['0', '1', '2', '3', '4–5', '6–10', '>10'] as const;
const bucketOf = (n: number) => (n <= 3 ? n : n <= 5 ? 4 : n <= 10 ? 5 : 6);
const COUNTS = ['ip', 'subnet', 'phoneCountries', 'prefix'] as const;
const TOP_PREFIXES = 20;
const FAMILY_IDS: readonly string[] = [...FAMILIES.map((f) => f.family), OTHER_FAMILY];

/** Per family, per signal, and per velocity count, in memory bounded by `limits` whatever the log. */
export class SignalCounts {
  readonly #signals: Tally;
  /** Per signal, its decisions the policy did not block: what `policy: { [signal]: 'block' }` would add. */
  readonly #unblocked: Tally;
  readonly #networks: Tally;
  readonly #phoneTypes: Tally;
  /** Decisions that carried at least one signal of each family, in FAMILY_IDS' order. */
  readonly #families = FAMILY_IDS.map(() => 0);
  readonly #seen = FAMILY_IDS.map(() => false);
  #counted = 0;
  readonly #buckets = COUNTS.map(() => VELOCITY_BUCKETS.map(() => 0));
  readonly #max = COUNTS.map(() => 0);
  readonly #prefixes: TopKeys;
  #keyedPrefixes = 0;

  constructor(limits: ReportLimits) {
    this.#signals = new Tally(limits.names);
    this.#unblocked = new Tally(limits.names);
    this.#networks = new Tally(limits.names);
    this.#phoneTypes = new Tally(limits.names);
    this.#prefixes = new TopKeys(limits.prefixes);
  }

  add(d: LoggedDecision): void {
    const unblocked = signalBlockWouldAdd(d);
    if (d.signals.length > 0) {
      this.#seen.fill(false);
      for (const s of d.signals) {
        this.#signals.add(s);
        if (unblocked) this.#unblocked.add(s);
        this.#seen[FAMILY_IDS.indexOf(familyOf(s))] = true;
      }
      for (let i = 0; i < FAMILY_IDS.length; i++) if (this.#seen[i]) this.#families[i]!++;
    }
    if (d.ipNetwork !== null) this.#networks.add(d.ipNetwork);
    if (d.phoneType !== null) this.#phoneTypes.add(d.phoneType);
    if (d.velocity !== null) {
      this.#counted++;
      for (let i = 0; i < COUNTS.length; i++) {
        const n = d.velocity[COUNTS[i]!];
        this.#buckets[i]![bucketOf(n)]!++;
        if (n > this.#max[i]!) this.#max[i] = n;
      }
    }
    if (d.prefixKey !== null) {
      this.#keyedPrefixes++;
      this.#prefixes.add(d.prefixKey);
    }
  }

  /** The figures, shares taken of `decisions` (every decision counted). */
  figures(
    decisions: number,
  ): Pick<Report, 'signals' | 'families' | 'networks' | 'phoneTypes' | 'velocity' | 'prefixes'> {
    const unblocked = new Map(this.#unblocked.entries());
    const order = (s: string) => FAMILY_IDS.indexOf(familyOf(s));
    const signals = this.#signals
      .entries()
      .map(([signal, count]) => {
        const ifBlocked = unblocked.get(signal) ?? 0;
        const family = familyOf(signal);
        return { signal, family, count, ifBlocked, ifBlockedShare: share(ifBlocked, decisions) };
      })
      // Stable: within a family, most frequent first, as the tally gave them.
      .sort((a, b) => order(a.signal) - order(b.signal));
    const families = FAMILY_IDS.map((family, i) => ({
      family,
      title: FAMILIES[i]?.title ?? 'Other signals (not known to this version of ipmatch)',
      decisions: this.#families[i]!,
    })).filter((f) => f.family !== OTHER_FAMILY || f.decisions > 0);
    const count = (i: number) => ({ buckets: [...this.#buckets[i]!], max: this.#max[i]! });
    return {
      signals,
      families,
      networks: this.#networks.entries().map(([network, count]) => ({ network, count })),
      phoneTypes: this.#phoneTypes.entries().map(([type, count]) => ({ type, count })),
      velocity:
        this.#counted === 0
          ? null
          : {
              counted: this.#counted,
              buckets: [...VELOCITY_BUCKETS],
              ip: count(0),
              subnet: count(1),
              phoneCountries: count(2),
              prefix: count(3),
            },
      prefixes:
        this.#keyedPrefixes === 0
          ? null
          : {
              keyedLines: this.#keyedPrefixes,
              held: this.#prefixes.size,
              approximate: this.#prefixes.approximate,
              top: this.#prefixes
                .top(TOP_PREFIXES)
                .map(({ key, count, overcount }) => ({ prefixKey: key, count, overcount })),
            },
    };
  }
}
