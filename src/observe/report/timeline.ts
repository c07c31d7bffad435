/** Decisions over time in buckets that coarsen as the span grows (hour → day → week → month), so few stay held. */
import type { Action } from '../../core/types.js';
import type { TimelineFigures, TimelineUnit } from './counts.js';

export type { TimelineUnit } from './counts.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Each unit is used for spans up to its `upTo`, the last one beyond: a span is counted in at most 73 hours,
 * 367 days, 263 weeks, or one bucket a month of the years a line may carry (2000–2100: 1,212).
 */
const UNITS: readonly { unit: TimelineUnit; upTo: number }[] = [
  { unit: 'hour', upTo: 3 * DAY },
  { unit: 'day', upTo: 366 * DAY },
  { unit: 'week', upTo: 5 * 366 * DAY },
  { unit: 'month', upTo: Number.POSITIVE_INFINITY },
];

/** Why the page and the summary count per that unit, in words. */
export const UNIT_RULE: Record<TimelineUnit, string> = {
  hour: 'per hour, as the span is 3 days or less',
  day: 'per day, as the span is over 3 days and at most a year',
  week: 'per week (from Monday, UTC), as the span is over a year',
  month: 'per month, as the span is over 5 years',
};

const ACTION_INDEX: Record<Action, number> = { allow: 0, flag: 1, block: 2 };
const floorTo = (t: number, step: number) => t - (((t % step) + step) % step);

/** The start of the bucket of `unit` that holds `t` (ms since the epoch, UTC). */
function bucketStart(unit: TimelineUnit, t: number): number {
  if (unit === 'hour') return floorTo(t, HOUR);
  if (unit === 'day') return floorTo(t, DAY);
  if (unit === 'week') return floorTo(t + 3 * DAY, 7 * DAY) - 3 * DAY; // 1970-01-01 was a Thursday
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextStart(unit: TimelineUnit, start: number): number {
  if (unit === 'hour') return start + HOUR;
  if (unit === 'day') return start + DAY;
  if (unit === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** A bucket's name on a chart: `11-02 09h`, `11-02`, `2026-11-02` (a week's Monday), `2026-11`. */
export function bucketLabel(unit: TimelineUnit, iso: string): string {
  if (unit === 'hour') return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
  if (unit === 'day') return iso.slice(5, 10);
  if (unit === 'week') return iso.slice(0, 10);
  return iso.slice(0, 7);
}

/**
 * What a unit's counts are held in while it is the unit: weeks are held per day, since a week can straddle two
 * months and could not be folded into them; every other unit nests in the next, so folding is exact.
 */
const HELD_IN: Record<TimelineUnit, TimelineUnit> = { hour: 'hour', day: 'day', week: 'day', month: 'month' };

/**
 * Counts by policy action per bucket. The unit is the finest whose span holds every time seen so far; when a
 * time widens the span past it, the buckets held are folded into the next unit. Buckets held stay under 1,900.
 */
export class Timeline {
  #unit = 0;
  readonly #held = new Map<number, number[]>();
  #from = Number.POSITIVE_INFINITY;
  #to = Number.NEGATIVE_INFINITY;

  add(time: number, policyAction: Action): void {
    if (time < this.#from) this.#from = time;
    if (time > this.#to) this.#to = time;
    while (this.#to - this.#from > UNITS[this.#unit]!.upTo) this.#coarsen();
    const start = bucketStart(HELD_IN[UNITS[this.#unit]!.unit], time);
    let bucket = this.#held.get(start);
    if (!bucket) {
      bucket = [0, 0, 0];
      this.#held.set(start, bucket);
    }
    bucket[ACTION_INDEX[policyAction]]!++;
  }

  #coarsen(): void {
    const before = HELD_IN[UNITS[this.#unit]!.unit];
    const after = HELD_IN[UNITS[++this.#unit]!.unit];
    if (after !== before) fold(this.#held, after);
  }

  /** Every bucket of the span, empty ones too, so that a quiet day shows as a gap rather than vanishing. */
  result(): TimelineFigures {
    const { unit } = UNITS[this.#unit]!;
    const counts = new Map(this.#held);
    if (HELD_IN[unit] !== unit) fold(counts, unit);
    const buckets: TimelineFigures['buckets'] = [];
    if (counts.size > 0) {
      const last = bucketStart(unit, this.#to);
      for (let t = bucketStart(unit, this.#from); t <= last; t = nextStart(unit, t)) {
        const [allow, flag, block] = counts.get(t) ?? [0, 0, 0];
        buckets.push({ start: new Date(t).toISOString(), allow: allow!, flag: flag!, block: block! });
      }
    }
    return { unit, buckets };
  }
}

/** Re-keys buckets to the coarser `unit` that each one nests in, adding up those that land together. */
function fold(buckets: Map<number, number[]>, unit: TimelineUnit): void {
  const held = [...buckets];
  buckets.clear();
  for (const [start, counts] of held) {
    const to = bucketStart(unit, start);
    const b = buckets.get(to);
    if (b) for (let i = 0; i < 3; i++) b[i]! += counts[i]!;
    else buckets.set(to, [...counts]);
  }
}
