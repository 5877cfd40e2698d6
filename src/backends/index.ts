// Wiring: two HttpClients with one set of guarantees, shared by both backends — one connection per
// origin for probes and sign-in (light at 30,000 routes), several for what a user waits on (library
// pages, posters, play calls), so those to one server overlap instead of queueing — and media bytes
// on their own connections.
import type { LookupFunction } from 'node:net';
import type { SourceKind } from '../core/types.js';
import { createSafeAxios } from './axios.js';
import { HttpClient } from './http.js';
import { JellyfinBackend, JellyfinSignInFlow } from './jellyfin/backend.js';
import { MediaFetcher, mediaStreams } from './media.js';
import { JellyfinPlayback } from './jellyfin/playback.js';
import { PlexAccountClient, PlexBackend, PlexSignInFlow, plexHeaders } from './plex/backend.js';
import { PlexPlayback } from './plex/playback.js';
import type { JellyfinPublicInfoApi, JellyfinSignIn, MediaBackend, PlexAccountApi, PlexSignIn } from './types.js';

export interface BackendsConfig {
  /** Stable per install (UUID). Plex X-Plex-Client-Identifier; Jellyfin DeviceIds derive from it. */
  clientIdentifier: string;
  /** Default https://plex.tv. */
  plexTvUrl?: string;
  /** Default https://app.plex.tv/auth. */
  plexAuthAppUrl?: string;
  version?: string;
  /** Shown by servers under their device lists. Default "Marquee". */
  deviceName?: string;
  /** Timeout of sign-in calls (plex.tv, Jellyfin auth). Default 10 s. */
  signInTimeoutMs?: number;
  /** Test hook: name resolution for HTTP and WebSocket connections. */
  lookup?: LookupFunction;
  /** Verify TLS certificates (default true). */
  rejectUnauthorized?: boolean;
  now?: () => number;
}

export interface Backends {
  /** Each carries `browse` (a LibraryBrowser, issue 14) on the same HttpClient. */
  backends: Record<SourceKind, MediaBackend>;
  plexSignIn: PlexSignIn;
  /** plex.tv with a signed-in account: resources re-read by the monitor's refresher. */
  plexAccount: PlexAccountApi;
  jellyfinSignIn: JellyfinSignIn;
  /** Jellyfin's anonymous public info: the monitor's refresher follows a changed LocalAddress with it. */
  jellyfinInfo: JellyfinPublicInfoApi;
  /** Close pooled connections (call on shutdown). */
  close: () => Promise<void>;
}

export function createBackends(config: BackendsConfig): Backends {
  const http = new HttpClient({
    ...(config.lookup ? { lookup: config.lookup } : {}),
    ...(config.rejectUnauthorized !== undefined ? { rejectUnauthorized: config.rejectUnauthorized } : {}),
  });
  // Six per origin, as browsers allow: a poster grid or a play start (item + decision) in parallel.
  const interactiveHttp = new HttpClient({
    ...(config.lookup ? { lookup: config.lookup } : {}),
    ...(config.rejectUnauthorized !== undefined ? { rejectUnauthorized: config.rejectUnauthorized } : {}),
    connectionsPerOrigin: 6,
  });
  const common = {
    ...(config.version ? { version: config.version } : {}),
    ...(config.deviceName ? { deviceName: config.deviceName } : {}),
    ...(config.signInTimeoutMs ? { signInTimeoutMs: config.signInTimeoutMs } : {}),
    ...(config.lookup ? { lookup: config.lookup } : {}),
    ...(config.rejectUnauthorized !== undefined ? { rejectUnauthorized: config.rejectUnauthorized } : {}),
    ...(config.now ? { now: config.now } : {}),
  };
  const plexConfig = {
    ...common,
    http,
    interactiveHttp,
    clientIdentifier: config.clientIdentifier,
    ...(config.plexTvUrl ? { plexTvUrl: config.plexTvUrl } : {}),
    ...(config.plexAuthAppUrl ? { plexAuthAppUrl: config.plexAuthAppUrl } : {}),
  };
  const jellyfinConfig = { ...common, axios: createSafeAxios(http), interactiveAxios: createSafeAxios(interactiveHttp), installId: config.clientIdentifier };
  const jellyfin = new JellyfinBackend(jellyfinConfig);
  // Media bytes go over their own connections: a film must not queue behind (or hold up) probes.
  const media = new MediaFetcher({
    ...(config.lookup ? { lookup: config.lookup } : {}),
    ...(config.rejectUnauthorized !== undefined ? { rejectUnauthorized: config.rejectUnauthorized } : {}),
  });
  const plex: MediaBackend = Object.assign(new PlexBackend(plexConfig), {
    media: mediaStreams(media, (call) => ({ ...plexHeaders(plexConfig, call.credentials.token), accept: '*/*' })),
    playback: new PlexPlayback({ ...plexConfig, http: interactiveHttp }),
  });
  Object.assign(jellyfin, {
    media: mediaStreams(media, (call) => ({ authorization: jellyfin.authorizationFor(call.target, call.route, call.credentials), accept: '*/*' })),
    playback: new JellyfinPlayback({ apiFor: (call) => jellyfin.apiFor(call), deviceIdFor: (call) => jellyfin.playbackDeviceId(call) }),
  });
  return {
    backends: { plex, jellyfin },
    jellyfinInfo: jellyfin,
    plexSignIn: new PlexSignInFlow(plexConfig),
    plexAccount: new PlexAccountClient(plexConfig),
    jellyfinSignIn: new JellyfinSignInFlow(jellyfinConfig),
    close: async () => {
      await Promise.all([http.close(), interactiveHttp.close(), media.close()]);
    },
  };
}

export { HttpClient, redactUrl, MAX_BODY_BYTES } from './http.js';
export { createSafeAxios } from './axios.js';
export { PlexAccountClient, PlexBackend, PlexSignInFlow } from './plex/backend.js';
export { JellyfinBackend, JellyfinSignInFlow, jellyfinDeviceId } from './jellyfin/backend.js';
export * as plexParsers from './plex/parsers.js';
export * as jellyfinParsers from './jellyfin/parsers.js';
export { PlexLibraryBrowser } from './plex/browse.js';
export { JellyfinLibraryBrowser } from './jellyfin/browse.js';
export { IMAGE_MAX_BODY_BYTES, LIBRARY_MAX_BODY_BYTES, sniffImageType } from './images.js';
