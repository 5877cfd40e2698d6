// The one place the parts are built and wired: the store, the backends, the engine, the Fastify
// app and, in demo mode, the simulators with their servers already added. `marquee serve`/`demo`,
// the tests and the benchmarks all start Marquee through `startRuntime`; a test or benchmark picks
// a real or a fake part per dependency (clock, backends, plex.tv URL, settings, data dir, logger)
// through `RuntimeParts`, the way Fastify's own test helper builds the real app per test.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createBackends, type Backends } from '../backends/index.js';
import type { JellyfinSignIn, MediaBackend, PlexSignIn } from '../backends/types.js';
import { EngineNotificationSettingsSchema, type LibrarySettings, type MonitorSettingsInput, type NotificationSettingsInput, type PushSettings } from '../core/settings.js';
import type { ProbeResult, Source, SourceKind } from '../core/types.js';
import { realClock, type Clock } from '../monitor/clock.js';
import { createLibraryLayer, type LibraryLayer } from '../library/index.js';
import { MarqueeEngine, type EngineOptions } from '../monitor/engine.js';
import type { EngineStreamMessage, RoutedCaller } from '../monitor/engine-types.js';
import { EngineRoutedCaller } from '../monitor/routed-caller.js';
import { PlayService } from '../playback/play-service.js';
import { ProgressReporter, type ProgressReporterOptions } from '../playback/progress.js';
import { PlaySessions } from '../playback/sessions.js';
import type { AppConfig } from '../server/config.js';
import type { DemoControl } from '../server/demo-control.js';
import { createLogger, type Logger } from '../server/logger.js';
import { createMetrics, type Metrics } from '../server/metrics.js';
import { startServer } from '../server/start.js';
import { HlsService } from '../playback/hls-stream.js';
import { openDatabase, type Store } from '../store/index.js';
import { appriseNotificationParts } from '../notifications/apprise-parts.js';
import { NotificationService } from '../notifications/service.js';
import type { NotificationParts } from '../notifications/types.js';
import type { Simulation } from '../../sim/index.js';

/** What a caller may swap or add; everything left out is built from `config` as `marquee serve` does. */
export interface RuntimeParts {
  /** `marquee demo`: start the simulators (sim/example.json, or `simConfigPath`) and add their servers. */
  demo?: boolean | { simConfigPath?: string };
  /** Default: a pino logger at config.logLevel. */
  logger?: Logger;
  /** Every probe the monitor makes is observed here. Default: a fresh registry. */
  metrics?: Metrics;
  /** Default: config.dataDir (demo mode: a fresh temporary dir, removed on close). */
  dataDir?: string;
  /** Default: config.plexTvUrl (demo mode: the simulated plex.tv). */
  plexTvUrl?: string;
  /** Where the Plex wizard sends the user to approve a PIN (default: Plex's own page), or made from the plex.tv URL in use. */
  plexAuthAppUrl?: string | ((plexTvUrl: string) => string);
  /** Monitoring settings instead of config.monitor. */
  monitor?: MonitorSettingsInput;
  /** Push settings instead of config.push. */
  push?: Partial<PushSettings>;
  /** Notification settings instead of config.notifications (types checked, no ranges: tests use ms). */
  notifications?: NotificationSettingsInput;
  /** How target URLs are checked, shown and sent to (default: `notificationParts` below). */
  notificationParts?: NotificationParts;
  /** The engine's clock; its now() also dates the store's rows and the app's sessions. */
  clock?: Clock;
  random?: () => number;
  /** Re-check every source when the host's network interfaces change (default on; see EngineOptions). */
  watchNetwork?: EngineOptions['watchNetwork'];
  /** Wraps or replaces the real backends the engine probes with (sign-in flows stay real). */
  backends?: (real: Record<SourceKind, MediaBackend>) => Record<SourceKind, MediaBackend>;
  /** Called for every probe, after the metrics saw it. */
  onProbe?(source: Source, result: ProbeResult): void;
  /** Subscribed to the engine's stream before the engine starts, so nothing is missed. */
  onMessage?: (message: EngineStreamMessage) => void;
  /** Library settings instead of config.library. */
  library?: LibrarySettings;
  /** How library requests reach a source (default: the engine's routed caller, with failover). */
  routedCaller?: (engine: MarqueeEngine, backends: Record<SourceKind, MediaBackend>) => RoutedCaller;
  /** Listen on config.host:config.port (default). Without it the app is ready for `app.inject` only. */
  listen?: boolean;
  /** Progress delivery timings (tests: short backoff). */
  progress?: Pick<ProgressReporterOptions, 'timeoutMs' | 'retryBaseMs' | 'retryMaxMs' | 'maxAttempts'>;
}

