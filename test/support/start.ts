// Marquee for a test or a benchmark: the real runtime (startRuntime in src/cli/runtime.ts, what
// `marquee serve` runs) with test defaults filled in — a fresh temporary data dir (removed on
// close), 127.0.0.1 port 0, silent logs, metrics without the process collectors, no network-change
// watcher, and no port unless asked (`listen: true`; the app still answers `app.inject`). Every
// part stays overridable (see RuntimeParts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime, type Runtime, type RuntimeParts } from '../../src/cli/runtime.js';
import { loadConfig, type AppConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';

export interface TestRuntimeOptions extends RuntimeParts {
  /** More command-line flags for the config (e.g. `['--settings', file]`). */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Hands close() to a teardown hook (vitest's `afterAll`, `onTestFinished`, …); else the caller closes. */
  closeOn?: (close: () => Promise<void>) => void;
}

export interface TestRuntime extends Runtime {
  config: AppConfig;
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const { args = [], env = {}, closeOn, ...parts } = options;
  const ownDir = parts.dataDir ? null : mkdtempSync(join(tmpdir(), 'marquee-test-'));
  const dataDir = parts.dataDir ?? join(ownDir!, 'data');
  const removeDir = () => {
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  };
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent', ...args], env);
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config, {
      logger: createLogger({ level: config.logLevel }),
      metrics: createMetrics({ defaultMetrics: false }),
      watchNetwork: false,
      listen: false,
      ...parts,
      dataDir,
    });
  } catch (error) {
    removeDir();
    throw error;
  }
  const close = async () => {
    try {
      await runtime.close();
    } finally {
      removeDir();
    }
  };
  closeOn?.(close);
  return { ...runtime, config, close };
}
