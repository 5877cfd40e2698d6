// The settings file reaches the engine: `push.enabled: false` in it means every demo source is
// polled (push "off"), and the monitor settings from it are the ones the engine runs with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { createMetrics } from '../server/metrics.js';
import { waitAtMost } from '../../test/support/wait.js';
import { toApiSource } from '../server/views.js';
import { startRuntime } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'marquee-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function demoSources(settings: object) {
  const file = join(dir, `settings-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(settings));
  const config = loadConfig(['--data-dir', join(dir, 'data'), '--settings', file], {});
  const runtime = await startRuntime(config, { demo: true, listen: false, metrics: createMetrics(), logger: createLogger({ level: 'silent' }) });
  // The demo never uses the configured data dir: it names the fresh one it really uses.
  expect(runtime.dataDir).not.toBe(config.dataDir);
  expect(runtime.dataDir).toContain('marquee-demo-');
  try {
    const settled = () => {
      const sources = runtime.engine.listSources().map(toApiSource);
      return sources.length > 0 && sources.every((s) => s.status === 'connected' && (s.push === 'open' || s.push === 'off'));
    };
    // Running out of time is not the failure here: the test then says which source is not as expected.
    await waitAtMost(settled, 15_000, 100);
    return runtime.engine.listSources().map(toApiSource);
  } finally {
    await runtime.close();
  }
}

describe('startRuntime with a settings file', () => {
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
