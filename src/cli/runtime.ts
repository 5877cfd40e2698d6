// PLACEHOLDER owned by the lead: builds the store, backends, monitor and (in demo mode) the
// simulators, and returns what the server needs. Replace the body; keep the signature.
import type { JellyfinSignIn, PlexSignIn } from '../backends/types.js';
import type { Engine } from '../monitor/engine-types.js';
import type { AppConfig } from '../server/config.js';
import type { DemoControl } from '../server/demo-control.js';
import type { Logger } from '../server/logger.js';
import type { Metrics } from '../server/metrics.js';

export interface RuntimeOptions {
  /** `marquee demo`: start the simulators from sim/example.json and add their servers. */
  demo: boolean;
  /** Call metrics.observeProbe(...) for every probe the monitor makes. */
  metrics: Metrics;
  logger: Logger;
}

export interface Runtime {
  engine: Engine;
  plexSignIn: PlexSignIn;
  jellyfinSignIn: JellyfinSignIn;
  /** Present in demo mode only. */
  demo?: DemoControl;
  /** Closes what the runtime opened (database, simulators). The server stops the engine first. */
  close(): Promise<void>;
}

export async function createRuntime(_config: AppConfig, _options: RuntimeOptions): Promise<Runtime> {
  throw new Error('not wired yet: src/cli/runtime.ts must build the engine, sign-in services and store');
}
