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
} from '../../src/backends/types.js';
import { SignInError } from '../../src/backends/types.js';
import type { ApiDemoRoute } from '../../src/api/types.js';
import type { EngineEvent, Library, RouteOrigin, Source } from '../../src/core/types.js';
import type {
  CheckWaitResult,
  Engine,
  RouteEditResult,
  EngineEventRecord,
  EngineHealth,
  EngineStreamMessage,
  NewSourceInput,
  SourceDetailSnapshot,
  SourcePatch,
  SourceSnapshot,
} from '../../src/monitor/engine-types.js';
import { SettingsFileSchema, type AppConfig } from '../../src/server/config.js';
import type { DemoControl } from '../../src/server/demo-control.js';

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
    sseMaxStreams: 256,
    sseMaxStreamsPerAddress: 8,
    webDir: '/nonexistent-marquee-web',
    ...SettingsFileSchema.parse({}),
    ...overrides,
  };
}

interface StoredSource {
  snapshot: SourceSnapshot;
  credentials: Credentials;
}

/**
 * An Engine held in memory. It keeps domain snapshots, like the real engine; the server turns them
 * into the wire view (src/server/views.ts), so tests see the same view the app serves.
 */
export class FakeEngine implements Engine {
  readonly sources = new Map<string, StoredSource>();
  readonly checks: string[] = [];
  private readonly listeners = new Set<(m: EngineStreamMessage) => void>();
  private seq = 0;
  private readonly log: EngineEventRecord[] = [];
  /** Events older than this are "no longer retained". */
  retainFromSeq = 0;
  healthState: EngineHealth = { database: 'ok', monitor: 'running' };
  started = false;
  private nextId = 1;

  addSource(input: NewSourceInput): SourceSnapshot {
    const id = `src${this.nextId++}`;
    const source: Source = {
      id,
      name: input.name,
      kind: input.kind,
      serverId: input.serverId,
      routes: input.routes.map((r, i) => ({ id: `${id}-r${i}`, url: r.url, kind: r.kind, priority: r.priority, origin: r.origin ?? 'typed' })),
      credentialRef: `cred-${id}`,
      monitoring: input.monitoring ?? {},
      createdAt: 1_700_000_000_000,
    };
    const snapshot: SourceSnapshot = { source, status: { state: 'connecting' }, lastCheckedAt: null, since: null, nextCheckAt: null, libraries: [], push: 'off' };
    this.sources.set(id, { snapshot, credentials: input.credentials });
    this.emit({ type: 'source', source: snapshot });
    return snapshot;
  }

  /** Puts a source into a state and emits the engine event for it (as the monitor would). */
  setConnected(id: string, routeKind: 'local' | 'remote' | 'relay', latencyMs: number): EngineEventRecord {
    const s = this.sources.get(id)!;
    const { source } = s.snapshot;
    const route = source.routes.find((r) => r.kind === routeKind) ?? source.routes[0]!;
    const at = 1_700_000_000_000 + this.seq;
    s.snapshot = { ...s.snapshot, status: { state: 'connected', routeId: route.id, routeKind: route.kind, latencyMs, since: at }, since: at };
    const event: EngineEvent = {
      type: 'ConnectionChanged',
      sourceId: id,
      sourceName: source.name,
      sourceKind: source.kind,
      at,
      routeId: route.id,
      routeKind: route.kind,
      previousRouteKind: null,
      latencyMs,
    };
    return this.pushEvent(event, id);
  }

  setLost(id: string): EngineEventRecord {
    const s = this.sources.get(id)!;
    const { source } = s.snapshot;
    const at = 1_700_000_000_000 + this.seq;
    s.snapshot = { ...s.snapshot, status: { state: 'reconnecting', attempt: 1, nextRetryAt: at + 1_000, since: at, lastRouteKind: 'local' }, since: at };
    return this.pushEvent({ type: 'ConnectionLost', sourceId: id, sourceName: source.name, sourceKind: source.kind, at, lastRouteKind: 'local' }, id);
  }

  /** The libraries a check found (issue 14: the library layer syncs them); streamed as a `source` message. */
  setLibraries(id: string, libraries: Library[]): void {
    const s = this.sources.get(id)!;
    s.snapshot = { ...s.snapshot, libraries };
    this.emit({ type: 'source', source: s.snapshot });
  }

  touch(id: string): void {
    const s = this.sources.get(id)!;
    s.snapshot = { ...s.snapshot, lastCheckedAt: (s.snapshot.lastCheckedAt ?? 0) + 1 };
    this.emit({ type: 'source', source: s.snapshot });
  }

  private pushEvent(event: EngineEvent, id: string): EngineEventRecord {
    this.seq += 1;
    const record: EngineEventRecord = { seq: this.seq, event, source: this.sources.get(id)!.snapshot };
    this.log.push(record);
    this.emit({ type: 'engine', message: record });
    return record;
  }

  private emit(message: EngineStreamMessage): void {
    for (const l of this.listeners) l(message);
  }

  listSources(): SourceSnapshot[] {
    return [...this.sources.values()].map((s) => s.snapshot);
  }
  getSource(id: string): SourceSnapshot | null {
    return this.sources.get(id)?.snapshot ?? null;
  }
  getSourceDetail(id: string): SourceDetailSnapshot | null {
    const snapshot = this.getSource(id);
    if (!snapshot) return null;
    // The fake keeps each added route's origin on the route object itself (the real engine stores it).
    const routes = snapshot.source.routes.map((r) => ({ ...r, origin: (r as { origin?: RouteOrigin }).origin ?? ('typed' as const), lastResult: null, lastError: null, latencyMs: null, checkedAt: null, recentLatencies: [], pending: false }));
    return { ...snapshot, routes, transitions: [], checks: [], probeTimeoutMs: snapshot.source.monitoring.probeTimeoutMs ?? 5000 };
  }
  hasServer(serverId: string): boolean {
    for (const s of this.sources.values()) if (s.snapshot.source.serverId === serverId) return true;
    return false;
  }
  checkNow(id: string): boolean {
    if (!this.sources.has(id)) return false;
    this.checks.push(id);
    return true;
  }
  /** Records the check like checkNow and answers at once with today's snapshot, as if it had run. */
  async checkNowAndWait(id: string): Promise<CheckWaitResult | null> {
    if (!this.checkNow(id)) return null;
    const snapshot = this.getSource(id);
    return snapshot ? { snapshot, completed: true } : null;
  }
  updateSource(id: string, patch: SourcePatch): SourceSnapshot | null {
    const s = this.sources.get(id);
    if (!s) return null;
    const { source } = s.snapshot;
    s.snapshot = {
      ...s.snapshot,
      source: { ...source, ...(patch.name !== undefined ? { name: patch.name } : {}), monitoring: { ...source.monitoring, ...(patch.monitoring ?? {}) } },
    };
    this.emit({ type: 'source', source: s.snapshot });
    return s.snapshot;
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
  // The route editor is tested against the real engine (src/server/routes-api.test.ts); the fake refuses.
  private readonly noRouteEdits = (): RouteEditResult => ({ ok: false, code: 'route_not_found', message: 'the fake engine does not edit routes' });
  addRoute = (): Promise<RouteEditResult> => Promise.resolve(this.noRouteEdits());
  updateRoute = (): RouteEditResult => this.noRouteEdits();
  removeRoute = (): RouteEditResult => this.noRouteEdits();
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
  eventsSince(seq: number): EngineEventRecord[] | null {
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
  apiKey: 'APIKEY-7f3c9e1a5b2d8406e4c1f9a3',
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
