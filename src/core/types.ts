// The pure domain of Marquee's connection layer. No I/O, no clock: every time is an
// epoch-milliseconds number passed in by the caller. Nothing here ever holds a token.

export type SourceKind = 'plex' | 'jellyfin';

/** How a route reaches the server. Preference order: local > remote > relay. */
export type RouteKind = 'local' | 'remote' | 'relay';

export const ROUTE_KIND_PREFERENCE: readonly RouteKind[] = ['local', 'remote', 'relay'];

/**
 * Where a route's address came from: `typed` by the user in the add-server wizard,
 * `server-reported` by the server itself (Jellyfin's LocalAddress, checked to be the same server
 * before it became a route), `plex.tv` (the account's resources list), or `user` — added by the
 * user on the source page or through `POST /api/sources/{id}/routes`, after the same anonymous
 * identity check.
 */
export type RouteOrigin = 'typed' | 'server-reported' | 'plex.tv' | 'user';
export const ROUTE_ORIGINS = ['typed', 'server-reported', 'plex.tv', 'user'] as const satisfies readonly RouteOrigin[];

export interface Route {
  id: string;
  /** Base URL, e.g. http://127.0.0.2:32400 — never carries a token. */
  url: string;
  kind: RouteKind;
  /** Lower is preferred among routes of the same kind (e.g. https before http). */
  priority: number;
}

/** Per-source monitoring overrides; missing fields use the global defaults. */
export interface SourceMonitoringSettings {
  enabled?: boolean;
  probeTimeoutMs?: number;
  /** Enable/disable the push channel for this source (issue 6). */
  push?: boolean;
}

export interface Source {
  id: string;
  name: string;
  kind: SourceKind;
  /** Plex machineIdentifier (40 hex) or Jellyfin server Id (32 hex). */
  serverId: string;
  routes: Route[];
  /** Key into the credential store; the token itself never lives on a Source. */
  credentialRef: string;
  monitoring: SourceMonitoringSettings;
  createdAt: number;
}

export type ProbeErrorCode =
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'http_error'
  | 'unauthorized'
  | 'wrong_server'
  | 'malformed'
  /** The server answered, with more than the 1 MB a response may have (the body was cut). */
  | 'too_large';

/** A probe failure in a few words, for the UI's route table: one table for every failure code. */
export const PROBE_ERROR_LABELS: Readonly<Record<ProbeErrorCode, string>> = {
  refused: 'Refused',
  timeout: 'No answer',
  dns: 'Name not found',
  tls: 'Certificate problem',
  http_error: 'HTTP error',
  unauthorized: 'Sign-in rejected',
  wrong_server: 'Wrong server',
  malformed: 'Garbled answer',
  too_large: 'Answer too large',
};

export interface ProbeError {
  code: ProbeErrorCode;
  /** Plain words for people, e.g. "no answer within 5 s". Never contains a token. */
  message: string;
  /** HTTP status when one was received. */
  status?: number;
  /** For wrong_server: the id that answered instead. */
  foundServerId?: string;
}

export type ProbeResult =
  | { ok: true; routeId: string; at: number; latencyMs: number; serverName?: string; version?: string }
  | { ok: false; routeId: string; at: number; latencyMs: number; error: ProbeError };

export interface Library {
  id: string;
  name: string;
  /** Normalised: movie | show | music | photo | other (Plex `type` / Jellyfin CollectionType). */
  type: LibraryType;
}
export type LibraryType = 'movie' | 'show' | 'music' | 'photo' | 'other';

/** Why a push channel or a server went away, shown to the user. */
export type LossReason = 'server_shutting_down' | 'server_restarting' | 'push_lost' | 'network_changed';

/** A loss reason in words for people: the API's `error` text and the UI's sentences share them. */
export const REASON_WORDS: Readonly<Record<LossReason, string>> = {
  server_shutting_down: 'the server is shutting down',
  server_restarting: 'the server is restarting',
  push_lost: 'the live connection to the server dropped',
  network_changed: 'this machine’s network changed',
};

export type SourceStatus =
  | { state: 'connecting' }
  | { state: 'connected'; routeId: string; routeKind: RouteKind; latencyMs: number; since: number }
  | {
      state: 'reconnecting';
      attempt: number;
      nextRetryAt: number;
      since: number;
      lastRouteKind?: RouteKind;
      reason?: LossReason;
      lastError?: ProbeError;
    }
  | { state: 'disconnected'; since: number; nextRetryAt: number; attempt: number; reason?: LossReason; lastError?: ProbeError }
  | { state: 'auth_required'; since: number; routeId?: string }
  | {
      state: 'sync_failed';
      routeId: string;
      routeKind: RouteKind;
      latencyMs: number;
      since: number;
      error: string;
    };

export type SourceState = SourceStatus['state'];

/** Events leave the reducer and flow to the store and to SSE. They carry names, never tokens. */
interface EventBase {
  sourceId: string;
  sourceName: string;
  sourceKind: SourceKind;
  at: number;
}
export type EngineEvent =
  | (EventBase & { type: 'ConnectionChanged'; routeId: string; routeKind: RouteKind; previousRouteKind: RouteKind | null; latencyMs: number })
  | (EventBase & { type: 'ConnectionLost'; lastRouteKind: RouteKind | null; reason?: LossReason; error?: ProbeError })
  | (EventBase & { type: 'ConnectionRestored'; routeId: string; routeKind: RouteKind; latencyMs: number; downForMs: number })
  | (EventBase & { type: 'Reconnecting'; attempt: number; nextRetryAt: number; reason?: LossReason })
  | (EventBase & { type: 'AuthStatusChanged'; authRequired: boolean })
  | (EventBase & { type: 'SyncFailed'; error: string })
  | (EventBase & { type: 'SyncRestored'; libraryCount: number })
  /** Every status change, including ones that have no dedicated event above (e.g. reconnecting -> disconnected). */
  | (EventBase & { type: 'StatusChanged'; status: SourceStatus; previous: SourceStatus });

export type EngineEventType = EngineEvent['type'];
