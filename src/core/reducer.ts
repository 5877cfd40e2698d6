// THE status reducer: (state, outcome, now, settings) -> (state, events). Every status change of
// every source goes through here; the monitor only executes what it decides. Pure and total: any
// outcome in any state yields a state (unknown or stale outcomes are ignored), never a throw.
import { backoffDelayMs, clampJitter } from './backoff.js';
import type { MonitorState } from './monitor-state.js';
import type { Outcome, OutcomeClass } from './outcomes.js';
import type { PlannedCheck } from './scheduling.js';
import { planNextCheck } from './scheduling.js';
import { redactProbeError, redactSecrets } from './redact.js';
import { compareRoutes, pickBest } from './selection.js';
import type { MonitorSettings } from './settings.js';
import type { EngineEvent, LossReason, ProbeError, ProbeResult, Route, RouteKind, SourceState, SourceStatus } from './types.js';

export interface ReduceResult {
  state: MonitorState;
  events: EngineEvent[];
}

/** Names of the transitions; the table below says which one each (outcome, state) pair takes. */
export type Transition =
  | 'connect' // first success: connected, ConnectionChanged (previousRouteKind null)
  | 'switch' // reachable again: ConnectionChanged when route or kind differs, else latency only
  | 'restore' // back after a loss: ConnectionRestored (or ConnectionChanged if never connected)
  | 'auth_recovered' // token works again: AuthStatusChanged(false)
  | 'require_auth' // 401/403: auth_required, AuthStatusChanged(true) — not a loss
  | 'first_failure' // never connected and nothing answers: reconnecting attempt 1, Reconnecting
  | 'lose' // was reachable, nothing answers: ConnectionLost + Reconnecting
  | 'retry_failed' // another failed attempt: Reconnecting, or disconnected after N attempts
  | 'latency' // light check ok: latency refreshed, no event
  | 'escalate' // light check failed: full check now, no status change yet
  | 'sync_failed' // libraries failing while reachable: SyncFailed
  | 'sync_restored' // libraries back: SyncRestored
  | 'sync_still_failing' // libraries still failing: error text refreshed
  | 'going_away' // server announced shutdown/restart: reconnecting with the reason, at once
  | 'note_reason' // already down: the reason is shown
  | 'suspect' // push lost / network changed while reachable: full check now, reason kept
  | 'recheck' // full check now, nothing else
  | 'rename'
  | 'ignore'; // stale or meaningless here: nothing changes

type Row = Record<SourceState, Transition>;

/**
 * THE transition table. Rows: what happened. Columns: the status before.
 * Every status change also emits StatusChanged (latency-only changes do not).
 */
