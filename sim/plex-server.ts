// A simulated Plex Media Server: one machineIdentifier reachable through several routes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PlexServerConfig } from './config.js';
import type { ServerFaultMode } from './faults.js';
import { header, json, queryParam, rejectUpgrade, requestUrl, text, type SimResponse } from './http-util.js';
import { stableHex } from './ids.js';
import type { PlexAccounts } from './plex-accounts.js';
import { toPlexXml } from './plex-xml.js';
import type { PlexResourceSource } from './plex-tv.js';
import type { SimRoute } from './route.js';
import type { RequestContext, SimService } from './service.js';
import type { Timers } from './timers.js';
import type { Dispatcher } from './dispatch.js';
import { PlexMedia } from './media/plex-media.js';
import type { ServerLibrary } from './library-model.js';
import type { MediaCatalog } from './media-catalog.js';
import { chainCatalogs, libraryPlayState, plexMediaCatalog, withMediaVariants } from './library-model.js';
import { isPlexLibraryPath, isPlexSearchPath, PlexLibraryApi, plexServerLibrary } from './plex-library.js';
import { DEFAULT_SEARCH_SLOW_MS, type SearchFault } from './faults.js';

const UNAUTHORIZED_HTML = '<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>';
const NOT_FOUND_HTML = '<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>';
const WS_PATHS = new Set(['/:/websockets/notifications', '/:/websocket/notifications']);

interface Identity {
  machineId: string;
  name: string;
}

interface PushSession {
  ws: WebSocket;
  route: SimRoute;
}

export class PlexServerSim implements SimService, PlexResourceSource {
  readonly id: string;
  readonly name: string;
  readonly machineId: string;
  readonly version: string;
  readonly owner: string;
  readonly sharedWith: string[];
  readonly createdAt = new Date(Date.UTC(2023, 0, 15, 12, 0, 0));
  routes: SimRoute[] = [];
  private state: ServerFaultMode = 'up';
  private revokedBefore: number | undefined;
  /** Route ids plex.tv lists (null: the config's `listed` routes). */
  private listed: Set<string> | null = null;
  private readonly sessions = new Set<PushSession>();
  private readonly impostor: Identity;
  /** Playback: parts, transcoder, timeline (sim/media/plex-media.ts). */
  readonly media: PlexMedia;
  /** The generated libraries (items, watched state, changes made by tests). */
  readonly library: ServerLibrary;
  private readonly libraryApi: PlexLibraryApi;
  /** Holds up search endpoints only (probes and browsing unaffected). */
  searchFault: SearchFault | undefined;

  constructor(
    private readonly config: PlexServerConfig,
    private readonly accounts: PlexAccounts,
    private readonly dispatcher: Dispatcher,
    private readonly timers: Timers,
    mediaKeepAliveScale = 1,
  ) {
    this.media = new PlexMedia(config.id, timers, mediaKeepAliveScale);
    this.id = config.id;
    this.name = config.name;
    this.machineId = config.machineId ?? stableHex(`plex-server:${config.id}`, 40);
    this.version = config.version;
    this.owner = config.owner ?? accounts.defaultUsername;
    this.sharedWith = config.sharedWith;
    this.impostor = { machineId: stableHex(`plex-impostor:${config.id}`, 40), name: `${config.name} (other)` };
    this.library = plexServerLibrary(config.id, config.libraries);
    this.libraryApi = new PlexLibraryApi(this.library, config.id, this.machineId);
    this.media.catalog = withMediaVariants(chainCatalogs(plexMediaCatalog(this.library), this.media.catalog), config.mediaVariants);
    this.media.playState = libraryPlayState(this.library, (itemId) => (/^\d+$/.test(itemId) ? Number(itemId) : undefined), this.media.playState);
    this.registerAccessTokens();
  }

  /** Makes this server's access tokens known up front (another process's plex.tv may hand them out). */
  private registerAccessTokens(): void {
    for (const user of [this.owner, ...this.sharedWith]) this.accounts.serverToken(this.id, user);
  }

  get mode(): ServerFaultMode {
    return this.state;
  }

  presence(): boolean {
    return this.config.presence && this.state !== 'stop' && this.state !== 'crash';
  }

  connections(): { kind: SimRoute['kind']; host: string; port: number; url: string }[] {
    const listed = this.listed ?? new Set(this.config.routes.filter((r) => r.listed).map((r) => r.id));
    return this.routes.filter((r) => listed.has(r.id)).map((r) => ({ kind: r.kind, host: r.host, port: r.port, url: r.url }));
  }

