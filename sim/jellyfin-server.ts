// A simulated Jellyfin server: one ServerId reachable through several routes, with sign-in,
// Quick Connect, token revocation and the /socket push channel with its keep-alive timers.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { JellyfinServerConfig } from './config.js';
import type { Dispatcher } from './dispatch.js';
import { JellyfinMedia } from './media/jellyfin-media.js';
import type { ServerFaultMode } from './faults.js';
import { empty, json, parseJsonBody, queryParam, rejectUpgrade, requestUrl, text, type SimResponse } from './http-util.js';
import { randomHex, sixDigitCode, stableHex } from './ids.js';
import { readJellyfinAuth, type JellyfinAuthInfo } from './jellyfin-auth.js';
import { authenticationResult, jfDate, publicSystemInfo, systemInfo, userDto, userViews, type JellyfinUser, type ServerIdentity, type SessionDevice } from './jellyfin-dto.js';
import type { SimRoute } from './route.js';
import type { RequestContext, SimService } from './service.js';
import type { Timers } from './timers.js';
import { DEFAULT_SEARCH_SLOW_MS, type SearchFault } from './faults.js';
import { isJellyfinImagePath, isJellyfinLibraryPath, isJellyfinSearch, JellyfinLibraryApi, jellyfinServerLibrary } from './jellyfin-library.js';
import { chainCatalogs, jellyfinMediaCatalog, libraryPlayState, withMediaVariants, type ServerLibrary } from './library-model.js';
import type { MediaCatalog } from './media-catalog.js';

const ERROR_BODY = 'Error processing request.';
const QUICK_CONNECT_TTL_MS = 10 * 60 * 1000;
/** Real timings (SessionWebSocketListener): lost after 60 s, ForceKeepAlive resent after 45 s, checked every 12 s. */
const WS_LOST_MS = 60_000;
const WS_RESEND_MS = 45_000;
const WS_TICK_MS = 12_000;

interface TokenInfo extends SessionDevice {
  token: string;
  userId: string;
  seq: number;
}

interface QuickConnectRequest {
  secret: string;
  code: string;
  deviceId: string;
  deviceName: string;
  appName: string;
  appVersion: string;
  dateAdded: Date;
  expiresAt: number;
  authenticated: boolean;
  token?: string;
}

interface PushSession {
  ws: WebSocket;
  route: SimRoute;
  token: string;
  lastKeepAlive: number;
}

const errorText = (status: number) => text(status, ERROR_BODY);

/** ASP.NET ProblemDetails, which the spec documents for Quick Connect's 401/404 answers. */
function problem(status: 401 | 404): SimResponse {
  const titles = { 401: 'Unauthorized', 404: 'Not Found' } as const;
  const sections = { 401: '15.5.2', 404: '15.5.5' } as const;
  return json(
    status,
    { type: `https://tools.ietf.org/html/rfc9110#section-${sections[status]}`, title: titles[status], status, traceId: `00-${randomHex(32)}-${randomHex(16)}-00` },
    { 'content-type': 'application/problem+json; charset=utf-8' },
  );
}

export class JellyfinServerSim implements SimService {
  readonly id: string;
  readonly name: string;
  readonly machineId: string;
  routes: SimRoute[] = [];
  private state: ServerFaultMode = 'up';
  private startingUp: boolean;
  private reportedLocalAddress: string | undefined;
  private seq = 0;
  private revokedBefore: number | undefined;
  private readonly users: JellyfinUser[];
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly quickConnect = new Map<string, QuickConnectRequest>();
  private readonly sessions = new Set<PushSession>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly identity: ServerIdentity;
  private readonly impostor: ServerIdentity;
  /** Playback: PlaybackInfo, streams, HLS, progress reports (sim/media/jellyfin-media.ts). */
  readonly media: JellyfinMedia;
  /** The generated libraries (items, watched state, changes made by tests). */
  readonly library: ServerLibrary;
  readonly libraryApi: JellyfinLibraryApi;
  /** Holds up search endpoints only (probes and browsing unaffected). */
  searchFault: SearchFault | undefined;

