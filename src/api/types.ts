// The wire contract between the Marquee server and its clients (web UI, `marquee status`).
// Types only, so the web bundle can import it without pulling server code. Each shape has a zod
// schema in ./responses.ts (checked equal at type level in ./contract.test.ts); the server builds
// them from the engine's snapshots in one place, src/server/views.ts.
import type { EngineEvent, LibraryType, LossReason, ProbeErrorCode, RouteKind, RouteOrigin, SourceKind, SourceState } from '../core/types.js';

export interface ApiRouteRef {
  id: string;
  url: string;
  kind: RouteKind;
  latencyMs: number | null;
}

export interface ApiLibrary {
  id: string;
  name: string;
  type: LibraryType;
}

/** GET /api/sources item. */
export interface ApiSource {
  id: string;
  name: string;
  kind: SourceKind;
  status: SourceState;
  /** The route in use (connected / sync_failed), else null. */
  route: ApiRouteRef | null;
  attempt?: number;
  /** Epoch ms of the next retry while reconnecting/disconnected. */
  nextRetryAt?: number;
  /** Why the source went away, when known ("server is restarting"). */
  reason?: LossReason;
  /** Plain-words error for disconnected / sync_failed / auth_required. */
  error?: string;
  lastCheckedAt: number | null;
  nextCheckAt: number | null;
  /** Since when the current status holds. */
  since: number | null;
  /**
   * The most preferred kind among the source's routes (local > remote > relay). A source on a
   * remote route is only "degraded" when this is 'local' (it fell back); a remote-only server is not.
   */
  preferredRouteKind?: RouteKind | null;
  /** Push channel state (issue 6): 'open' | 'polling' (refused or disabled) | 'connecting' | 'off'. */
  push: 'open' | 'polling' | 'connecting' | 'off';
  libraries: ApiLibrary[];
}

export interface ApiRouteDetail {
  id: string;
  url: string;
  kind: RouteKind;
  priority: number;
  /**
   * Where the address came from: typed in the add-server wizard, reported by the server itself
   * (Jellyfin LocalAddress), plex.tv, or added by the user (`user`, POST /api/sources/{id}/routes).
   * plex.tv and server-reported routes are managed by their origin: they can be reordered, not
   * changed or removed.
   */
  origin: RouteOrigin;
  /** Present (true) while a route kept with `force` waits to answer as this server; it is not used until then. */
  pending?: true;
  lastResult: 'ok' | ProbeErrorCode | null;
  /** Plain words, e.g. "the server at this address is a different Plex server". */
  lastError: string | null;
  latencyMs: number | null;
  checkedAt: number | null;
  /** Recent latencies (oldest first) for a sparkline; null entries are failures. */
  recentLatencies: (number | null)[];
}

/** POST /api/sources/{id}/routes and PATCH /api/sources/{id}/routes/{routeId}: the route, and its source as it is now. */
export interface ApiRouteEdit {
  route: ApiRouteDetail;
  source: ApiSourceDetail;
}

export interface ApiHistoryEntry {
  at: number;
  kind: 'transition' | 'check';
  /** transition: the new state; check: 'ok' or the error code. */
  state: string;
  routeKind?: RouteKind;
  detail?: string;
}

/** GET /api/sources/{id}. */
export interface ApiSourceDetail extends ApiSource {
  serverId: string;
  routes: ApiRouteDetail[];
  history: ApiHistoryEntry[];
  monitoring: { enabled: boolean; push: boolean; probeTimeoutMs: number };
}

/** The first SSE message (`event: snapshot`). */
export interface ApiSnapshot {
  sources: ApiSource[];
  /** Id of the latest event included in this snapshot. */
  lastEventId: number;
  demo: boolean;
  serverTime: number;
  /** Storage/monitor health; `database: 'degraded'` means new history may not be saved (UI warning). Later changes arrive as SSE `event: health`. */
  health?: ApiHealthState;
}

