// One contract for every server kind. The monitor only ever talks to a MediaBackend; the
// kind-specific sign-in flows (Plex PIN, Jellyfin name/password and Quick Connect) live in each
// backend's folder and are called by the server's add-source endpoints.
import type { ImageRef, LibraryItem } from '../core/library.js';
import type { Library, ProbeError, ProbeResult, Route, RouteKind, RouteOrigin, SourceKind } from '../core/types.js';

/** Secrets for one source. Lives only in the credential store and in backend calls. */
export interface Credentials {
  /** Plex: the per-server accessToken from resources. Jellyfin: the AccessToken. */
  token: string;
  /** Plex: the account token (plex.tv), used to refresh resources: a legacy token or a short-lived JWT. */
  accountToken?: string;
  /** Plex: when the account token was issued and expires (ms) — present only for a plex.tv JWT. */
  accountTokenIssuedAt?: number;
  accountTokenExpiresAt?: number;
  /** Jellyfin: the signed-in user's Id. */
  userId?: string;
  /** Jellyfin: the DeviceId used at sign-in (re-login with another one would not revoke). */
  deviceId?: string;
}

/** What a backend needs to know about a source to talk to it (no names, no status). */
export interface BackendTarget {
  kind: SourceKind;
  serverId: string;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export type LibrariesResult = { ok: true; libraries: Library[] } | { ok: false; error: ProbeError };

/** A discovered route candidate before it is stored. */
export interface RouteCandidate {
  url: string;
  kind: RouteKind;
  priority: number;
  /** Where the address came from; stored as `typed` when absent. */
  origin?: RouteOrigin;
}

/** An address a server reported that did not become a route, and why (plain words). */
export interface RefusedRoute {
  /** The address as reported (never carries a token). */
  url: string;
  reason: string;
}

/** Push channel (issue 6): one open WebSocket on the current route. */
export interface PushHandlers {
  /** The channel is open and authenticated. */
  onOpen(): void;
  /** The server announced it is going away (graceful stop/restart). */
  onServerGoingAway(reason: 'server_shutting_down' | 'server_restarting'): void;
  /** Closed, errored, or silent past the pong timeout. */
  onLost(detail: { code: 'closed' | 'error' | 'pong_timeout' | 'unauthorized' | 'refused'; message: string }): void;
  /**
   * A ping has gone unanswered for a whole ping interval: the channel may be dead. Reported once
   * per silence, before `onLost` (pong timeout), so the route check can start early.
   */
  onSuspect?(): void;
  /** The overdue channel answered after all (a slow pong, not a silence): the early check may stop. */
  onSuspectCleared?(): void;
  /** Something changed on the server (e.g. library changed). Optional hint to resync. */
  onActivity?(hint: 'library_changed' | 'other'): void;
}
export interface PushOptions {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Lower bound of the wait before an unanswered ping is reported as overdue (onSuspect). The wait
   * adapts to the channel's measured pong round trip (srtt + 4 * rttvar, RFC 6298), never exceeding
   * the ping interval; before any pong it is the ping interval.
   */
  suspectMinMs?: number;
}
export interface PushChannel {
  close(): void;
}

/** Who answers at an address, asked anonymously (no token). */
export type IdentityAnswer = { ok: true; serverId: string; serverName?: string } | { ok: false; error: ProbeError };

export interface MediaBackend {
  readonly kind: SourceKind;
  /**
   * Check one route: reachability, identity (the server answering must be `target.serverId`, else
   * `wrong_server`) and the token (401/403 -> `unauthorized`). Never throws: failures are data.
   */
  probe(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<ProbeResult>;
  /** Fetch libraries through a chosen route. Never throws. */
  libraries(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<LibrariesResult>;
  /**
   * Who answers at `url`, asked WITHOUT any token (Plex `GET /identity` → machineIdentifier,
   * Jellyfin `GET /System/Info/Public` → Id): the check an address must pass before a token is
   * ever sent there. Never throws.
   */
  identify?(url: string, options: CallOptions): Promise<IdentityAnswer>;
  /** Open the push channel on a route (issue 6). */
  openPush?(target: BackendTarget, route: Route, credentials: Credentials, handlers: PushHandlers, options: PushOptions): PushChannel;
  /** Library browsing (issue 14); absent on test doubles that only probe. */
  readonly browse?: LibraryBrowser;
  /** Raw ranged media bytes (issue 15, direct play); absent on test doubles that only probe. */
  readonly media?: MediaStreams;
  /** Playback decision, transcode sessions and progress reports (issue 15). */
  readonly playback?: PlaybackApi;
}

// ---- Media bytes (issue 15) ----------------------------------------------------------------

/** A byte range to ask for: `end` inclusive, absent = to the end of the file. */
export interface MediaRange {
  start: number;
  end?: number;
}

export interface MediaOpenOptions {
  /** Deadline for the response headers. */
  timeoutMs: number;
  /** Deadline of every read of the body while one is asked for (a stall); pauses between reads do not count. */
  stallMs: number;
  signal?: AbortSignal;
}

/** An open media response. The body has no size cap (it is media); reading it may throw a MediaReadError. */
export interface MediaResponse {
  status: 200 | 206;
  /** As the server said, or application/octet-stream. */
  contentType: string;
  /** Bytes in this body, when known. */
  contentLength: number | null;
  /** From Content-Range on a 206 (end inclusive). */
  range?: { start: number; end: number; total: number };
  etag?: string;
  lastModified?: string;
  body: AsyncIterable<Uint8Array>;
  /** Drops the connection at once (the browser left, the route moved). */
  cancel(): void;
}

/** A body read that failed or stalled, classified like any other failure. */
export class MediaReadError extends Error {
  constructor(readonly error: ProbeError) {
    super(error.message);
    this.name = 'MediaReadError';
  }
}

export interface MediaStreams {
  /**
   * GET `mediaPath` (server-relative, e.g. a Plex part key or Jellyfin `/Videos/{id}/stream?static=true&…`)
   * over the call's route, with `Range` when given. Redirects refused; the token only in headers. Never throws.
   */
  open(call: RouteContext, mediaPath: string, range: MediaRange | null, options: MediaOpenOptions): Promise<BrowseResult<MediaResponse>>;
}

// ---- Playback decision, transcodes and progress (issue 15) ---------------------------------

export interface PlaybackRequest {
  itemId: string;
  /** Where to start (ms): a transcode starts there (Jellyfin StartTimeTicks, Plex offset). */
  startMs: number;
  /** Cap for this route (quality follows the route); null: no cap (direct play when the browser can). */
  maxBitrateKbps: number | null;
  audioTrackId?: string;
  /** The install's fixed device id: a route change reaches the same running transcode. */
  deviceId: string;
  /** Marquee's own play session id: Plex X-Plex-Session-Identifier / session. */
  clientSessionId: string;
}

export interface MediaTrackInfo {
  /** The server's stream index / id. */
  id: string;
  label: string;
  language: string | null;
}

/** What the server decided, with every path server-relative and free of tokens. */
export type PlaybackDecision = {
  itemId: string;
  mediaType: 'video' | 'audio';
  durationMs: number | null;
  /** The server's saved resume position (ms), null when none. */
  resumeMs: number | null;
  subtitles: (MediaTrackInfo & { /** Server-relative WebVTT (or SRT) path. */ path: string; format: 'vtt' | 'srt' })[];
  audioTracks: (MediaTrackInfo & { selected: boolean })[];
  /** Jellyfin PlaySessionId / Plex transcode session: progress reports and the keep-alive name it. */
  playSessionId: string;
  /** Jellyfin MediaSourceId; Plex part id. */
  mediaSourceId: string;
  /** The item's title and the line under it ("Show · S1 E2"), when the server said. */
  title?: string;
  subtitleLine?: string | null;
  /** Episodes: the show's id, for `nextItem`. */
  seriesId?: string | null;
} & (
  | { method: 'direct'; /** Plex part key / Jellyfin `/Videos/{id}/stream?static=true&…`. */ mediaPath: string }
  | {
      method: 'transcode';
      /** HLS master playlist, server-relative, with any token stripped (Jellyfin TranscodingUrl, Plex start.m3u8?…). */
      masterPath: string;
      bitrateKbps: number;
    }
);

export interface ProgressReport {
  itemId: string;
  decision: Pick<PlaybackDecision, 'playSessionId' | 'mediaSourceId' | 'method' | 'durationMs'>;
  positionMs: number;
  state: 'playing' | 'paused' | 'stopped';
  /** start: the first report of a playback (Jellyfin POST /Sessions/Playing). */
  event: 'start' | 'progress' | 'stop';
  /** Made while the server was away (Plex offline=1&updated=). */
  offlineAt?: number;
  /** Past 90 % for the first time in this playback: Plex also gets PUT /:/scrobble. */
  scrobble?: boolean;
}

export interface PlaybackApi {
  decide(call: RouteContext, request: PlaybackRequest, options: CallOptions): Promise<BrowseResult<PlaybackDecision>>;
  /** Jellyfin /Sessions/Playing[/Progress|/Stopped], Plex /:/timeline (+ /:/scrobble past 90 %). */
  report(call: RouteContext, report: ProgressReport, options: CallOptions): Promise<BrowseResult<null>>;
  /** Keep a transcode alive (Jellyfin /Sessions/Playing/Ping, Plex …/universal/ping). */
  ping(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>>;
  /** Stop a transcode (Jellyfin DELETE /Videos/ActiveEncodings, Plex …/universal/stop). */
  stop(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>>;
  /** A subtitle as WebVTT text (converted from SRT when needed), size-capped. */
  subtitle(call: RouteContext, path: string, options: CallOptions): Promise<BrowseResult<string>>;
  /** The episode after this one (next in the season, then the first of the next season); null when none. */
  nextItem?(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<string | null>>;
}

// ---- Library browsing (issue 14) -----------------------------------------------------------

/** One call over one route: who, where, with which secrets. The routed caller fills it. */
export interface RouteContext {
  target: BackendTarget;
  route: Route;
  credentials: Credentials;
}

/** A browse answer: data or a typed failure in words (never thrown). */
export type BrowseResult<T> = { ok: true; value: T } | { ok: false; error: ProbeError };

export interface ItemsQuery {
  libraryId: string;
  /** Paging as the server pages (Plex X-Plex-Container-Start/Size, Jellyfin startIndex/limit). */
  start: number;
  limit: number;
  /** Incremental sync: only items changed at or after this epoch ms (Plex updatedAt, Jellyfin minDateLastSaved). */
  changedSinceMs?: number;
}

export interface ItemPage {
  items: LibraryItem[];
  /** What the server says the library holds (may lie: callers bound their loops themselves). */
  total: number;
  start: number;
  /**
   * Items of this page the parser could not read and left out (absent when none). A page where
   * every item is unreadable is an error instead, so a sync never mistakes it for an empty library.
   */
  skipped?: number;
}

export interface ItemDetail {
  item: LibraryItem;
  /** Seasons of a show, episodes of a season, tracks of an album; empty for a leaf. */
  children: LibraryItem[];
}

export interface ImageSize {
  width: number;
  height?: number;
}

/** Image bytes, type-checked and size-capped by the backend. */
export interface ImageBody {
  contentType: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif';
  bytes: Uint8Array;
  etag?: string;
}

/** What the library layer asks of a server. Every method never throws: failures are data. */
export interface LibraryBrowser {
  /** Top-level items of a library (movies, shows, artists/albums, photos), one page. */
  items(call: RouteContext, query: ItemsQuery, options: CallOptions): Promise<BrowseResult<ItemPage>>;
  /** One item with its children. */
  item(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<ItemDetail>>;
  continueWatching(call: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>>;
  recentlyAdded(call: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>>;
  search(call: RouteContext, query: string, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>>;
  /** The server resizes (Plex /photo/:/transcode, Jellyfin maxWidth); Marquee never does. */
  image(call: RouteContext, ref: ImageRef, size: ImageSize, options: CallOptions): Promise<BrowseResult<ImageBody>>;
}

// ---- Sign-in flows, used by the server's add-source endpoints -------------------------------

/** A Plex server found in the account's resources (plex.tv). */
export interface PlexDiscoveredServer {
  /** machineIdentifier (40 hex). */
  serverId: string;
  name: string;
  owned: boolean;
  /** plex.tv's own view of whether the server is online. */
  presence: boolean;
  routes: RouteCandidate[];
  /** Connections plex.tv listed that are not routes (link-local addresses). */
  refusedRoutes?: RefusedRoute[];
  /** Per-server accessToken and the account token. Server-side only. */
  credentials: Credentials;
}

/** plex.tv resources re-read with the stored account token (refresh of routes and per-server tokens). */
export type PlexResourcesAnswer =
  | { ok: true; servers: PlexDiscoveredServer[] }
  /** account_rejected: plex.tv answered 401 (the sign-in is gone); token_expired: 498 (a JWT to renew); unavailable: no answer that proves anything. */
  | { ok: false; reason: 'account_rejected' | 'token_expired' | 'unavailable'; message: string };

/** What the monitor's refresher asks of plex.tv with a signed-in account. Never throws. */
export interface PlexAccountApi {
  resources(accountToken: string, options: CallOptions): Promise<PlexResourcesAnswer>;
  /** plex.tv JWTs (optional: without them the legacy account token is kept). A new device key (private JWK, JSON). */
  newDeviceKey?(): string;
  /** POST /api/v2/auth/jwk with the current account token. */
  registerDeviceKey?(accountToken: string, deviceKey: string, options: CallOptions): Promise<PlexJwtAnswer<null>>;
  /** Nonce, device-signed JWT, exchange: a fresh plex.tv JWT (no account token needed). */
  renewJwt?(deviceKey: string, options: CallOptions): Promise<PlexJwtAnswer<PlexJwt>>;
}

export interface PlexJwt {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

/** refused: plex.tv said no (422 thumbprint taken / signature, 404 no JWT support, 401); unavailable: no answer that proves anything. */
export type PlexJwtAnswer<T> = { ok: true; value: T } | { ok: false; reason: 'refused' | 'unavailable'; message: string };

/** Who answers at an address, asked anonymously (no token): Jellyfin's `/System/Info/Public`. */
export type PublicInfoAnswer = { ok: true; serverId: string; localAddress?: string } | { ok: false; error: ProbeError };

/** What the monitor's refresher asks of a Jellyfin server (its LocalAddress, and who answers at it). Never throws. */
export interface JellyfinPublicInfoApi {
  publicInfo(url: string, options: CallOptions): Promise<PublicInfoAnswer>;
}

export interface PlexPin {
  id: number;
  code: string;
  /** https://app.plex.tv/auth#?clientID=…&code=…&context[device][product]=Marquee */
  authUrl: string;
  expiresAt: number;
}

export type PlexPinState =
  | { state: 'pending' }
  | { state: 'expired' }
  | { state: 'authorized'; accountToken: string };

export interface PlexSignIn {
  createPin(): Promise<PlexPin>;
  checkPin(id: number): Promise<PlexPinState>;
  /** Servers (owned and shared) the account can reach, with their routes. */
  listServers(accountToken: string): Promise<PlexDiscoveredServer[]>;
}

export interface JellyfinPublicInfo {
  serverId: string;
  name: string;
  version: string;
  /** The URL that answered (after @jellyfin/sdk candidate discovery). */
  url: string;
}

export interface JellyfinSignInResult {
  serverId: string;
  serverName: string;
  routes: RouteCandidate[];
  /** The server's LocalAddress when it did not become a route (link-local, or another server answers there). */
  refusedRoutes?: RefusedRoute[];
  credentials: Credentials;
  userName: string;
}

export type JellyfinQuickConnectState =
  | { state: 'pending' }
  | { state: 'expired' }
  | { state: 'authorized'; result: JellyfinSignInResult };

export interface JellyfinSignIn {
  /** Discover the server behind what the user typed; errors are thrown as SignInError. */
  probe(userInput: string): Promise<JellyfinPublicInfo>;
  signInByName(url: string, username: string, password: string): Promise<JellyfinSignInResult>;
  quickConnectStart(url: string): Promise<{ code: string; secret: string }>;
  quickConnectPoll(url: string, secret: string): Promise<JellyfinQuickConnectState>;
}

/** Typed sign-in failures so the UI can tell a bad address from a bad password. */
export type SignInErrorCode =
  | 'invalid_url'
  | 'unreachable'
  | 'not_a_server'
  | 'bad_credentials'
  | 'quick_connect_disabled'
  | 'expired'
  | 'upstream_error';

export class SignInError extends Error {
  constructor(
    readonly code: SignInErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}
