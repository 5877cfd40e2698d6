// Builds a running simulation from a config: plex.tv, every server and every route listener,
// one shared HTTP parser, and the handles tests drive faults through.
import { parseSimConfig, type SimConfig } from './config.js';
import { Dispatcher } from './dispatch.js';
import type { RouteFault, RouteFaultMode, ServerFaultMode } from './faults.js';
import { JellyfinServerSim } from './jellyfin-server.js';
import { PlexAccounts } from './plex-accounts.js';
import { PlexServerSim } from './plex-server.js';
import { PlexJwtIssuer } from './plex-jwt.js';
import { PlexTv, type PlexResourceSource } from './plex-tv.js';
import { SimRoute, type RouteKind } from './route.js';
import { Timers } from './timers.js';
import { makeCertificates } from './tls.js';
import { startControlServer } from './control.js';
import { ensureClips } from './media/clips.js';
import type { JellyfinMedia } from './media/jellyfin-media.js';
import type { PlaybackReport } from './media/playback.js';
import type { PlexMedia } from './media/plex-media.js';
import type { SearchFault } from './faults.js';
import type { LibraryKind, ServerLibrary } from './library-model.js';
import type { MediaCatalog } from './media-catalog.js';

export interface SimRouteInfo {
  id: string;
  url: string;
  kind: RouteKind;
}

export interface SimServerInfo {
  id: string;
  kind: 'plex' | 'jellyfin';
  name: string;
  machineId: string;
  routes: SimRouteInfo[];
}

export interface RouteHandle {
  readonly id: string;
  readonly url: string;
  readonly mode: RouteFaultMode;
  /** The full fault (mode plus options) currently applied. */
  readonly current: RouteFault;
  /** Applies at once; the promise settles when the port is (re)bound or closed. */
  fault(f: RouteFault): Promise<void>;
  /** Number of push channels (WebSockets) open through this route. */
  readonly openSockets: number;
}

export interface ServerHandle {
  readonly info: SimServerInfo;
  readonly mode: ServerFaultMode;
  /** `search-hang` / `search-slow` (with `delayMs`) hold up only the search endpoints; `up` clears them. */
  fault(f: { mode: ServerFaultMode; restarting?: boolean; delayMs?: number }): Promise<void>;
  /** The search fault in force, if any. */
  readonly searchFault: SearchFault | undefined;
  /** Push an event: Plex `NotificationContainer` of `type`, Jellyfin `MessageType` with Data. Returns sockets reached. */
  notify(type?: string, data?: unknown): number;
  /** Push channels open to this server, over all routes. */
  readonly openSockets: number;
  /** Progress / timeline / scrobble / played calls the server received, oldest first. */
  playbackReports(): PlaybackReport[];
  clearPlaybackReports(): void;
  /** The playback side of the server: its catalog (replaceable), play state and transcode sessions. */
  readonly media: PlexMedia | JellyfinMedia;
}

/** A server's generated libraries, for incremental-sync tests and the media side. */
export interface LibraryHandle {
  libraries(): { id: string; title: string; kind: LibraryKind; itemCount: number }[];
  /**
   * Changes n top-level items of a library (by id — Plex section key, Jellyfin view Id — or title):
   * alternately the title and the watched state, with updatedAt / DateLastSaved = now. Returns the
   * changed item ids (ratingKey or Jellyfin Id).
   */
  touchItems(library: string, n: number): string[];
  /** Marks an item watched (play count + 1, resume cleared) or unwatched; false if unknown. */
  setWatched(itemId: string, watched: boolean): boolean;
  /** Sets an item's resume position; false if unknown. */
  setResume(itemId: string, positionMs: number): boolean;
  /** Which items play, with which clip (the seam to sim/media). */
  mediaCatalog(): MediaCatalog;
  /** The raw model (tests). */
  readonly model: ServerLibrary;
}

