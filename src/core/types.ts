/** The public types of the core: the decision, its parts, the policy, the options' callbacks. */
import type { Action } from './action.js';
import type { Signal } from './signals.js';

export type { Action } from './action.js';
export type { Signal } from './signals.js';

/** How the IP's country compares with the phone's (Vonage's `ip_match_level` vocabulary). */
export type MatchLevel = 'country' | 'mismatch' | 'unknown';

/** `enforce` blocks when the policy says so; `observe` never blocks but records what the policy wanted. */
export type Mode = 'enforce' | 'observe';

/** Why the decision has its `matchLevel`. */
export type Reason =
  | 'country_match'
  | 'roaming_match'
  | 'country_mismatch'
  | 'ip_not_public'
  | 'ip_country_unknown'
  | 'phone_invalid'
  | 'phone_country_unknown'
  | 'lookup_failed'
  | 'lookup_timeout';

/** The IP side of a decision. `address` is canonical (IPv4-mapped IPv6 unwrapped), or null when unparseable. */
export interface IpFacts {
  address: string | null;
  /**
   * ISO 3166-1 alpha-2, or null when the address is not public or not in the database. For an iCloud Private
   * Relay egress, the country Apple's list declares for its range (the relay stands for the user's location).
   */
  country: string | null;
  /**
   * The IP-nature list that matched, first in precedence order (`icloud-private-relay`, `tor`, `mullvad`, `aws`,
   * `hetzner`…), or null when none did or the address is not public. It names a provider, never a person.
   */
  network: string | null;
}

/**
 * What kind of number it is, by libphonenumber-js's `max` metadata (`getNumberType`, lower-cased). US and
 * Canadian numbers are `fixed_line_or_mobile`: the plan does not tell mobiles, landlines and VoIP apart there.
 */
export type PhoneType =
  | 'mobile'
  | 'fixed_line'
  | 'fixed_line_or_mobile'
  | 'toll_free'
  | 'premium_rate'
  | 'shared_cost'
  | 'voip'
  | 'personal_number'
  | 'pager'
  | 'uan'
  | 'voicemail';

/** The phone side of a decision. Providers may add facts beside the four that are always present. */
export interface PhoneFacts {
  /** E.164, or null when the input is not a plausible phone number. */
  number: string | null;
  /** ISO 3166-1 alpha-2 region of the number, or null (non-geographic codes such as +882). */
  country: string | null;
  /** Where the phone is roaming right now, when the provider knows: the first of `roamingCountries`. */
  roamingCountry: string | null;
  /**
   * The kind of number (`premium_rate`, `toll_free`, `mobile`…), or null when it is unknown: an invalid number,
   * one the metadata gives no type, or a route where no signal source asked for it (see `SignalSource.needs`).
   */
  type: PhoneType | null;
  /** Every country the phone is roaming in (Identity Insights may name several); set when the provider answered on roaming. */
  roamingCountries?: string[];
  /** Identity Insights' SIM-swap answer: whether the SIM changed within the configured period, and when it last did. */
  simSwap?: { swapped: boolean; at: string | null };
  /** Insights the provider asked for but did not get, by name, with the upstream status code (e.g. `{ roaming: 'NO_COVERAGE' }`). */
  missingInsights?: Record<string, string>;
  /** false for a possible number outside every allocated range (libphonenumber-js) or Vonage's `not_valid`. */
  valid?: boolean;
  carrier?: string | null;
  networkType?: string | null;
  reachable?: string | null;
  ported?: string | null;
  /** US caller name (Vonage `cnam`). Personal data: never cached or stored. */
  callerIdentity?: {
    callerType: string | null;
    callerName: string | null;
    firstName: string | null;
    lastName: string | null;
  };
}

/** What a paid lookup cost, as reported by the provider (EUR for Vonage). */
export interface CostFacts {
  price: string | null;
  currency: string;
  remainingBalance: string | null;
}

