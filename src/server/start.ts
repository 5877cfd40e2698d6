// startServer: build the app over the engine, start the engine, listen (unless told not to).
// Returns a close() that stops in the right order (HTTP first, so no request meets a stopped
// engine). Called by src/cli/runtime.ts, the one place the parts are wired.
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app.js';
import type { AppConfig } from './config.js';

/** How long close() lets in-flight requests finish before cutting connections. */
export const CLOSE_GRACE_MS = 2000;

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8844/marquee/ — null when started with `listen: false`. */
  url: string | null;
  close(): Promise<void>;
}

export async function startServer(config: AppConfig, deps: Omit<AppDeps, 'config'>, options: { listen?: boolean } = {}): Promise<RunningServer> {
  const app = await buildApp({ ...deps, config });
  const listen = options.listen ?? true;
  // Without a port the app is made ready before the engine starts, so nothing runs between the
  // engine's start and the caller (a restart test reads the last-known status at once).
  if (!listen) await app.ready();
  await deps.engine.start();
  try {
    if (listen) await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await deps.engine.stop().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw err;
  }
  let url: string | null = null;
  if (listen) {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    url = `http://${host}:${port}${config.basePath}`;
  }
  let closing: Promise<void> | null = null;
  return {
    app,
    url,
    close() {
      closing ??= (async () => {
        // In-flight requests get a grace period; then lingering sockets (idle pre-connects,
        // keep-alives a client never closes) are cut so shutdown cannot hang.
        const grace = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          await app.close();
        } finally {
          clearTimeout(grace);
        }
        await deps.engine.stop();
      })();
      return closing;
    },
  };
}
