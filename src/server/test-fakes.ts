// Small fakes of the interfaces the server programs against, for in-process tests (also usable
// by other test suites). Not used by the app itself.
import type {
  Credentials,
  JellyfinPublicInfo,
  JellyfinQuickConnectState,
  JellyfinSignIn,
  JellyfinSignInResult,
  PlexDiscoveredServer,
  PlexPin,
  PlexPinState,
  PlexSignIn,
} from '../backends/types.js';
import { SignInError } from '../backends/types.js';
import type { EngineEvent } from '../core/types.js';
import type { Engine, EngineHealth, EngineStreamMessage, NewSourceInput, SourcePatch } from '../monitor/engine-types.js';
import type { ApiDemoRoute, ApiEventMessage, ApiSource, ApiSourceDetail } from './api-types.js';
import { SettingsFileSchema, type AppConfig } from './config.js';
import type { DemoControl } from './demo-control.js';

export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir: '/tmp/marquee-test-unused',
    apiKey: null,
    basePath: '/',
    publicOrigin: null,
    plexTvUrl: 'https://plex.tv',
    logLevel: 'silent',
    sseHeartbeatMs: 15_000,
    webDir: '/nonexistent-marquee-web',
    ...SettingsFileSchema.parse({}),
    ...overrides,
  };
}

interface StoredSource {
  detail: ApiSourceDetail;
  credentials: Credentials;
}

export class FakeEngine implements Engine {
  readonly sources = new Map<string, StoredSource>();
  readonly checks: string[] = [];
  private readonly listeners = new Set<(m: EngineStreamMessage) => void>();
  private seq = 0;
  private readonly log: ApiEventMessage[] = [];
  /** Events older than this are "no longer retained". */
  retainFromSeq = 0;
  healthState: EngineHealth = { database: 'ok', monitor: 'running' };
  started = false;
  private nextId = 1;

  addSource(input: NewSourceInput): ApiSource {
    const id = `src${this.nextId++}`;
    const detail: ApiSourceDetail = {
      id,
      name: input.name,
      kind: input.kind,
      status: 'connecting',
      route: null,
      lastCheckedAt: null,
      nextCheckAt: null,
      since: null,
      push: 'off',
      libraries: [],
      serverId: input.serverId,
      routes: input.routes.map((r, i) => ({
        id: `${id}-r${i}`,
        url: r.url,
        kind: r.kind,
        priority: r.priority,
        lastResult: null,
        lastError: null,
        latencyMs: null,
        checkedAt: null,
        recentLatencies: [],
      })),
      history: [],
      monitoring: { enabled: input.monitoring?.enabled ?? true, push: input.monitoring?.push ?? true, probeTimeoutMs: input.monitoring?.probeTimeoutMs ?? 5000 },
    };
    this.sources.set(id, { detail, credentials: input.credentials });
    const view = this.view(detail);
    this.emit({ type: 'source', source: view });
    return view;
  }

  /** Puts a source into a state and emits the engine event for it (as the monitor would). */
  setConnected(id: string, routeKind: 'local' | 'remote' | 'relay', latencyMs: number): ApiEventMessage {
    const s = this.sources.get(id)!;
    const route = s.detail.routes.find((r) => r.kind === routeKind) ?? s.detail.routes[0]!;
    s.detail = { ...s.detail, status: 'connected', route: { id: route.id, url: route.url, kind: route.kind, latencyMs } };
    const event: EngineEvent = {
      type: 'ConnectionChanged',
      sourceId: id,
      sourceName: s.detail.name,
      sourceKind: s.detail.kind,
      at: 1_700_000_000_000 + this.seq,
      routeId: route.id,
      routeKind: route.kind,
      previousRouteKind: null,
      latencyMs,
    };
    return this.pushEvent(event, id);
  }

