// Builds what the server needs: the store, the backends, the engine and, in demo mode, the
// simulators with their servers already added. One place wires the parts by hand.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackends } from '../backends/index.js';
import type { JellyfinSignIn, PlexSignIn } from '../backends/types.js';
import type { MonitorSettingsInput } from '../core/settings.js';
import { MarqueeEngine } from '../monitor/engine.js';
import type { Engine } from '../monitor/engine-types.js';
import type { AppConfig } from '../server/config.js';
import type { DemoControl } from '../server/demo-control.js';
import type { Logger } from '../server/logger.js';
import type { Metrics } from '../server/metrics.js';
import { openDatabase } from '../store/index.js';

export interface RuntimeOptions {
  /** `marquee demo`: start the simulators from sim/example.json and add their servers. */
  demo: boolean;
  /** Call metrics.observeProbe(...) for every probe the monitor makes. */
  metrics: Metrics;
  logger: Logger;
  /** Overrides of the monitoring defaults (tests, bench). */
  monitor?: MonitorSettingsInput;
}

export interface Runtime {
  /** The data dir in use: the demo's fresh temporary one, else config.dataDir (for the start log). */
  dataDir: string;
  engine: Engine;
  plexSignIn: PlexSignIn;
  jellyfinSignIn: JellyfinSignIn;
  /** Present in demo mode only. */
  demo?: DemoControl;
  /** Closes what the runtime opened (database, simulators). The server stops the engine first. */
  close(): Promise<void>;
}

export async function createRuntime(config: AppConfig, options: RuntimeOptions): Promise<Runtime> {
  const { logger } = options;
  // The demo runs on a fresh data dir every time: the simulators' ports change between runs.
  const demoDir = options.demo ? mkdtempSync(join(tmpdir(), 'marquee-demo-')) : null;
  const dataDir = demoDir ?? config.dataDir;
  const store = openDatabase({ dataDir, lockDataDir: true, logger: logger.child({ component: 'store' }) });
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const demo = options.demo ? await (await import('./demo.js')).startDemoSimulation() : null;
    if (demo) closers.push(() => demo.close());
    const clientIdentifier = store.settings.getOrCreate('clientIdentifier', () => randomUUID());
    const backends = createBackends({ clientIdentifier, plexTvUrl: demo?.plexTvUrl ?? config.plexTvUrl });
    closers.push(() => backends.close());
    const engine = new MarqueeEngine({
      store,
      backends: backends.backends,
      settings: options.monitor ?? config.monitor,
      push: config.push,
      logger: logger.child({ component: 'engine' }),
      onProbe: (source, result) => {
        const route = source.routes.find((r) => r.id === result.routeId);
        if (route) options.metrics.observeProbe(source.kind, route.kind, result.ok ? 'ok' : result.error.code, result.latencyMs);
      },
    });
    const demoControl = demo ? await demo.addSources(engine, backends) : undefined;
    return {
      dataDir,
      engine,
      plexSignIn: demo ? demo.autoApprovingPlexSignIn(backends.plexSignIn) : backends.plexSignIn,
      jellyfinSignIn: backends.jellyfinSignIn,
      ...(demoControl ? { demo: demoControl } : {}),
      async close() {
        for (const close of closers.reverse()) await close();
        store.close();
        if (demoDir) rmSync(demoDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close();
    store.close();
    if (demoDir) rmSync(demoDir, { recursive: true, force: true });
    throw error;
  }
}