  /** Which routes plex.tv lists from now on (null: those the config marks `listed`). */
  setListedRoutes(routeIds: readonly string[] | null): void {
    if (routeIds) {
      const unknown = routeIds.filter((id) => !this.routes.some((r) => r.id === id));
      if (unknown.length > 0) throw new Error(`server "${this.id}" has no route ${unknown.map((id) => `"${id}"`).join(', ')}`);
    }
    this.listed = routeIds ? new Set(routeIds) : null;
  }

  /** The owner rotated the server's access tokens: old ones get 401 here, plex.tv hands out new ones. */
  rotateAccessTokens(): void {
    this.accounts.revokeServerTokens(this.id);
    this.registerAccessTokens();
    for (const { ws } of this.sessions) ws.close(1000, 'Unauthorized');
  }

  get openSockets(): number {
    return this.sessions.size;
  }

  // --- HTTP ----------------------------------------------------------------------------------

  /** What the media side needs to know about this server's playable items. */
  mediaCatalog(): MediaCatalog {
    return plexMediaCatalog(this.library);
  }

  /** Every answer carries X-Plex-Protocol: 1.0, as the real server sends it. */
  handle(req: IncomingMessage, body: Buffer, ctx: RequestContext): SimResponse | Promise<SimResponse> {
    const answer = this.answer(req, body, ctx);
    const stamp = (r: SimResponse) => ({ ...r, headers: { ...r.headers, 'x-plex-protocol': '1.0' } });
    return answer instanceof Promise ? answer.then(stamp) : stamp(answer);
  }

  private answer(req: IncomingMessage, _body: Buffer, ctx: RequestContext): SimResponse | Promise<SimResponse> {
    const url = requestUrl(req);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const identity = ctx.impostor ? this.impostor : { machineId: this.machineId, name: this.name };
    const media = this.media.handle(req, url, path, req.method ?? 'GET', this.authorized(req, url));
    if (media) return media;
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(404, NOT_FOUND_HTML, 'text/html');
    if (path === '/identity') {
      if (this.config.requireTokenForIdentity && !this.authorized(req, url)) return this.unauthorized();
      return this.reply(req, { size: 0, claimed: true, machineIdentifier: identity.machineId, version: this.version });
    }
    if (path === '/' || path === '/library/sections' || path === '/library/sections/all') {
      if (this.expiredJwt(req, url)) return text(498, '<html><head><title>Token expired</title></head><body><h1>498 Token expired</h1></body></html>', 'text/html');
      if (!this.authorized(req, url)) return this.unauthorized();
      if (path === '/') return this.reply(req, this.rootBody(identity));
      const sections = this.sectionsBody(ctx.impostor);
      const response = this.reply(req, sections);
      // Every MediaContainer list carries its paging window (OAS: X-Plex-Container-*).
      response.headers['x-plex-container-start'] = '0';
      response.headers['x-plex-container-total-size'] = String(sections['size']);
      return response;
    }
    if (isPlexLibraryPath(path) || /^\/library\/metadata\/\d+\/(thumb|art)\/\d+$/.test(path)) {
      if (this.expiredJwt(req, url)) return text(498, '<html><head><title>Token expired</title></head><body><h1>498 Token expired</h1></body></html>', 'text/html');
      if (!this.authorized(req, url)) return this.unauthorized();
      // Another server at this address knows none of these items.
      if (ctx.impostor) return text(404, NOT_FOUND_HTML, 'text/html');
      const answer = () => this.libraryApi.handle(req, url, path, (container, headers) => this.reply(req, container, headers)) ?? text(404, NOT_FOUND_HTML, 'text/html');
      const fault = this.searchFault;
      if (fault && isPlexSearchPath(path)) {
        // Held without an answer until the client gives up (or the simulation closes).
        if (fault.mode === 'hang') return new Promise<SimResponse>(() => {});
        return this.timers.sleep(fault.delayMs).then(answer);
      }
      return answer();
    }
    return text(404, NOT_FOUND_HTML, 'text/html');
  }

