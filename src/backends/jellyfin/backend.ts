// Jellyfin through the official @jellyfin/sdk: the MediaBackend (probe, libraries, push channel)
// and the sign-in flows (discovery, by name, Quick Connect).
//
// Every SDK call goes through an axios instance whose transport is our HttpClient (see ../axios.ts),
// and every request carries `Authorization: MediaBrowser Client=…, Device=…, DeviceId=…, Version=…,
// Token=…` (the SDK's own header builder) — never the legacy X-Emby-Authorization.
//
// DeviceId: one per install and server, derived as sha256(installId + ":" + serverId)[0..32]. Stable
// across restarts (so a re-login revokes our own previous token, not piling up sessions) and
// distinct per server. Credentials.deviceId, when stored, wins.
//
// Probe: `GET /System/Info` with the token — reachability, identity (Id) and token in one call. If
// that answers 403 (a valid token whose user may not read it), fall back to the anonymous
// `/System/Info/Public` for identity plus `/Users/Me` for the token.
import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Api, Jellyfin, type ClientInfo, type DeviceInfo } from '@jellyfin/sdk';
import { getAuthenticationApi } from '@jellyfin/sdk/lib/utils/api/authentication-api.js';
import { getSystemApi } from '@jellyfin/sdk/lib/utils/api/system-api.js';
import { getUserApi } from '@jellyfin/sdk/lib/utils/api/user-api.js';
import { getUserViewApi } from '@jellyfin/sdk/lib/utils/api/user-view-api.js';
import type { AxiosInstance } from 'axios';
import type { ProbeResult, Route } from '../../core/types.js';
import { describeHost } from '../http.js';
import { openPushSocket, toWsUrl } from '../push-socket.js';
import {
  SignInError,
  type BackendTarget,
  type CallOptions,
  type Credentials,
  type IdentityAnswer,
  type JellyfinPublicInfo,
  type JellyfinQuickConnectState,
  type JellyfinSignIn,
  type JellyfinPublicInfoApi,
  type JellyfinSignInResult,
  type LibrariesResult,
  type MediaBackend,
  type PushChannel,
  type PushHandlers,
  type PublicInfoAnswer,
  type PushOptions,
  type RefusedRoute,
} from '../types.js';
import { toSignInError } from '../plex/backend.js';
import {
  parseJellyfinAuth,
  parseJellyfinBoolean,
  parseJellyfinInfo,
  parseJellyfinQuickConnect,
  parseJellyfinSocketMessage,
  parseJellyfinViews,
  type JellyfinAuthResult,
  type JellyfinServerInfo,
} from './parsers.js';
import { jellyfinRoutes, normaliseBaseUrl, planLocalAddress } from './routes.js';
import { JellyfinLibraryBrowser } from './browse.js';
import { sdkCall } from './sdk-call.js';

export interface JellyfinConfig {
  /** axios instance backed by our HttpClient (createSafeAxios). */
  axios: AxiosInstance;
  /** The same over the interactive HttpClient (several connections per origin): browsing and playback. Default `axios`. */
  interactiveAxios?: AxiosInstance;
  /** Stable per install; DeviceIds are derived from it. */
  installId: string;
  clientName?: string;
  version?: string;
  deviceName?: string;
  signInTimeoutMs?: number;
  lookup?: LookupFunction;
  rejectUnauthorized?: boolean;
  now?: () => number;
}

export function jellyfinDeviceId(installId: string, serverId: string): string {
  return createHash('sha256').update(`${installId}:${serverId.toLowerCase()}`).digest('hex').slice(0, 32);
}

/** A reported LocalAddress gets this long to say who it is (it is often unreachable from here). */
const LOCAL_ADDRESS_CHECK_MS = 3000;

const sameId = (a: string, b: string) => a.replace(/-/g, '').toLowerCase() === b.replace(/-/g, '').toLowerCase();

class JellyfinClient {
  constructor(protected readonly config: JellyfinConfig) {}

  protected clientInfo(): ClientInfo {
    return { name: this.config.clientName ?? 'Marquee', version: this.config.version ?? '0.1.0' };
  }
  protected deviceInfo(deviceId: string): DeviceInfo {
    return { id: deviceId, name: this.config.deviceName ?? 'Marquee' };
  }
  protected api(baseUrl: string, deviceId: string, token?: string, interactive = false): Api {
    return new Api(baseUrl, this.clientInfo(), this.deviceInfo(deviceId), token ?? '', interactive ? (this.config.interactiveAxios ?? this.config.axios) : this.config.axios);
  }
  protected deviceIdFor(serverId: string, credentials?: Credentials): string {
    return credentials?.deviceId ?? jellyfinDeviceId(this.config.installId, serverId);
  }
}

