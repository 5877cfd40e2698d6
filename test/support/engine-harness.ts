// An end-to-end rig for the connection engine: the simulators (plex.tv, a Plex server with
// local + remote + relay routes, a Jellyfin server with local + remote) and Marquee itself
// (startRuntime through test/support/start.ts, no port: a temp-dir SQLite store, the real backends
// and a MarqueeEngine) with short but realistic settings. Sources are added the
// way a user adds them (Plex through plex.tv resources, Jellyfin by signing in by name), every
// stream message is recorded, and `waitFor*` helpers poll the recorded events and the API view.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulation, type SimConfig, type Simulation } from '../../sim/index.js';
import type { Backends } from '../../src/backends/index.js';
import type { Credentials, LibrariesResult, MediaBackend, RouteCandidate } from '../../src/backends/types.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import type { EngineEvent, EngineEventType, ProbeError, ProbeResult, SourceKind } from '../../src/core/types.js';
import type { MarqueeEngine } from '../../src/monitor/engine.js';
import type { EngineStreamMessage, RoutedCaller } from '../../src/monitor/engine-types.js';
import type { PushSupervisorSettings } from '../../src/monitor/push-supervisor.js';
import type { ApiSource, ApiSourceDetail } from '../../src/api/types.js';
import type { Store, StoredHistoryEntry } from '../../src/store/index.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { startTestRuntime, type TestRuntime } from './start.js';
import type { LibraryLayer } from '../../src/library/index.js';
import type { NotificationSettingsInput } from '../../src/core/settings.js';
import type { NotificationService } from '../../src/notifications/service.js';
import { waitUntil } from './wait.js';
import { toApiSource, toApiSourceDetail } from '../../src/server/views.js';

/** Short but realistic: every fault is detected within a few seconds, yet nothing races itself. */
export const TEST_SETTINGS: MonitorSettingsInput = {
  probeTimeoutMs: 1_500,
  suspectProbeTimeoutMs: 1_000,
  baseTickMs: 500,
  graceMs: 100,
  librariesTimeoutMs: 1_500,
  backoff: { initialMs: 200, factor: 2, capMs: 1_000, minDelayMs: 50 },
  reselectMs: { local: 2_000, remote: 1_500, relay: 1_000, unknown: 1_000 },
  disconnectAfterAttempts: 3,
  // Back to the preferred route after 3 answers over ≥ 1 s (the defaults' 8 over 15 s, scaled down).
  returnCheckMs: 200,
  returnHoldMs: 1_000,
  returnMinSuccesses: 3,
};

export const TEST_PUSH: Partial<PushSupervisorSettings> = { pingIntervalMs: 300, pongTimeoutMs: 600, connectTimeoutMs: 1_500, reopenInitialMs: 200, reopenCapMs: 2_000 };

export const PLEX_ID = 'living-room';
export const JELLYFIN_ID = 'jellyfin-home';
export const PLEX_NAME = 'Living-room Plex';
export const JELLYFIN_NAME = 'Home Jellyfin';

/** Simulated route ids (sim side). */
export const SIM_ROUTES = {
  plexLocal: 'living-room-local',
  plexRemote: 'living-room-remote',
  plexRelay: 'living-room-relay',
  jellyfinLocal: 'jellyfin-home-local',
  jellyfinRemote: 'jellyfin-home-remote',
} as const;

