// `ipmatch/metrics`: onDecision handlers that keep metrics. prom-client and @opentelemetry/api are optional peers.
export { type OpenTelemetryMetricsOptions, openTelemetryMetrics } from './otel.js';
export { type PrometheusMetricsOptions, prometheusMetrics } from './prometheus.js';
