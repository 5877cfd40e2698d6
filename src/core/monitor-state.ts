// What the reducer knows about one source: its public status plus the bookkeeping needed to decide
// the next transition. Plain data (JSON-serialisable), no tokens.
import type { PlannedCheck } from './scheduling.js';
import type { LossReason, RouteKind, SourceKind, SourceStatus } from './types.js';

/** The names an event needs; never a token, never a URL. */
export interface SourceRef {
  id: string;
  name: string;
  kind: SourceKind;
}

export interface MonitorState {
  source: SourceRef;
  /** While unreachable, `status.attempt` counts the consecutive failed full checks. */
  status: SourceStatus;
  /** The last route the source was connected through (null: never connected). */
  lastConnected: { routeId: string; routeKind: RouteKind } | null;
  /** When the connection was lost (for ConnectionRestored.downForMs); null while reachable. */
  lostAt: number | null;
  /** When the current outage began, also for a source never connected (the backoff's phase); null while reachable. */
  unreachableSince: number | null;
  /** The token was rejected and has not worked since. */
  authRequired: boolean;
  /** Why the next loss happens, when known before it is confirmed (push lost, server restarting…). */
  pendingReason: LossReason | null;
  lastFullCheckAt: number | null;
  /** What the scheduler runs next. */
  next: PlannedCheck;
}

/**
 * A fresh source, or one restored from the database: its last-known status is served at once and
 * re-verified by an immediate full check.
 */
export function initialMonitorState(source: SourceRef, now: number, stored?: SourceStatus | null): MonitorState {
  const status: SourceStatus = stored ?? { state: 'connecting' };
  const state: MonitorState = {
    source: { id: source.id, name: source.name, kind: source.kind },
    status,
    lastConnected: null,
    lostAt: null,
    unreachableSince: null,
    authRequired: false,
    pendingReason: null,
    lastFullCheckAt: null,
    next: { kind: 'full', at: now },
  };
  switch (status.state) {
    case 'connected':
    case 'sync_failed':
      state.lastConnected = { routeId: status.routeId, routeKind: status.routeKind };
      break;
    case 'reconnecting':
    case 'disconnected':
      state.lostAt = status.since;
      state.unreachableSince = status.since;
      break;
    case 'auth_required':
      state.authRequired = true;
      break;
    case 'connecting':
      break;
  }
  return state;
}