export function harnessSimConfig(jellyfinKeepAliveScale = 1): SimConfig {
  return {
    plexTv: { accounts: [{ username: 'demo' }] },
    jellyfinKeepAliveScale,
    servers: [
      {
        id: PLEX_ID,
        kind: 'plex',
        name: PLEX_NAME,
        routes: [
          { id: SIM_ROUTES.plexLocal, kind: 'local', host: '127.0.0.2', port: 0 },
          { id: SIM_ROUTES.plexRemote, kind: 'remote', host: '127.0.0.3', port: 0 },
          { id: SIM_ROUTES.plexRelay, kind: 'relay', host: '127.0.0.4', port: 0 },
        ],
        libraries: [
          { title: 'Movies', type: 'movie' },
          { title: 'TV Shows', type: 'show' },
          { title: 'Music', type: 'artist' },
        ],
      },
      {
        id: JELLYFIN_ID,
        kind: 'jellyfin',
        name: JELLYFIN_NAME,
        users: [{ name: 'demo', password: 'demo-password', admin: true, disabled: false }],
        routes: [
          { id: SIM_ROUTES.jellyfinLocal, kind: 'local', host: '127.0.0.6', port: 0 },
          { id: SIM_ROUTES.jellyfinRemote, kind: 'remote', host: '127.0.0.7', port: 0 },
        ],
        libraries: [{ name: 'Films', collectionType: 'movies' }, { name: 'Series', collectionType: 'tvshows' }, { name: 'Mixed' }],
      },
    ],
  };
}

export interface RecordedMessage {
  /** Wall-clock ms when the stream delivered it. */
  receivedAt: number;
  message: EngineStreamMessage;
}

/** What the recorder adds to an engine event: its sequence number and when the stream delivered it. */
export interface Recorded {
  seq: number;
  receivedAt: number;
}

export interface HarnessOptions {
  settings?: MonitorSettingsInput;
  /** Notification settings (hold-down, window… in ms; no ranges). */
  notifications?: NotificationSettingsInput;
  push?: Partial<PushSupervisorSettings> & { enabled?: boolean };
  jellyfinKeepAliveScale?: number;
  /** Runs after the engine started and before the sources are added (e.g. faults for the very first check). */
  beforeAddSources?: (sim: Simulation) => Promise<void>;
  /**
   * The addresses the user gives for the Jellyfin server (default: every simulated route). Runs
   * before sign-in; the first one is used to sign in. Register anything it starts with `onClose`.
   */
  jellyfinRoutes?: (sim: Simulation, harness: EngineHarness) => Promise<RouteCandidate[]>;
}

/**
 * The sim has no fault that breaks only the library endpoints while the server stays reachable
 * (`malformed` damages every response of a route, the probe's included). This wrapper lets a test
 * make `libraries()` fail for one kind while probes and push keep using the real backend.
 */
class LibraryFaultBackend implements MediaBackend {
  failure: ProbeError | null = null;
  readonly kind: SourceKind;
  readonly openPush: MediaBackend['openPush'];
  readonly identify: MediaBackend['identify'];
  readonly media: MediaBackend['media'];
  readonly playback: MediaBackend['playback'];
  /** Browsing (the library layer) goes to the real backend untouched. */
  readonly browse: MediaBackend['browse'];

  constructor(private readonly real: MediaBackend, failure: ProbeError | null) {
    this.failure = failure;
    this.media = real.media;
    this.playback = real.playback;
    this.kind = real.kind;
    this.openPush = real.openPush ? real.openPush.bind(real) : undefined;
    this.identify = real.identify ? real.identify.bind(real) : undefined;
    this.browse = real.browse;
  }

  probe(...args: Parameters<MediaBackend['probe']>) {
    return this.real.probe(...args);
  }

  async libraries(...args: Parameters<MediaBackend['libraries']>): Promise<LibrariesResult> {
    if (this.failure) return { ok: false, error: { ...this.failure } };
    return this.real.libraries(...args);
  }
}

export class EngineHarness {
  readonly messages: RecordedMessage[] = [];
  /** Every probe result the engine saw (stragglers included), with the wall-clock time it arrived. */
  readonly probes: Array<{ sourceId: string; result: ProbeResult; receivedAt: number }> = [];
  /** Source ids in the engine. */
  plexSourceId = '';
  jellyfinSourceId = '';
  /** Wall-clock ms right before each source was handed to the engine. */
  readonly addedAt: Record<SourceKind, number> = { plex: 0, jellyfin: 0 };
  /** The Marquee runtime (src/cli/runtime.ts, no port) running now; a restart replaces it. */
  private runtime: TestRuntime | null = null;
  private wrapped: Record<SourceKind, LibraryFaultBackend> | null = null;
  private closed = false;
  private readonly closers: Array<() => Promise<void> | void> = [];
  /** Addresses `changeNetwork()` added on a made-up interface, seen by the engine's network watcher. */
  private extraAddresses: string[] = [];

