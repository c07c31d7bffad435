/** The options of `updateDatabase()`: their types, defaults, and the checks made before anything is fetched. */
import * as z from 'zod/mini';
import { IpMatchConfigError } from '../core/errors.js';
import { wholeNumber } from '../core/validate.js';
import { FEED_NAMES, type FeedName } from '../geodata/nature/types.js';
import { DATA_SOURCES, type DataSource } from '../geodata/sources.js';
import { isSha256 } from './checksum.js';
import type { DownloadLimits, OnProgress } from './download.js';
import { allowedUrl } from './redact.js';

/** Options of `updateDatabase()` (and the flags of `ipmatch db update`). */
export interface UpdateOptions {
  /**
   * Which dataset: the country MMDB or the IP-nature table. Default both, except that the options that point
   * the country data somewhere (`source`, `url`, `sha256`, `sha256Url`, `insecureNoChecksum`) pick it alone
   * when `feeds` is not given.
   */
  dataset?: 'country' | 'ip-nature' | undefined;
  /**
   * A URL per IP-nature feed, in its publisher's format (a mirror inside your network): https, or http to a
   * loopback host. Default: each publisher's own URL; `azure` is read only when given here.
   */
  feeds?: Partial<Record<FeedName, string>> | undefined;
  /** Which publisher's data. Default 'user-country' (ip-location-db, PDDL, daily). */
  source?: DataSource | undefined;
  /**
   * Any MMDB URL: https, or http to a loopback host. Alone it needs `sha256` or `sha256Url` (or
   * `insecureNoChecksum`); with `source` it is a mirror of that source, whose checksum address follows it.
   */
  url?: string | undefined;
  /** The expected SHA-256 (hex) of the download. */
  sha256?: string | undefined;
  /** Where the expected SHA-256 is published (`sha256sum` output, or a bare hex line). */
  sha256Url?: string | undefined;
  /** The data dir. Default: `IPMATCH_DATA_DIR`, else the user cache dir (`~/.cache/ipmatch`). */
  dir?: string | undefined;
  /** Install a build older than the installed one (to pin a known good file). Default false. */
  force?: boolean | undefined;
  /** With `url` alone: install without any checksum, on purpose. Default false. */
  insecureNoChecksum?: boolean | undefined;
  /**
   * Timeouts, the size cap and the minimum rate of each download. Defaults: 10 s connect, 30 s idle, 10 min
   * total (`ipmatch db update --timeout S`), 256 MiB, and a body averaging under 1 KB/s over 30 s is cut.
   */
  limits?: DownloadLimits | undefined;
  /**
   * Pause before the one retry after a checksum mismatch: the publisher uploads the file and its checksum
   * seconds apart. Default 5 000 ms; at most 10 000.
   */
  retryDelayMs?: number | undefined;
  /** Longest wait for another updater (a cron overlap) to finish. Default 120 000 ms. */
  lockWaitMs?: number | undefined;
  /** Called as bytes arrive. */
  onProgress?: OnProgress | undefined;
  /**
   * Where MAXMIND_ACCOUNT_ID, MAXMIND_LICENSE_KEY, IPINFO_TOKEN, IPMATCH_DATA_DIR and the proxy variables
   * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, or their lowercase forms) are read. Default process.env.
   */
  env?: Record<string, string | undefined> | undefined;
}

const urlSchema = z.string().check(
  z.refine(
    (value) => {
      try {
        return allowedUrl(new URL(value));
      } catch {
        return false;
      }
    },
    { error: 'expected an https URL (plain http only to 127.0.0.1, ::1 or localhost)' },
  ),
);
const ms = z.optional(z.number().check(z.int(), z.positive()));
export const optionsSchema = z.strictObject({
  dataset: z.optional(z.enum(['country', 'ip-nature'])),
  feeds: z.optional(z.strictObject(Object.fromEntries(FEED_NAMES.map((n) => [n, z.optional(urlSchema)])))),
  source: z.optional(z.enum(DATA_SOURCES as [DataSource, ...DataSource[]])),
  url: z.optional(urlSchema),
  sha256: z.optional(z.string().check(z.refine(isSha256, { error: 'expected 64 hex digits' }))),
  sha256Url: z.optional(urlSchema),
  dir: z.optional(z.string().check(z.minLength(1))),
  force: z.optional(z.boolean()),
  insecureNoChecksum: z.optional(z.boolean()),
  limits: z.optional(
    z.strictObject({
      connectTimeoutMs: ms,
      idleTimeoutMs: ms,
      totalTimeoutMs: ms,
      maxBytes: ms,
      minBytesPerSecond: z.optional(wholeNumber(0)),
      throughputWindowMs: ms,
    }),
  ),
  retryDelayMs: z.optional(wholeNumber(0, 10_000)),
  lockWaitMs: z.optional(wholeNumber(0)),
  onProgress: z.optional(
    z.custom<OnProgress>((v) => typeof v === 'function', { error: 'expected a function' }),
  ),
  // process.env is not a plain object, which z.record refuses.
  env: z.optional(
    z.custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, {
      error: 'expected an object of environment variables',
    }),
  ),
});

export type Options = z.infer<typeof optionsSchema>;

const countryNamed = (o: Options): boolean =>
  o.source !== undefined ||
  o.url !== undefined ||
  o.sha256 !== undefined ||
  o.sha256Url !== undefined ||
  o.insecureNoChecksum === true;

/** The datasets a run updates: `dataset`, else the country data alone for its own options without `feeds`, else both. */
export function datasetsOf(o: Options): Array<'country' | 'ip-nature'> {
  if (o.dataset !== undefined) return [o.dataset];
  return countryNamed(o) && o.feeds === undefined ? ['country'] : ['country', 'ip-nature'];
}

/** The checksum choices that only make sense together, checked beyond the field types. */
export function checkCombination(o: Options): void {
  const problems: string[] = [];
  if (o.dataset === 'ip-nature' && countryNamed(o)) {
    problems.push(
      "dataset: source, url, sha256, sha256Url and insecureNoChecksum are the country data's; with dataset " +
        "'ip-nature' point feeds at mirrors with feeds (--feed NAME=URL)",
    );
  }
  if (o.dataset === 'country' && o.feeds !== undefined) {
    problems.push("feeds: they are the IP-nature data's; drop dataset 'country' or drop feeds");
  }
  if (o.sha256 !== undefined && o.sha256Url !== undefined)
    problems.push('sha256: give sha256 or sha256Url, not both');
  if ((o.sha256 !== undefined || o.sha256Url !== undefined) && o.url === undefined) {
    problems.push('sha256: a named source publishes its own checksum; sha256 and sha256Url go with url');
  }
  if (o.url !== undefined && o.source === undefined && o.sha256 === undefined && o.sha256Url === undefined) {
    if (!o.insecureNoChecksum) {
      problems.push(
        'url: a download is installed only when its SHA-256 matches: add sha256Url (--sha256-url) or sha256 ' +
          '(--sha256), or insecureNoChecksum (--insecure-no-checksum) to skip the check on purpose',
      );
    }
  }
  if (problems.length > 0) throw new IpMatchConfigError('update options', problems);
}
