import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';
import { makeScaleConfig } from './scale.js';

// The 10,000-server run belongs to the bench; 300 servers prove the mechanism here.
describe('scale config', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await createSimulation(makeScaleConfig(300));
  });
  afterAll(() => sim.close());

  it('gives every route of every server its own listening address', async () => {
    const routes = sim.servers.flatMap((s) => s.routes);
    expect(sim.servers).toHaveLength(300);
    expect(routes.length).toBeGreaterThanOrEqual(900);
    expect(new Set(routes.map((r) => r.url)).size).toBe(routes.length);
    const states = (await (await fetch(`${sim.controlUrl}/routes`)).json()) as { listening: boolean }[];
    expect(states.filter((r) => r.listening)).toHaveLength(routes.length + 1);
  });

  it('answers on a sample of routes with the right identity', async () => {
    const sample = sim.servers.filter((_, i) => i % 23 === 0);
    for (const server of sample) {
      for (const route of server.routes) {
        const path = server.kind === 'plex' ? '/identity' : '/System/Info/Public';
        const body = (await (await fetch(`${route.url}${path}`, { headers: { Accept: 'application/json' } })).json()) as { MediaContainer: { machineIdentifier: string }; Id: string };
        expect(server.kind === 'plex' ? body.MediaContainer.machineIdentifier : body.Id).toBe(server.machineId);
      }
    }
  });

  it('lists every Plex server in plex.tv resources', async () => {
    const res = await fetch(`${sim.plexTvUrl}/api/v2/resources?includeRelay=1&X-Plex-Token=${sim.plexTv.accountToken()}`, { headers: { Accept: 'application/json' } });
    const devices = (await res.json()) as { connections: unknown[] }[];
    expect(devices).toHaveLength(sim.servers.filter((s) => s.kind === 'plex').length);
    expect(devices.every((d) => d.connections.length === 3)).toBe(true);
  });
});
