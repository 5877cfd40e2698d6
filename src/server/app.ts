// buildApp: the Fastify instance, wired by hand in a fixed order —
// external plugins -> app concerns (errors, guard, SSE hub lifecycle) -> API routes -> web UI.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { JellyfinSignIn, PlexSignIn } from '../backends/types.js';
import type { Engine } from '../monitor/engine-types.js';
import type { LibraryLayer } from '../library/index.js';
import type { ApiError } from '../api/types.js';
import { collectRoute, createGuard, type RegisteredRoute } from './auth.js';
import type { AppConfig } from './config.js';
import type { AppContext, PlaybackDeps, PlayDeps } from './context.js';
import type { DemoControl } from './demo-control.js';
import { installErrorHandler } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { demoRoutes } from './routes/demo.js';
import { eventRoutes } from './routes/events.js';
import { notificationRoutes, type NotificationsControl } from './routes/notifications.js';
import { libraryRoutes } from './routes/library.js';
import { toApiLibraryUpdate } from './library-views.js';
import { playRoutes } from './routes/play.js';
import { playHlsRoutes } from './routes/play-hls.js';
import { signInRoutes } from './routes/sign-in.js';
import { sourceRoutes } from './routes/sources.js';
import { systemRoutes } from './routes/system.js';
import { SignInService } from './sign-in-service.js';
import { SignInSessions } from './sign-in-sessions.js';
import { SseHub } from './sse.js';
import { toApiSource } from './views.js';
import type { KeyGuessLimits } from './key-guess-limiter.js';
import type { SignInSessionStore } from '../store/index.js';
import { isApiPath, registerWeb } from './web.js';

export interface AppDeps {
  engine: Engine;
  plexSignIn: PlexSignIn;
  jellyfinSignIn: JellyfinSignIn;
  config: AppConfig;
  /** A pino logger (see createLogger); default: one made from config.logLevel. */
  logger?: Logger;
  /** Demo mode: enables /api/demo/* and `demo: true` in the snapshot. */
  demo?: DemoControl;
  /** Share one Metrics with the engine wiring (observeProbe); default: a fresh one. */
  metrics?: Metrics;
  /** Clock for sessions and snapshots (tests). */
  now?: () => number;
  /** Wrong-key rate limit per address (tests); default DEFAULT_KEY_GUESS_LIMITS. */
  keyGuessLimits?: KeyGuessLimits;
  /** Play sessions and HLS streams (the runtime builds them on its routed caller); absent: playback routes answer 404. */
  playback?: PlaybackDeps;
  /** Where sign-ins in progress are kept (the runtime passes the store's, so they survive a restart); default: memory. */
  signInSessions?: SignInSessionStore;
  /** Notification targets and "Send test" (the runtime passes its NotificationService). */
  notifications?: NotificationsControl;
  /** Library browsing (issue 14): the runtime passes it; without it the library routes answer 503. */
  library?: LibraryLayer;
  /** Playback (issue 15): the play service and the routed caller the byte proxy streams through; without it /api/play answers 503. */
  play?: PlayDeps;
}

const routeTables = new WeakMap<FastifyInstance, readonly RegisteredRoute[]>();

/** Every route the app registered (method + full url), so tests can walk all of them. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routeTables.get(app) ?? [];
}

export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { engine, config } = deps;
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const metrics = deps.metrics ?? createMetrics();
  const now = deps.now ?? Date.now;

  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: 'loopback',
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  const routeTable: RegisteredRoute[] = [];
  routeTables.set(app, routeTable);
  app.addHook('onRoute', collectRoute(routeTable));

  // ---- app concerns ----
  installErrorHandler(app);
  const hub = new SseHub(engine, {
    heartbeatMs: config.sseHeartbeatMs,
    maxStreams: config.sseMaxStreams,
    maxStreamsPerAddress: config.sseMaxStreamsPerAddress,
    demo: deps.demo !== undefined,
    onClientCount: (n) => metrics.setSseClients(n),
    onDropped: () => {
      metrics.countSseDropped();
      app.log.warn('dropped a slow SSE client; it will resync on reconnect');
    },
    now,
  });
  metrics.setSourceReader(() => engine.listSources().map(toApiSource));
  app.addHook('onReady', async () => hub.start());
  // A sync that changed a library: pages showing it refetch in place (SSE `library`).
  const stopLibraryUpdates = deps.library?.onUpdate((update) => hub.publish('library', toApiLibraryUpdate(update)));
  app.addHook('onClose', async () => stopLibraryUpdates?.());
  // Open SSE streams would keep app.close() waiting forever.
  app.addHook('preClose', async () => hub.stop());
  const guard = createGuard(config, {
    now,
    ...(deps.keyGuessLimits ? { limits: deps.keyGuessLimits } : {}),
    warn: (details, message) => app.log.warn(details, message),
  });
  app.addHook('onRequest', guard.onRequest);
  app.addHook('preHandler', guard.preHandler);
  app.addHook('onSend', async (request, reply, payload) => {
    // No framing (clickjacking of state-changing buttons), no sniffing, no referrer leaks.
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('content-security-policy', "frame-ancestors 'none'");
    reply.header('referrer-policy', 'no-referrer');
    // Live state must never be served from a proxy cache (judged on the routed path, not the raw URL).
    // A route that chose its own caching (proxied images: private, max-age) keeps it.
    if (guard.policy.isApiRequest(request) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : request.method !== 'GET' || reply.statusCode >= 400 ? 'info' : 'debug';
    request.log[level]({ req: request, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const ctx: AppContext = {
    engine,
    config,
    signIn: new SignInService(engine, deps.plexSignIn, deps.jellyfinSignIn, new SignInSessions(now, deps.signInSessions)),
    hub,
    metrics,
    demo: deps.demo ?? null,
    notifications: deps.notifications ?? null,
    library: deps.library ?? null,
    play: deps.play ?? null,
    playback: deps.playback ?? null,
    now,
  };

  // ---- routes, all under the base path ----
  const prefix = config.basePath.slice(0, -1);
  await app.register(systemRoutes, { prefix, ctx });
  await app.register(sourceRoutes, { prefix, ctx });
  await app.register(signInRoutes, { prefix, ctx });
  await app.register(eventRoutes, { prefix, ctx });
  await app.register(notificationRoutes, { prefix, ctx });
  await app.register(libraryRoutes, { prefix, ctx });
  await app.register(playRoutes, { prefix, ctx });
  await app.register(playHlsRoutes, { prefix, ctx });
  if (deps.demo) await app.register(demoRoutes, { prefix, demo: deps.demo });

  // ---- web UI last: static files and the SPA fallback ----
  const sendIndex = await registerWeb(app, config);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const spa =
      (request.method === 'GET' || request.method === 'HEAD') &&
      path.startsWith(config.basePath) &&
      !isApiPath(request.url, config) &&
      path !== `${config.basePath}healthz` &&
      path !== `${config.basePath}metrics` &&
      !/\.[A-Za-z0-9]{1,8}$/.test(path); // a missing file stays a 404, not the app page
    if (spa) return sendIndex(request, reply);
    return reply
      .status(404)
      .send({ error: 'not_found', message: `Nothing at ${request.method} ${path.slice(0, 200)}.` } satisfies ApiError);
  });

  return app;
}