/** The outcome of matching, before any policy is applied. A policy function receives this. */
export interface MatchResult {
  matchLevel: MatchLevel;
  reason: Reason;
  ip: IpFacts;
  phone: PhoneFacts;
  /** Name of the provider that supplied the phone facts: 'local' | 'vonage' | a custom provider's name. */
  provider: string;
  /** Signals the policy can act on beside the match level, e.g. `['sim_swapped']`; `[]` when there are none. */
  signals: Signal[];
  /**
   * Set when the provider failed. The `error` policy entry then decides, unless the decision is `degraded`: the
   * action is then the more severe of the match level's and `error`'s.
   */
  error?: { code: string; message: string };
  /**
   * Set when a remote provider was down (breaker open, timeout, upstream 5xx, 429 or network error) or its lookup
   * budget was spent, and the offline data decided instead, as `localProvider()` would: `provider` is then
   * 'local' and `error` (when the provider failed) is kept. See the core's `remoteDown` option.
   */
  degraded?: true;
  /**
   * The velocity counts of this check, this request included (distinct numbers from the IP and from its subnet,
   * distinct IP countries of the number, distinct numbers in its block). Absent when velocity is off, or its
   * store was unavailable for this check (`velocity_unavailable`). See docs/velocity-and-sms-pumping.md.
   */
  velocity?: VelocityCounts;
}

/** What the velocity counters saw for one check: each count includes the request being decided. */
export interface VelocityCounts {
  /** Distinct phone numbers from this IP (IPv4 /32, IPv6 /64) in the `ip` window; 0 when the IP is not counted. */
  ip: number;
  /** Distinct phone numbers from this IP's subnet (IPv4 /24, IPv6 /48) in the `subnet` window; 0 when not counted. */
  subnet: number;
  /** Distinct IP countries this number was seen from in the `phone` window. */
  phoneCountries: number;
  /** Distinct numbers in this number's block (E.164 without its last digits) in the `prefix` window. */
  prefix: number;
}

/** The decision attached to `req.ipMatch` / `ctx.state.ipMatch`. Plain and JSON-serialisable. */
export interface IpMatchDecision extends MatchResult {
  /** What happens: in observe mode never 'block'. */
  action: Action;
  /** What the policy decided. */
  policyAction: Action;
  /** true when this check made no provider call of its own (cache hit, or joined a lookup in flight). */
  cached: boolean;
  cost?: CostFacts;
  /** Set when a lookup budget was spent and the offline data decided instead. */
  budgetExceeded?: boolean;
}

/**
 * A policy: an action per match level, per signal (`sim_swapped`) and for `error`, or a function of the match
 * result. With a map, the action is the most severe of the level's and those of the signals present.
 */
export type PolicyMap = Partial<Record<MatchLevel | 'error' | Signal, Action>>;
export type Policy = PolicyMap | ((result: MatchResult) => Action);

/** Where warnings go. Defaults to console.warn / console.error. */
export interface Logger {
  warn(msg: string, meta?: object): void;
  error(msg: string, meta?: object): void;
}

/** Where a decision was made: what `onDecision` receives beside the decision. */
export interface DecisionContext {
  /**
   * The route's `name` option, else the framework's matched route pattern ('/users/:id/checkout'), never the
   * URL as requested. null for a direct `check()` call, or when the framework matched no pattern.
   */
  route: string | null;
  /** The request's HTTP method ('POST'), or null for a direct `check()` call. */
  method: string | null;
  /** Time spent deciding, in ms (the check, not the rest of the request). */
  durationMs: number;
}

/**
 * Receives every decision. It may return a promise (awaited by nobody: its rejection is logged) and may have a
 * `close()`, which the core's `close()` awaits: `decisionLog()` flushes its buffer there.
 */
export interface OnDecision {
  (decision: IpMatchDecision, context: DecisionContext): unknown;
  close?(): Promise<void>;
}

/** What `check()` takes. `phone` is unknown on purpose: it comes straight from a request body. */
export interface CheckInput {
  phone: unknown;
  ip: string | null | undefined;
  /** ISO alpha-2 region for national-format numbers; overrides the core's `defaultCountry`. */
  country?: string | undefined;
}

export interface IpMatch {
  /** Never rejects: every outcome, including provider failures and garbage input, is a decision. */
  check(input: CheckInput): Promise<IpMatchDecision>;
  /**
   * Resolves once the provider's data is loaded and warm (the GeoIP file read, a lookup done, the full phone
   * parser loaded), so that a server can await it before listening and its first check costs what every other
   * one does. Rejects when the data cannot be read; checks would then decide without it.
   */
  ready(): Promise<void>;
  /**
   * Tells the velocity counters that the user entered the right code sent to `phone` (call it once the code
   * checks out): `low_conversion_prefix` fires for a number block that was sent many codes and verified few. It
   * counts one verification for the number's block; never rejects, and ignores what is not a phone number.
   */
  verified(phone: string): Promise<void>;
  /** Releases connections, timers and caches. Idempotent. */
  close(): Promise<void>;
}
