import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  hrEvents: Counter<'type' | 'outcome'>;
  decisions: Counter<'decision'>;
  outboxDeliveries: Counter<'outcome'>;
}

/** One registry per app instance, so tests can build several apps in one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sekisho_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'sekisho_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    hrEvents: new Counter({
      name: 'sekisho_hr_events_total',
      help: 'HR events received, by type and outcome',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'sekisho_decisions_total',
      help: 'Field-level decisions made, by outcome',
      labelNames: ['decision'],
      registers: [registry],
    }),
    outboxDeliveries: new Counter({
      name: 'sekisho_outbox_deliveries_total',
      help: 'Outbound delivery attempts and their outcome (delivered, failed, dead, skipped)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
