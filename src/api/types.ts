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

// ---- Libraries (issue 14) ----------------------------------------------------------------------

/** Normalised item kinds of both servers. */
export type ApiItemType = 'movie' | 'show' | 'season' | 'episode' | 'artist' | 'album' | 'track' | 'photo' | 'video' | 'folder' | 'other';

/** One item card, from any source. */
export interface ApiItem {
  id: string;
  sourceId: string;
  /** The server's name, shown on every merged card. */
  sourceName: string;
  libraryId: string | null;
  type: ApiItemType;
  title: string;
  /** A second line: "S1 · E3 — Show name", an album's artist, … (null when none). */
  subtitle: string | null;
  year: number | null;
  /** A Marquee URL under the base path (`<base>api/sources/{id}/items/{itemId}/image?…`), never a server URL; null when the item has no image. */
  imageUrl: string | null;
  /** Placeholder while the poster loads (Jellyfin `ImageBlurHashes`). */
  blurhash: string | null;
  watched: boolean;
  /** Resume position in ms; null when not started. */
  resumeMs: number | null;
  durationMs: number | null;
  addedAt: number | null;
  rating: number | null;
  /** A movie, episode, track or video (play buttons); false for shows, seasons, albums, photos. */
  playable: boolean;
  /** From the cache of a source that is away now: shown, not playable. */
  offline: boolean;
}

export interface ApiCastMember {
  name: string;
  role?: string;
}

/** GET /api/sources/{id}/items/{itemId}. */
export interface ApiItemDetail extends ApiItem {
  overview: string | null;
  genres: string[];
  cast: ApiCastMember[];
  /** Episode, track or season number. */
  index: number | null;
  parentIndex: number | null;
  parentId: string | null;
  parentTitle: string | null;
  grandparentTitle: string | null;
  childCount: number | null;
  children: ApiItem[];
  backdropUrl: string | null;
  /** When this detail was read from the server (epoch ms); older when it came from the cache. */
  fetchedAt: number | null;
  /** Since when the source is away, when the detail came from the cache. */
  offlineSince: number | null;
}

/** How far a library's cache is. */
export interface ApiLibrarySync {
  state: 'never' | 'syncing' | 'synced' | 'failed';
  /** Last complete sync (epoch ms). */
  syncedAt: number | null;
  /** Plain words of the last failure. */
  error?: string;
}

/** GET /api/sources/{id}/libraries/{libraryId}/items. */
export interface ApiLibraryItems {
  items: ApiItem[];
  total: number;
  offset: number;
  /** The source is away: these come from the cache. */
  offline: boolean;
  offlineSince: number | null;
  sync: ApiLibrarySync;
}

/** GET /api/sources/{id}/libraries/{libraryId}: header of a library page and its filter choices. */
export interface ApiLibraryInfo {
  id: string;
  sourceId: string;
  sourceName: string;
  name: string;
  type: LibraryType;
  /** Items in the cache (unfiltered). */
  total: number;
  genres: string[];
  years: number[];
  offline: boolean;
  offlineSince: number | null;
  sync: ApiLibrarySync;
}

/** One source's part of a merged answer. */
export interface ApiSourceAvailability {
  id: string;
  name: string;
  /** online: answered now; offline: away, cached items shown; failed: answered with an error; timeout: no answer in time. */
  state: 'online' | 'offline' | 'failed' | 'timeout';
  offlineSince: number | null;
  error?: string;
}

/** GET /api/home. */
export interface ApiHome {
  continueWatching: ApiItem[];
  recentlyAdded: ApiItem[];
  sources: ApiSourceAvailability[];
}

/** One source's search state. */
export interface ApiSearchSource {
  id: string;
  name: string;
  /** searching: no answer yet (the client asks again); done; failed; timeout: no answer within the search deadline; offline: away (cache searched). */
  state: 'searching' | 'done' | 'failed' | 'timeout' | 'offline';
  count: number;
  error?: string;
}

/**
 * GET /api/search?q=. A search runs on every source at once; an answer returns what has arrived
 * (waiting at most `wait` ms), and asking again with the same q returns more until `complete`.
 */
export interface ApiSearch {
  query: string;
  results: ApiItem[];
  sources: ApiSearchSource[];
  complete: boolean;
}

/** SSE `library`: a library's cache changed (a sync finished); pages showing it refetch in place. */
export interface ApiLibraryUpdate {
  sourceId: string;
  libraryId: string;
  sync: ApiLibrarySync;
  /** Items added, changed or removed by this sync. */
  changed: number;
}

// ---- Playback (issue 15) -----------------------------------------------------------------------

/** How the stream reaches the browser right now, for the player's connection line. */
export interface ApiPlayConnection {
  sourceName: string;
  /** The route the engine chose now; null while the source is away. */
  routeKind: RouteKind | null;
  method: 'direct' | 'transcode';
  /** The transcode's target bitrate (kb/s); null for direct play. */
  bitrateKbps: number | null;
  /** Why this quality, in words ("relay: Plex caps relayed streams at 2 Mbps"); null when nothing limits it. */
  reason: string | null;
}

export interface ApiSubtitleTrack {
  id: string;
  label: string;
  language: string | null;
  /** WebVTT, a Marquee URL under the base path. */
  url: string;
}

export interface ApiAudioTrack {
  id: string;
  label: string;
  language: string | null;
  selected: boolean;
}

/** POST /api/play and GET /api/play/{session}: one play session (the browser only ever talks to Marquee). */
export interface ApiPlaySession {
  id: string;
  sourceId: string;
  itemId: string;
  title: string;
  subtitle: string | null;
  mediaType: 'video' | 'audio';
  /** Bumped when Marquee switched the stream (quality followed the route, a transcode restarted): reload `streamUrl` at the current position. */
  generation: number;
  /** `file`: a ranged file for the media element (`<base>api/play/{id}/stream`); `hls`: a master playlist for hls.js. */
  protocol: 'file' | 'hls';
  streamUrl: string;
  durationMs: number | null;
  /** Where to start (the server's resume position unless the client asked otherwise). */
  startMs: number;
  subtitles: ApiSubtitleTrack[];
  audioTracks: ApiAudioTrack[];
  /** The next episode, when there is one. */
  nextItemId: string | null;
  connection: ApiPlayConnection;
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