  /** A plex.tv JWT past its expiry: 498, as plex.tv answers it. */
  private expiredJwt(req: IncomingMessage, url: URL): boolean {
    const entry = this.accounts.lookup(header(req, 'x-plex-token') ?? queryParam(url, 'X-Plex-Token'));
    return entry !== undefined && this.accounts.expired(entry);
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const entry = this.accounts.lookup(header(req, 'x-plex-token') ?? queryParam(url, 'X-Plex-Token'));
    if (!entry || this.accounts.expired(entry)) return false;
    if (this.revokedBefore !== undefined && entry.seq < this.revokedBefore) return false;
    if (entry.kind === 'server') return entry.serverId === this.id;
    return entry.username === this.owner || this.sharedWith.includes(entry.username);
  }

  private unauthorized(): SimResponse {
    return text(401, UNAUTHORIZED_HTML, 'text/html');
  }

  /** JSON when Accept names it; the content type is exactly `application/json`, as PMS sends it (some clients refuse more). */
  private reply(req: IncomingMessage, container: Record<string, unknown>, headers: Record<string, string> = {}): SimResponse {
    if ((header(req, 'accept') ?? '').toLowerCase().includes('application/json')) return json(200, { MediaContainer: container }, { 'content-type': 'application/json', ...headers });
    return text(200, toPlexXml('MediaContainer', container), 'text/xml;charset=utf-8', headers);
  }

  private rootBody(identity: Identity): Record<string, unknown> {
    const owner = this.accounts.account(this.owner);
    return {
      size: 3,
      allowCameraUpload: true,
      allowChannelAccess: true,
      allowMediaDeletion: true,
      allowSharing: true,
      allowSync: true,
      allowTuners: true,
      backgroundProcessing: true,
      certificate: true,
      companionProxy: true,
      countryCode: 'nld',
      diagnostics: 'logs,databases,streaminglogs',
      eventStream: true,
      friendlyName: identity.name,
      hubSearch: true,
      itemClusters: true,
      livetv: 7,
      machineIdentifier: identity.machineId,
      mediaProviders: true,
      multiuser: true,
      musicAnalysis: 2,
      myPlex: true,
      myPlexMappingState: 'mapped',
      myPlexSigninState: 'ok',
      myPlexSubscription: false,
      myPlexUsername: owner.email,
      offlineTranscode: 1,
      ownerFeatures: 'federated-auth,hardware_transcoding',
      platform: 'Linux',
      platformVersion: '6.1.0',
      pluginHost: true,
      pushNotifications: false,
      readOnlyLibraries: false,
      streamingBrainABRVersion: 3,
      streamingBrainVersion: 2,
      sync: true,
      transcoderActiveVideoSessions: 0,
      transcoderAudio: true,
      transcoderLyrics: true,
      transcoderPhoto: true,
      transcoderSubtitles: true,
      transcoderVideo: true,
      transcoderVideoBitrates: '64,96,208,320,720,1500,2000,3000,4000,8000,10000,12000,20000',
      transcoderVideoQualities: '0,1,2,3,4,5,6,7,8,9,10,11,12',
      transcoderVideoResolutions: '128,128,160,240,320,480,768,720,720,1080,1080,1080,1080',
      updatedAt: 1_700_000_000,
      updater: true,
      version: this.version,
      voiceSearch: true,
      Directory: [
        { count: 1, key: 'activities', title: 'activities' },
        { count: 1, key: 'library', title: 'library' },
        { count: 1, key: 'system', title: 'system' },
      ],
    };
  }

  private sectionsBody(impostor: boolean): Record<string, unknown> {
    const libraries = impostor ? [{ key: undefined, title: 'Other Movies', type: 'movie' as const }] : this.config.libraries;
    const directories = libraries.map((lib, i) => {
      const key = lib.key ?? String(i + 1);
      const kind = lib.type;
      return {
        allowSync: true,
        art: `/:/resources/${kind}-fanart.jpg`,
        composite: `/library/sections/${key}/composite/1700000000`,
        filters: true,
        refreshing: false,
        thumb: `/:/resources/${kind}.png`,
        key,
        type: kind,
        title: lib.title,
        agent: { movie: 'tv.plex.agents.movie', show: 'tv.plex.agents.series', artist: 'tv.plex.agents.music', photo: 'com.plexapp.agents.none' }[kind],
        scanner: { movie: 'Plex Movie', show: 'Plex TV Series', artist: 'Plex Music', photo: 'Plex Photo Scanner' }[kind],
        language: kind === 'photo' ? 'xn' : 'en-US',
        uuid: [8, 4, 4, 4, 12].reduce<string[]>((parts, n, p) => [...parts, stableHex(`${this.id}:${impostor}:${key}:${p}`, n)], []).join('-'),
        updatedAt: 1_700_000_000 + i,
        createdAt: 1_690_000_000 + i,
        scannedAt: 1_700_000_100 + i,
        content: true,
        directory: true,
        contentChangedAt: 4000 + i,
        hidden: false,
        Location: [{ id: i + 1, path: `/data/${lib.title}` }],
      };
    });
    return { size: directories.length, allowSync: false, title1: 'Plex Library', Directory: directories };
  }

