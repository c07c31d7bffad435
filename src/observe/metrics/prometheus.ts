/** prometheusMetrics: decisions as prom-client counters and a duration histogram. */
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import * as z from 'zod/mini';
import { consoleLogger } from '../../core/logger.js';
import type { Logger, OnDecision } from '../../core/types.js';
import { parseOptions, wholeNumber } from '../../core/validate.js';
import { DEFAULT_MAX_ROUTES, labeller, signalLabel } from './labels.js';
import { requirePeer } from './peer.js';

/** Options of `prometheusMetrics()`. */
export interface PrometheusMetricsOptions {
  /** The prom-client registry to register in. Default: prom-client's global `register`. */
  registry?: Registry | undefined;
  /** Distinct `route` label values kept before new ones count as `other`. Default 100. */
  maxRoutes?: number | undefined;
  /** Where the route-cap warning goes. Default: console.warn. */
  logger?: Logger | undefined;
}

/** Seconds: the offline path decides in tens of microseconds, a remote lookup in tens to thousands of ms. */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
const DECISIONS = 'ipmatch_decisions_total';
const DURATION = 'ipmatch_check_duration_seconds';
const SIGNALS = 'ipmatch_signals_total';

const hasFunction = (key: string) => (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[key] === 'function';
const schema = z.strictObject({
  registry: z.optional(
    z.custom<Registry>(hasFunction('registerMetric'), { message: 'expected a prom-client Registry' }),
  ),
  maxRoutes: z.optional(wholeNumber(1, 10_000)),
  logger: z.optional(
    z.custom<Logger>(hasFunction('warn'), { message: 'expected a logger with warn(msg, meta)' }),
  ),
});

/** The metric already in the registry (another core's, a hot reload's), or a new one. */
function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * An `onDecision` that keeps two Prometheus metrics (prom-client, an optional peer dependency):
 *
 * - `ipmatch_decisions_total{route, action, policy_action, match_level, reason}`, a counter;
 * - `ipmatch_check_duration_seconds{provider, cached}`, a histogram of the time spent deciding;
 * - `ipmatch_signals_total{route, signal, action}`, a counter of the signals decisions carried (`hosting`,
 *   `tor_exit`…; one decision may count under several).
 *
 * Label values come from closed vocabularies and from route patterns, never from the request, so the number
 * of series stays bounded. Several cores may share one registry: they share the metrics.
 *
 * @example
 * createIpMatch({ onDecision: prometheusMetrics() });
 * app.get('/metrics', async (_req, res) => res.type('text/plain').send(await register.metrics()));
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): OnDecision {
  const opts = parseOptions(schema, options, 'prometheusMetrics options');
  const { Counter, Histogram, register } = requirePeer<typeof PromClient>(
    'prom-client',
    'prometheusMetrics()',
  );
  const registry = opts.registry ?? register;
  const decisions = metric(
    registry,
    DECISIONS,
    () =>
      new Counter({
        name: DECISIONS,
        help: 'ipmatch decisions, by route and outcome',
        labelNames: ['route', 'action', 'policy_action', 'match_level', 'reason'] as const,
        registers: [registry],
      }),
  );
  const duration = metric(
    registry,
    DURATION,
    () =>
      new Histogram({
        name: DURATION,
        help: 'Time ipmatch spent deciding, in seconds',
        labelNames: ['provider', 'cached'] as const,
        buckets: DURATION_BUCKETS,
        registers: [registry],
      }),
  );
  const signals = metric(
    registry,
    SIGNALS,
    () =>
      new Counter({
        name: SIGNALS,
        help: 'Signals ipmatch decisions carried, by route, signal and action',
        labelNames: ['route', 'signal', 'action'] as const,
        registers: [registry],
      }),
  );
  const labels = labeller(opts.maxRoutes ?? DEFAULT_MAX_ROUTES, opts.logger ?? consoleLogger);
  return function recordDecision(decision, context) {
    const l = labels(decision, context);
    decisions.inc(l);
    for (const s of decision.signals)
      signals.inc({ route: l.route, signal: signalLabel(s), action: l.action });
    duration.observe(
      { provider: decision.provider, cached: decision.cached ? 'true' : 'false' },
      context.durationMs / 1000,
    );
  };
}
