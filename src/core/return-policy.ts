// Back to the best route by itself, without flapping (issue 13 item 2). While a source is connected
// through a less preferred route (it fell back from local to remote, say), every route it prefers
// to the current one is on probation: it is re-checked on a short, jittered cadence and the source
// returns to it only once it has answered consistently for a hold-down window — at least
// `returnMinSuccesses` answers in a row spanning at least `returnHoldMs`; any failure restarts the
// window. Until then the route is *held*: a full selection may use it only when no other route
// answers (`decideEarly`'s `held`), so a re-selection that happens to catch a flapping route in its
// "up" half does not switch back to it. A route that keeps failing is re-checked no more often than
// a dead route is retried (the retry backoff, `backoffDelayMs`): returning costs a dead preferred
// route no more than the retry budget.
// Pure: no clock, no randomness (the caller passes `now` and uniform draws in [0, 1)).
import { backoffDelayMs } from './backoff.js';
import { compareRoutes } from './selection.js';
import type { MonitorSettings } from './settings.js';
import type { Route, SourceStatus } from './types.js';

/** One preferred route's probation. */
export interface ReturnWindow {
  /** Answers in a row since the last failure (the window's count). */
  successes: number;
  /** When the first answer of the window came; null: no answer since the last failure. */
  since: number | null;
  /** Failures in a row (the backoff attempt while the route stays dead). */
  failures: number;
  /** When that run of failures began (the backoff's phase); null while it answers. */
  failingSince: number | null;
  /** When this route's next return check is due. */
  dueAt: number;
  /** The fastest answer seen while on probation (the route's base round trip, as TCP's min RTT); null: none yet. */
  bestLatencyMs: number | null;
}

export interface ReturnState {
  /** The route the source is connected through; null: not connected (nothing to return to). */
  currentRouteId: string | null;
  /** Probation of every route preferred to the current one, by route id. Empty on the best route. */
  windows: Readonly<Record<string, ReturnWindow>>;
}

export type ReturnSettings = Pick<MonitorSettings, 'returnCheckMs' | 'returnHoldMs' | 'returnMinSuccesses' | 'returnLatencyMarginMs' | 'backoff'>;

export function initialReturnState(): ReturnState {
  return { currentRouteId: null, windows: {} };
}

/** The routes a source on `currentRouteId` would rather use, best first. */
export function preferredRoutes(routes: readonly Route[], currentRouteId: string | null): Route[] {
  const current = routes.find((r) => r.id === currentRouteId);
  if (!current) return [];
  return routes.filter((r) => compareRoutes(r, current) < 0).sort(compareRoutes);
}

/**
 * The install-wide budget: N sources on probation re-checking every `returnCheckMs` make N / T
 * requests per second; the cadence stretches so all of them stay within `maxReturnChecksPerS`.
 */
export function returnCheckFloorMs(sourcesOnProbation: number, maxReturnChecksPerS: number): number {
  return Math.ceil((Math.max(0, sourcesOnProbation) / maxReturnChecksPerS) * 1000);
}

/** Delay to the next check of a route that answered: the cadence ±25 % (sources desynchronise), at least the budget's floor. */
function answeredDelayMs(settings: ReturnSettings, draw: number, floorMs: number): number {
  return Math.max(floorMs, Math.round(settings.returnCheckMs * (0.75 + 0.5 * unit(draw))));
}

/** Delay to the next check of a route that failed: exactly a retry of a dead route (attempt, phase), at least the budget's floor. */
function failedDelayMs(window: ReturnWindow, now: number, settings: ReturnSettings, draw: number, floorMs: number): number {
  return Math.max(floorMs, backoffDelayMs(window.failures, unit(draw), settings.backoff, now - (window.failingSince ?? now)));
}

function unit(draw: number): number {
  return Number.isFinite(draw) && draw >= 0 ? Math.min(draw, 1 - Number.EPSILON) : 0;
}

/**
 * Follow the source's status and routes: connected through a route with better ones → a window per
 * better route (kept while the current route stays the same); any other status, or on the best
 * route → no windows. A new window starts as a route that just failed (the source fell back from
 * it, or it never answered): its first check is a first retry, and it has everything to prove.
 */
export function syncReturnState(state: ReturnState, routes: readonly Route[], status: SourceStatus, now: number, settings: ReturnSettings, draw: () => number, floorMs = 0): ReturnState {
  const currentRouteId = status.state === 'connected' || status.state === 'sync_failed' ? status.routeId : null;
  // returnCheckMs 0 (engine only): no probation — back at the next full re-selection, as before.
  const preferred = settings.returnCheckMs > 0 ? preferredRoutes(routes, currentRouteId) : [];
  const sameCurrent = currentRouteId === state.currentRouteId;
  const windows: Record<string, ReturnWindow> = {};
  let changed = !sameCurrent;
  for (const route of preferred) {
    const kept = sameCurrent ? state.windows[route.id] : undefined;
    if (kept) {
      windows[route.id] = kept;
      continue;
    }
    changed = true;
    const fresh: ReturnWindow = { successes: 0, since: null, failures: 1, failingSince: now, dueAt: now, bestLatencyMs: null };
    fresh.dueAt = now + failedDelayMs(fresh, now, settings, draw(), floorMs);
    windows[route.id] = fresh;
  }
  if (!changed && Object.keys(state.windows).length === preferred.length) return state;
  return { currentRouteId, windows };
}