export class JellyfinBackend extends JellyfinClient implements MediaBackend, JellyfinPublicInfoApi {
  readonly kind = 'jellyfin' as const;
  /** Library browsing (issue 14), with the source's token and DeviceId on the chosen route. */
  readonly browse = new JellyfinLibraryBrowser({
    api: (call) => this.api(call.route.url, this.deviceIdFor(call.target.serverId, call.credentials), call.credentials.token, true),
  });

  /** An SDK client on a call's route with its token and the install's DeviceId (playback). */
  apiFor(call: { target: BackendTarget; route: Route; credentials: Credentials }): Api {
    return this.api(call.route.url, this.deviceIdFor(call.target.serverId, call.credentials), call.credentials.token, true);
  }

  /** The DeviceId of every call to this server: a transcode is named after it, so keep it fixed. */
  playbackDeviceId(call: { target: BackendTarget; credentials: Credentials }): string {
    return this.deviceIdFor(call.target.serverId, call.credentials);
  }

  /** `Authorization: MediaBrowser …, Token=…` for a raw request on a route (media bytes); server-side only. */
  authorizationFor(target: BackendTarget, route: Route, credentials: Credentials): string {
    return this.api(route.url, this.deviceIdFor(target.serverId, credentials), credentials.token).authorizationHeader;
  }

  async probe(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<ProbeResult> {
    const at = (this.config.now ?? Date.now)();
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    // Fallback calls share one budget: a probe never takes longer than its timeout.
    const deadline = started + options.timeoutMs;
    const request = () => ({ timeout: Math.max(1, Math.round(deadline - performance.now())), ...(options.signal ? { signal: options.signal } : {}) });
    const api = this.api(route.url, this.deviceIdFor(target.serverId, credentials), credentials.token);
    let info = await sdkCall(() => getSystemApi(api).getSystemInfo(request()), parseJellyfinInfo, route.url);
    if (!info.ok && info.error.code === 'unauthorized' && info.error.status === 403) {
      // A valid token without the right to read /System/Info: identity from the public info,
      // token from /Users/Me.
      const pub = await sdkCall(() => getSystemApi(api).getPublicSystemInfo(request()), parseJellyfinInfo, route.url);
      if (pub.ok) {
        const me = await sdkCall(() => getUserApi(api).getCurrentUser(request()), (b) => ({ ok: true, value: b }), route.url);
        info = me.ok ? pub : me;
      } else {
        info = pub;
      }
    }
    if (!info.ok && info.error.code === 'unauthorized' && info.error.status === 401) {
      // A different server now at this address rejects our token too: ask the anonymous public
      // info who answers before telling the user to sign in again.
      const pub = await sdkCall(() => getSystemApi(api).getPublicSystemInfo(request()), parseJellyfinInfo, route.url);
      if (pub.ok && !sameId(pub.value.id, target.serverId)) info = pub;
    }
    if (!info.ok) {
      const error = info.error.status === 503 ? { ...info.error, message: `${describeHost(route.url)}: server is starting (HTTP 503)` } : info.error;
      return { ok: false, routeId: route.id, at, latencyMs: latency(), error };
    }
    if (!sameId(info.value.id, target.serverId)) {
      return {
        ok: false,
        routeId: route.id,
        at,
        latencyMs: latency(),
        error: { code: 'wrong_server', message: 'the server at this address is a different Jellyfin server', foundServerId: info.value.id },
      };
    }
    return { ok: true, routeId: route.id, at, latencyMs: latency(), serverName: info.value.name, version: info.value.version };
  }

  /**
   * `GET {url}/System/Info/Public` without a token and with the discovery DeviceId (never a
   * source's own): who answers at an address, asked before any token may go there — an address the
   * user adds, a LocalAddress reported at sign-in or later.
   */
  private anonymousInfo(url: string, options: CallOptions) {
    const anonymous = this.api(url, jellyfinDeviceId(this.config.installId, 'discovery'));
    return sdkCall(() => getSystemApi(anonymous).getPublicSystemInfo({ timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) }), parseJellyfinInfo, url);
  }