/** Storage and monitor health: in the snapshot and as SSE `event: health`. */
export interface ApiHealthState {
  database: 'ok' | 'degraded';
  monitor: 'running' | 'stopped';
  detail?: string;
}

/** Every later SSE message (`event: engine`, `id: <seq>`): the engine event plus the source's new view. */
export interface ApiEventMessage {
  seq: number;
  event: EngineEvent;
  source: ApiSource | null;
}

/** SSE `event: source` — a view changed without a domain event (check time, libraries, push state). */
export interface ApiSourceUpdate {
  source: ApiSource;
}

/** SSE `event: removed`. */
export interface ApiSourceRemoved {
  sourceId: string;
}

export interface ApiError {
  error: string;
  message: string;
}

/** GET /api/demo/routes item (demo mode only). */
export interface ApiDemoRoute {
  id: string;
  sourceId: string;
  serverName: string;
  kind: RouteKind;
  url: string;
}

// ---- Sign-in flows, session and health (added with the server; additive only) ----

/** POST /api/plex/pins. The account token never leaves the server; `id` is passed back as `pinId`. */
export interface ApiPlexPin {
  id: number;
  code: string;
  authUrl: string;
  expiresAt: number;
}

/** A server found through a Plex PIN sign-in. */
export interface ApiPlexServer {
  serverId: string;
  name: string;
  owned: boolean;
  presence: boolean;
  routes: { url: string; kind: RouteKind }[];
  /** A source for this server exists already. */
  alreadyAdded: boolean;
}

/** GET /api/plex/pins/{id}. */
export type ApiPlexPinState = { state: 'pending' } | { state: 'expired' } | { state: 'authorized'; servers: ApiPlexServer[] };

/** POST /api/jellyfin/probe {url}. */
export interface ApiJellyfinProbe {
  serverId: string;
  name: string;
  version: string;
  url: string;
  alreadyAdded: boolean;
}

/** POST /api/jellyfin/quickconnect. `handle` is an opaque server-side id, not the Quick Connect secret. */
export interface ApiQuickConnectStart {
  code: string;
  handle: string;
  expiresAt: number;
}

/** GET /api/jellyfin/quickconnect/{handle}. */
export type ApiQuickConnectState =
  | { state: 'pending' }
  | { state: 'expired' }
  | { state: 'authorized'; serverId: string; serverName: string; userName: string };

/** GET/POST /api/session. */
export interface ApiSessionState {
  authRequired: boolean;
  authenticated: boolean;
}

/** GET /healthz (200 when ok, 503 when degraded). */
export interface ApiHealth extends ApiHealthState {
  status: 'ok' | 'degraded';
}

// ---- Notifications (issue 16) ----

/** What a target can be told about (src/core/notifications.ts's NotificationEvent without 'test'). */
export type ApiNotificationEvent = 'lost' | 'back' | 'fallback' | 'sign_in_needed' | 'unstable' | 'crash_restart';

export interface ApiQuietHours {
  /** "HH:MM", server local time; an end before the start spans midnight. */
  start: string;
  end: string;
}

/** GET /api/notifications/targets item. The URL is redacted: passwords and tokens never leave the server. */
export interface ApiNotificationTarget {
  id: string;
  name: string;
  url: string;
  /** null: every source. */
  sources: string[] | null;
  /** null: every event. */
  events: ApiNotificationEvent[] | null;
  quietHours: ApiQuietHours | null;
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  /** Plain words. */
  lastError: string | null;
  /** Messages queued for it. */
  pending: number;
}

/** GET /api/notifications/targets. */
export interface ApiNotificationTargets {
  targets: ApiNotificationTarget[];
  /** URL schemes the server can send to, e.g. "json://". */
  supportedSchemes: string[];
}

/** POST /api/notifications/targets/{id}/test: the target's real answer, in words. */
export interface ApiNotificationTestResult {
  ok: boolean;
  /** e.g. "accepted (HTTP 200)" or "the target refused the connection". */
  message: string;
  status: number | null;
}
