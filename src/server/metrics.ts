// Prometheus metrics on a registry owned by the app (never prom-client's global one, so several
// apps — tests — can live in one process). Source status is read from the engine at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RouteKind, SourceKind } from '../core/types.js';
import type { ApiSource } from '../api/types.js';

/** 'ok' or a ProbeErrorCode ('timeout', 'refused', …). */
export type ProbeOutcome = string;

export interface Metrics {
  readonly registry: Registry;
  /** Called by the engine wiring after every route probe. */
  observeProbe(sourceKind: SourceKind, routeKind: RouteKind, outcome: ProbeOutcome, latencyMs: number): void;
  /** Current number of open SSE streams. */
  setSseClients(count: number): void;
  /** An SSE client was dropped for reading too slowly. */
  countSseDropped(): void;
  /** A routed request's route died under it (issue 14): how the failover ended. */
  countFailover(sourceKind: SourceKind, outcome: 'retried' | 'offline' | 'failed'): void;
  /** Where per-source status gauges come from at scrape time (set by buildApp). */
  setSourceReader(read: () => ApiSource[]): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop). Default true. */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let readSources: () => ApiSource[] = () => [];
  // One read of every source per scrape, shared by the gauges below: at 10,000 sources building
  // the view is the scrape's main cost. Set for the duration of render(); a gauge read on its own
  // (registry.getSingleMetric) reads afresh.
  let scrapeSources: ApiSource[] | null = null;
  const sourcesForScrape = (): ApiSource[] => scrapeSources ?? readSources();

  new Gauge({
    name: 'marquee_source_status',
    help: 'Current status of each source: 1 for the state it is in (labels source_id, name, kind, state).',
    labelNames: ['source_id', 'name', 'kind', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sourcesForScrape()) this.set({ source_id: s.id, name: s.name, kind: s.kind, state: s.status }, 1);
    },
  });
  new Gauge({
    name: 'marquee_source_route_latency_seconds',
    help: 'Latency of the route each connected source uses, from its last check.',
    labelNames: ['source_id', 'name', 'kind', 'route_kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sourcesForScrape()) {
        if (s.route?.latencyMs != null) {
          this.set({ source_id: s.id, name: s.name, kind: s.kind, route_kind: s.route.kind }, s.route.latencyMs / 1000);
        }
      }
    },
  });
  const latency = new Histogram({
    name: 'marquee_route_latency_seconds',
    help: 'Round-trip time of route probes.',
    labelNames: ['kind', 'route_kind', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const probes = new Counter({
    name: 'marquee_probes_total',
    help: 'Route probes by source kind, route kind and outcome (ok or the error code).',
    labelNames: ['kind', 'route_kind', 'outcome'] as const,
    registers: [registry],
  });
  const sseClients = new Gauge({ name: 'marquee_sse_clients', help: 'Open Server-Sent Events streams.', registers: [registry] });
  const sseDropped = new Counter({
    name: 'marquee_sse_dropped_total',
    help: 'SSE clients disconnected because they read too slowly (they resync on reconnect).',
    registers: [registry],
  });
  const failovers = new Counter({
    name: 'marquee_request_failovers_total',
    help: 'Requests whose route died under them, by source kind and how it ended (retried on the next route, offline, failed).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    observeProbe(sourceKind, routeKind, outcome, latencyMs) {
      probes.inc({ kind: sourceKind, route_kind: routeKind, outcome });
      if (Number.isFinite(latencyMs) && latencyMs >= 0) latency.observe({ kind: sourceKind, route_kind: routeKind, outcome }, latencyMs / 1000);
    },
    setSseClients(count) {
      sseClients.set(count);
    },
    countSseDropped() {
      sseDropped.inc();
    },
    countFailover(sourceKind, outcome) {
      failovers.inc({ kind: sourceKind, outcome });
    },
    setSourceReader(read) {
      readSources = read;
    },
    async render() {
      const sources = readSources();
      scrapeSources = sources;
      try {
        return await registry.metrics();
      } finally {
        // A scrape that overlapped this one may have put its own read in place: leave that.
        if (scrapeSources === sources) scrapeSources = null;
      }
    },
  };
}
