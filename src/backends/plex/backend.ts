// Plex: the MediaBackend (probe, libraries, push channel) and the PIN sign-in against plex.tv.
import type { LookupFunction } from 'node:net';
import type { ProbeError, ProbeResult, Route } from '../../core/types.js';
import { classifyStatus, describeHost, type HttpClient, type HttpResult } from '../http.js';
import type { Parsed } from '../parse.js';
import { openPushSocket, toWsUrl } from '../push-socket.js';
import {
  SignInError,
  type BackendTarget,
  type CallOptions,
  type Credentials,
  type IdentityAnswer,
  type LibrariesResult,
  type MediaBackend,
  type PlexAccountApi,
  type PlexDiscoveredServer,
  type PlexJwt,
  type PlexJwtAnswer,
  type PlexResourcesAnswer,
  type PlexPin,
  type PlexPinState,
  type PlexSignIn,
  type PushChannel,
  type PushHandlers,
  type PushOptions,
} from '../types.js';
import { parsePlexNotification, parsePlexPin, parsePlexResources, parsePmsIdentity, parsePmsSections, type PlexResource } from './parsers.js';
import { generateDeviceKey, jwtTimes, publicJwkOf, signDeviceJwt } from './jwt.js';
import { planRoutesFromResource } from './routes.js';
import { PlexLibraryBrowser } from './browse.js';

export const PLEX_PRODUCT = 'Marquee';

export interface PlexConfig {
  http: HttpClient;
  /** Library pages, images and playback calls: several connections per origin (default `http`). */
  interactiveHttp?: HttpClient;
  /** Stable per install (a UUID); also shown by plex.tv under Authorized Devices. */
  clientIdentifier: string;
  /** Default https://plex.tv; tests and the demo point it at the simulator. */
  plexTvUrl?: string;
  /** Default https://app.plex.tv/auth. */
  plexAuthAppUrl?: string;
  version?: string;
  deviceName?: string;
  /** Timeout for plex.tv calls during sign-in. */
  signInTimeoutMs?: number;
  /** For the push channel (ws does its own connecting). */
  lookup?: LookupFunction;
  rejectUnauthorized?: boolean;
  now?: () => number;
  /** Retry a rejected push upgrade once with the token as a query parameter (default true). */
  pushTokenInQuery?: boolean;
  /** Ask PMS for XML (its default format) instead of JSON; both are parsed. For tests and odd proxies. */
  preferXml?: boolean;
}

export function plexHeaders(config: Pick<PlexConfig, 'version' | 'clientIdentifier' | 'deviceName'>, token?: string, xml = false): Record<string, string> {
  return {
    accept: xml ? 'application/xml' : 'application/json',
    'x-plex-product': PLEX_PRODUCT,
    'x-plex-version': config.version ?? '0.1.0',
    'x-plex-client-identifier': config.clientIdentifier,
    'x-plex-platform': 'Node.js',
    'x-plex-device-name': config.deviceName ?? 'Marquee',
    ...(token ? { 'x-plex-token': token } : {}),
  };
}

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

type Fetched<T> = { ok: true; value: T; latencyMs: number; status: number } | { ok: false; error: ProbeError; latencyMs: number };

async function fetchParsed<T>(res: HttpResult, url: string, parse: (body: string) => Parsed<T>): Promise<Fetched<T>> {
  if (!res.ok) return res;
  const statusError = classifyStatus(res.status, url, res.headers);
  if (statusError) return { ok: false, error: statusError, latencyMs: res.latencyMs };
  const parsed = parse(res.body);
  if (!parsed.ok) return { ok: false, error: { ...parsed.error, message: `${describeHost(url)}: ${parsed.error.message}` }, latencyMs: res.latencyMs };
  return { ok: true, value: parsed.value, latencyMs: res.latencyMs, status: res.status };
}

export class PlexBackend implements MediaBackend {
  readonly kind = 'plex' as const;
  /** Library browsing (issue 14): JSON always, whatever `preferXml` says. */
  readonly browse: PlexLibraryBrowser;
  constructor(private readonly config: PlexConfig) {
    this.browse = new PlexLibraryBrowser({ http: config.interactiveHttp ?? config.http, headers: (token) => plexHeaders(config, token) });
  }

  private now(): number {
    return (this.config.now ?? Date.now)();
  }