/** What one probe of a preferred route said. */
export interface ReturnObservation {
  routeId: string;
  ok: boolean;
  at: number;
  /** How long the answer took; unknown: judged as a clean answer. */
  latencyMs?: number;
}

/**
 * Record an answer (or a failure) of a route on probation and plan its next check. A failure
 * restarts the window; a clean answer extends it. A *late* answer — slower than the route's fastest
 * by more than `returnLatencyMarginMs` — restarts the window too, without counting the route dead:
 * it came through TCP retransmissions (≥ 200 ms on Linux), i.e. packets were lost on the way. A
 * route flapping as a pulled cable (packets dropped, not refused) answers almost every probe, just
 * late; without this rule it would pass for stable.
 * Observations of routes not on probation are ignored.
 */
export function observeReturnProbe(state: ReturnState, observation: ReturnObservation, settings: ReturnSettings, draw: number, floorMs = 0): ReturnState {
  const window = state.windows[observation.routeId];
  if (!window) return state;
  const now = observation.at;
  let next: ReturnWindow;
  if (observation.ok) {
    const latency = Number.isFinite(observation.latencyMs) ? Math.max(0, observation.latencyMs!) : null;
    const best = latency === null ? window.bestLatencyMs : Math.min(latency, window.bestLatencyMs ?? latency);
    const late = latency !== null && best !== null && latency > best + settings.returnLatencyMarginMs;
    next = late
      ? { successes: 0, since: null, failures: 0, failingSince: null, dueAt: now, bestLatencyMs: best }
      : { successes: window.successes + 1, since: window.since ?? now, failures: 0, failingSince: null, dueAt: now, bestLatencyMs: best };
    next.dueAt = now + answeredDelayMs(settings, draw, floorMs);
  } else {
    next = { successes: 0, since: null, failures: window.failures + 1, failingSince: window.failingSince ?? now, dueAt: now, bestLatencyMs: window.bestLatencyMs };
    next.dueAt = now + failedDelayMs(next, now, settings, draw, floorMs);
  }
  return { ...state, windows: { ...state.windows, [observation.routeId]: next } };
}

/**
 * A full selection ran while on probation: its answers count like return checks. A stable route
 * the selection did not use (it was still pending when a less preferred route decided) has not
 * answered consistently after all: its window starts again, so the monitor does not ask for
 * re-selections in a loop.
 */
export function observeSelection(state: ReturnState, results: readonly ReturnObservation[], chosenRouteId: string | null, now: number, settings: ReturnSettings, draw: () => number, floorMs = 0): ReturnState {
  let next = state;
  const seen = new Set<string>();
  for (const result of results) {
    if (seen.has(result.routeId)) continue;
    seen.add(result.routeId);
    next = observeReturnProbe(next, result, settings, draw(), floorMs);
  }
  for (const [routeId, window] of Object.entries(next.windows)) {
    if (seen.has(routeId) || routeId === chosenRouteId || !isStable(window, now, settings)) continue;
    next = { ...next, windows: { ...next.windows, [routeId]: { ...window, successes: 0, since: null } } };
  }
  return next;
}

/** The window is complete: enough answers in a row, spanning the hold-down time, none failed since. */
export function isStable(window: ReturnWindow, now: number, settings: Pick<ReturnSettings, 'returnHoldMs' | 'returnMinSuccesses'>): boolean {
  return window.since !== null && window.failures === 0 && window.successes >= settings.returnMinSuccesses && now - window.since >= settings.returnHoldMs;
}

/** Routes on probation whose window is not complete: a selection uses them only when nothing else answers. */
export function heldRouteIds(state: ReturnState, now: number, settings: Pick<ReturnSettings, 'returnHoldMs' | 'returnMinSuccesses'>): Set<string> {
  const held = new Set<string>();
  for (const [routeId, window] of Object.entries(state.windows)) if (!isStable(window, now, settings)) held.add(routeId);
  return held;
}

/** Some preferred route has completed its window: time for a full selection, which may now use it. */
export function shouldReturn(state: ReturnState, now: number, settings: Pick<ReturnSettings, 'returnHoldMs' | 'returnMinSuccesses'>): boolean {
  return Object.values(state.windows).some((w) => isStable(w, now, settings));
}

/** Routes whose return check is due now. */
export function dueReturnChecks(state: ReturnState, now: number): string[] {
  return Object.entries(state.windows)
    .filter(([, w]) => w.dueAt <= now)
    .map(([routeId]) => routeId);
}

/** When the next return check is due; null: not on probation. */
export function nextReturnCheckAt(state: ReturnState): number | null {
  let at: number | null = null;
  for (const w of Object.values(state.windows)) if (at === null || w.dueAt < at) at = w.dueAt;
  return at;
}