export interface Simulation {
  controlUrl: string;
  plexTvUrl: string;
  /** PEM of the CA behind `tls: true` routes (undefined without such routes). */
  tlsCa: string | undefined;
  servers: SimServerInfo[];
  route(id: string): RouteHandle;
  server(id: string): ServerHandle;
  plexTv: {
    /** The user approves the PIN (after `delayMs`, if given); a fresh account token is minted. */
    approvePin(pinId: number, username?: string, delayMs?: number): void;
    expirePin(pinId: number): void;
    /** The account's latest token (a fresh one is minted by each PIN approval). */
    accountToken(username?: string): string;
    /** The per-server accessToken /resources hands `username` for a Plex server. */
    serverToken(serverId: string, username?: string): string;
    /** plex.tv-level sign-out: all account tokens of the user stop working everywhere. */
    revokeAccount(username?: string): void;
    /** Sharded runs: a server in another process revoked its tokens; hand out new ones. */
    rotateServerTokens(serverId: string): void;
    /**
     * The owner rotated a Plex server's access tokens: the old per-server tokens get 401 at the
     * server (push channels closed 1000), /resources hands out new ones; account tokens keep working.
     */
    rotateServerToken(serverId: string): void;
    /** Every plex.tv JWT of the user is expired from now on (498 at plex.tv and the servers), as after a week. */
    expireJwts(username?: string): void;
    /** The account a device (X-Plex-Client-Identifier) registered its JWT key for, if any. */
    jwtRegistration(clientIdentifier: string): string | undefined;
    /** Which of a Plex server's routes plex.tv lists as connections from now on (null: back to the config). */
    setConnections(serverId: string, routeIds: readonly string[] | null): void;
    readonly route: RouteHandle;
  };
  jellyfin(serverId: string): {
    approveQuickConnect(code: string, username?: string): void;
    user(name?: string): { name: string; password: string; id: string };
    /** Mints a token as a sign-in would (DeviceId random unless given). */
    issueToken(username?: string, deviceId?: string): string;
    /** Startup mode: 503 + Retry-After everywhere but the anonymous checks. */
    setStartup(starting: boolean): void;
    /** What /System/Info reports as LocalAddress; undefined: the URL of the route asked (default). */
    setLocalAddress(url: string | undefined): void;
    /** Revokes one token (as a logout would): 401 from now on, its sockets closed with 1000. */
    revokeToken(token: string): boolean;
  };
  /** The generated libraries of a Plex or Jellyfin server. */
  library(serverId: string): LibraryHandle;
  close(): Promise<void>;
}

/** For sharded scale runs: Plex servers living in other simulator processes that this plex.tv lists. */
export interface SimulationExtras {
  remotePlexServers?: PlexResourceSource[];
}

