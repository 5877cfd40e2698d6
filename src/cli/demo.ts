// Demo mode: the bundled simulators (sim/example.json) stand in for real servers, their sources
// are added through the same sign-in flows a user would go through, and the demo panel drives
// their faults. Loaded only by `marquee demo`, so `serve` never touches sim/.
import { fileURLToPath } from 'node:url';
import type { Backends } from '../backends/index.js';
import type { PlexSignIn } from '../backends/types.js';
import type { MarqueeEngine } from '../monitor/engine.js';
import type { ApiDemoRoute } from '../api/types.js';
import type { DemoControl } from '../server/demo-control.js';
import { createSimulation, loadSimConfig, ROUTE_FAULT_MODES, SERVER_FAULT_MODES, type RouteFaultMode, type ServerFaultMode, type Simulation } from '../../sim/index.js';

const DEMO_PIN_APPROVAL_MS = 4_000;

export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../sim/example.json', import.meta.url));

export interface DemoSimulation {
  plexTvUrl: string;
  simulation: Simulation;
  addSources(engine: MarqueeEngine, backends: Backends): Promise<DemoControl>;
  /** There is no Plex app to approve a PIN in the demo: the simulated user approves it after a few seconds. */
  autoApprovingPlexSignIn(signIn: PlexSignIn): PlexSignIn;
  close(): Promise<void>;
}

export async function startDemoSimulation(configPath = EXAMPLE_CONFIG): Promise<DemoSimulation> {
  const simulation = await createSimulation(loadSimConfig(configPath));
  return {
    plexTvUrl: simulation.plexTvUrl,
    simulation,
    addSources: (engine, backends) => addDemoSources(simulation, engine, backends),
    close: () => simulation.close(),
    autoApprovingPlexSignIn: (signIn) => ({
      createPin: async () => {
        const pin = await signIn.createPin();
        simulation.plexTv.approvePin(pin.id, undefined, DEMO_PIN_APPROVAL_MS);
        return pin;
      },
      checkPin: (id) => signIn.checkPin(id),
      listServers: (token) => signIn.listServers(token),
    }),
  };
}

async function addDemoSources(sim: Simulation, engine: MarqueeEngine, backends: Backends): Promise<DemoControl> {
  // source id -> simulated server id
  const serverOf = new Map<string, string>();
  const plexServers = await backends.plexSignIn.listServers(sim.plexTv.accountToken());
  for (const found of plexServers) {
    const simServer = sim.servers.find((s) => s.kind === 'plex' && s.machineId === found.serverId);
    if (!simServer) continue;
    const added = engine.addSource({ name: found.name, kind: 'plex', serverId: found.serverId, routes: found.routes, credentials: found.credentials });
    serverOf.set(added.source.id, simServer.id);
  }
  for (const simServer of sim.servers.filter((s) => s.kind === 'jellyfin')) {
    const user = sim.jellyfin(simServer.id).user();
    const first = simServer.routes[0]!;
    const result = await backends.jellyfinSignIn.signInByName(first.url, user.name, user.password);
    // The demo knows every route of its simulated server; a real user adds the URLs they use.
    const routes = simServer.routes.map((r, i) => ({ url: r.url, kind: r.kind, priority: i }));
    const added = engine.addSource({ name: result.serverName, kind: 'jellyfin', serverId: result.serverId, routes, credentials: result.credentials });
    serverOf.set(added.source.id, simServer.id);
  }

  const routeOwner = (routeId: string) => {
    for (const { source } of engine.listSources()) {
      const route = source.routes.find((r) => r.id === routeId);
      if (route) return { source, route };
    }
    return null;
  };
  const simRouteFor = (url: string) => sim.servers.flatMap((s) => s.routes).find((r) => sameOrigin(r.url, url));

  return {
    async listRoutes() {
      const out: ApiDemoRoute[] = [];
      for (const { source } of engine.listSources()) {
        for (const route of source.routes) {
          if (simRouteFor(route.url)) out.push({ id: route.id, sourceId: source.id, serverName: source.name, kind: route.kind, url: route.url });
        }
      }
      return out;
    },
    routeModes: () => ROUTE_FAULT_MODES,
    serverModes: () => SERVER_FAULT_MODES,
    async setRouteFault(routeId, mode) {
      const owner = routeOwner(routeId);
      const simRoute = owner ? simRouteFor(owner.route.url) : undefined;
      if (!simRoute || !(ROUTE_FAULT_MODES as readonly string[]).includes(mode)) return false;
      const fault = mode === 'slow' ? { mode: 'slow' as const, delayMs: 3_000 } : mode === 'flap' ? { mode: 'flap' as const, periodMs: 5_000 } : { mode: mode as RouteFaultMode };
      await sim.route(simRoute.id).fault(fault);
      return true;
    },
    async setServerFault(sourceId, mode) {
      const simId = serverOf.get(sourceId);
      if (!simId || !(SERVER_FAULT_MODES as readonly string[]).includes(mode)) return false;
      await sim.server(simId).fault({ mode: mode as ServerFaultMode });
      return true;
    },
  };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
