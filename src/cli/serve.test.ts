// `marquee serve` end to end in-process: runtime (faked) -> engine start -> listen -> SIGTERM ->
// server closed, engine stopped, runtime closed.
import { describe, expect, it, vi } from 'vitest';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn } from '../server/test-fakes.js';

const state = vi.hoisted(() => ({ runtimeClosed: 0, demoFlag: undefined as boolean | undefined, engine: null as FakeEngine | null }));

vi.mock('./runtime.js', () => ({
  createRuntime: async (_config: unknown, options: { demo: boolean }) => {
    state.demoFlag = options.demo;
    return {
      engine: state.engine,
      plexSignIn: new FakePlexSignIn(),
      jellyfinSignIn: new FakeJellyfinSignIn(),
      close: async () => {
        state.runtimeClosed += 1;
      },
    };
  },
}));

const { runCli } = await import('./cli.js');

describe('marquee serve', () => {
  it('starts the engine, serves, and shuts down in order on SIGTERM', async () => {
    const engine = new FakeEngine();
    state.engine = engine;
    let url = '';
    const io = { stdout: () => undefined, stderr: () => undefined, onListening: (u: string) => void (url = u) };
    {
      const running = runCli(['serve', '--port', '0', '--data-dir', '/tmp/marquee-serve-test'], { LOG_LEVEL: 'silent' }, io);
      const deadline = Date.now() + 5000;
      while (!url && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(engine.started).toBe(true);
      expect(state.demoFlag).toBe(false);
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
    const deadline = Date.now() + 5000;
    while (!url && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(url).not.toBe('');
    expect(state.demoFlag).toBe(true);
    process.emit('SIGINT', 'SIGINT');
    expect(await running).toBe(0);
    expect(state.runtimeClosed).toBe(1);
    expect(engine.started).toBe(false);
  });
});
