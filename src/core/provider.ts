/** The provider contract: what a provider is given (a parsed phone, an IP) and what it answers. */
import type { CostFacts, Logger, MatchLevel, PhoneFacts, Signal } from './types.js';

/** A phone number after parsing: always E.164, with libphonenumber-js's region when it has one. */
export interface ParsedPhone {
  /** E.164, e.g. '+447700900001'. */
  number: string;
  /** Region by libphonenumber-js, the calling code's main region for a possible-but-unallocated number, or null. */
  country: string | null;
  /** false when the number is possible but outside every allocated range. */
  valid: boolean;
}

/** What the core passes to a provider's lookup. */
export interface LookupRequest {
  phone: ParsedPhone;
  /** The canonical public IP, or null when it is not public (private IPs are never sent upstream). */
  ip: string | null;
  /**
   * Aborts once the check's `timeoutMs` budget has run out: after its decision (within 50 ms), so that tearing
   * lookups down never delays decisions. Read after that, it is already aborted.
   */
  signal: AbortSignal;
  /** `performance.now()` value at which the budget runs out (to decide whether a retry still fits). */
  deadline: number;
  /** The client IP used for per-client budgets; same as `ip` but present even when not sent upstream. */
  clientIp: string | null;
}

/**
 * The phone facts a provider found. Only the facts a match needs are ever cached: `country`, the roaming ones,
 * `networkType`, `valid`, `simSwap`, `missingInsights`, `signals` and `legacyIp`.
 */
export interface PhoneLookup {
  country: string | null;
  roamingCountry: string | null;
  facts?: Omit<PhoneFacts, 'number' | 'country' | 'roamingCountry' | 'type'>;
  cost?: CostFacts;
  /** Signals for the policy (e.g. `sim_swapped`); they are cached with the lookup. */
  signals?: Signal[];
  /** Vonage's deprecated `ip` object, where an account still gets one: it decides the match. */
  legacyIp?: { matchLevel: MatchLevel; country: string | null };
  /** Set when this lookup was decided offline because a lookup budget was spent. */
  budgetExceeded?: boolean;
  /** Set when the offline data answered for a remote provider (budget spent, or the provider down): never cached. */
  degraded?: true;
  /** Overrides the provider's name on the decision (e.g. 'local' when a budget fell back offline). */
  provider?: string;
}

/** Context the core hands to a provider once, when the core is built. */
export interface ProviderContext {
  logger: Logger;
}

/**
 * The contract every provider implements. `localProvider()` and `vonageProvider()` are the built-in ones.
 *
 * A provider throws `ProviderError` (or any Error) from `lookup` to report a failure; the core turns it into
 * a decision with `error` and `reason: 'lookup_failed'`, and the `error` policy decides (a remote provider that
 * is down leaves the decision to the offline data: see `IpMatchOptions.remoteDown`).
 */
export interface IpMatchProvider {
  /** Shown on every decision as `provider`. */
  readonly name: string;
  /**
   * true for network providers: the core then caches lookups (by a keyed hash of the number), shares
   * concurrent identical lookups, and bounds each by `timeoutMs`. false for in-process providers.
   */
  readonly remote: boolean;
  /** true when the lookup depends on the IP as well as the number (Vonage `sendIp`), so the IP joins the cache key. */
  readonly keyIncludesIp: boolean;
  /**
   * Names what a cached lookup of this provider means, so that providers whose answers differ never share
   * cache entries (e.g. 'vonage:basic' and 'vonage:advanced'). Default: `name`.
   */
  readonly cacheScope?: string;
  /**
   * Set by a provider whose roaming facts may not be persisted (Identity Insights): they are then kept only in
   * the process's own cache, for at most this many ms, and never written to a `Store`. Default: cached as the rest.
   */
  readonly roamingTtlMs?: number;
  /** Called once by the core that uses this provider. */
  attach?(context: ProviderContext): void;
  /**
   * Parses a raw phone string; null when it is not a plausible phone number. The built-in parser may throw
   * PhoneParserLoading before its first full parse: the core then waits for `loaded` and calls again.
   */
  parsePhone(raw: string, defaultCountry: string | undefined): ParsedPhone | null;
  /** Country of a canonical public IP, from local GeoIP data; null when not in the data. */
  ipCountry(address: string): string | null;
  /**
   * Phone facts for a parsed number. A provider without one (the offline `localProvider()`) is matched on its
   * parse: the phone's parsed country against `ipCountry`, with no roaming. Required when `remote` is true.
   */
  lookup?(request: LookupRequest): PhoneLookup | Promise<PhoneLookup>;
  /**
   * Loads whatever the provider reads before its first check (GeoIP data), so that `IpMatch.ready()` can
   * warm a server before it takes traffic. Rejects when the data cannot be read.
   */
  ready?(): Promise<void>;
  close?(): Promise<void>;
}
