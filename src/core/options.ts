/** createIpMatch's options: their types with each default, their schema, and the defaults themselves. */
import * as z from 'zod/mini';
import { isSupportedRegion } from './phone.js';
import { phoneCountriesSchema } from './phone-countries.js';
import type { IpMatchProvider } from './provider.js';
import type { PhoneCountries } from './signal-source.js';
import { SIGNAL_DEFAULTS, SIGNAL_NAMES, type Signal } from './signals.js';
import type { Store } from './store.js';
import type { Logger, Mode, OnDecision, Policy } from './types.js';
import { parseOptions, wholeNumber } from './validate.js';
import { type VelocityOptions, velocitySchema } from './velocity-options.js';

/** Options of `createIpMatch()`. Every one is optional. */
export interface IpMatchOptions {
  /** Where phone and IP facts come from. Default: `localProvider()` (offline: GeoIP data + libphonenumber-js). */
  provider?: IpMatchProvider | undefined;
  /**
   * An action per match level, per signal and for `error` (provider failure), merged over the default
   * `{ country: 'allow', mismatch: 'block', unknown: 'allow', error: 'allow', sim_swapped: 'flag' }`; the action
   * is the most severe of the level's and the present signals'. Or a function of the match result (signals included).
   */
  policy?: Policy | undefined;
  /** `'enforce'` (default) blocks when the policy says so; `'observe'` never blocks, the decision still says what the policy wanted. */
  mode?: Mode | undefined;
  /** The whole check's time budget in milliseconds, remote lookup included. Default 2000. */
  timeoutMs?: number | undefined;
  /**
   * Cache of remote provider lookups (the offline provider does not need one). `false` turns it off.
   * Default `{ ttlMs: 600_000, max: 10_000 }` in memory; `store` (e.g. `RedisStore`) shares it across processes.
   */
  cache?: false | CacheOptions | undefined;
  /** ISO 3166-1 alpha-2 region for national-format numbers (e.g. 'GB' for '07400 123456'). Default: none. */
  defaultCountry?: string | undefined;
  /** Where warnings and errors go. Default: console.warn / console.error (stderr). */
  logger?: Logger | undefined;
  /**
   * Called with every decision and its context `{ route, method, durationMs }`, such as `decisionLog()` or
   * `prometheusMetrics()`; an array runs each of them (see `combineDecisionHandlers`). Exceptions and rejections
   * are caught and logged, never thrown into the request. Default: none.
   */
  onDecision?: OnDecision | OnDecision[] | undefined;
  /**
   * What decides when a remote provider is down: its circuit breaker open, the check's time budget spent, or an
   * upstream failure (5xx, 408, 429 or throttling, network error, malformed answer). An attacker can cause any of
   * these, e.g. with thousands of concurrent signups. `'offline'` (default) decides on the offline data, as
   * `localProvider()` would (the phone's parsed country against the IP's GeoIP country): the decision has
   * `degraded: true`, `provider: 'local'` and the `error` kept, and its action is the more severe of the match
   * level's and `error`'s, so a mismatch is still blocked. `'error'` makes it a `lookup_failed` / `lookup_timeout`
   * decision that the `error` policy alone decides. Rejected credentials, an account out of credit and other
   * failures only the operator can fix are errors either way.
   */
  remoteDown?: RemoteDown | undefined;
  /**
   * Which countries' numbers are welcome, as ISO 3166-1 alpha-2 codes: a number outside `allow`, or inside `deny`,
   * carries `country_not_allowed` (default action `block`). A number of unknown country (non-geographic, +882…)
   * is outside every `allow` list and never in a `deny` list. A route's own list replaces this one. No list is
   * built in. Default: none.
   */
  phoneCountries?: PhoneCountries | undefined;
  /**
   * Every route of this core sends a one-time code by SMS or voice: premium-rate, shared-cost and SMS-incapable
   * numbers are then blocked and VoIP numbers flagged, unless a policy map says otherwise (see SENDS_OTP_RAISE).
   * A route's own `sendsOtp` wins. Default false.
   */
  sendsOtp?: boolean | undefined;
  /**
   * Velocity signals for SMS pumping: distinct numbers per IP (`ip_velocity`, more than 3 in 10 minutes), per
   * subnet (`subnet_velocity`, more than 10 in 10 minutes), IP countries per number (`phone_velocity`, more than 2
   * in 24 hours), numbers per block (`prefix_burst`, more than 4 in an hour), and a block's conversion
   * (`low_conversion_prefix`, with `verified()`). All flag by default. Counts live in memory unless a Store with
   * `distinct` (`RedisStore`) is given here or as `cache.store`. `false` turns velocity off. Default: on, in memory.
   */
  velocity?: false | VelocityOptions | undefined;
}

/** See `IpMatchOptions.remoteDown`. */
export type RemoteDown = 'offline' | 'error';