export interface Runtime {
  engine: MarqueeEngine;
  /** Calls over the engine's current route with failover: built here only, handed to every part that fetches from a server. */
  routedCaller: RoutedCaller;
  /** Play sessions and progress reports (issue 15). */
  play: PlayService;
  /** The Fastify app, ready (and listening unless `listen: false`). */
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8844/marquee/ — null when not listening. */
  url: string | null;
  store: Store;
  /** Library cache, sync, home, search and image proxy (issue 14). */
  library: LibraryLayer;
  /** The real backends and sign-in flows (the engine probes through `parts.backends` if given). */
  backends: Backends;
  plexSignIn: PlexSignIn;
  jellyfinSignIn: JellyfinSignIn;
  /** The data dir in use: the demo's fresh temporary one, else config.dataDir (for the start log). */
  dataDir: string;
  /** Present in demo mode only. */
  demo?: DemoControl;
  /** Demo mode only: the simulators, for tests that cut routes and revoke tokens directly. */
  simulation?: Simulation;
  /** Notification targets, policy and the durable outbox's delivery. */
  notifications: NotificationService;
  /** Stops HTTP first, then the engine, then closes what the runtime opened (simulators, database). */
  close(): Promise<void>;
}

/** How target URLs are validated, redacted and sent to: Apprise-style URLs and every supported service. */
export const notificationParts: NotificationParts = appriseNotificationParts();

