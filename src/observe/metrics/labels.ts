/** The metrics' labels, from closed sets: an unbounded route or reason never becomes a time series. */
import { ACTIONS } from '../../core/options.js';
import { SIGNAL_NAMES } from '../../core/signals.js';
import type { DecisionContext, IpMatchDecision, Logger, Reason } from '../../core/types.js';

/** Every reason the core can give: the only values a `reason` label takes, so that the label set is closed. */
const REASONS: readonly Reason[] = [
  'country_match',
  'roaming_match',
  'country_mismatch',
  'ip_not_public',
  'ip_country_unknown',
  'phone_invalid',
  'phone_country_unknown',
  'lookup_failed',
  'lookup_timeout',
];
const LEVELS = ['country', 'mismatch', 'unknown'];
/** Stands for a value outside the vocabulary (a newer ipmatch, a custom provider) or past the route cap. */
export const OTHER = 'other';
export const DEFAULT_MAX_ROUTES = 100;

const within = (vocabulary: readonly string[], value: string) => (vocabulary.includes(value) ? value : OTHER);

/** A signal's label: its name when ipmatch knows it (core/signals.ts' table), else `other`. */
export const signalLabel = (signal: string): string => within(SIGNAL_NAMES, signal);

export interface DecisionLabels {
  route: string;
  action: string;
  policy_action: string;
  match_level: string;
  reason: string;
}

/**
 * The labels of one decision, every value from a closed vocabulary or a route pattern the app declared, never
 * from the request. Past `maxRoutes` distinct routes (say an Express mount path with a parameter in it, which
 * Express reports as requested), new ones count as `other`, with one warning.
 */
export function labeller(maxRoutes: number, logger: Logger) {
  const routes = new Set<string>();
  let warned = false;
  const route = (name: string | null): string => {
    const value = name ?? '';
    if (routes.has(value)) return value;
    if (routes.size < maxRoutes) {
      routes.add(value);
      return value;
    }
    if (!warned) {
      warned = true;
      logger.warn(
        `ipmatch: more than ${maxRoutes} distinct routes in metrics; the others are counted as "other". Name ` +
          'routes with the route option `name`, or mount ipMatch on routes rather than on parameterised paths',
        { code: 'IPMATCH_METRICS_ROUTES_CAPPED' },
      );
    }
    return OTHER;
  };
  return (decision: IpMatchDecision, context: DecisionContext): DecisionLabels => ({
    route: route(context.route),
    action: within(ACTIONS, decision.action),
    policy_action: within(ACTIONS, decision.policyAction),
    match_level: within(LEVELS, decision.matchLevel),
    reason: within(REASONS, decision.reason),
  });
}
