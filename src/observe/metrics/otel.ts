/** openTelemetryMetrics: decisions as OpenTelemetry counters and a duration histogram. */
import type { Meter } from '@opentelemetry/api';
import * as z from 'zod/mini';
import { consoleLogger } from '../../core/logger.js';
import type { Logger, OnDecision } from '../../core/types.js';
import { parseOptions, wholeNumber } from '../../core/validate.js';
import { DEFAULT_MAX_ROUTES, labeller, signalLabel } from './labels.js';

/** Options of `openTelemetryMetrics()`. */
export interface OpenTelemetryMetricsOptions {
  /** The meter to create instruments on, e.g. `metrics.getMeter('ipmatch')`. Required. */
  meter: Meter;
  /** Distinct `http.route` values kept before new ones count as `other`. Default 100. */
  maxRoutes?: number | undefined;
  /** Where the route-cap warning goes. Default: console.warn. */
  logger?: Logger | undefined;
}

const hasFunction = (key: string) => (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[key] === 'function';
const schema = z.strictObject({
  meter: z.custom<Meter>(hasFunction('createCounter'), {
    message: "expected an OpenTelemetry Meter, such as metrics.getMeter('ipmatch') from @opentelemetry/api",
  }),
  maxRoutes: z.optional(wholeNumber(1, 10_000)),
  logger: z.optional(
    z.custom<Logger>(hasFunction('warn'), { message: 'expected a logger with warn(msg, meta)' }),
  ),
});

/**
 * An `onDecision` that records the same two metrics as `prometheusMetrics()` through an OpenTelemetry meter
 * (@opentelemetry/api, an optional peer dependency): the counter `ipmatch.decisions` with `http.route`,
 * `ipmatch.action`, `ipmatch.policy_action`, `ipmatch.match_level` and `ipmatch.reason`, and the histogram
 * `ipmatch.check.duration` (seconds) with `ipmatch.provider` and `ipmatch.cached`, and the counter `ipmatch.signals`
 * with `http.route`, `ipmatch.signal` and `ipmatch.action`, once per signal a decision carried. Attribute values come from
 * closed vocabularies and route patterns only.
 */
export function openTelemetryMetrics(options: OpenTelemetryMetricsOptions): OnDecision {
  const opts = parseOptions(schema, options, 'openTelemetryMetrics options');
  const decisions = opts.meter.createCounter('ipmatch.decisions', {
    description: 'ipmatch decisions, by route and outcome',
  });
  const duration = opts.meter.createHistogram('ipmatch.check.duration', {
    description: 'Time ipmatch spent deciding',
    unit: 's',
  });
  const signals = opts.meter.createCounter('ipmatch.signals', {
    description: 'Signals ipmatch decisions carried, by route, signal and action',
  });
  const labels = labeller(opts.maxRoutes ?? DEFAULT_MAX_ROUTES, opts.logger ?? consoleLogger);
  return function recordDecision(decision, context) {
    const l = labels(decision, context);
    decisions.add(1, {
      'http.route': l.route,
      'ipmatch.action': l.action,
      'ipmatch.policy_action': l.policy_action,
      'ipmatch.match_level': l.match_level,
      'ipmatch.reason': l.reason,
    });
    for (const s of decision.signals) {
      signals.add(1, { 'http.route': l.route, 'ipmatch.signal': signalLabel(s), 'ipmatch.action': l.action });
    }
    duration.record(context.durationMs / 1000, {
      'ipmatch.provider': decision.provider,
      'ipmatch.cached': decision.cached,
    });
  };
}