  // --- WebSocket -----------------------------------------------------------------------------

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    const url = requestUrl(req);
    if (!WS_PATHS.has(url.pathname)) return rejectUpgrade(socket, text(404, NOT_FOUND_HTML, 'text/html'));
    // Unverified on real servers (PROTOCOLS §7): a bad token at upgrade answers 401 like HTTP does.
    if (!this.authorized(req, url)) return rejectUpgrade(socket, this.unauthorized());
    this.dispatcher.wss.handleUpgrade(req, socket, head, (ws) => {
      const session: PushSession = { ws, route: ctx.route };
      this.sessions.add(session);
      ctx.route.webSockets.add(ws);
      ws.on('ping', (data) => {
        if (!ctx.route.silent) ws.pong(data);
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        this.sessions.delete(session);
        ctx.route.webSockets.delete(ws);
      });
    });
  }

  /** Sends a NotificationContainer frame to every open push channel (except on hung routes). */
  notify(type = 'timeline', entries?: Record<string, unknown>): number {
    const elementName = { timeline: 'TimelineEntry', activity: 'ActivityNotification', playing: 'PlaySessionStateNotification', status: 'StatusNotification' }[type] ?? 'Notification';
    const element = entries ?? defaultNotification(type);
    const frame = JSON.stringify({ NotificationContainer: { type, size: 1, [elementName]: [element] } });
    let sent = 0;
    for (const { ws, route } of this.sessions) {
      if (route.silent || ws.readyState !== ws.OPEN) continue;
      ws.send(frame);
      sent++;
    }
    return sent;
  }

  // --- server faults -------------------------------------------------------------------------

  async setFault(mode: ServerFaultMode, options: { delayMs?: number } = {}): Promise<void> {
    // The search faults hold up search endpoints only; the server stays up for everything else.
    if (mode === 'search-hang' || mode === 'search-slow') {
      this.searchFault = mode === 'search-hang' ? { mode: 'hang' } : { mode: 'slow', delayMs: options.delayMs ?? DEFAULT_SEARCH_SLOW_MS };
      return;
    }
    this.searchFault = undefined;
    this.state = mode;
    if (mode === 'up') {
      this.revokedBefore = undefined;
      await Promise.all(this.routes.map((r) => r.setServerDown(false)));
    } else if (mode === 'bad-token') {
      this.revokedBefore = this.accounts.nextSeq();
      this.accounts.rotateServerTokens(this.id);
      this.registerAccessTokens();
      for (const { ws } of this.sessions) ws.close(1000, 'Unauthorized');
      await Promise.all(this.routes.map((r) => r.setServerDown(false)));
    } else if (mode === 'stop') {
      // Graceful: close frames first, then the ports close and idle connections get a FIN.
      await this.closeSessions(1001, 'Server shutting down');
      await Promise.all(this.routes.map((r) => r.setServerDown(true, 'end')));
    } else {
      await Promise.all(this.routes.map((r) => r.setServerDown(true, 'reset')));
    }
  }

  private async closeSessions(code: number, reason: string): Promise<void> {
    const closing = [...this.sessions].map(
      ({ ws }) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(code, reason);
          this.timers.timeout(() => {
            ws.terminate();
            resolve();
          }, 1000);
        }),
    );
    await Promise.all(closing);
  }
}

function defaultNotification(type: string): Record<string, unknown> {
  switch (type) {
    case 'activity':
      return { event: 'ended', uuid: stableHex(`activity:${Date.now()}`, 32), Activity: { type: 'library.update.section', title: 'Scanning', progress: 100 } };
    case 'playing':
      return { sessionKey: '1', ratingKey: '100', key: '/library/metadata/100', viewOffset: 0, state: 'playing' };
    case 'status':
      return { title: 'Library scan complete', description: '', notificationName: 'LIBRARY_UPDATE' };
    default:
      return { identifier: 'com.plexapp.plugins.library', sectionID: 1, itemID: 100, type: 1, title: 'New item', state: 5, updatedAt: Math.floor(Date.now() / 1000) };
  }
}