  /** The Id and name of whatever Jellyfin server answers at `url` (route editor). */
  async identify(url: string, options: CallOptions): Promise<IdentityAnswer> {
    const answer = await this.anonymousInfo(url, options);
    if (!answer.ok) return { ok: false, error: answer.error };
    return { ok: true, serverId: answer.value.id, serverName: answer.value.name };
  }

  /** The Id and reported LocalAddress at `url` (the monitor's refresher follows a changed LocalAddress). */
  async publicInfo(url: string, options: CallOptions): Promise<PublicInfoAnswer> {
    const r = await this.anonymousInfo(url, options);
    if (!r.ok) return r;
    return { ok: true, serverId: r.value.id.replace(/-/g, '').toLowerCase(), ...(r.value.localAddress ? { localAddress: r.value.localAddress } : {}) };
  }

  /** `/UserViews` (10.9+), falling back to the legacy `/Users/{id}/Views` on 404 (10.8). */
  async libraries(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<LibrariesResult> {
    const req = { timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
    const api = this.api(route.url, this.deviceIdFor(target.serverId, credentials), credentials.token);
    let views = await sdkCall(
      () => getUserViewApi(api).getUserViews(credentials.userId ? { userId: credentials.userId } : {}, req),
      parseJellyfinViews,
      route.url,
    );
    if (!views.ok && views.error.status === 404 && credentials.userId) {
      views = await sdkCall(() => api.axiosInstance.get(api.getUri(`/Users/${encodeURIComponent(credentials.userId ?? '')}/Views`), { ...req, headers: { Authorization: api.authorizationHeader } }), parseJellyfinViews, route.url);
    }
    return views.ok ? { ok: true, libraries: views.value } : { ok: false, error: views.error };
  }

  /**
   * `/socket` with the token in the Authorization header (no token in the URL). Answers
   * ForceKeepAlive at once and then every Data×500 ms (half the server's timeout, in seconds — not
   * the SDK's milliseconds quirk); WebSocket pings run on top for fast loss detection.
   */
  openPush(target: BackendTarget, route: Route, credentials: Credentials, handlers: PushHandlers, options: PushOptions): PushChannel {
    const api = this.api(route.url, this.deviceIdFor(target.serverId, credentials), credentials.token);
    let keepAliveEveryMs: number | undefined;
    const socket = openPushSocket({
      url: toWsUrl(route.url, '/socket'),
      headers: { authorization: api.authorizationHeader },
      handlers,
      options,
      ...(this.config.lookup ? { lookup: this.config.lookup } : {}),
      ...(this.config.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      onText(text, send) {
        const m = parseJellyfinSocketMessage(text);
        if (!m.ok) return;
        const msg = m.value;
        switch (msg.type) {
          case 'ForceKeepAlive': {
            const keepAlive = () => send(JSON.stringify({ MessageType: 'KeepAlive' }));
            keepAlive();
            const every = msg.seconds * 500;
            if (keepAliveEveryMs === undefined || every < keepAliveEveryMs) {
              keepAliveEveryMs = every;
              socket.every(every, keepAlive);
            }
            break;
          }
          case 'ServerShuttingDown':
            handlers.onServerGoingAway('server_shutting_down');
            break;
          case 'ServerRestarting':
            handlers.onServerGoingAway('server_restarting');
            break;
          case 'LibraryChanged':
            handlers.onActivity?.('library_changed');
            break;
          case 'KeepAlive':
            break;
          case 'other':
            handlers.onActivity?.('other');
        }
      },
    });
    return socket;
  }
}

/** Subclass so the SDK's own discovery (which calls `createApi`) uses our safe transport. */
class SafeJellyfin extends Jellyfin {
  constructor(
    parameters: ConstructorParameters<typeof Jellyfin>[0],
    private readonly safeAxios: AxiosInstance,
  ) {
    super(parameters);
  }
  override createApi(basePath: string, accessToken?: string, axiosInstance?: AxiosInstance): Api {
    return super.createApi(basePath, accessToken, axiosInstance ?? this.safeAxios);
  }
}

/** Validate what a person typed before discovery (scheme optional; http/https only). */
export function parseUserUrl(input: string): string | null {
  const trimmed = input.trim();
  if (!trimmed || trimmed.length > 2048 || /\s/.test(trimmed)) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  return normaliseBaseUrl(withScheme);
}

export class JellyfinSignInFlow extends JellyfinClient implements JellyfinSignIn {
  private readonly sdk: SafeJellyfin;
  private readonly infoCache = new Map<string, { info: JellyfinServerInfo; at: number }>();

  constructor(config: JellyfinConfig) {
    super(config);
    this.sdk = new SafeJellyfin({ clientInfo: this.clientInfo(), deviceInfo: this.deviceInfo(jellyfinDeviceId(config.installId, 'discovery')) }, config.axios);
  }

  private get req() {
    return { timeout: this.config.signInTimeoutMs ?? 10_000 };
  }

  async probe(userInput: string): Promise<JellyfinPublicInfo> {
    const input = parseUserUrl(userInput);
    if (!input) throw new SignInError('invalid_url', 'that does not look like a server address (e.g. http://192.168.1.10:8096)');
    let servers;
    try {
      servers = await this.sdk.discovery.getRecommendedServerCandidates(userInput.trim());
    } catch {
      throw new SignInError('invalid_url', 'that does not look like a server address (e.g. http://192.168.1.10:8096)');
    }
    const best = this.sdk.discovery.findBestServer(servers);
    if (!best) {
      const errors = servers.flatMap((s) => (s.issues as { error?: { response?: { status?: number } } }[]).map((i) => i.error));
      // A Jellyfin server that is still starting answers 503: up, not ready — say so.
      if (errors.some((e) => e?.response?.status === 503)) throw new SignInError('upstream_error', 'the server is starting up; try again in a moment');
      // Something answered over HTTP (a web page, another product) → not a Jellyfin server.
      const answered = servers.some((s) => s.systemInfo) || errors.some((e) => e?.response);
      if (answered) throw new SignInError('not_a_server', 'a server answered at that address, but it is not a Jellyfin server');
      throw new SignInError('unreachable', `no Jellyfin server could be reached at ${describeHost(input)}`);
    }
    const info = parseJellyfinInfo(best.systemInfo);
    if (!info.ok) throw new SignInError('not_a_server', 'the server at that address did not identify itself as Jellyfin');
    const url = normaliseBaseUrl(best.address) ?? best.address;
    this.infoCache.set(url, { info: info.value, at: Date.now() });
    return { serverId: info.value.id, name: info.value.name, version: info.value.version, url };
  }

  private async publicInfo(url: string): Promise<{ base: string; info: JellyfinServerInfo }> {
    const base = normaliseBaseUrl(url);
    if (!base) throw new SignInError('invalid_url', 'that does not look like a server address');
    const cached = this.infoCache.get(base);
    if (cached && Date.now() - cached.at < 10 * 60_000) return { base, info: cached.info };
    const api = this.api(base, jellyfinDeviceId(this.config.installId, 'discovery'));
    const r = await sdkCall(() => getSystemApi(api).getPublicSystemInfo(this.req), parseJellyfinInfo, base);
    if (!r.ok) {
      if (r.error.code === 'malformed') throw new SignInError('not_a_server', 'the server at that address is not a Jellyfin server');
      throw toSignInError(r.error, 'the Jellyfin server');
    }
    if (this.infoCache.size > 100) this.infoCache.clear();
    this.infoCache.set(base, { info: r.value, at: Date.now() });
    return { base, info: r.value };
  }

  private async finish(base: string, info: JellyfinServerInfo, auth: JellyfinAuthResult, deviceId: string): Promise<JellyfinSignInResult> {
    if (!sameId(auth.serverId, info.id)) throw new SignInError('upstream_error', 'the server answered with a different identity during sign-in');
    // LocalAddress from the authenticated /System/Info, if the server tells us.
    const api = this.api(base, deviceId, auth.accessToken);
    const full = await sdkCall(() => getSystemApi(api).getSystemInfo(this.req), parseJellyfinInfo, base);
    const local = await this.checkLocalAddress(base, full.ok ? full.value.localAddress : info.localAddress, info.id);
    return {
      serverId: info.id,
      serverName: full.ok ? full.value.name : info.name,
      routes: jellyfinRoutes(base, local.verified),
      ...(local.refused ? { refusedRoutes: [local.refused] } : {}),
      credentials: { token: auth.accessToken, userId: auth.userId, deviceId },
      userName: auth.userName,
    };
  }

  /**
   * The reported LocalAddress becomes a route (and so receives the token) only if the same server
   * answers there: an anonymous `/System/Info/Public` — no token, not even our per-server DeviceId —
   * must name the server id we signed in to. Link-local addresses are not even asked.
   */
  private async checkLocalAddress(base: string, reported: string | undefined, serverId: string): Promise<{ verified?: string; refused?: RefusedRoute }> {
    const plan = planLocalAddress(base, reported);
    if (plan.action === 'none') return {};
    if (plan.action === 'refuse') return { refused: { url: plan.url, reason: plan.reason } };
    const anonymous = this.api(plan.url, jellyfinDeviceId(this.config.installId, 'discovery'));
    const timeout = Math.min(this.req.timeout, LOCAL_ADDRESS_CHECK_MS);
    const answer = await sdkCall(() => getSystemApi(anonymous).getPublicSystemInfo({ timeout }), parseJellyfinInfo, plan.url);
    if (!answer.ok) return { refused: { url: plan.url, reason: `the server's own address did not answer as a Jellyfin server (${answer.error.message})` } };
    if (!sameId(answer.value.id, serverId)) return { refused: { url: plan.url, reason: 'a different Jellyfin server answers at the address this server reports' } };
    return { verified: plan.url };
  }

  async signInByName(url: string, username: string, password: string): Promise<JellyfinSignInResult> {
    const { base, info } = await this.publicInfo(url);
    const deviceId = jellyfinDeviceId(this.config.installId, info.id);
    const api = this.api(base, deviceId);
    const r = await sdkCall(
      () => getAuthenticationApi(api).authenticateUserByName({ authenticateUserByName: { Username: username, Pw: password } }, this.req),
      parseJellyfinAuth,
      base,
    );
    if (!r.ok) {
      if (r.error.code === 'unauthorized') {
        throw new SignInError('bad_credentials', r.error.status === 403 ? 'this user may not sign in from this device' : 'wrong user name or password');
      }
      throw toSignInError(r.error, 'the Jellyfin server');
    }
    return this.finish(base, info, r.value, deviceId);
  }

  async quickConnectStart(url: string): Promise<{ code: string; secret: string }> {
    const { base, info } = await this.publicInfo(url);
    const api = this.api(base, jellyfinDeviceId(this.config.installId, info.id));
    const enabled = await sdkCall(() => getAuthenticationApi(api).getQuickConnectEnabled(this.req), parseJellyfinBoolean, base);
    if (enabled.ok && !enabled.value) throw new SignInError('quick_connect_disabled', 'Quick Connect is turned off on this server');
    const r = await sdkCall(() => getAuthenticationApi(api).initiateQuickConnect(this.req), parseJellyfinQuickConnect, base);
    if (!r.ok) {
      if (r.error.status === 401) throw new SignInError('quick_connect_disabled', 'Quick Connect is turned off on this server');
      throw toSignInError(r.error, 'the Jellyfin server');
    }
    return { code: r.value.code, secret: r.value.secret };
  }

  async quickConnectPoll(url: string, secret: string): Promise<JellyfinQuickConnectState> {
    const { base, info } = await this.publicInfo(url);
    const deviceId = jellyfinDeviceId(this.config.installId, info.id);
    const api = this.api(base, deviceId);
    const state = await sdkCall(() => getAuthenticationApi(api).getQuickConnectState({ secret }, this.req), parseJellyfinQuickConnect, base);
    if (!state.ok) {
      if (state.error.status === 404) return { state: 'expired' };
      if (state.error.status === 401) throw new SignInError('quick_connect_disabled', 'Quick Connect is turned off on this server');
      throw toSignInError(state.error, 'the Jellyfin server');
    }
    if (!state.value.authenticated) return { state: 'pending' };
    const auth = await sdkCall(
      () => getAuthenticationApi(api).authenticateWithQuickConnect({ quickConnectDto: { Secret: secret } }, this.req),
      parseJellyfinAuth,
      base,
    );
    if (!auth.ok) {
      if (auth.error.status === 404) return { state: 'expired' };
      throw toSignInError(auth.error, 'the Jellyfin server');
    }
    return { state: 'authorized', result: await this.finish(base, info, auth.value, deviceId) };
  }
}
