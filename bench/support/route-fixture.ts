// One simulated Jellyfin server (sim/) reachable by three routes: local (127.0.0.2) answers,
// remote (127.0.0.3) and relay (127.0.0.4) are put in the simulator's `hang` fault (they accept
// connections and never answer). close() removes everything it started.
import { createSimulation, type Simulation } from '../../sim/index.js';

export interface RouteFixture {
  sim: Simulation;
  /** The simulator's server id (for sim handles). */
  simServerId: string;
  /** Jellyfin server Id (32 hex) the answering server must present. */
  serverId: string;
  urls: { local: string; remote: string; relay: string };
  routeIds: { local: string; remote: string; relay: string };
  /** A user token minted as a sign-in would, for contenders that probe with auth. */
  token: string;
  userId: string;
  close(): Promise<void>;
}

export async function startRouteFixture(): Promise<RouteFixture> {
  const sim = await createSimulation({
    servers: [
      {
        id: 'bench-jf',
        kind: 'jellyfin',
        name: 'Bench Jellyfin',
        routes: [
          { id: 'bench-local', kind: 'local', host: '127.0.0.2' },
          { id: 'bench-remote', kind: 'remote', host: '127.0.0.3' },
          { id: 'bench-relay', kind: 'relay', host: '127.0.0.4' },
        ],
      },
    ],
  });
  try {
    await sim.route('bench-remote').fault({ mode: 'hang' });
    await sim.route('bench-relay').fault({ mode: 'hang' });
    const info = sim.servers.find((s) => s.id === 'bench-jf')!;
    const url = (id: string) => info.routes.find((r) => r.id === id)!.url.replace(/\/+$/, '');
    const jf = sim.jellyfin('bench-jf');
    return {
      sim,
      simServerId: 'bench-jf',
      serverId: info.machineId,
      urls: { local: url('bench-local'), remote: url('bench-remote'), relay: url('bench-relay') },
      routeIds: { local: 'bench-local', remote: 'bench-remote', relay: 'bench-relay' },
      token: jf.issueToken(undefined, 'marquee-bench-device'),
      userId: jf.user().id,
      close: () => sim.close(),
    };
  } catch (error) {
    await sim.close();
    throw error;
  }
}
