/**
 * The signal-source contract: how a family of signals (src/signals/<family>/) plugs into the check. The core only
 * iterates sources; it knows no family by name.
 */
import type { Signal } from './signals.js';
import type { IpFacts, PhoneFacts, VelocityCounts } from './types.js';

/** What a route tells the signal sources about itself, once, when its middleware is built. */
export interface RouteSignalOptions {
  /** The route reads the client IP from a header (`'request-ip'` or a header name): none is `ip_missing`. */
  readonly readsIpHeader: boolean;
  /** The route sends a one-time code by SMS or voice (`sendsOtp`, the route's or else the core's). Default false. */
  readonly sendsOtp?: boolean | undefined;
  /** The phone-country lists in force on the route (the route's, else the core's). Default: none. */
  readonly phoneCountries?: PhoneCountries | undefined;
}

/** `phoneCountries`: ISO 3166-1 alpha-2 codes, upper case once validated. */
export interface PhoneCountries {
  /** Only numbers of these countries pass; any other (and one of unknown country) is `country_not_allowed`. */
  readonly allow?: readonly string[] | undefined;
  /** Numbers of these countries are `country_not_allowed`; a number of unknown country passes. */
  readonly deny?: readonly string[] | undefined;
}

/**
 * Facts a source found beside its signals, for the decision: a source writes its slot on the context, and the
 * decision copies it (buildDecision, one line per slot). Each slot starts undefined.
 */
export interface SourceFindings {
  /** The velocity counters of this check (src/signals/velocity/); left undefined when they were not counted. */
  velocity?: VelocityCounts | undefined;
}

/** What one check hands each source: the facts found so far, the route's options and a clock. */
export interface SignalContext extends SourceFindings {
  /** The phone as the check saw it: `number` is null when the input was not a plausible phone number. */
  readonly phone: PhoneFacts;
  /** The client IP: `address` is null when there was none (or it did not parse). */
  readonly ip: IpFacts;
  readonly route: RouteSignalOptions;
  /** Whether the IP is globally routable unicast (only such an IP counts per IP and subnet). Unset: not public. */
  readonly ipPublic?: boolean;
  /** Milliseconds since the epoch; injectable, so that windows can be tested without waiting. */
  now(): number;
}

/**
 * A family of signals. A source is pure, or reads a Store; it never throws into a check: a failing source gives
 * its own `*_unavailable` signal, or none. (A source that throws anyway is logged once and counted as none.)
 *
 * @example
 * const simSwap: SignalSource = {
 *   name: 'sim-swap',
 *   signals: ['sim_swapped'],
 *   evaluate: ({ phone }) => (phone.simSwap?.swapped ? ['sim_swapped'] : []),
 * };
 */
export interface SignalSource {
  /** Names the family in logs: 'sim-swap', 'client-ip', 'ip-nature'… */
  readonly name: string;
  /** Every signal it can give; each has its row (default action, 403 message) in `SIGNALS`. */
  readonly signals: readonly Signal[];
  /**
   * Facts the source reads that the check computes only on request: `phoneType` fills `phone.type` (a
   * libphonenumber-js max parse, cached per number). A route where no source asks leaves it null and pays nothing.
   * `lookup`: the source reads facts only a provider's lookup gives (SIM swap), so a core whose provider has no
   * lookup (the offline one) leaves it out instead of running it on every check for nothing.
   */
  readonly needs?: { readonly phoneType?: boolean; readonly lookup?: boolean };
  /**
   * Compiles the source for one route, once, when the route is built: its thresholds and whether it runs at
   * all there (undefined: not on this route). Without it the source runs as it is on every route.
   */
  forRoute?(route: RouteSignalOptions): SignalSource | undefined;
  /**
   * Locates the IP further, for every check with a public IP, right after its GeoIP country and before the
   * match: it may set `ip.network` and, where its data says where the user is (an iCloud Private Relay egress),
   * `ip.country`. Synchronous; it never throws. The spine runs only the sources that have it.
   */
  locate?(ip: IpFacts): void;
  /** The signals present for one check. Synchronous when it can be: the offline check then needs no promise. */
  evaluate(ctx: SignalContext): readonly Signal[] | Promise<readonly Signal[]>;
  /**
   * Hears that the user entered the right code sent to `number` (E.164), from `IpMatch.verified(phone)`: the
   * velocity family counts conversions per number block. It never throws; a returned promise never rejects.
   */
  verified?(number: string): void | Promise<void>;
  /** Loads what the source reads (data, a connection), for `IpMatch.ready()`. */
  ready?(): Promise<void>;
  /** Releases it, for `IpMatch.close()`. */
  close?(): Promise<void>;
}
