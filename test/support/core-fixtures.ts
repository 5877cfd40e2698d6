// Shared fixtures for the core tests (not imported by production code).
import { initialMonitorState, type MonitorState } from '../../src/core/monitor-state.js';
import type { Outcome, OutcomeClass } from '../../src/core/outcomes.js';
import { parseMonitorSettings } from '../../src/core/settings.js';
import type { ProbeErrorCode, ProbeResult, Route, SourceState } from '../../src/core/types.js';

export const T0 = 1_700_000_000_000;
export const NOW = T0 + 600_000;
export const SETTINGS = parseMonitorSettings();
export const SOURCE = { id: 'src-1', name: 'Living-room Plex', kind: 'plex' as const };

export const LOCAL: Route = { id: 'r-local', url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 };
export const REMOTE: Route = { id: 'r-remote', url: 'http://127.0.0.3:32400', kind: 'remote', priority: 0 };
export const RELAY: Route = { id: 'r-relay', url: 'http://127.0.0.4:32400', kind: 'relay', priority: 0 };
export const ROUTES = [LOCAL, REMOTE, RELAY];

export function ok(route: Route, latencyMs = 20, at = NOW): ProbeResult {
  return { ok: true, routeId: route.id, at, latencyMs };
}
export function fail(route: Route, code: ProbeErrorCode = 'refused', message = `${code} at ${route.kind}`, at = NOW): ProbeResult {
  return { ok: false, routeId: route.id, at, latencyMs: 5, error: { code, message } };
}

/** One representative state per status, each with consistent bookkeeping. */
export function stateIn(status: SourceState): MonitorState {
  const base = initialMonitorState(SOURCE, T0);
  switch (status) {
    case 'connecting':
      return base;
    case 'connected':
      return { ...base, status: { state: 'connected', routeId: LOCAL.id, routeKind: 'local', latencyMs: 3, since: T0 }, lastConnected: { routeId: LOCAL.id, routeKind: 'local' }, lastFullCheckAt: T0 };
    case 'sync_failed':
      return { ...base, status: { state: 'sync_failed', routeId: LOCAL.id, routeKind: 'local', latencyMs: 3, since: T0, error: 'old error' }, lastConnected: { routeId: LOCAL.id, routeKind: 'local' }, lastFullCheckAt: T0 };
    case 'reconnecting':
      return { ...base, status: { state: 'reconnecting', attempt: 1, nextRetryAt: T0 + 500, since: T0, lastRouteKind: 'local' }, lostAt: T0, lastConnected: { routeId: LOCAL.id, routeKind: 'local' } };
    case 'disconnected':
      return { ...base, status: { state: 'disconnected', attempt: 4, nextRetryAt: T0 + 20_000, since: T0 }, lostAt: T0, lastConnected: { routeId: LOCAL.id, routeKind: 'local' } };
    case 'auth_required':
      return { ...base, status: { state: 'auth_required', since: T0, routeId: LOCAL.id }, authRequired: true, lastConnected: { routeId: LOCAL.id, routeKind: 'local' } };
  }
}

/** One representative outcome per row of the transition table. */
export const OUTCOMES: Record<OutcomeClass, Outcome> = {
  selection_ok: { type: 'selection', routes: ROUTES, results: [fail(LOCAL, 'timeout'), ok(REMOTE, 40)], chosenRouteId: REMOTE.id, jitter: 0.5 },
  selection_unauthorized: { type: 'selection', routes: ROUTES, results: [fail(LOCAL, 'unauthorized'), fail(REMOTE, 'unauthorized'), fail(RELAY, 'timeout')], chosenRouteId: null, jitter: 0.5 },
  selection_failed: { type: 'selection', routes: ROUTES, results: [fail(LOCAL, 'refused'), fail(REMOTE, 'timeout'), fail(RELAY, 'wrong_server')], chosenRouteId: null, jitter: 0.5 },
  light_ok: { type: 'light_check', result: ok(LOCAL, 7) },
  light_failed: { type: 'light_check', result: fail(LOCAL, 'timeout') },
  libraries_ok: { type: 'libraries', routeId: LOCAL.id, ok: true, libraryCount: 3 },
  libraries_unauthorized: { type: 'libraries', routeId: LOCAL.id, ok: false, error: { code: 'unauthorized', message: 'token rejected' } },
  libraries_failed: { type: 'libraries', routeId: LOCAL.id, ok: false, error: { code: 'http_error', message: 'HTTP 500 from /library/sections', status: 500 } },
  server_going_away: { type: 'push_lost', reason: 'server_restarting', jitter: 0.5 },
  push_lost: { type: 'push_lost' },
  network_changed: { type: 'network_changed' },
  credentials_updated: { type: 'credentials_updated' },
  credentials_missing: { type: 'credentials_missing' },
  renamed: { type: 'renamed', name: 'Den Plex' },
};