export interface CacheOptions {
  /** How long a lookup is reused, in ms. Default 600 000 (10 minutes: roaming data must not be kept for long). */
  ttlMs?: number | undefined;
  /** Most lookups kept by the in-memory store. Default 10 000. */
  max?: number | undefined;
  /** A shared store such as `RedisStore`. Default: an in-memory LRU. */
  store?: Store | undefined;
  /** Budget of each store call in ms; past it the check carries on without the cache. Default 50. */
  storeTimeoutMs?: number | undefined;
  /** With a store that can lock (`RedisStore`), let one server look a number up while the others wait. Default false. */
  lock?: boolean | undefined;
}

export const ACTIONS = ['allow', 'flag', 'block'] as const;
export const MODES = ['enforce', 'observe'] as const;
export const DEFAULT_POLICY = {
  country: 'allow',
  mismatch: 'block',
  unknown: 'allow',
  error: 'allow',
  ...SIGNAL_DEFAULTS,
} as const;
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_CACHE = { ttlMs: 600_000, max: 10_000, storeTimeoutMs: 50, lock: false } as const;

const isFunction = (v: unknown) => typeof v === 'function';
const fn = <T>(what: string) => z.custom<T>(isFunction, { message: `expected ${what}` });

const action = z.optional(z.enum(ACTIONS));
const signalEntries = Object.fromEntries(SIGNAL_NAMES.map((s) => [s, action])) as Record<
  Signal,
  typeof action
>;
export const policySchema = z.union([
  z.strictObject({ country: action, mismatch: action, unknown: action, error: action, ...signalEntries }),
  fn<Exclude<Policy, object>>('a function (result) => "allow" | "flag" | "block"'),
]);
export const modeSchema = z.enum(MODES);
export const REMOTE_DOWN = ['offline', 'error'] as const satisfies readonly RemoteDown[];

const region = z
  .pipe(
    z.string(),
    z.transform((s: string) => s.toUpperCase()),
  )
  .check(
    z.refine((s) => /^[A-Z]{2}$/.test(s) && isSupportedRegion(s), {
      message: 'expected an ISO 3166-1 alpha-2 region such as "GB" or "US"',
    }),
  );

const providerSchema = z.custom<IpMatchProvider>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['function', 'undefined'].includes(typeof (v as IpMatchProvider).lookup) &&
    // A remote provider is nothing without its lookup; an in-process one may be matched on its parse.
    (typeof (v as IpMatchProvider).lookup === 'function' || (v as IpMatchProvider).remote !== true) &&
    typeof (v as IpMatchProvider).parsePhone === 'function' &&
    typeof (v as IpMatchProvider).ipCountry === 'function' &&
    typeof (v as IpMatchProvider).name === 'string',
  { message: 'expected a provider such as localProvider() or vonageProvider({ apiKey, apiSecret })' },
);

const storeSchema = z.custom<Store>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Store).get === 'function' &&
    typeof (v as Store).set === 'function',
  {
    message: 'expected a Store with get(key) and set(key, value, ttlMs), such as new RedisStore({ client })',
  },
);

const loggerSchema = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Logger).warn === 'function' &&
    typeof (v as Logger).error === 'function',
  {
    message: 'expected an object with warn(msg, meta) and error(msg, meta), such as console or a pino logger',
  },
);

export const coreOptionsShape = {
  provider: z.optional(providerSchema),
  policy: z.optional(policySchema),
  mode: z.optional(modeSchema),
  timeoutMs: z.optional(wholeNumber(1, 60_000)),
  cache: z.optional(
    z.union([
      z.literal(false),
      z.strictObject({
        ttlMs: z.optional(wholeNumber(1)),
        max: z.optional(wholeNumber(1)),
        store: z.optional(storeSchema),
        storeTimeoutMs: z.optional(wholeNumber(1, 10_000)),
        lock: z.optional(z.boolean()),
      }),
    ]),
  ),
  defaultCountry: z.optional(region),
  logger: z.optional(loggerSchema),
  remoteDown: z.optional(z.enum(REMOTE_DOWN)),
  phoneCountries: z.optional(phoneCountriesSchema),
  sendsOtp: z.optional(z.boolean()),
  velocity: z.optional(velocitySchema),
  onDecision: z.optional(
    z.union(
      [
        fn<OnDecision>('a function (decision, context) => void'),
        z.array(fn<OnDecision>('a function (decision, context) => void')),
      ],
      {
        error: 'expected a function (decision, context) => void, such as decisionLog(), or an array of them',
      },
    ),
  ),
};

export const coreOptionsSchema = z.strictObject(coreOptionsShape);
export type ParsedCoreOptions = z.output<typeof coreOptionsSchema>;

/** Validates `createIpMatch` options once; throws IpMatchConfigError listing every problem. */
export function parseCoreOptions(options: unknown): ParsedCoreOptions {
  return parseOptions(coreOptionsSchema, options, 'createIpMatch options');
}

/** A region hint from a request (`country` input): upper-cased when valid, otherwise ignored. */
export function regionHint(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length !== 2) return undefined;
  const upper = value.toUpperCase();
  return /^[A-Z]{2}$/.test(upper) && isSupportedRegion(upper) ? upper : undefined;
}