export async function startRuntime(config: AppConfig, parts: RuntimeParts = {}): Promise<Runtime> {
  const logger = parts.logger ?? createLogger({ level: config.logLevel });
  const metrics = parts.metrics ?? createMetrics();
  const demoMode = parts.demo === true || typeof parts.demo === 'object';
  // The demo runs on a fresh data dir every time: the simulators' ports change between runs.
  const demoDir = demoMode && !parts.dataDir ? mkdtempSync(join(tmpdir(), 'marquee-demo-')) : null;
  const dataDir = parts.dataDir ?? demoDir ?? config.dataDir;
  const closers: Array<() => Promise<void> | void> = [];
  if (demoDir) closers.push(() => rmSync(demoDir, { recursive: true, force: true }));
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const clock = parts.clock;
    const now = clock ? () => clock.now() : undefined;
    const store = openDatabase({ dataDir, lockDataDir: true, logger: logger.child({ component: 'store' }), ...(now ? { now } : {}) });
    closers.push(() => store.close());
    const simConfigPath = typeof parts.demo === 'object' ? parts.demo.simConfigPath : undefined;
    const demo = demoMode ? await (await import('./demo.js')).startDemoSimulation(simConfigPath) : null;
    if (demo) closers.push(() => demo.close());
    const clientIdentifier = store.settings.getOrCreate('clientIdentifier', () => randomUUID());
    const plexTvUrl = demo?.plexTvUrl ?? parts.plexTvUrl ?? config.plexTvUrl;
    const plexAuthAppUrl = typeof parts.plexAuthAppUrl === 'function' ? parts.plexAuthAppUrl(plexTvUrl) : parts.plexAuthAppUrl;
    const backends = createBackends({ clientIdentifier, plexTvUrl, ...(plexAuthAppUrl ? { plexAuthAppUrl } : {}) });
    closers.push(() => backends.close());
    const engineBackends = parts.backends ? parts.backends(backends.backends) : backends.backends;
    const engine = new MarqueeEngine({
      store,
      backends: engineBackends,
      settings: parts.monitor ?? config.monitor,
      push: parts.push ?? config.push,
      ...(clock ? { clock } : {}),
      ...(parts.random ? { random: parts.random } : {}),
      ...(parts.watchNetwork !== undefined ? { watchNetwork: parts.watchNetwork } : {}),
      logger: logger.child({ component: 'engine' }),
      plexAccount: backends.plexAccount,
      jellyfinInfo: backends.jellyfinInfo,
      onProbe: (source, result) => {
        const route = source.routes.find((r) => r.id === result.routeId);
        if (route) metrics.observeProbe(source.kind, route.kind, result.ok ? 'ok' : result.error.code, result.latencyMs);
        parts.onProbe?.(source, result);
      },
    });
    const routedCaller = new EngineRoutedCaller({
      engine,
      backends: engineBackends,
      ...(clock ? { clock } : {}),
      onFailover: (kind, outcome) => metrics.countFailover(kind, outcome),
    });
    const library = createLibraryLayer({
      engine,
      caller: parts.routedCaller ? parts.routedCaller(engine, engineBackends) : routedCaller,
      cache: store.libraryCache,
      settings: parts.library ?? config.library,
      clock: clock ?? realClock,
      dataDir,
      logger: logger.child({ component: 'library' }),
    });
    // Playback (issue 15): sessions, and the HLS of their transcodes over the routed caller. A
    // session that ends (left, expired, pushed out) stops its transcode on the server.
    const playSessions = new PlaySessions(now ? { now } : {});
    const hlsLog = logger.child({ component: 'hls' });
    const hls = new HlsService({ caller: routedCaller, engine, log: (level, obj, msg) => hlsLog[level](obj, msg) });
    playSessions.onEnded((session) => void hls.end(session.id));
    const sweep = setInterval(() => playSessions.sweepExpired(), 60_000);
    sweep.unref();
    // The durable progress outbox and its reporter, over the routed caller.
    const playLog = logger.child({ component: 'playback' });
    const reporter = new ProgressReporter({
      outbox: store.playOutbox,
      caller: routedCaller,
      engine,
      ...(now ? { now } : {}),
      ...(parts.progress ?? {}),
      log: (level, obj, msg) => playLog[level](obj, msg),
    });
    const play = new PlayService({
      sessions: playSessions,
      reporter,
      caller: routedCaller,
      engine,
      deviceId: clientIdentifier,
      basePath: config.basePath,
      log: (level, obj, msg) => playLog[level](obj, msg),
    });
    play.start();
    closers.push(() => play.close());
    const unsubscribe = parts.onMessage ? engine.subscribe(parts.onMessage) : null;
    const publicBase = config.publicOrigin ? `${config.publicOrigin}${config.basePath}` : null;
    const notifications = new NotificationService({
      engine,
      repo: store.notifications,
      settingsRepo: store.settings,
      parts: parts.notificationParts ?? notificationParts,
      clock: clock ?? realClock,
      settings: EngineNotificationSettingsSchema.parse(parts.notifications ?? config.notifications),
      logger: logger.child({ component: 'notifications' }),
      ...(publicBase ? { sourceLink: (sourceId: string) => `${publicBase}#/sources/${encodeURIComponent(sourceId)}` } : {}),
      ...(parts.random ? { random: parts.random } : {}),
    });
    // Subscribed before the engine starts, so no event is missed; stopped (clean-stop marker cleared)
    // before the engine and the database close.
    notifications.start();
    closers.push(() => notifications.stop());
    const demoControl = demo ? await demo.addSources(engine, backends) : undefined;
    const plexSignIn = demo ? demo.autoApprovingPlexSignIn(backends.plexSignIn) : backends.plexSignIn;
    // startServer starts the engine; its close() stops HTTP first, then the engine.
    const server = await startServer(
      config,
      { engine, plexSignIn, jellyfinSignIn: backends.jellyfinSignIn, signInSessions: store.signIns, notifications, library, play: { service: play, caller: routedCaller }, playback: { sessions: playSessions, hls }, ...(demoControl ? { demo: demoControl } : {}), ...(now ? { now } : {}), logger, metrics },
      { listen: parts.listen ?? true },
    );
    closers.push(() => server.close());
    // After the engine started; stopped before HTTP and the engine (closers run in reverse).
    library.start();
    closers.push(() => library.stop());
    // Runs before the server's close (closers run in reverse): transcodes are stopped while the engine still routes.
    closers.push(async () => {
      clearInterval(sweep);
      await hls.close();
    });
    // Closed first: the caller's listener hears nothing of the shutdown itself.
    if (unsubscribe) closers.push(unsubscribe);
    return {
      engine,
      routedCaller,
      play,
      app: server.app,
      url: server.url,
      store,
      library,
      backends,
      plexSignIn,
      jellyfinSignIn: backends.jellyfinSignIn,
      dataDir,
      notifications,
      ...(demoControl ? { demo: demoControl } : {}),
      ...(demo ? { simulation: demo.simulation } : {}),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