  constructor(
    private readonly config: JellyfinServerConfig,
    private readonly dispatcher: Dispatcher,
    private readonly timers: Timers,
    private readonly keepAliveScale: number,
    mediaKeepAliveScale = 1,
  ) {
    this.media = new JellyfinMedia(config.id, timers, mediaKeepAliveScale);
    this.id = config.id;
    this.name = config.name;
    this.machineId = config.machineId ?? stableHex(`jellyfin-server:${config.id}`, 32);
    this.startingUp = config.startup;
    this.reportedLocalAddress = config.localAddress;
    this.identity = { id: this.machineId, name: config.name, version: config.version };
    this.impostor = { id: stableHex(`jellyfin-impostor:${config.id}`, 32), name: `${config.name} (other)`, version: config.version };
    this.library = jellyfinServerLibrary(config.id, this.machineId, config.libraries);
    this.libraryApi = new JellyfinLibraryApi(this.library, this.machineId);
    this.media.catalog = withMediaVariants(chainCatalogs(jellyfinMediaCatalog(this.library, this.libraryApi.codec), this.media.catalog), config.mediaVariants);
    this.media.playState = libraryPlayState(this.library, (itemId) => this.libraryApi.codec.decode(itemId), this.media.playState);
    this.users = config.users.map((u) => ({ id: stableHex(`jellyfin-user:${config.id}:${u.name}`, 32), name: u.name, password: u.password, admin: u.admin, disabled: u.disabled }));
  }

  get mode(): ServerFaultMode {
    return this.state;
  }

  get openSockets(): number {
    return this.sessions.size;
  }

  user(name?: string): { name: string; password: string; id: string } {
    const user = name === undefined ? this.users[0] : this.users.find((u) => u.name === name);
    if (!user) throw new Error(`unknown Jellyfin user "${name ?? ''}" on ${this.id}`);
    return { name: user.name, password: user.password, id: user.id };
  }

  setStartup(starting: boolean): void {
    this.startingUp = starting;
  }

  /** What /System/Info reports as LocalAddress from now on; undefined: the route that was asked. */
  setLocalAddress(url: string | undefined): void {
    this.reportedLocalAddress = url;
  }

  /** What the media side needs to know about this server's playable items (itemId and partId: the item Id). */
  mediaCatalog(): MediaCatalog {
    return jellyfinMediaCatalog(this.library, this.libraryApi.codec);
  }

  // --- HTTP ----------------------------------------------------------------------------------