  setLost(id: string): ApiEventMessage {
    const s = this.sources.get(id)!;
    s.detail = { ...s.detail, status: 'reconnecting', route: null, attempt: 1 };
    return this.pushEvent(
      { type: 'ConnectionLost', sourceId: id, sourceName: s.detail.name, sourceKind: s.detail.kind, at: 1_700_000_000_000 + this.seq, lastRouteKind: 'local' },
      id,
    );
  }

  touch(id: string): void {
    const s = this.sources.get(id)!;
    s.detail = { ...s.detail, lastCheckedAt: (s.detail.lastCheckedAt ?? 0) + 1 };
    this.emit({ type: 'source', source: this.view(s.detail) });
  }

  private pushEvent(event: EngineEvent, id: string): ApiEventMessage {
    this.seq += 1;
    const message: ApiEventMessage = { seq: this.seq, event, source: this.view(this.sources.get(id)!.detail) };
    this.log.push(message);
    this.emit({ type: 'engine', message });
    return message;
  }

  private view(detail: ApiSourceDetail): ApiSource {
    const { serverId: _s, routes: _r, history: _h, monitoring: _m, ...source } = detail;
    return source;
  }

  private emit(message: EngineStreamMessage): void {
    for (const l of this.listeners) l(message);
  }

  listSources(): ApiSource[] {
    return [...this.sources.values()].map((s) => this.view(s.detail));
  }
  getSource(id: string): ApiSourceDetail | null {
    return this.sources.get(id)?.detail ?? null;
  }
  hasServer(serverId: string): boolean {
    for (const s of this.sources.values()) if (s.detail.serverId === serverId) return true;
    return false;
  }
  checkNow(id: string): boolean {
    if (!this.sources.has(id)) return false;
    this.checks.push(id);
    return true;
  }
  updateSource(id: string, patch: SourcePatch): ApiSource | null {
    const s = this.sources.get(id);
    if (!s) return null;
    s.detail = {
      ...s.detail,
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      monitoring: { ...s.detail.monitoring, ...(patch.monitoring ?? {}) },
    };
    const view = this.view(s.detail);
    this.emit({ type: 'source', source: view });
    return view;
  }
  updateCredentials(id: string, credentials: Credentials): boolean {
    const s = this.sources.get(id);
    if (!s) return false;
    s.credentials = credentials;
    return true;
  }
  getCredentials(id: string): Credentials | null {
    return this.sources.get(id)?.credentials ?? null;
  }
  removeSource(id: string): boolean {
    if (!this.sources.delete(id)) return false;
    this.emit({ type: 'removed', sourceId: id });
    return true;
  }
  subscribe(listener: (message: EngineStreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get subscriberCount(): number {
    return this.listeners.size;
  }
  lastSeq(): number {
    return this.seq;
  }
  eventsSince(seq: number): ApiEventMessage[] | null {
    if (seq < this.retainFromSeq) return null;
    return this.log.filter((m) => m.seq > seq);
  }
  health(): EngineHealth {
    return this.healthState;
  }
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
}

export const PLEX_SERVER_ID = 'a'.repeat(40);
export const JELLYFIN_SERVER_ID = 'b'.repeat(32);

/** Secret strings the fakes hand out; tests assert they never leave the server. */
export const SECRETS = {
  plexAccountToken: 'PLEXACCOUNTTOKEN-zq81',
  plexServerToken: 'PLEXSERVERTOKEN-xk42',
  jellyfinToken: 'JELLYFINTOKEN-mm73',
  jellyfinPassword: 'hunter2-PASSWORD-9x',
  quickConnectSecret: 'QCSECRET-pp55',
  apiKey: 'APIKEY-0123456789abcdef',
};

export class FakePlexSignIn implements PlexSignIn {
  pinStates = new Map<number, PlexPinState>();
  private nextPin = 1000;
  async createPin(): Promise<PlexPin> {
    const id = this.nextPin++;
    this.pinStates.set(id, { state: 'pending' });
    return { id, code: `CODE${id}`, authUrl: `https://app.plex.tv/auth#?clientID=x&code=CODE${id}`, expiresAt: Date.now() + 900_000 };
  }
  authorize(id: number): void {
    this.pinStates.set(id, { state: 'authorized', accountToken: SECRETS.plexAccountToken });
  }
  async checkPin(id: number): Promise<PlexPinState> {
    return this.pinStates.get(id) ?? { state: 'expired' };
  }
  async listServers(accountToken: string): Promise<PlexDiscoveredServer[]> {
    if (accountToken !== SECRETS.plexAccountToken) throw new SignInError('bad_credentials', 'plex.tv refused the account token');
    return [
      {
        serverId: PLEX_SERVER_ID,
        name: 'Living-room Plex',
        owned: true,
        presence: true,
        routes: [
          { url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 },
          { url: 'https://relay.example:8443', kind: 'relay', priority: 0 },
        ],
        credentials: { token: SECRETS.plexServerToken, accountToken },
      },
    ];
  }
}

export class FakeJellyfinSignIn implements JellyfinSignIn {
  quickConnectAuthorized = false;
  serverId = JELLYFIN_SERVER_ID;
  /** Sign-ins that reached the server (a real Jellyfin revokes the DeviceId's previous token on each). */
  signIns = 0;
  quickConnectStarts = 0;
  private result(url: string): JellyfinSignInResult {
    return {
      serverId: this.serverId,
      serverName: 'Attic Jellyfin',
      routes: [{ url, kind: 'local', priority: 0 }],
      credentials: { token: SECRETS.jellyfinToken, userId: 'u1', deviceId: 'd1' },
      userName: 'alice',
    };
  }
  private check(url: string): void {
    if (!/^https?:\/\//.test(url)) throw new SignInError('invalid_url', `"${url}" is not a server address`);
    if (url.includes('unreachable')) throw new SignInError('unreachable', 'No server answered at that address');
  }
  async probe(userInput: string): Promise<JellyfinPublicInfo> {
    this.check(userInput);
    return { serverId: this.serverId, name: 'Attic Jellyfin', version: '10.10.7', url: userInput };
  }
  async signInByName(url: string, username: string, password: string): Promise<JellyfinSignInResult> {
    this.check(url);
    this.signIns++;
    if (username !== 'alice' || password !== SECRETS.jellyfinPassword) throw new SignInError('bad_credentials', 'Wrong user name or password');
    return this.result(url);
  }
  async quickConnectStart(url: string): Promise<{ code: string; secret: string }> {
    this.check(url);
    this.quickConnectStarts++;
    return { code: '123456', secret: SECRETS.quickConnectSecret };
  }
  async quickConnectPoll(url: string, secret: string): Promise<JellyfinQuickConnectState> {
    if (secret !== SECRETS.quickConnectSecret) return { state: 'expired' };
    return this.quickConnectAuthorized ? { state: 'authorized', result: this.result(url) } : { state: 'pending' };
  }
}

export class FakeDemo implements DemoControl {
  readonly calls: string[] = [];
  async listRoutes(): Promise<ApiDemoRoute[]> {
    return [{ id: 'r1', sourceId: 'src1', serverName: 'Demo Plex', kind: 'local', url: 'http://127.0.0.2:32400' }];
  }
  routeModes() {
    return ['up', 'down', 'hang', 'slow'];
  }
  serverModes() {
    return ['up', 'crash', 'restarting'];
  }
  async setRouteFault(routeId: string, mode: string): Promise<boolean> {
    if (routeId !== 'r1') return false;
    this.calls.push(`route:${routeId}:${mode}`);
    return true;
  }
  async setServerFault(sourceId: string, mode: string): Promise<boolean> {
    if (sourceId !== 'src1') return false;
    this.calls.push(`server:${sourceId}:${mode}`);
    return true;
  }
}
