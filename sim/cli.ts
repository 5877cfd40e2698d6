// `npm run sim -- --config FILE [--scale N]`: starts the simulators, prints ONE line of JSON
// (control URL, plex.tv URL, servers and their route URLs) and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { loadSimConfig } from './config.js';
import { startCluster } from './cluster.js';
import { raiseFdLimit } from './fd-limit.js';
import { makeScaleConfig } from './scale.js';
import { createSimulation } from './simulation.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      scale: { type: 'string' },
      'max-routes-per-process': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.config && !values.scale)) {
    process.stderr.write('usage: npm run sim -- --config sim/example.json\n       npm run sim -- --scale 10000   (N servers x 3 routes)\n       [--max-routes-per-process N]   (default: fd limit - 4096; more routes are sharded over child processes)\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const config = values.config ? loadSimConfig(values.config) : makeScaleConfig(Number(values.scale));
  const routeCount = (config.servers ?? []).reduce((n, s) => n + s.routes.length, 0);
  // Each route is one listening socket; keep headroom for accepted connections.
  const limit = raiseFdLimit(routeCount + 4096) ?? 20_000;
  const maxRoutes = values['max-routes-per-process'] ? Number(values['max-routes-per-process']) : Math.max(1000, limit - 4096);
  const sim = routeCount > maxRoutes ? await startCluster(config, maxRoutes) : await createSimulation(config);
  process.stdout.write(`${JSON.stringify({ control: sim.controlUrl, plexTv: sim.plexTvUrl, servers: sim.servers })}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim: ${(err as Error).message}\n`);
  process.exit(1);
});
