/** What adapters may use of a core beyond the public `check()`: a route's compiled check, reached by a symbol. */
import type { Checked, CompiledRoute } from './check/check.js';
import type { RequestContext } from './notify.js';
import type { RouteSignalOptions } from './signal-source.js';
import type { CheckInput, IpMatch, Logger, Mode, Policy } from './types.js';

export type { Checked, CompiledRoute } from './check/check.js';
export type { RequestContext } from './notify.js';

/** A route's own options over the core's, as `compileRoute` takes them. */
export interface RouteOverrides {
  policy?: Policy | undefined;
  mode?: Mode | undefined;
  /** What the route tells the signal sources about itself. Default: reads no IP header. */
  signals?: RouteSignalOptions | undefined;
}

export interface CoreInternals {
  /**
   * check() for a route (its policy, mode and signal sources), with the cause of a block beside the decision.
   * `onDecision` sees the route's final decision. Synchronous whenever nothing needs waiting for (the offline
   * provider), so adapters skip a promise per request. Never throws; a returned promise never rejects.
   * `request` is passed to `onDecision`; build it only when `observed`.
   */
  check(input: CheckInput, route: CompiledRoute, request?: RequestContext): Checked | Promise<Checked>;
  /** Whether an `onDecision` listens: adapters describe the request (route, method) only then. */
  observed: boolean;
  /** Compiles a route over the core: its `policy`/`mode` (validated; throws IpMatchConfigError) and its sources. */
  compileRoute(overrides: RouteOverrides): CompiledRoute;
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
