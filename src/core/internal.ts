import type { Signal } from './signals.js';
import type {
  Action,
  CheckInput,
  IpMatch,
  IpMatchDecision,
  Logger,
  MatchResult,
  Mode,
  Policy,
} from './types.js';

/** Per-route overrides of the core's policy and mode, compiled once when a route's middleware is built. */
export interface RouteDecider {
  decide(result: MatchResult): Action;
  /** The signal that made a blocked result a block, when its match level alone would not have (see CompiledPolicy). */
  blockedBy(result: MatchResult): Signal | undefined;
  mode: Mode;
}

/**
 * The signal that decided each blocked decision, for the 403 body's `error`. Kept beside the decision rather
 * than on it, so that the decision's shape stays the public contract; only decisions blocked by a signal are here.
 */
export const blockingSignals = new WeakMap<IpMatchDecision, Signal>();

/**
 * Providers whose lookup only restates the parse (the offline `localProvider`): the core then matches the
 * parsed number directly, without a lookup object per check. Kept beside the provider, not on it, so that the
 * Provider interface stays the public contract; a provider built from one (spread, wrapped) is not in here.
 */
export const parseOnlyProviders = new WeakSet<object>();

/** Where a request's decision was made, from the adapter: `onDecision`'s context without the duration. */
export interface RequestContext {
  route: string | null;
  method: string | null;
}

/** What adapters may use of a core beyond the public `check()`. Reached through `internals(core)`. */
export interface CoreInternals {
  /**
   * check() with a route's own policy/mode (`onDecision` sees the route's final decision). Synchronous whenever
   * no remote lookup is needed (the offline provider), so adapters skip a promise per request. Never throws;
   * a returned promise never rejects. `request` is passed to `onDecision`; build it only when `observed`.
   * `routeSignals` are what the route found before the check (`ip_missing`): the policy sees them with the rest.
   */
  decide(
    input: CheckInput,
    route: RouteDecider | undefined,
    request?: RequestContext,
    routeSignals?: readonly Signal[],
  ): IpMatchDecision | Promise<IpMatchDecision>;
  /** Whether an `onDecision` listens: adapters describe the request (route, method) only then. */
  observed: boolean;
  /** Compiles a route's `policy`/`mode` over the core's (validated; throws IpMatchConfigError). */
  compileRoute(overrides: { policy?: Policy; mode?: Mode }): RouteDecider | undefined;
  /** The core's own mode, which a route keeps unless it overrides it. */
  mode: Mode;
  /** The core's region for national-format numbers, if any: a route hints at setting one only without it. */
  defaultCountry: string | undefined;
  logger: Logger;
  /** Logs `message` through `logger.warn` the first time `code` is seen by this core. */
  warnOnce(code: string, message: string, meta?: object): void;
}

export const kInternals: unique symbol = Symbol.for('ipmatch.internals');

export interface IpMatchWithInternals extends IpMatch {
  [kInternals]: CoreInternals;
}

/** The internals of a core built by createIpMatch, or undefined for a foreign object. */
export function internals(core: unknown): CoreInternals | undefined {
  return (core as Partial<IpMatchWithInternals> | null)?.[kInternals];
}