export const TRANSITIONS: Readonly<Record<OutcomeClass, Row>> = {
  //                        connecting        connected        sync_failed           reconnecting    disconnected    auth_required
  selection_ok:           { connecting: 'connect', connected: 'switch', sync_failed: 'switch', reconnecting: 'restore', disconnected: 'restore', auth_required: 'auth_recovered' },
  selection_unauthorized: { connecting: 'require_auth', connected: 'require_auth', sync_failed: 'require_auth', reconnecting: 'require_auth', disconnected: 'require_auth', auth_required: 'ignore' },
  selection_failed:       { connecting: 'first_failure', connected: 'lose', sync_failed: 'lose', reconnecting: 'retry_failed', disconnected: 'retry_failed', auth_required: 'lose' },
  light_ok:               { connecting: 'ignore', connected: 'latency', sync_failed: 'latency', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  light_failed:           { connecting: 'ignore', connected: 'escalate', sync_failed: 'escalate', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  libraries_ok:           { connecting: 'ignore', connected: 'ignore', sync_failed: 'sync_restored', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  libraries_unauthorized: { connecting: 'ignore', connected: 'require_auth', sync_failed: 'require_auth', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  libraries_failed:       { connecting: 'ignore', connected: 'sync_failed', sync_failed: 'sync_still_failing', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  server_going_away:      { connecting: 'recheck', connected: 'going_away', sync_failed: 'going_away', reconnecting: 'note_reason', disconnected: 'note_reason', auth_required: 'ignore' },
  push_lost:              { connecting: 'ignore', connected: 'suspect', sync_failed: 'suspect', reconnecting: 'ignore', disconnected: 'ignore', auth_required: 'ignore' },
  network_changed:        { connecting: 'recheck', connected: 'suspect', sync_failed: 'suspect', reconnecting: 'recheck', disconnected: 'recheck', auth_required: 'recheck' },
  credentials_updated:    { connecting: 'recheck', connected: 'recheck', sync_failed: 'recheck', reconnecting: 'recheck', disconnected: 'recheck', auth_required: 'recheck' },
  credentials_missing:    { connecting: 'require_auth', connected: 'require_auth', sync_failed: 'require_auth', reconnecting: 'require_auth', disconnected: 'require_auth', auth_required: 'ignore' },
  renamed:                { connecting: 'rename', connected: 'rename', sync_failed: 'rename', reconnecting: 'rename', disconnected: 'rename', auth_required: 'rename' },
};

const GOING_AWAY: ReadonlySet<LossReason> = new Set(['server_shutting_down', 'server_restarting']);

/** Which row of the table an outcome takes, given the state (for routes and the current route). */
export function classifyOutcome(state: MonitorState, outcome: Outcome): OutcomeClass {
  switch (outcome.type) {
    case 'selection': {
      if (chosenResult(outcome.routes, outcome.results, outcome.chosenRouteId)) return 'selection_ok';
      return outcome.results.some((r) => !r.ok && r.error.code === 'unauthorized') ? 'selection_unauthorized' : 'selection_failed';
    }
    case 'light_check':
      return outcome.result.ok ? 'light_ok' : 'light_failed';
    case 'libraries':
      if (outcome.ok) return 'libraries_ok';
      return outcome.error.code === 'unauthorized' ? 'libraries_unauthorized' : 'libraries_failed';
    case 'push_lost':
      return outcome.reason && GOING_AWAY.has(outcome.reason) ? 'server_going_away' : 'push_lost';
    case 'network_changed':
      return 'network_changed';
    case 'credentials_updated':
      return 'credentials_updated';
    case 'credentials_missing':
      return 'credentials_missing';
    case 'renamed':
      return 'renamed';
  }
}

export function transitionFor(state: MonitorState, outcome: Outcome): Transition {
  return TRANSITIONS[classifyOutcome(state, outcome)][state.status.state];
}

/** Apply one outcome. Never mutates its input. */
export function reduce(state: MonitorState, outcome: Outcome, now: number, settings: MonitorSettings): ReduceResult {
  const transition = transitionFor(state, outcome);
  const next: MonitorState = { ...state, source: { ...state.source } };
  if (outcome.type === 'selection') next.lastFullCheckAt = now;
  const events: EngineEvent[] = [];
  const base = { sourceId: state.source.id, sourceName: state.source.name, sourceKind: state.source.kind, at: now };
  // undefined: plan from the new status; 'keep': the check already planned stays.
  let plan: PlannedCheck | 'keep' | undefined;

  const becomeReachable = (result: OkResult, route: Route): void => {
    next.lostAt = null;
    next.unreachableSince = null;
    next.pendingReason = null;
    next.lastConnected = { routeId: route.id, routeKind: route.kind };
    if (state.authRequired) events.push({ ...base, type: 'AuthStatusChanged', authRequired: false });
    next.authRequired = false;
    next.status = { state: 'connected', routeId: route.id, routeKind: route.kind, latencyMs: result.latencyMs, since: now };
  };

  const becomeUnreachable = (attempt: number, error: ProbeError | undefined, reason: LossReason | undefined, jitter: number): void => {
    const lastRouteKind = lastKnownRouteKind(state);
    // The backoff's cap depends on how long the outage has lasted (recent outages are retried faster).
    next.unreachableSince = state.unreachableSince ?? now;
    const nextRetryAt = now + backoffDelayMs(attempt, jitter, settings.backoff, now - next.unreachableSince);
    if (attempt > settings.disconnectAfterAttempts) {
      next.status = {
        state: 'disconnected',
        since: state.status.state === 'disconnected' ? state.status.since : now,
        attempt,
        nextRetryAt,
        ...(reason ? { reason } : {}),
        ...(error ? { lastError: error } : {}),
      };
    } else {
      next.status = {
        state: 'reconnecting',
        attempt,
        nextRetryAt,
        since: state.status.state === 'reconnecting' ? state.status.since : now,
        ...(lastRouteKind ? { lastRouteKind } : {}),
        ...(reason ? { reason } : {}),
        ...(error ? { lastError: error } : {}),
      };
      events.push({ ...base, type: 'Reconnecting', attempt, nextRetryAt, ...(reason ? { reason } : {}) });
    }
  };

  switch (transition) {
    case 'connect':
    case 'switch':
    case 'restore':
    case 'auth_recovered': {
      if (outcome.type !== 'selection') break;
      const result = chosenResult(outcome.routes, outcome.results, outcome.chosenRouteId);
      const route = result && outcome.routes.find((r) => r.id === result.routeId);
      if (!result || !route) break; // unreachable by classification; keeps the reducer total
      const previous = state.status;
      const wasDown = transition === 'restore' || (transition === 'auth_recovered' && state.lostAt !== null);
      const everConnected = state.lastConnected !== null || state.lostAt !== null;
      becomeReachable(result, route);
      if (transition === 'switch' && (previous.state === 'connected' || previous.state === 'sync_failed')) {
        const changed = previous.routeId !== route.id || previous.routeKind !== route.kind;
        // Still reachable: keep the original `since`; sync_failed stays until libraries succeed.
        next.status = { ...previous, routeId: route.id, routeKind: route.kind, latencyMs: result.latencyMs, since: changed && previous.state === 'connected' ? now : previous.since };
        if (changed) {
          events.push({ ...base, type: 'ConnectionChanged', routeId: route.id, routeKind: route.kind, previousRouteKind: previous.routeKind, latencyMs: result.latencyMs });
        }
      } else if (wasDown && everConnected) {
        events.push({ ...base, type: 'ConnectionRestored', routeId: route.id, routeKind: route.kind, latencyMs: result.latencyMs, downForMs: Math.max(0, now - (state.lostAt ?? now)) });
      } else if (transition !== 'auth_recovered') {
        events.push({ ...base, type: 'ConnectionChanged', routeId: route.id, routeKind: route.kind, previousRouteKind: state.lastConnected?.routeKind ?? null, latencyMs: result.latencyMs });
      }
      break;
    }
    case 'require_auth': {
      next.unreachableSince = null;
      next.pendingReason = null;
      if (!state.authRequired) events.push({ ...base, type: 'AuthStatusChanged', authRequired: true });
      next.authRequired = true;
      const routeId = rejectedRouteId(state, outcome);
      next.status = { state: 'auth_required', since: now, ...(routeId ? { routeId } : {}) };
      break;
    }
    case 'first_failure':
    case 'lose':
    case 'retry_failed': {
      if (outcome.type !== 'selection') break;
      const error = representativeError(outcome.routes, outcome.results);
      const reason = state.status.state === 'reconnecting' || state.status.state === 'disconnected' ? state.status.reason : (state.pendingReason ?? undefined);
      const jitter = clampJitter(outcome.jitter);
      if (transition === 'retry_failed') {
        becomeUnreachable(failedAttempts(state.status) + 1, error, reason, jitter);
      } else {
        if (transition === 'lose') {
          next.lostAt = now;
          events.push({ ...base, type: 'ConnectionLost', lastRouteKind: lastKnownRouteKind(state) ?? null, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
        }
        becomeUnreachable(1, error, reason, jitter);
      }
      next.pendingReason = null;
      break;
    }
    case 'latency': {
      if (outcome.type !== 'light_check' || !outcome.result.ok) break;
      const s = state.status;
      if ((s.state === 'connected' || s.state === 'sync_failed') && s.routeId === outcome.result.routeId) {
        next.status = { ...s, latencyMs: outcome.result.latencyMs };
      } else {
        plan = { kind: 'full', at: now }; // a light check of a route no longer current: look again
      }
      break;
    }
    case 'escalate':
    case 'suspect':
    case 'recheck':
      if (transition === 'suspect' && (outcome.type === 'push_lost' || outcome.type === 'network_changed')) {
        next.pendingReason = outcome.type === 'push_lost' ? (outcome.reason ?? 'push_lost') : 'network_changed';
      }
      plan = { kind: 'full', at: now };
      break;
    case 'sync_failed':
    case 'sync_still_failing': {
      const s = state.status;
      if (outcome.type !== 'libraries' || outcome.ok || (s.state !== 'connected' && s.state !== 'sync_failed') || s.routeId !== outcome.routeId) {
        plan = 'keep';
        break;
      }
      const error = redactSecrets(String(outcome.error.message));
      next.status = { state: 'sync_failed', routeId: s.routeId, routeKind: s.routeKind, latencyMs: s.latencyMs, since: s.state === 'sync_failed' ? s.since : now, error };
      if (s.state === 'connected') events.push({ ...base, type: 'SyncFailed', error });
      plan = 'keep';
      break;
    }
    case 'sync_restored': {
      const s = state.status;
      if (outcome.type !== 'libraries' || !outcome.ok || s.state !== 'sync_failed' || s.routeId !== outcome.routeId) {
        plan = 'keep';
        break;
      }
      next.status = { state: 'connected', routeId: s.routeId, routeKind: s.routeKind, latencyMs: s.latencyMs, since: now };
      events.push({ ...base, type: 'SyncRestored', libraryCount: outcome.libraryCount });
      plan = 'keep';
      break;
    }
    case 'going_away': {
      if (outcome.type !== 'push_lost' || !outcome.reason) break;
      next.lostAt = now;
      events.push({ ...base, type: 'ConnectionLost', lastRouteKind: lastKnownRouteKind(state) ?? null, reason: outcome.reason });
      becomeUnreachable(1, undefined, outcome.reason, clampJitter(outcome.jitter ?? 0));
      next.pendingReason = null;
      break;
    }
    case 'note_reason': {
      const s = state.status;
      if (outcome.type === 'push_lost' && outcome.reason && (s.state === 'reconnecting' || s.state === 'disconnected')) {
        next.status = { ...s, reason: outcome.reason };
      }
      plan = 'keep';
      break;
    }
    case 'rename':
      if (outcome.type === 'renamed' && typeof outcome.name === 'string' && outcome.name.length > 0) next.source.name = outcome.name;
      plan = 'keep';
      break;
    case 'ignore':
      plan = 'keep';
      break;
  }

  if (statusChanged(state.status, next.status)) {
    events.push({ ...base, type: 'StatusChanged', status: next.status, previous: state.status });
  }
  // A check just ran (selection, light check, missing credentials): its follow-up is always planned
  // afresh, so an ignored result can never leave an overdue plan behind (a busy loop).
  const checkRan = outcome.type === 'selection' || outcome.type === 'light_check' || outcome.type === 'credentials_missing';
  if (plan === 'keep' && checkRan) plan = undefined;
  next.next = plan === 'keep' ? state.next : (plan ?? planNextCheck(next.status, next.lastFullCheckAt, now, settings));
  return { state: next, events };
}

type OkResult = Extract<ProbeResult, { ok: true }>;

/** The chosen result if it is a valid choice, else the policy's best (never a failed route). */
function chosenResult(routes: readonly Route[], results: readonly ProbeResult[], chosenRouteId: string | null): OkResult | null {
  if (chosenRouteId !== null) {
    const chosen = results.find((r) => r.routeId === chosenRouteId);
    if (chosen?.ok && routes.some((route) => route.id === chosen.routeId)) return chosen;
  }
  return pickBest(routes, results);
}

/** Consecutive failed full checks so far: the attempt an unreachable status shows (at least 1, also for a stored status), else 0. */
function failedAttempts(status: SourceStatus): number {
  return status.state === 'reconnecting' || status.state === 'disconnected' ? Math.max(1, status.attempt) : 0;
}

function currentRouteId(state: MonitorState): string | null {
  const s = state.status;
  return s.state === 'connected' || s.state === 'sync_failed' ? s.routeId : null;
}

function lastKnownRouteKind(state: MonitorState): RouteKind | undefined {
  const s = state.status;
  if (s.state === 'connected' || s.state === 'sync_failed') return s.routeKind;
  if (s.state === 'reconnecting' && s.lastRouteKind) return s.lastRouteKind;
  return state.lastConnected?.routeKind;
}

/** The error of the most preferred route: the one the user cares about first. */
function representativeError(routes: readonly Route[], results: readonly ProbeResult[]): ProbeError | undefined {
  const failures = results.filter((r): r is Extract<ProbeResult, { ok: false }> => !r.ok);
  const rank = (id: string): Route | undefined => routes.find((route) => route.id === id);
  failures.sort((a, b) => {
    const ra = rank(a.routeId);
    const rb = rank(b.routeId);
    if (!ra || !rb) return ra ? -1 : rb ? 1 : 0;
    return compareRoutes(ra, rb);
  });
  const first = failures[0];
  return first ? redactProbeError(first.error) : undefined;
}

function rejectedRouteId(state: MonitorState, outcome: Outcome): string | undefined {
  if (outcome.type === 'libraries') return outcome.routeId;
  if (outcome.type !== 'selection') return currentRouteId(state) ?? undefined;
  const rejected = outcome.results.filter((r) => !r.ok && r.error.code === 'unauthorized').map((r) => outcome.routes.find((route) => route.id === r.routeId));
  const known = rejected.filter((r): r is Route => r !== undefined).sort(compareRoutes);
  return known[0]?.id;
}

/** A status change is any difference except a latency refresh of the same route. */
export function statusChanged(before: SourceStatus, after: SourceStatus): boolean {
  if (before === after) return false;
  const strip = (s: SourceStatus): unknown => (s.state === 'connected' || s.state === 'sync_failed' ? { ...s, latencyMs: 0 } : s);
  return canonical(strip(before)) !== canonical(strip(after));
}

/** JSON with sorted keys and undefined members dropped, so key order never fakes a change. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