  private constructor(
    readonly sim: Simulation,
    readonly dataDir: string,
    private readonly options: HarnessOptions,
  ) {}

  get engine(): MarqueeEngine {
    return this.current.engine;
  }

  get store(): Store {
    return this.current.store;
  }

  /** The runtime's routed caller (calls over the engine's current route, with failover). */
  get routedCaller(): RoutedCaller {
    return this.current.routedCaller;
  }

  /** The running runtime's library layer (cache sync, service, images). */
  get libraryLayer(): LibraryLayer {
    return this.current.library;
  }

  /** The running runtime's notification service. */
  get notifications(): NotificationService {
    return this.current.notifications;
  }

  /** The running runtime itself (its app for `inject`, its play service). */
  get running(): TestRuntime {
    return this.current;
  }

  /** The real backends and sign-in flows of the running runtime. */
  get backends(): Backends {
    return this.current.backends;
  }

  private get current(): TestRuntime {
    if (!this.runtime) throw new Error('the engine is not running');
    return this.runtime;
  }

  /** Starts the simulators and Marquee (store, backends, engine), and adds both sources as a user would. */
  static async start(options: HarnessOptions = {}): Promise<EngineHarness> {
    const sim = await createSimulation(harnessSimConfig(options.jellyfinKeepAliveScale ?? 1));
    const dataDir = mkdtempSync(join(tmpdir(), 'marquee-engine-test-'));
    const h = new EngineHarness(sim, dataDir, options);
    try {
      await h.startRuntime();
      await options.beforeAddSources?.(sim);
      await h.addSources();
    } catch (error) {
      await h.close();
      throw error;
    }
    return h;
  }

  /** Marquee on the harness's data dir, probing through the library-fault wrappers, every message recorded. */
  private async startRuntime(): Promise<void> {
    this.runtime = await startTestRuntime({
      dataDir: this.dataDir,
      plexTvUrl: this.sim.plexTvUrl,
      monitor: { ...TEST_SETTINGS, ...this.options.settings },
      push: { ...TEST_PUSH, ...this.options.push },
      ...(this.options.notifications ? { notifications: this.options.notifications } : {}),
      // The engine's real network watcher, sampling often — but over made-up interfaces, so only
      // changeNetwork() changes the network it sees, never the host (or a test beside this one).
      watchNetwork: {
        intervalMs: 250,
        read: () => ({
          lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
          ...(this.extraAddresses.length > 0 ? { 'test-net0': this.extraAddresses.map((address) => ({ address, family: 'IPv4', internal: false })) } : {}),
        }),
      },
      backends: (real) => {
        // A library fault set before a restart stays set after it.
        this.wrapped = {
          plex: new LibraryFaultBackend(real.plex, this.wrapped?.plex.failure ?? null),
          jellyfin: new LibraryFaultBackend(real.jellyfin, this.wrapped?.jellyfin.failure ?? null),
        };
        return this.wrapped;
      },
      onProbe: (source, result) => this.probes.push({ sourceId: source.id, result, receivedAt: Date.now() }),
      onMessage: (message) => this.messages.push({ receivedAt: Date.now(), message }),
    });
  }

