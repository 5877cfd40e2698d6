// `marquee serve` end to end in-process: runtime (a fake engine behind the real HTTP server) ->
// engine start -> listen -> SIGTERM -> server closed, engine stopped, runtime closed.
import { describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../server/config.js';
import type { Engine } from '../monitor/engine-types.js';
import { startServer } from '../server/start.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn } from '../../test/support/server-fakes.js';
import { waitUntil } from '../../test/support/wait.js';
import type { RuntimeParts } from './runtime.js';
import type * as LoggerModule from '../server/logger.js';

const state = vi.hoisted(() => ({ runtimeClosed: 0, demoFlag: undefined as boolean | undefined, engine: null as FakeEngine | null, logLines: [] as string[] }));

/** The demo's own fresh data dir, as the real runtime makes one (marquee-demo-XXXX in the temp dir). */
const DEMO_DATA_DIR = '/tmp/marquee-demo-fake123';

vi.mock('./runtime.js', () => ({
  startRuntime: async (config: AppConfig, parts: RuntimeParts) => {
    state.demoFlag = parts.demo === true;
    const engine: Engine = state.engine!;
    const server = await startServer(config, { engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), ...(parts.logger ? { logger: parts.logger } : {}) });
    return {
      dataDir: parts.demo ? DEMO_DATA_DIR : config.dataDir,
      engine,
      app: server.app,
      url: server.url,
      close: async () => {
        await server.close();
        state.runtimeClosed += 1;
      },
    };
  },
}));

// The app's log lines, captured (the level asked for is kept for everything else).
vi.mock('../server/logger.js', async (importOriginal) => {
  const actual = await importOriginal<typeof LoggerModule>();
  return {
    ...actual,
    createLogger: (options: { level: string }) =>
      actual.createLogger({ ...options, level: 'info', destination: { write: (line: string) => void state.logLines.push(line) } } as never),
  };
});

const { runCli } = await import('./cli.js');

const listeningLine = () => state.logLines.map((line) => JSON.parse(line) as { msg: string; dataDir?: string }).find((entry) => entry.msg.startsWith('Marquee is listening on'));

describe('marquee serve', () => {
  it('starts the engine, serves, and shuts down in order on SIGTERM', async () => {
    const engine = new FakeEngine();
    state.engine = engine;
    let url = '';
    const io = { stdout: () => undefined, stderr: () => undefined, onListening: (u: string) => void (url = u) };
    {
      const running = runCli(['serve', '--port', '0', '--data-dir', '/tmp/marquee-serve-test'], { LOG_LEVEL: 'silent' }, io);
      await waitUntil(() => url, { what: 'serve to listen', timeoutMs: 5000, intervalMs: 10 });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(engine.started).toBe(true);
      expect(state.demoFlag).toBe(false);
      expect(listeningLine()?.dataDir).toBe('/tmp/marquee-serve-test');
      state.logLines.length = 0;
      const health = await fetch(`${url}healthz`);
      expect(health.status).toBe(200);

      process.emit('SIGTERM', 'SIGTERM');
      expect(await running).toBe(0);
      expect(engine.started).toBe(false);
      expect(state.runtimeClosed).toBe(1);
      await expect(fetch(`${url}healthz`)).rejects.toThrow();
    }
  });

  it('runs demo mode with the demo flag and stops on SIGINT', async () => {
    const engine = new FakeEngine();
    state.engine = engine;
    state.runtimeClosed = 0;
    let url = '';
    const io = { stdout: () => undefined, stderr: () => undefined, onListening: (u: string) => void (url = u) };
    const running = runCli(['demo', '--port', '0'], { LOG_LEVEL: 'silent' }, io);
    await waitUntil(() => url, { what: 'demo to listen', timeoutMs: 5000, intervalMs: 10 });
    expect(url).not.toBe('');
    expect(state.demoFlag).toBe(true);
    // The start log names the data dir the demo really uses, not ./data (which it never touches).
    expect(listeningLine()?.dataDir).toBe(DEMO_DATA_DIR);
    process.emit('SIGINT', 'SIGINT');
    expect(await running).toBe(0);
    expect(state.runtimeClosed).toBe(1);
    expect(engine.started).toBe(false);
  });
});
