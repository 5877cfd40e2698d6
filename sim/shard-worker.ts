// A child process of a sharded scale run: runs one slice of the servers and reports its URLs.
import { createSimulation, type Simulation } from './simulation.js';
import type { SimConfig } from './config.js';

let sim: Simulation | undefined;

function shutdown(): void {
  const closing = sim ? sim.close() : Promise.resolve();
  closing.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`sim shard: could not close its servers: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

process.on('message', (message: { config: SimConfig }) => {
  createSimulation(message.config).then(
    (created) => {
      sim = created;
      process.send?.({ controlUrl: created.controlUrl, servers: created.servers });
    },
    (err: unknown) => {
      process.send?.({ error: (err as Error).message });
      process.exit(1);
    },
  );
});
// The parent going away (or asking us to stop) ends the shard.
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => {});
