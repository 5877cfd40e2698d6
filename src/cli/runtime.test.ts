// The settings file reaches the engine: `push.enabled: false` in it means every demo source is
// polled (push "off"), and the monitor settings from it are the ones the engine runs with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { createMetrics } from '../server/metrics.js';
import { createRuntime } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'marquee-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function demoSources(settings: object) {
  const file = join(dir, `settings-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(settings));
  const config = loadConfig(['--data-dir', join(dir, 'data'), '--settings', file], {});
  const runtime = await createRuntime(config, { demo: true, metrics: createMetrics(), logger: createLogger({ level: 'silent' }) });
  // The demo never uses the configured data dir: it names the fresh one it really uses.
  expect(runtime.dataDir).not.toBe(config.dataDir);
  expect(runtime.dataDir).toContain('marquee-demo-');
  await runtime.engine.start();
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const sources = runtime.engine.listSources();
      const settled = sources.length > 0 && sources.every((s) => s.status === 'connected' && (s.push === 'open' || s.push === 'off'));
      if (settled || Date.now() > deadline) return sources;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await runtime.engine.stop();
    await runtime.close();
  }
}

describe('createRuntime with a settings file', () => {
  it('push disabled in the file: every source connected and polled, no channel opened', async () => {
    const sources = await demoSources({ push: { enabled: false } });
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(s).toMatchObject({ status: 'connected', push: 'off' });
  });

  it('push left on: the channels open', async () => {
    const sources = await demoSources({ monitor: { baseTickMs: 5_000 } });
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(s).toMatchObject({ status: 'connected', push: 'open' });
  });
});