export async function createSimulation(input: SimConfig, extras: SimulationExtras = {}): Promise<Simulation> {
  const config = parseSimConfig(input);
  const timers = new Timers();
  const dispatcher = new Dispatcher(timers);
  const accounts = new PlexAccounts(config.plexTv.accounts, config.plexTv.tokenSeed);
  const plexServers: PlexServerSim[] = [];
  const jellyfinServers: JellyfinServerSim[] = [];
  const routes = new Map<string, SimRoute>();
  const servers = new Map<string, PlexServerSim | JellyfinServerSim>();

  const remote = extras.remotePlexServers ?? [];
  const plexTv = new PlexTv(accounts, () => (remote.length ? [...plexServers, ...remote] : plexServers), timers, config.plexTv.pinExpiresIn, new PlexJwtIssuer(config.plexTv.jwtLifetimeSec));
  const plexTvRoute = new SimRoute('plex.tv', 'remote', 'plex.tv', config.plexTv.host, config.plexTv.port, plexTv, timers, dispatcher.accept);
  routes.set(plexTvRoute.id, plexTvRoute);

  for (const sc of config.servers) {
    const server =
      sc.kind === 'plex'
        ? new PlexServerSim(sc, accounts, dispatcher, timers, config.mediaKeepAliveScale)
        : new JellyfinServerSim(sc, dispatcher, timers, config.jellyfinKeepAliveScale, config.mediaKeepAliveScale);
    server.routes = sc.routes.map((rc) => new SimRoute(rc.id, rc.kind, sc.id, rc.host, rc.port, server, timers, dispatcher.accept, rc.tls));
    for (const r of server.routes) routes.set(r.id, r);
    servers.set(sc.id, server);
    if (server instanceof PlexServerSim) plexServers.push(server);
    else jellyfinServers.push(server);
  }

  const tlsHosts = config.servers.flatMap((s) => s.routes.filter((r) => r.tls).map((r) => r.host));
  if (tlsHosts.length > 0) dispatcher.certificates = makeCertificates(tlsHosts);

  const allRoutes = [...routes.values()];
  if (config.prepareMedia) await ensureClips();
  try {
    // Bind in modest batches: thousands of listen() calls at once only queue up anyway.
    for (let i = 0; i < allRoutes.length; i += 500) await Promise.all(allRoutes.slice(i, i + 500).map((r) => r.start()));
  } catch (err) {
    for (const r of allRoutes) r.close();
    dispatcher.close();
    timers.clearAll();
    if ((err as NodeJS.ErrnoException).code === 'EMFILE') {
      throw new Error(`${allRoutes.length} routes need as many file descriptors, more than this process may open; raise the limit or use startCluster() (sim/cluster.ts)`, { cause: err });
    }
    throw err;
  }

  const serverInfo = (s: PlexServerSim | JellyfinServerSim): SimServerInfo => ({
    id: s.id,
    kind: s instanceof PlexServerSim ? 'plex' : 'jellyfin',
    name: s.name,
    machineId: s.machineId,
    routes: s.routes.map((r) => ({ id: r.id, url: r.url, kind: r.kind })),
  });

  const routeHandle = (id: string): RouteHandle => {
    const r = routes.get(id);
    if (!r) throw new Error(`unknown route "${id}"`);
    return {
      id: r.id,
      get url() {
        return r.url;
      },
      get mode() {
        return r.mode;
      },
      get current() {
        return r.fault;
      },
      get openSockets() {
        return r.webSockets.size;
      },
      fault: (f: RouteFault) => r.setFault(f),
    };
  };

  const serverOf = (id: string) => {
    const s = servers.get(id);
    if (!s) throw new Error(`unknown server "${id}"`);
    return s;
  };

  const plexOf = (id: string) => {
    const s = serverOf(id);
    if (!(s instanceof PlexServerSim)) throw new Error(`server "${id}" is not a Plex server`);
    return s;
  };

  const jellyfinOf = (id: string) => {
    const s = serverOf(id);
    if (!(s instanceof JellyfinServerSim)) throw new Error(`server "${id}" is not a Jellyfin server`);
    return s;
  };

  let closed = false;
  const sim: Simulation = {
    controlUrl: '',
    plexTvUrl: plexTvRoute.url,
    tlsCa: dispatcher.certificates?.caPem,
    servers: [...servers.values()].map(serverInfo),
    route: routeHandle,
    server: (id) => {
      const s = serverOf(id);
      return {
        info: serverInfo(s),
        get mode() {
          return s.mode;
        },
        get openSockets() {
          return s.openSockets;
        },
        playbackReports: () => s.media.reports.all(),
        clearPlaybackReports: () => s.media.reports.clear(),
        media: s.media,
        get searchFault() {
          return s.searchFault;
        },
        fault: (f) => (s instanceof JellyfinServerSim ? s.setFault(f.mode, { restarting: f.restarting ?? false, ...(f.delayMs === undefined ? {} : { delayMs: f.delayMs }) }) : s.setFault(f.mode, f.delayMs === undefined ? {} : { delayMs: f.delayMs })),
        notify: (type, data) => (s instanceof JellyfinServerSim ? s.notify(type, data) : s.notify(type, data as Record<string, unknown> | undefined)),
      };
    },
    plexTv: {
      approvePin: (pinId, username, delayMs) => plexTv.approvePin(pinId, username, delayMs),
      expirePin: (pinId) => plexTv.expirePin(pinId),
      accountToken: (username) => accounts.account(username).token,
      serverToken: (serverId, username) => {
        if (!(serverOf(serverId) instanceof PlexServerSim)) throw new Error(`server "${serverId}" is not a Plex server`);
        return accounts.serverToken(serverId, username ?? accounts.defaultUsername);
      },
      revokeAccount: (username) => accounts.revokeAccountTokens(username ?? accounts.defaultUsername),
      rotateServerTokens: (serverId) => accounts.rotateServerTokens(serverId),
      rotateServerToken: (serverId) => plexOf(serverId).rotateAccessTokens(),
      setConnections: (serverId, routeIds) => plexOf(serverId).setListedRoutes(routeIds),
      expireJwts: (username) => accounts.expireJwts(username ?? accounts.defaultUsername),
      jwtRegistration: (clientIdentifier) => plexTv.jwt.registeredUser(clientIdentifier),
      route: routeHandle('plex.tv'),
    },
    jellyfin: (serverId) => {
      const s = jellyfinOf(serverId);
      return {
        approveQuickConnect: (code, username) => s.approveQuickConnect(code, username),
        user: (name) => s.user(name),
        issueToken: (username, deviceId) => s.issueToken(username, deviceId),
        setStartup: (starting) => s.setStartup(starting),
        setLocalAddress: (url) => s.setLocalAddress(url),
        revokeToken: (token) => s.revoke(token),
      };
    },
    library: (serverId) => {
      const s = serverOf(serverId);
      const model = s.library;
      const keyOf = (itemId: string): number | undefined => (s instanceof PlexServerSim ? (/^\d+$/.test(itemId) ? Number(itemId) : undefined) : s.libraryApi.codec.decode(itemId));
      const idOf = (key: number): string => (s instanceof PlexServerSim ? String(key) : s.libraryApi.codec.encode(key));
      const libraryId = (name: string): string => {
        const found = model.libraries.find((l) => l.id === name || l.spec.title === name);
        if (!found) throw new Error(`server "${serverId}" has no library "${name}"`);
        return found.id;
      };
      return {
        model,
        libraries: () => model.libraries.map((l) => ({ id: l.id, title: l.spec.title, kind: l.kind, itemCount: l.itemCount })),
        touchItems: (library, n) => model.touchItems(libraryId(library), n, Date.now()).map(idOf),
        setWatched: (itemId, watched) => {
          const key = keyOf(itemId);
          return key !== undefined && model.setWatched(key, watched, Date.now()) !== undefined;
        },
        setResume: (itemId, positionMs) => {
          const key = keyOf(itemId);
          return key !== undefined && model.setResume(key, positionMs, Date.now()) !== undefined;
        },
        mediaCatalog: () => s.mediaCatalog(),
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await control.close();
      for (const r of allRoutes) r.close();
      dispatcher.close();
      timers.clearAll();
    },
  };

  const control = await startControlServer(sim, () => allRoutes, config.control.host, config.control.port);
  sim.controlUrl = control.url;
  return sim;
}