  /** `GET {route}/` with the per-server token: reachability, identity and token in one call. */
  async probe(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<ProbeResult> {
    const at = this.now();
    const url = joinUrl(route.url, '/');
    const res = await this.config.http.request({ url, headers: plexHeaders(this.config, credentials.token, this.config.preferXml), timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const r = await fetchParsed(res, url, parsePmsIdentity);
    if (!r.ok) {
      // A 401 may come from a *different* server now at this address (it does not know our token).
      // Ask the anonymous /identity who answers, so the user is not told to sign in again for nothing.
      if (r.error.code === 'unauthorized') {
        // Within the same budget: a probe never takes longer than its timeout.
        const other = await this.identityWithoutToken(route, { ...options, timeoutMs: Math.max(1, options.timeoutMs - r.latencyMs) });
        if (other && other !== target.serverId) return { ok: false, routeId: route.id, at, latencyMs: r.latencyMs, error: wrongServer(other) };
      }
      return { ok: false, routeId: route.id, at, latencyMs: r.latencyMs, error: r.error };
    }
    if (r.value.machineIdentifier !== target.serverId) {
      return {
        ok: false,
        routeId: route.id,
        at,
        latencyMs: r.latencyMs,
        error: wrongServer(r.value.machineIdentifier),
      };
    }
    return {
      ok: true,
      routeId: route.id,
      at,
      latencyMs: r.latencyMs,
      ...(r.value.friendlyName !== undefined ? { serverName: r.value.friendlyName } : {}),
      ...(r.value.version !== undefined ? { version: r.value.version } : {}),
    };
  }

  /** machineIdentifier from `/identity` without a token, or null when it cannot be read. */
  private async identityWithoutToken(route: Route, options: CallOptions): Promise<string | null> {
    const answer = await this.identify(route.url, options);
    return answer.ok ? answer.serverId : null;
  }

  /** `GET {url}/identity` without a token: the machineIdentifier of whatever Plex server answers. */
  async identify(baseUrl: string, options: CallOptions): Promise<IdentityAnswer> {
    const url = joinUrl(baseUrl, '/identity');
    const res = await this.config.http.request({ url, headers: plexHeaders(this.config, undefined, this.config.preferXml), timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const r = await fetchParsed(res, url, parsePmsIdentity);
    if (!r.ok) return { ok: false, error: r.error };
    return { ok: true, serverId: r.value.machineIdentifier, ...(r.value.friendlyName !== undefined ? { serverName: r.value.friendlyName } : {}) };
  }

  async libraries(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<LibrariesResult> {
    const url = joinUrl(route.url, '/library/sections');
    const res = await this.config.http.request({ url, headers: plexHeaders(this.config, credentials.token, this.config.preferXml), timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const r = await fetchParsed(res, url, parsePmsSections);
    // The browser lists albums of music sections: it needs to know which sections those are.
    if (r.ok) this.browse.rememberSections(target.serverId, new Map(r.value.map((l) => [l.id, l.type === 'music' ? 'artist' : l.type])));
    return r.ok ? { ok: true, libraries: r.value } : { ok: false, error: r.error };
  }

  /**
   * `/:/websockets/notifications` with the token in the X-Plex-Token header (PMS reads any
   * X-Plex-* header), so the token stays out of URLs. Only if the server rejects that upgrade
   * (401/403) is one retry made with `?X-Plex-Token=` (the form python-plexapi and plexwebsocket
   * use); that URL is never printed — messages name only host:port. Set `pushTokenInQuery: false`
   * to forbid the fallback.
   *
   * PMS has no "shutting down" message: a close 1012 (service restart) is read as a restart, and a
   * 1001 (going away) as a shutdown only when its reason says so — a proxy or load balancer also
   * closes with 1001, and calling that "the server is shutting down" would be a false alarm (the
   * plain loss still triggers an immediate check). A crash shows up as an error or a pong timeout.
   */
  openPush(_target: BackendTarget, route: Route, credentials: Credentials, handlers: PushHandlers, options: PushOptions): PushChannel {
    let closed = false;
    let opened = false;
    const attempt = (tokenInQuery: boolean): PushChannel => {
      const url = new URL(toWsUrl(route.url, '/:/websockets/notifications'));
      if (tokenInQuery) url.searchParams.set('X-Plex-Token', credentials.token);
      return openPushSocket({
        url: url.toString(),
        headers: plexHeaders(this.config, credentials.token),
        handlers: {
          ...handlers,
          onOpen: () => {
            opened = true;
            handlers.onOpen();
          },
          onLost: (detail) => {
            if (!closed && !opened && !tokenInQuery && detail.code === 'unauthorized' && this.config.pushTokenInQuery !== false) {
              current = attempt(true);
              return;
            }
            handlers.onLost(detail);
          },
        },
        options,
        ...(this.config.lookup ? { lookup: this.config.lookup } : {}),
        ...(this.config.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
        onText(text) {
          const n = parsePlexNotification(text);
          if (n.ok) handlers.onActivity?.(n.value.hint);
        },
        onServerClose(code, reason) {
          if (code === 1001 && /shut\s*down|shutting|stopp/i.test(reason)) handlers.onServerGoingAway('server_shutting_down');
          else if (code === 1012) handlers.onServerGoingAway('server_restarting');
        },
      });
    };
    let current = attempt(false);
    return {
      close() {
        closed = true;
        current.close();
      },
    };
  }
}

function wrongServer(found: string): ProbeError {
  return { code: 'wrong_server', message: 'the server at this address is a different Plex server', foundServerId: found.slice(0, 64) };
}

export class PlexSignInFlow implements PlexSignIn {
  constructor(private readonly config: PlexConfig) {}

  private tv(path: string): string {
    return joinUrl(this.config.plexTvUrl ?? 'https://plex.tv', path);
  }
  private get timeoutMs(): number {
    return this.config.signInTimeoutMs ?? 10_000;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, parse: (b: string) => Parsed<T>, token?: string): Promise<Fetched<T>> {
    const url = this.tv(path);
    const res = await this.config.http.request({ url, method, headers: plexHeaders(this.config, token), timeoutMs: this.timeoutMs });
    return fetchParsed(res, url, parse);
  }

  async createPin(): Promise<PlexPin> {
    const r = await this.call('POST', '/api/v2/pins?strong=true', parsePlexPin);
    if (!r.ok) throw toSignInError(r.error, 'plex.tv');
    const now = (this.config.now ?? Date.now)();
    const expiresAt = r.value.expiresAt && Number.isFinite(Date.parse(r.value.expiresAt)) ? Date.parse(r.value.expiresAt) : now + (r.value.expiresIn ?? 1800) * 1000;
    const params = new URLSearchParams({ clientID: this.config.clientIdentifier, code: r.value.code, 'context[device][product]': PLEX_PRODUCT });
    return { id: r.value.id, code: r.value.code, authUrl: `${this.config.plexAuthAppUrl ?? 'https://app.plex.tv/auth'}#?${params.toString()}`, expiresAt };
  }

  async checkPin(id: number): Promise<PlexPinState> {
    if (!Number.isSafeInteger(id) || id < 0) return { state: 'expired' };
    const r = await this.call('GET', `/api/v2/pins/${id}`, parsePlexPin);
    if (!r.ok) {
      if (r.error.status === 404) return { state: 'expired' };
      throw toSignInError(r.error, 'plex.tv');
    }
    if (r.value.authToken) return { state: 'authorized', accountToken: r.value.authToken };
    const expiresAt = r.value.expiresAt ? Date.parse(r.value.expiresAt) : NaN;
    if (Number.isFinite(expiresAt) && expiresAt <= (this.config.now ?? Date.now)()) return { state: 'expired' };
    return { state: 'pending' };
  }

  async listServers(accountToken: string): Promise<PlexDiscoveredServer[]> {
    const r = await this.call('GET', RESOURCES_PATH, parsePlexResources, accountToken);
    if (!r.ok) throw toSignInError(r.error, 'plex.tv');
    return discoveredServers(r.value, accountToken);
  }
}

export const RESOURCES_PATH = '/api/v2/resources?includeHttps=1&includeRelay=1&includeIPv6=1';

/** plex.tv resources → servers with their routes and credentials (sign-in and refresh alike). */
export function discoveredServers(resources: readonly PlexResource[], accountToken: string): PlexDiscoveredServer[] {
  return resources.map((res) => {
    const plan = planRoutesFromResource(res);
    return {
      serverId: res.clientIdentifier,
      name: res.name,
      owned: res.owned,
      presence: res.presence,
      routes: plan.routes,
      ...(plan.refused.length > 0 ? { refusedRoutes: plan.refused } : {}),
      // Shared servers need their own accessToken; the account token is the fallback for owned ones.
      credentials: { token: res.accessToken ?? accountToken, accountToken },
    };
  });
}

/**
 * The account side of a signed-in install, for the monitor's refresher (src/monitor/route-refresher.ts):
 * re-reading resources (routes, rotated per-server tokens) with the stored account token. Never throws.
 */
export class PlexAccountClient implements PlexAccountApi {
  constructor(private readonly config: PlexConfig) {}

  async resources(accountToken: string, options: CallOptions): Promise<PlexResourcesAnswer> {
    const url = joinUrl(this.config.plexTvUrl ?? 'https://plex.tv', RESOURCES_PATH);
    const res = await this.config.http.request({ url, headers: plexHeaders(this.config, accountToken), timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const r = await fetchParsed(res, url, parsePlexResources);
    if (r.ok) return { ok: true, servers: discoveredServers(r.value, accountToken) };
    return { ok: false, ...accountFailure(r.error) };
  }

  /** A new Ed25519 device key (private JWK, JSON) for the install. */
  newDeviceKey(): string {
    return generateDeviceKey();
  }

  /** Step 1: the install's public key, registered with the current account token. */
  async registerDeviceKey(accountToken: string, deviceKey: string, options: CallOptions): Promise<PlexJwtAnswer<null>> {
    const r = await plexTvJson(this.config, 'POST', '/api/v2/auth/jwk', { jwk: publicJwkOf(deviceKey) }, options, accountToken);
    return r.ok ? { ok: true, value: null } : r;
  }

  /** Steps 2–3: a nonce, the device JWT signed with the install's key, exchanged for a plex.tv JWT. */
  async renewJwt(deviceKey: string, options: CallOptions): Promise<PlexJwtAnswer<PlexJwt>> {
    const nonce = await plexTvJson(this.config, 'GET', '/api/v2/auth/nonce', undefined, options);
    if (!nonce.ok) return nonce;
    const value = (nonce.value as { nonce?: unknown } | null)?.nonce;
    if (typeof value !== 'string' || value.length === 0 || value.length > 200) return { ok: false, reason: 'unavailable', message: 'plex.tv answered the nonce request without a nonce' };
    const jwt = signDeviceJwt(deviceKey, { clientIdentifier: this.config.clientIdentifier, nonce: value, nowMs: (this.config.now ?? Date.now)() });
    const exchanged = await plexTvJson(this.config, 'POST', '/api/v2/auth/token', { jwt }, options);
    if (!exchanged.ok) return exchanged;
    const token = (exchanged.value as { auth_token?: unknown } | null)?.auth_token;
    const times = typeof token === 'string' ? jwtTimes(token) : null;
    if (typeof token !== 'string' || !times) return { ok: false, reason: 'unavailable', message: 'plex.tv answered the token exchange without a usable token' };
    return { ok: true, value: { token, ...times } };
  }
}

/** POST/GET to plex.tv with a JSON body; the status and parsed JSON, or the error. Never throws. */
async function plexTvJson(config: PlexConfig, method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions, token?: string): Promise<PlexJwtAnswer<unknown>> {
  const url = joinUrl(config.plexTvUrl ?? 'https://plex.tv', path);
  const res = await config.http.request({
    url,
    method,
    headers: { ...plexHeaders(config, token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!res.ok) return { ok: false, reason: 'unavailable', message: res.error.message };
  const error = classifyStatus(res.status, url, res.headers);
  if (error) {
    const refused = error.status !== undefined && [400, 401, 403, 404, 422, 498].includes(error.status);
    return { ok: false, reason: refused ? 'refused' : 'unavailable', message: error.message };
  }
  if (res.status === 204 || res.body.trim() === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(res.body) as unknown };
  } catch {
    return { ok: false, reason: 'unavailable', message: `${describeHost(url)}: the answer is not JSON` };
  }
}

/** 401: plex.tv no longer knows the sign-in; 498: a JWT that expired (renew it); anything else proves nothing. */
function accountFailure(error: ProbeError): { reason: 'account_rejected' | 'token_expired' | 'unavailable'; message: string } {
  if (error.code === 'unauthorized' && error.status === 498) return { reason: 'token_expired', message: error.message };
  if (error.code === 'unauthorized') return { reason: 'account_rejected', message: error.message };
  return { reason: 'unavailable', message: error.message };
}

export function toSignInError(error: ProbeError, service: string): SignInError {
  switch (error.code) {
    case 'unauthorized':
      return new SignInError('bad_credentials', `${service} did not accept the sign-in; sign in again`);
    case 'refused':
    case 'timeout':
    case 'dns':
    case 'tls':
      return new SignInError('unreachable', `${service} could not be reached: ${error.message}`);
    case 'http_error':
    case 'malformed':
    case 'wrong_server':
    case 'too_large':
      return new SignInError('upstream_error', `${service} answered unexpectedly: ${error.message}`);
  }
}
