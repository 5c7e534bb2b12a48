/** Prometheus metrics at /metrics: request counts and latency by route, errors by code. */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'cairn_http_requests_total', help: 'HTTP requests by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'cairn_http_request_duration_seconds', help: 'HTTP request latency.', labelNames: ['method', 'route'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly errors = new Counter({ name: 'cairn_errors_total', help: 'Errors returned, by error code.', labelNames: ['code'], registers: [this.registry] });
  readonly rejected = new Counter({ name: 'cairn_ingest_rejected_total', help: 'Ingested records rejected, by source and reason.', labelNames: ['source', 'reason'], registers: [this.registry] });
  readonly ingestBusy = new Counter({ name: 'cairn_ingest_busy_total', help: 'HTTP ingest deliveries answered 503 (back-pressure: ingestMaxInFlight reached), by source.', labelNames: ['source'], registers: [this.registry] });
  readonly ingestInFlight = new Gauge({ name: 'cairn_ingest_in_flight', help: 'HTTP ingest deliveries being read, parsed or stored now.', registers: [this.registry] });
  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'cairn_' });
  }
}
