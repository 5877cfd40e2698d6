// Runs inside a private network namespace (see test/net/cable-pulled.test.ts).
// One simulated Plex server, "Living-room Plex", with a local route (127.0.0.2) and a remote route
// (127.0.0.3). Marquee's Plex backend probes local over a kept-alive connection; then the cable to
// local is pulled (nft drop of every packet to and from 127.0.0.2:port) and we record what
// Marquee sees: the probe on the kept-alive connection must end at the timeout, remote must still
// answer, and no new connection is needed to notice.
import { Agent, buildConnector } from 'undici';
import { HttpClient } from '../../../src/backends/http.js';
import { PlexBackend } from '../../../src/backends/plex/backend.js';
import type { BackendTarget, Credentials } from '../../../src/backends/types.js';
import type { ProbeResult, Route } from '../../../src/core/types.js';
import { createSimulation } from '../../../sim/index.js';
import { runScenario } from '../../support/net/netns.js';
import { cleanup, drop, listTable } from '../../support/net/nft.js';

interface Args {
  probeTimeoutMs: number;
}

runScenario<Args, unknown>(async ({ probeTimeoutMs }) => {
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
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const connectionsToLocalBefore = opened.filter((o) => o.startsWith('127.0.0.2:')).length;

    const localPort = Number(new URL(local.url).port);
    drop('127.0.0.2', localPort);
    const table = listTable();

    const [localAfter, remoteAfter] = await Promise.all([probe(local), probe(remote)]);
    const connectionsToLocalAfter = opened.filter((o) => o.startsWith('127.0.0.2:')).length;

    cleanup();
    return { localBefore, connectionsToLocalBefore, table, localAfter, remoteAfter, connectionsToLocalAfter };
  } finally {
    await http.close();
    await sim.close();
  }
});
