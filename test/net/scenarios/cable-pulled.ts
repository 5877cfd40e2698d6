// Runs inside a private network namespace (see test/net/cable-pulled.test.ts).
// One simulated Plex server, "Living-room Plex", with a local route (127.0.0.2) and a remote route
// (127.0.0.3). Marquee's ConnectionService (with the real Plex backend) selects local over a
// kept-alive connection; then the cable to local is pulled (nft drop of every packet to and from
// 127.0.0.2:port) and we record what Marquee sees: a new selection returns remote without waiting
// for the silent local route, and the local probe — sent on the kept-alive connection — ends at
// the probe timeout. With fault "reset" (dead host) the local probe must fail at once instead.
import { Agent, buildConnector } from 'undici';
import { HttpClient } from '../../../src/backends/http.js';
import { PlexBackend } from '../../../src/backends/plex/backend.js';
import type { BackendTarget, Credentials } from '../../../src/backends/types.js';
import type { ProbeResult, Route } from '../../../src/core/types.js';
import { realClock } from '../../../src/monitor/clock.js';
import { ConnectionService } from '../../../src/monitor/connection-service.js';
import { createSimulation } from '../../../sim/index.js';
import { runScenario } from '../../support/net/netns.js';
import { cleanup, drop, listTable, reset } from '../../support/net/nft.js';
import { sleep } from '../../support/wait.js';

interface Args {
  probeTimeoutMs: number;
  graceMs: number;
  /** drop: pulled cable (silence); reset: dead host (TCP resets). */
  fault: 'drop' | 'reset';
}

/** What the test needs from a Selection (the settled promise cannot cross the process boundary). */
function summary(selection: { chosen: { routeId: string } | null; results: ProbeResult[]; elapsedMs: number }) {
  return { chosenRouteId: selection.chosen?.routeId ?? null, results: selection.results, elapsedMs: selection.elapsedMs };
}

runScenario<Args, unknown>(async ({ probeTimeoutMs, graceMs, fault }) => {
  const sim = await createSimulation({
    servers: [
      {
        id: 'living-room',
        kind: 'plex',
        name: 'Living-room Plex',
        routes: [
          { id: 'lr-local', kind: 'local', host: '127.0.0.2' },
          { id: 'lr-remote', kind: 'remote', host: '127.0.0.3' },
        ],
      },
    ],
  });
  // Count TCP connections Marquee opens, to show the post-cut probe rode the kept-alive one.
  const connector = buildConnector({});
  const opened: string[] = [];
  const dispatcher = new Agent({
    keepAliveTimeout: 60_000,
    connect: (options, callback) => {
      opened.push(`${options.hostname}:${options.port}`);
      return connector(options, callback);
    },
  });
  const http = new HttpClient({ dispatcher });
  try {
    const info = sim.servers[0]!;
    const routes: Route[] = info.routes.map((r, i) => ({ id: r.id, url: r.url, kind: r.kind, priority: i }));
    const local = routes.find((r) => r.kind === 'local')!;
    const remote = routes.find((r) => r.kind === 'remote')!;
    const target: BackendTarget = { kind: 'plex', serverId: info.machineId };
    const credentials: Credentials = { token: sim.plexTv.serverToken('living-room') };
    const plex = new PlexBackend({ http, clientIdentifier: 'marquee-net-test' });
    const probe = async (route: Route): Promise<ProbeResult & { elapsedMs: number }> => {
      const started = performance.now();
      const result = await plex.probe(target, route, credentials, { timeoutMs: probeTimeoutMs });
      return { ...result, elapsedMs: performance.now() - started };
    };

    // A few probes with a pause between them, so the pool settles on its kept-alive connection(s).
    const localBefore: Array<ProbeResult & { elapsedMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      localBefore.push(await probe(local));
      await sleep(20);
    }
    const service = new ConnectionService({ clock: realClock });
    const source = { kind: 'plex' as const, serverId: info.machineId, routes };
    const selectOptions = { timeoutMs: probeTimeoutMs, graceMs };
    const before = await service.select(source, plex, credentials, selectOptions);
    await before.settled;
    await sleep(20);
    const connectionsToLocalBefore = opened.filter((o) => o.startsWith('127.0.0.2:')).length;

    const localPort = Number(new URL(local.url).port);
    if (fault === 'drop') drop('127.0.0.2', localPort);
    else reset('127.0.0.2', localPort);
    const table = listTable();

    const after = await service.select(source, plex, credentials, selectOptions);
    const settledStarted = performance.now();
    const settledAfter = await after.settled;
    // Decision time plus the wait for the stragglers: when the last probe (local) gave up.
    const localSettledMs = after.elapsedMs + (performance.now() - settledStarted);
    const connectionsToLocalAfter = opened.filter((o) => o.startsWith('127.0.0.2:')).length;
    // And remote keeps answering on its own.
    const remoteAfter = await probe(remote);

    const routeIds = { local: local.id, remote: remote.id };
    cleanup();
    return {
      routeIds,
      localBefore,
      before: summary(before),
      connectionsToLocalBefore,
      table,
      after: summary(after),
      settledAfter,
      localSettledMs,
      connectionsToLocalAfter,
      remoteAfter,
    };
  } finally {
    await http.close();
    await sim.close();
  }
});