  private async addSources(): Promise<void> {
    const sim = this.sim;
    const plexServer = sim.servers.find((s) => s.id === PLEX_ID)!;
    const found = await this.backends.plexSignIn.listServers(sim.plexTv.accountToken());
    const plex = found.find((s) => s.serverId === plexServer.machineId);
    if (!plex) throw new Error('plex.tv did not list the simulated Plex server');
    this.addedAt.plex = Date.now();
    this.plexSourceId = this.engine.addSource({ name: plex.name, kind: 'plex', serverId: plex.serverId, routes: plex.routes, credentials: plex.credentials }).source.id;

    const jfServer = sim.servers.find((s) => s.id === JELLYFIN_ID)!;
    const user = sim.jellyfin(JELLYFIN_ID).user();
    // A user adds the addresses they use: the LAN one and the public one.
    const routes = this.options.jellyfinRoutes ? await this.options.jellyfinRoutes(sim, this) : jfServer.routes.map((r, i) => ({ url: r.url, kind: r.kind, priority: i }));
    const signedIn = await this.backends.jellyfinSignIn.signInByName(routes[0]!.url, user.name, user.password);
    this.addedAt.jellyfin = Date.now();
    this.jellyfinSourceId = this.engine.addSource({ name: signedIn.serverName, kind: 'jellyfin', serverId: signedIn.serverId, routes, credentials: signedIn.credentials }).source.id;
  }

  /** The host's network changes as the engine sees it: a made-up interface gains an address. */
  changeNetwork(): void {
    this.extraAddresses = [...this.extraAddresses, `192.0.2.${this.extraAddresses.length + 1}`];
  }

  /** Stops Marquee (engine, store, backends), then starts it again on the same data dir (a restart). */
  /** Stops the runtime and starts a new one on the same data; `stopped` runs in between. */
  async restart(stopped?: () => void): Promise<void> {
    await this.stopRuntime();
    stopped?.();
    await this.startRuntime();
  }

  private async stopRuntime(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = null;
    await runtime?.close();
  }

  /** Run at close, before the simulators stop (e.g. a proxy a test started). */
  onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  // ---- fault helpers --------------------------------------------------------------------------

  /** Make `libraries()` of one kind fail (null restores the real call). See LibraryFaultBackend. */
  failLibraries(kind: SourceKind, error: ProbeError | null): void {
    if (!this.wrapped) throw new Error('the engine is not running');
    this.wrapped[kind].failure = error;
  }

  /** Fresh credentials as a new sign-in would give them. */
  freshCredentials(kind: SourceKind): Credentials {
    const sourceId = kind === 'plex' ? this.plexSourceId : this.jellyfinSourceId;
    const old = this.engine.getCredentials(sourceId);
    if (!old) throw new Error(`no credentials stored for ${kind}`);
    if (kind === 'plex') return { ...old, token: this.sim.plexTv.serverToken(PLEX_ID) };
    return { ...old, token: this.sim.jellyfin(JELLYFIN_ID).issueToken(undefined, old.deviceId) };
  }

  // ---- reads ------------------------------------------------------------------------------------

  sourceId(kind: SourceKind): string {
    return kind === 'plex' ? this.plexSourceId : this.jellyfinSourceId;
  }

  view(kind: SourceKind): ApiSource {
    const v = this.engine.getSource(this.sourceId(kind));
    if (!v) throw new Error(`no ${kind} source in the engine`);
    return toApiSource(v);
  }

  detail(kind: SourceKind): ApiSourceDetail {
    const d = this.engine.getSourceDetail(this.sourceId(kind));
    if (!d) throw new Error(`no ${kind} source in the engine`);
    return toApiSourceDetail(d);
  }

  /** Engine route id of the route whose URL is the sim route's URL. */
  routeId(kind: SourceKind, simRouteId: string): string {
    const url = new URL(this.sim.route(simRouteId).url).origin;
    const route = this.detail(kind).routes.find((r) => new URL(r.url).origin === url);
    if (!route) throw new Error(`the ${kind} source has no route at ${url}`);
    return route.id;
  }

  /** Probe results of one route (engine route id) that arrived after `since` (wall-clock ms). */
  probesOf(routeId: string, since = 0): ProbeResult[] {
    return this.probes.filter((p) => p.result.routeId === routeId && p.receivedAt >= since).map((p) => p.result);
  }

  /** Stored status transitions, oldest first. */
  history(kind: SourceKind): StoredHistoryEntry[] {
    this.store.flush();
    return [...this.store.status.recentHistory(this.sourceId(kind), 500)].sort((a, b) => a.at - b.at || a.id - b.id);
  }

