/** How much of a log the report holds at most: the caps that keep its memory bounded whatever the input. */

/** Caps on the distinct names the report keeps; past each, the rest are counted together as "other". */
export interface ReportLimits {
  /** Distinct routes with figures of their own; default 500. The rest form one "(other routes)" row. */
  routes: number;
  /** Distinct reasons per route (and over all routes); default 50. */
  reasons: number;
  /** Distinct signals, and distinct provider error codes; default 100 each. */
  names: number;
  /** Distinct phone-country → IP-country pairs over all routes; default 2,000. */
  pairs: number;
  /** Distinct pairs per route and candidate policy, of which the top 3 are shown; default 100. */
  routePairs: number;
  /** Distinct keyed numbers (`phoneKey`) remembered to tell repeats; default 1,000,000 (about 40 MB). */
  phones: number;
  /** Counters for the blocks of numbers (`prefixKey`) seen most often; default 10,000 (see `Report['prefixes']`). */
  prefixes: number;
}

export const LIMITS: Readonly<ReportLimits> = Object.freeze({
  routes: 500,
  reasons: 50,
  names: 100,
  pairs: 2_000,
  routePairs: 100,
  phones: 1_000_000,
  prefixes: 10_000,
});

/** A route, reason, signal or error code longer than this is cut to it (ending in …). */
export const MAX_NAME = 200;

/** A line longer than this, in UTF-16 code units, is bad and is skipped without being held or parsed. */
export const MAX_LINE = 64 * 1024;

/** The first and last instants a line may carry (2000-01-01 to the end of 2100, UTC): others are bad lines. */
export const EARLIEST = Date.UTC(2000, 0, 1);
export const LATEST = Date.UTC(2101, 0, 1) - 1;
