// The face the server sees: everything the HTTP layer may ask of the engine, nothing more.
// Implemented by src/monitor/engine.ts (monitor + store + backends wired together); tests of the
// server may use a fake that satisfies the same interface.
// It speaks the domain (Source, SourceStatus, EngineEvent): the wire shapes (src/api/types.ts) are
// built from these snapshots in one place, src/server/views.ts, so the monitor never depends on
// how the HTTP layer presents it.
import type { BrowseResult, Credentials, MediaBackend, RouteCandidate, RouteContext } from '../backends/types.js';
import type { EngineEvent, Library, ProbeError, ProbeErrorCode, Route, RouteKind, RouteOrigin, Source, SourceKind, SourceMonitoringSettings, SourceStatus } from '../core/types.js';
import type { UserRouteKind } from '../core/route-edits.js';
import type { PushState } from './push-supervisor.js';

/** Everything known about one source right now; in memory, no I/O. */
export interface SourceSnapshot {
  source: Source;
  status: SourceStatus;
  /** When its last check finished. */
  lastCheckedAt: number | null;
  /** Since when the current status holds (statuses that carry their own `since` win). */
  since: number | null;
  nextCheckAt: number | null;
  libraries: readonly Library[];
  push: PushState;
}

/** One route with its latest result and recent latencies (oldest first; null = failed). */
export interface RouteSnapshot extends Route {
  /** Where the address came from (the user, the server itself, plex.tv). */
  origin: RouteOrigin;
  lastResult: 'ok' | ProbeErrorCode | null;
  /** Plain words, never a token. */
  lastError: string | null;
  latencyMs: number | null;
  checkedAt: number | null;
  recentLatencies: (number | null)[];
  /** Kept with `force`, not yet seen answering as this server: never probed with the token. */
  pending: boolean;
}

/** A stored status transition (newest first in SourceDetailSnapshot). */
export interface StatusTransition {
  at: number;
  /** The new state (as stored). */
  state: string;
  routeKind: RouteKind | null;
  /** Plain words (the error or reason), never a token. */
  detail: string | null;
}

/** One stored probe of one route. */
export interface RouteCheck {
  at: number;
  routeKind: RouteKind;
  ok: boolean;
  code: ProbeErrorCode | null;
}

/** A source with its routes and recent history (reads the store). */
export interface SourceDetailSnapshot extends SourceSnapshot {
  routes: RouteSnapshot[];
  transitions: StatusTransition[];
  checks: RouteCheck[];
  /** The probe timeout in effect: the source's override or the global setting. */
  probeTimeoutMs: number;
}

/** An engine event as logged, with the source as it is now (null once removed). */
export interface EngineEventRecord {
  seq: number;
  event: EngineEvent;
  source: SourceSnapshot | null;
}

export interface NewSourceInput {
  name: string;
  kind: SourceKind;
  serverId: string;
  routes: RouteCandidate[];
  credentials: Credentials;
  monitoring?: SourceMonitoringSettings;
}

export interface SourcePatch {
  name?: string;
  monitoring?: SourceMonitoringSettings;
}

/** A route the user adds (POST /api/sources/{id}/routes). */
export interface NewRouteInput {
  /** As typed; normalised and validated by the engine (src/core/route-edits.ts). */
  url: string;
  /** Chosen by the user; inferred from the address when absent (private and link-local → local). */
  kind?: UserRouteKind;
  /**
   * Keep the address although nothing answered as this server there (e.g. a VPN that is down
   * now). It is stored as pending and used only once an anonymous identity check finds this
   * server there. An address where ANOTHER server answers is refused even with `force`.
   */
  force?: boolean;
}

/** A change to one route (PATCH /api/sources/{id}/routes/{routeId}); see planRouteMove. */
export interface RoutePatch {
  kind?: UserRouteKind;
  position?: number;
}

/** Why a route change was refused; the server maps each to an HTTP status. */
export type RouteEditErrorCode =
  | 'source_not_found'
  | 'route_not_found'
  | 'invalid_url'
  | 'duplicate'
  | 'wrong_server'
  | 'unreachable'
  | 'managed'
  | 'last_route';

export type RouteEditResult =
  | { ok: true; routeId: string; detail: SourceDetailSnapshot }
  | { ok: false; code: RouteEditErrorCode; message: string };

/** What flows to SSE clients, in order. `engine` messages carry a sequence number for resume. */
export type EngineStreamMessage =
  | { type: 'engine'; message: EngineEventRecord }
  | { type: 'source'; source: SourceSnapshot }
  | { type: 'removed'; sourceId: string }
  /** Storage or monitor health changed (the UI shows a warning while degraded). */
  | { type: 'health'; health: EngineHealth };