  /** Engine events recorded so far (from index `from` of the message log). */
  events(from = 0): Array<EngineEvent & Recorded> {
    const out: Array<EngineEvent & Recorded> = [];
    for (const m of this.messages.slice(from)) {
      if (m.message.type === 'engine') out.push({ ...m.message.message.event, seq: m.message.message.seq, receivedAt: m.receivedAt });
    }
    return out;
  }

  /** A position in the message log; pass to `events()` / `waitForEvent()` to see only what came after. */
  mark(): number {
    return this.messages.length;
  }

  /** Events of one type for the source of `kind`, recorded after `from`. */
  eventsOf<T extends EngineEventType>(kind: SourceKind, type: T, from = 0): Array<Extract<EngineEvent, { type: T }> & Recorded> {
    const id = this.sourceId(kind);
    return this.events(from).filter((e): e is Extract<EngineEvent, { type: T }> & Recorded => e.sourceId === id && e.type === type);
  }

  // ---- waiting ------------------------------------------------------------------------------------

  /** Polls `probe` until it returns a truthy value; fails with `what` and the recent events. */
  waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 10_000): Promise<T> {
    return waitUntil(probe, { what, timeoutMs, intervalMs: 20, detail: () => this.describe() });
  }

  /** The sources and the recent events, for a failure message. */
  private describe(): string {
    const recent = this.events()
      .slice(-15)
      .map((e) => `${e.type}(${e.sourceName}${'routeKind' in e ? ` ${e.routeKind}` : ''}${e.type === 'StatusChanged' ? ` -> ${e.status.state}` : ''})`);
    const views = this.runtime
      ? this.engine.listSources().map(toApiSource).map((s) => `${s.name}: ${s.status}${s.route ? ` via ${s.route.kind}` : ''} push=${s.push}${s.error ? ` (${s.error})` : ''}`)
      : ['(engine not running)'];
    return `sources: ${views.join('; ')}\nrecent events: ${recent.join(', ')}`;
  }

  /** Waits for an event of `type` for the source of `kind`, recorded after `from`. */
  waitForEvent<T extends EngineEventType>(
    kind: SourceKind,
    type: T,
    options: { from?: number; timeoutMs?: number; where?: (e: Extract<EngineEvent, { type: T }>) => boolean } = {},
  ): Promise<Extract<EngineEvent, { type: T }> & Recorded> {
    const { from = 0, timeoutMs = 10_000, where } = options;
    return this.waitFor(`${type} for the ${kind} source`, () => this.eventsOf(kind, type, from).find((e) => !where || where(e)), timeoutMs);
  }

  /** Waits until the API view of the source satisfies `check`. */
  waitForView(kind: SourceKind, what: string, check: (v: ApiSource) => boolean, timeoutMs = 10_000): Promise<ApiSource> {
    return this.waitFor(`${kind} source: ${what}`, () => {
      const v = this.view(kind);
      return check(v) ? v : null;
    }, timeoutMs);
  }

  /** Both sources connected through their local route with the push channel open. */
  async waitForSteadyState(timeoutMs = 10_000): Promise<void> {
    for (const kind of ['plex', 'jellyfin'] as const) {
      await this.waitForView(kind, 'connected via local with push open', (v) => v.status === 'connected' && v.route?.kind === 'local' && v.push === 'open', timeoutMs);
    }
  }

  // ---- cleanup ------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.stopRuntime();
    } finally {
      for (const close of this.closers.reverse()) await close();
      await this.sim.close();
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

/**
 * A reverse proxy that forwards plain HTTP but was never set up for WebSockets (a common nginx
 * mistake): every upgrade gets `404`. The server behind it is reachable; its push channel is not.
 */
export function startWebSocketUnawareProxy(target: string, host = '127.0.0.8'): Promise<RecordingProxy> {
  return startRecordingProxy(target, host, { websockets: 'not-found' });
}