  handle(req: IncomingMessage, body: Buffer, ctx: RequestContext): SimResponse | Promise<SimResponse> {
    const url = requestUrl(req);
    // ASP.NET routing is case-insensitive.
    const path = url.pathname.replace(/\/+$/, '').toLowerCase() || '/';
    const method = req.method ?? 'GET';
    const server = ctx.impostor ? this.impostor : this.identity;
    const localAddress = ctx.impostor ? ctx.route.url : (this.reportedLocalAddress ?? ctx.route.url);

    if (path === '/system/info/public' && method === 'GET') return json(200, publicSystemInfo(server, localAddress, !this.startingUp));
    if (path === '/system/ping' && (method === 'GET' || method === 'POST')) return json(200, 'Jellyfin Server');
    if (path === '/health' && method === 'GET') return text(200, 'Healthy');
    if (this.startingUp) return text(503, '<!DOCTYPE html><html><body><h1>Jellyfin Server is starting up.</h1></body></html>', 'text/html', { 'retry-after': '5' });
    if (path === '/quickconnect/enabled' && method === 'GET') return json(200, this.config.quickConnect);

    const auth = readJellyfinAuth(req, url, this.config.legacyAuth);
    // The impostor is another server: it knows none of our users or tokens.
    const session = ctx.impostor ? undefined : this.session(auth.token);

    if (path === '/users/authenticatebyname' && method === 'POST') return this.authenticateByName(auth, body, ctx);
    if (path === '/quickconnect/initiate' && method === 'POST') return this.initiateQuickConnect(auth);
    if (path === '/quickconnect/connect' && method === 'GET') return this.quickConnectState(queryParam(url, 'secret'));
    if (path === '/users/authenticatewithquickconnect' && method === 'POST') return this.authenticateWithQuickConnect(body, ctx);
    const media = this.media.handle(req, url, path, method, body, session ? { userId: session.userId, token: session.token, deviceId: session.deviceId } : undefined);
    if (media) return media;

    // Item images are anonymous on the real server (the web client puts them in <img> tags).
    if (isJellyfinImagePath(path) && (method === 'GET' || method === 'HEAD')) return ctx.impostor ? errorText(404) : this.libraryApi.handle(req, url, path);
    if (isJellyfinLibraryPath(path) && method === 'GET') {
      if (!session) return empty(401);
      const reader = this.users.find((u) => u.id === session.userId);
      if (!reader || reader.disabled) return empty(401);
      session.lastActivity = new Date();
      const answer = () => this.libraryApi.handle(req, url, path);
      const fault = this.searchFault;
      if (fault && isJellyfinSearch(path, url)) {
        // Held without an answer until the client gives up (or the simulation closes).
        if (fault.mode === 'hang') return new Promise<SimResponse>(() => {});
        return this.timers.sleep(fault.delayMs).then(answer);
      }
      return answer();
    }

    const known = new Set(['/system/info', '/users/me', '/userviews', '/sessions/logout', '/quickconnect/authorize', '/devices']);
    const viewsMatch = /^\/users\/([0-9a-f-]{32,36})\/views$/.exec(path);
    if (!known.has(path) && !viewsMatch) return empty(404);
    if (!session) return empty(401);
    const user = this.users.find((u) => u.id === session.userId);
    if (!user || user.disabled) return empty(401);
    session.lastActivity = new Date();

    if (path === '/system/info' && method === 'GET') return json(200, systemInfo(server, localAddress));
    if (path === '/users/me' && method === 'GET') return json(200, userDto(server, user));
    if ((path === '/userviews' || viewsMatch) && method === 'GET') {
      const requested = (viewsMatch?.[1] ?? queryParam(url, 'userId') ?? user.id).replace(/-/g, '').toLowerCase();
      if (requested !== user.id && !user.admin) return errorText(403);
      if (!this.users.some((u) => u.id === requested)) return errorText(404);
      return json(200, userViews(server, this.config.libraries));
    }
    if (path === '/sessions/logout' && method === 'POST') {
      this.revokeToken(session.token);
      return empty(204);
    }
    if (path === '/devices' && method === 'DELETE') {
      // An administrator removing a device ends its session (token deleted, sockets closed 1000).
      if (!user.admin) return errorText(403);
      const deviceId = queryParam(url, 'id');
      if (!deviceId) return errorText(400);
      const tokens = [...this.tokens.values()].filter((t) => t.deviceId === deviceId);
      if (tokens.length === 0) return errorText(404);
      for (const t of tokens) this.revokeToken(t.token);
      return empty(204);
    }
    if (path === '/quickconnect/authorize' && method === 'POST') {
      if (!this.config.quickConnect) return errorText(401);
      const code = queryParam(url, 'code');
      if (!code) return errorText(400);
      const target = queryParam(url, 'userId') ?? user.id;
      if (target.replace(/-/g, '') !== user.id && !user.admin) return errorText(403);
      return this.authorizeQuickConnect(code, target.replace(/-/g, '')) ? json(200, true) : errorText(404);
    }
    return empty(405);
  }

  private session(token: string | undefined): TokenInfo | undefined {
    if (!token) return undefined;
    const info = this.tokens.get(token);
    if (!info) return undefined;
    if (this.revokedBefore !== undefined && info.seq < this.revokedBefore) return undefined;
    return info;
  }