/** What `checkNowAndWait` resolves with. */
export interface CheckWaitResult {
  snapshot: SourceSnapshot;
  /** A full check that started after the request finished (false: the wait timed out first). */
  completed: boolean;
}

export interface EngineHealth {
  database: 'ok' | 'degraded';
  monitor: 'running' | 'stopped';
  detail?: string;
}

export interface Engine {
  listSources(): SourceSnapshot[];
  /** One source; in memory, no I/O. */
  getSource(id: string): SourceSnapshot | null;
  /** One source with routes and history (reads the store). */
  getSourceDetail(id: string): SourceDetailSnapshot | null;
  /** A source of this server (machineIdentifier / Jellyfin server id) exists; in memory, no I/O. */
  hasServer(serverId: string): boolean;
  /** Runs a full check now (coalesced with one in flight). False when the source is unknown. */
  checkNow(id: string): boolean;
  /**
   * Runs a full check now and resolves once a full check that STARTED after this call has finished
   * (a check already in flight may predate what the caller saw; the monitor owes one re-run after
   * it), with the snapshot as that check left it — also when the status did not change.
   * `completed: false`: the wait ended first (timeout, the engine stopped): the snapshot is today's.
   * Null: no such source (or it was removed meanwhile). Concurrent waiters share the check.
   */
  checkNowAndWait(id: string, timeoutMs: number): Promise<CheckWaitResult | null>;
  addSource(input: NewSourceInput): SourceSnapshot;
  updateSource(id: string, patch: SourcePatch): SourceSnapshot | null;
  /** New credentials after "Sign in again"; triggers a check. */
  updateCredentials(id: string, credentials: Credentials): boolean;
  /** Also returns the stored credentials (server-side only, e.g. for re-sign-in of Plex). */
  getCredentials(id: string): Credentials | null;
  removeSource(id: string): boolean;
  /**
   * Adds a route the user gives, after an anonymous identity check there (no token is sent to an
   * address before the right server answered at it). Applied live: the monitor re-selects at once.
   */
  addRoute(sourceId: string, input: NewRouteInput): Promise<RouteEditResult>;
  /** Moves a route (kind of a non-managed route, position among its kind); the monitor re-selects at once. */
  updateRoute(sourceId: string, routeId: string, patch: RoutePatch): RouteEditResult;
  /** Removes a route that is not managed by plex.tv or the server; a push channel on it moves. */
  removeRoute(sourceId: string, routeId: string): RouteEditResult;
  /** Subscribe to the ordered stream; returns an unsubscribe function. */
  subscribe(listener: (message: EngineStreamMessage) => void): () => void;
  /**
   * The server's own hint that its library contents changed (the push channel's library_changed),
   * debounced per source; the library layer refreshes that source's cache on it. Returns an
   * unsubscribe function. Optional: an engine without push channels never calls it.
   */
  onLibraryActivity?(listener: (sourceId: string) => void): () => void;
  /** Latest engine event sequence number. */
  lastSeq(): number;
  /** Engine messages after `seq`, or null when they are no longer retained (client must resync from a snapshot). */
  eventsSince(seq: number): EngineEventRecord[] | null;
  health(): EngineHealth;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// ---- Calls over the route the engine chose (issues 14 and 15) ----------------------------------

/** What a routed call runs with: the source's current verified route, its secrets and its backend. */
export interface RouteUse extends RouteContext {
  source: Source;
  backend: MediaBackend;
}

export type RoutedOutcome<T> =
  | { ok: true; value: T; routeId: string; routeKind: RouteKind; /** It failed on a dying route and succeeded on the next. */ retried: boolean }
  | {
      ok: false;
      /**
       * unknown_source: no such source; offline: no verified route now (disconnected, reconnecting,
       * sign-in needed); failed: the server answered with an error that another route cannot fix,
       * or the retry failed too.
       */
      reason: 'unknown_source' | 'offline' | 'failed';
      /** Plain words, never a token. */
      message: string;
      error?: ProbeError;
    };

/**
 * Runs a request over the route the engine chose. A failure that says the route died (refused,
 * reset, timeout, wrong server) makes the engine check the source at once; the request is retried
 * once on the route that check chose, within the same call: a click never fails because a route
 * died while another works.
 */
export interface RoutedCaller {
  call<T>(
    sourceId: string,
    run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<RoutedOutcome<T>>;
}
