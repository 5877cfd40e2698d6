// The one place the engine's domain snapshots become the wire view (src/api/types.ts): REST
// answers, SSE frames, metrics. Pure: everything it shows is passed in; no I/O, no clock.
import type { ApiEventMessage, ApiHealth, ApiHealthState, ApiHistoryEntry, ApiSource, ApiSourceDetail } from '../api/types.js';
import { REASON_WORDS, ROUTE_KIND_PREFERENCE, type RouteKind, type Source } from '../core/types.js';
import type { EngineEventRecord, EngineHealth, SourceDetailSnapshot, SourceSnapshot } from '../monitor/engine-types.js';

/** Rows of history in GET /api/sources/:id. */
export const DETAIL_HISTORY = 60;

/** The best kind of route this source has at all. */
export function preferredKind(source: Source): RouteKind | null {
  return ROUTE_KIND_PREFERENCE.find((kind) => source.routes.some((r) => r.kind === kind)) ?? null;
}

export function toApiSource(snapshot: SourceSnapshot): ApiSource {
  const { source, status } = snapshot;
  const base: ApiSource = {
    id: source.id,
    name: source.name,
    kind: source.kind,
    status: status.state,
    route: null,
    lastCheckedAt: snapshot.lastCheckedAt,
    nextCheckAt: snapshot.nextCheckAt,
    since: snapshot.since,
    push: snapshot.push,
    preferredRouteKind: preferredKind(source),
    libraries: snapshot.libraries.map((l) => ({ id: l.id, name: l.name, type: l.type })),
  };
  switch (status.state) {
    case 'connected':
    case 'sync_failed': {
      const route = source.routes.find((r) => r.id === status.routeId);
      base.route = { id: status.routeId, url: route?.url ?? '', kind: status.routeKind, latencyMs: status.latencyMs };
      if (status.state === 'sync_failed') base.error = `the libraries could not be loaded: ${status.error}`;
      break;
    }
    case 'reconnecting':
    case 'disconnected':
      base.attempt = status.attempt;
      base.nextRetryAt = status.nextRetryAt;
      if (status.reason) base.reason = status.reason;
      // `reason` says why it went away; `error` the latest concrete problem (clients show both, so
      // repeating the reason here would say the same thing twice and hide e.g. "connection refused").
      if (status.lastError) base.error = status.lastError.message;
      else if (status.reason) base.error = REASON_WORDS[status.reason];
      break;
    case 'auth_required':
      base.error = source.kind === 'plex' ? 'Plex no longer accepts the saved sign-in' : 'Jellyfin no longer accepts the saved sign-in';
      break;
    case 'connecting':
      break;
  }
  return base;
}

export function toApiSourceDetail(detail: SourceDetailSnapshot): ApiSourceDetail {
  const { source } = detail;
  const history: ApiHistoryEntry[] = [
    ...detail.transitions.map((t) => ({
      at: t.at,
      kind: 'transition' as const,
      state: t.state,
      ...(t.routeKind ? { routeKind: t.routeKind } : {}),
      ...(t.detail ? { detail: t.detail } : {}),
    })),
    ...detail.checks.map((c) => ({ at: c.at, kind: 'check' as const, state: c.ok ? 'ok' : (c.code ?? 'error'), routeKind: c.routeKind })),
  ];
  history.sort((a, b) => b.at - a.at);
  return {
    ...toApiSource(detail),
    serverId: source.serverId,
    routes: detail.routes.map((r) => ({
      id: r.id,
      url: r.url,
      kind: r.kind,
      priority: r.priority,
      origin: r.origin,
      ...(r.pending ? { pending: true as const } : {}),
      lastResult: r.lastResult,
      lastError: r.lastError,
      latencyMs: r.latencyMs,
      checkedAt: r.checkedAt,
      recentLatencies: r.recentLatencies,
    })),
    history: history.slice(0, DETAIL_HISTORY),
    monitoring: {
      enabled: source.monitoring.enabled !== false,
      push: source.monitoring.push !== false,
      probeTimeoutMs: detail.probeTimeoutMs,
    },
  };
}

export function toApiEventMessage(record: EngineEventRecord, source: ApiSource | null = record.source && toApiSource(record.source)): ApiEventMessage {
  return { seq: record.seq, event: record.event, source };
}

/** GET /healthz and the snapshot's health: 'ok' only with a writable database and a running monitor. */
export function toApiHealth(health: EngineHealth): ApiHealth {
  const ok = health.database === 'ok' && health.monitor === 'running';
  return { status: ok ? 'ok' : 'degraded', ...toApiHealthState(health) };
}

/** The snapshot's `health` and the SSE `event: health` payload. */
export function toApiHealthState(health: EngineHealth): ApiHealthState {
  return { database: health.database, monitor: health.monitor, ...(health.detail ? { detail: health.detail } : {}) };
}