  private authenticateByName(auth: JellyfinAuthInfo, body: Buffer, ctx: RequestContext): SimResponse {
    const request = parseJsonBody(body) as { Username?: unknown; Pw?: unknown } | undefined;
    if (!request || typeof request !== 'object' || typeof request.Username !== 'string') return validationProblem('Username');
    if (!auth.client || !auth.deviceId || !auth.device || !auth.version) return errorText(400);
    const user = ctx.impostor ? undefined : this.users.find((u) => u.name.toLowerCase() === String(request.Username).toLowerCase());
    const password = typeof request.Pw === 'string' ? request.Pw : '';
    if (!user || user.password !== password) return errorText(401);
    if (user.disabled) return errorText(403);
    const info = this.mintToken(user, auth as Required<Omit<JellyfinAuthInfo, 'token'>>, ctx.route);
    return json(200, authenticationResult(this.identity, user, info, info.token));
  }

  /** Signing in again with the same DeviceId revokes the previous token (and closes its sockets). */
  private mintToken(user: JellyfinUser, device: { client: string; device: string; deviceId: string; version: string }, route: SimRoute): TokenInfo {
    for (const old of [...this.tokens.values()]) if (old.deviceId === device.deviceId) this.revokeToken(old.token);
    user.lastLogin = new Date();
    const info: TokenInfo = {
      token: randomHex(32),
      userId: user.id,
      seq: ++this.seq,
      sessionId: randomHex(32),
      client: device.client,
      device: device.device,
      deviceId: device.deviceId,
      version: device.version,
      remoteEndPoint: route.host,
      lastActivity: new Date(),
    };
    this.tokens.set(info.token, info);
    return info;
  }

  private revokeToken(token: string): void {
    this.tokens.delete(token);
    for (const s of this.sessions) if (s.token === token) s.ws.close(1000);
  }

  // --- Quick Connect -------------------------------------------------------------------------

  private initiateQuickConnect(auth: JellyfinAuthInfo): SimResponse {
    if (!auth.client || !auth.deviceId || !auth.device || !auth.version) return errorText(400);
    if (!this.config.quickConnect) return problem(401);
    this.expireQuickConnect();
    let code = sixDigitCode();
    while ([...this.quickConnect.values()].some((r) => r.code === code)) code = sixDigitCode();
    const request: QuickConnectRequest = {
      secret: randomHex(64).toUpperCase(),
      code,
      deviceId: auth.deviceId,
      deviceName: auth.device,
      appName: auth.client,
      appVersion: auth.version,
      dateAdded: new Date(),
      expiresAt: Date.now() + QUICK_CONNECT_TTL_MS,
      authenticated: false,
    };
    this.quickConnect.set(request.secret, request);
    return json(200, quickConnectResult(request));
  }

  private quickConnectState(secret: string | undefined): SimResponse {
    if (!this.config.quickConnect) return problem(401);
    this.expireQuickConnect();
    const request = secret ? this.quickConnect.get(secret) : undefined;
    if (!request) return problem(404);
    return json(200, quickConnectResult(request));
  }

  private authorizeQuickConnect(code: string, userId: string): boolean {
    this.expireQuickConnect();
    const request = [...this.quickConnect.values()].find((r) => r.code === code);
    const user = this.users.find((u) => u.id === userId);
    if (!request || !user) return false;
    request.authenticated = true;
    // Approval restarts the clock; the token is minted now (revoking the device's older one).
    request.expiresAt = Date.now() + QUICK_CONNECT_TTL_MS;
    const route = this.routes[0];
    if (!route) return false;
    request.token = this.mintToken(user, { client: request.appName, device: request.deviceName, deviceId: request.deviceId, version: request.appVersion }, route).token;
    return true;
  }

  private authenticateWithQuickConnect(body: Buffer, ctx: RequestContext): SimResponse {
    const request = parseJsonBody(body) as { Secret?: unknown } | undefined;
    if (!request || typeof request.Secret !== 'string') return validationProblem('Secret');
    if (!this.config.quickConnect) return errorText(401);
    this.expireQuickConnect();
    const qc = ctx.impostor ? undefined : this.quickConnect.get(request.Secret);
    const info = qc?.authenticated && qc.token ? this.session(qc.token) : undefined;
    if (!qc || !info) return errorText(404);
    this.quickConnect.delete(qc.secret);
    const user = this.users.find((u) => u.id === info.userId);
    if (!user) return errorText(404);
    return json(200, authenticationResult(this.identity, user, info, info.token));
  }

  private expireQuickConnect(): void {
    const now = Date.now();
    for (const [secret, r] of this.quickConnect) if (r.expiresAt <= now) this.quickConnect.delete(secret);
  }

  /** Control: plays a signed-in user entering the code on another device. */
  approveQuickConnect(code: string, username?: string): void {
    const user = this.user(username);
    if (!this.authorizeQuickConnect(code, user.id)) throw new Error(`no pending Quick Connect request with code ${code} on ${this.id}`);
  }

  // --- WebSocket -----------------------------------------------------------------------------

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    const url = requestUrl(req);
    if (this.startingUp) return rejectUpgrade(socket, text(503, 'Service Unavailable', 'text/html', { 'retry-after': '5' }));
    const auth = readJellyfinAuth(req, url, this.config.legacyAuth);
    const info = ctx.impostor ? undefined : this.session(auth.token);
    if (!info) return rejectUpgrade(socket, errorText(403));
    this.dispatcher.wss.handleUpgrade(req, socket, head, (ws) => {
      const session: PushSession = { ws, route: ctx.route, token: info.token, lastKeepAlive: Date.now() };
      this.sessions.add(session);
      ctx.route.webSockets.add(ws);
      ws.on('error', () => {});
      ws.on('ping', (data) => {
        if (!ctx.route.silent) ws.pong(data);
      });
      // A text frame arrives as one Buffer (ws's default binaryType 'nodebuffer').
      ws.on('message', (data, isBinary) => this.onMessage(session, isBinary ? '' : (data as Buffer).toString('utf8')));
      ws.on('close', () => {
        this.sessions.delete(session);
        ctx.route.webSockets.delete(ws);
        if (this.sessions.size === 0) {
          this.timers.clear(this.keepAliveTimer);
          this.keepAliveTimer = undefined;
        }
      });
      this.send(session, 'ForceKeepAlive', this.keepAliveSeconds());
      this.ensureKeepAliveTimer();
    });
  }

  /** What ForceKeepAlive announces: the (scaled) seconds until a silent socket counts as lost. */
  private keepAliveSeconds(): number {
    return Math.max(1, Math.round((WS_LOST_MS / 1000) * this.keepAliveScale));
  }

  private onMessage(session: PushSession, raw: string): void {
    if (session.route.silent) return;
    let message: { MessageType?: unknown } | undefined;
    try {
      message = JSON.parse(raw) as { MessageType?: unknown };
    } catch {
      return;
    }
    if (message?.MessageType === 'KeepAlive') {
      session.lastKeepAlive = Date.now();
      this.send(session, 'KeepAlive');
    } else if (message?.MessageType === 'SessionsStart') {
      this.send(session, 'Sessions', []);
    }
  }

  private send(session: PushSession, messageType: string, data?: unknown): boolean {
    if (session.route.silent || session.ws.readyState !== session.ws.OPEN) return false;
    const frame: Record<string, unknown> = { MessageType: messageType, MessageId: randomHex(32) };
    if (data !== undefined) frame['Data'] = data;
    session.ws.send(JSON.stringify(frame));
    return true;
  }

  private ensureKeepAliveTimer(): void {
    if (this.keepAliveTimer) return;
    this.keepAliveTimer = this.timers.interval(() => {
      const now = Date.now();
      for (const session of this.sessions) {
        // A hung route carries nothing either way: the socket just sits there, half-open.
        if (session.route.silent) continue;
        const idle = now - session.lastKeepAlive;
        // Lost sockets are aborted: no close frame, the client sees the TCP connection end.
        if (idle >= WS_LOST_MS * this.keepAliveScale) session.ws.terminate();
        else if (idle >= WS_RESEND_MS * this.keepAliveScale) this.send(session, 'ForceKeepAlive', this.keepAliveSeconds());
      }
    }, WS_TICK_MS * this.keepAliveScale);
  }

  /** Sends `{MessageType, MessageId, Data}` to every open socket; returns how many got it. */
  notify(messageType = 'LibraryChanged', data?: unknown): number {
    const payload =
      data ??
      (messageType === 'LibraryChanged'
        ? { CollectionFolders: [], FoldersAddedTo: [], FoldersRemovedFrom: [], ItemsAdded: [randomHex(32)], ItemsRemoved: [], ItemsUpdated: [] }
        : undefined);
    let sent = 0;
    for (const session of this.sessions) if (this.send(session, messageType, payload)) sent++;
    return sent;
  }

  // --- server faults -------------------------------------------------------------------------

  async setFault(mode: ServerFaultMode, options: { restarting?: boolean; delayMs?: number } = {}): Promise<void> {
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
      this.revokedBefore = ++this.seq;
      for (const s of this.sessions) s.ws.close(1000);
      await Promise.all(this.routes.map((r) => r.setServerDown(false)));
    } else if (mode === 'stop') {
      const type = options.restarting ? 'ServerRestarting' : 'ServerShuttingDown';
      await Promise.all(
        [...this.sessions].map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.ws.readyState !== s.ws.OPEN) return resolve();
              s.ws.once('close', () => resolve());
              // Sent even on a hung route: shutdown is the server's act, not the network's.
              s.ws.send(JSON.stringify({ MessageType: type, MessageId: randomHex(32), Data: '' }));
              s.ws.close(1000, 'System Shutdown');
              this.timers.timeout(() => {
                s.ws.terminate();
                resolve();
              }, 1000);
            }),
        ),
      );
      await Promise.all(this.routes.map((r) => r.setServerDown(true, 'end')));
    } else {
      await Promise.all(this.routes.map((r) => r.setServerDown(true, 'reset')));
    }
  }

  /** Control: revokes one token as logout or device removal would (sockets closed with 1000). */
  revoke(token: string): boolean {
    const known = this.tokens.has(token);
    this.revokeToken(token);
    return known;
  }

  /** Test helper: the token a user would get, minted directly (no HTTP). */
  issueToken(username?: string, deviceId = `sim-device-${randomHex(8)}`): string {
    const user = this.users.find((u) => u.name === (username ?? this.users[0]?.name));
    const route = this.routes[0];
    if (!user || !route) throw new Error(`cannot issue a token on ${this.id}`);
    return this.mintToken(user, { client: 'Simulator', device: 'Simulator', deviceId, version: '1.0.0' }, route).token;
  }
}

function quickConnectResult(r: QuickConnectRequest) {
  return {
    Authenticated: r.authenticated,
    Secret: r.secret,
    Code: r.code,
    DeviceId: r.deviceId,
    DeviceName: r.deviceName,
    AppName: r.appName,
    AppVersion: r.appVersion,
    DateAdded: jfDate(r.dateAdded),
  };
}

/** ASP.NET model validation failure (missing or unreadable JSON body). */
function validationProblem(field: string): SimResponse {
  return json(
    400,
    {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
      title: 'One or more validation errors occurred.',
      status: 400,
      errors: { [field]: [`The ${field} field is required.`] },
      traceId: `00-${randomHex(32)}-${randomHex(16)}-00`,
    },
    { 'content-type': 'application/problem+json; charset=utf-8' },
  );
}
