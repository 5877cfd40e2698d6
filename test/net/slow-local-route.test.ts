// A slow local route, made slow by the latency proxy (this kernel has no netem): Marquee's
// ConnectionService with the real Plex backend keeps local when it answers within the grace period
// after remote, and moves to remote — without waiting for local — when local is slower than that.
// Loopback only, random ports; no packet rules, so no namespace is needed.
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/backends/http.js';
import { PlexBackend } from '../../src/backends/plex/backend.js';
import type { Route } from '../../src/core/types.js';
import { realClock } from '../../src/monitor/clock.js';
import { ConnectionService } from '../../src/monitor/connection-service.js';
import { createSimulation, type Simulation } from '../../sim/index.js';
import { startLatencyProxy, type LatencyProxy } from '../support/net/latency-proxy.js';

const GRACE_MS = 250;
const TIMEOUT_MS = 3_000;

let sim: Simulation | undefined;
let proxy: LatencyProxy | undefined;
let http: HttpClient | undefined;
afterEach(async () => {
  await http?.close();
  await proxy?.close();
  await sim?.close();
  sim = proxy = http = undefined;
});

async function setup(oneWayLatencyMs: number) {
  sim = await createSimulation({
    servers: [
      {
        id: 'den',
        kind: 'plex',
        name: 'Den Plex',
        routes: [
          { id: 'den-local', kind: 'local', host: '127.0.0.2' },
          { id: 'den-remote', kind: 'remote', host: '127.0.0.3' },
        ],
      },
    ],
  });
  const info = sim.servers[0]!;
  const localUrl = new URL(info.routes.find((r) => r.kind === 'local')!.url);
  proxy = await startLatencyProxy({ listenHost: '127.0.0.5', targetHost: localUrl.hostname, targetPort: Number(localUrl.port), latencyMs: oneWayLatencyMs });
  const routes: Route[] = [
    { id: 'den-local', url: proxy.url, kind: 'local', priority: 0 },
    { id: 'den-remote', url: info.routes.find((r) => r.kind === 'remote')!.url, kind: 'remote', priority: 0 },
  ];
  http = new HttpClient();
  const plex = new PlexBackend({ http, clientIdentifier: 'marquee-net-test' });
  const service = new ConnectionService({ clock: realClock });
  const select = () =>
    service.select({ kind: 'plex', serverId: info.machineId, routes }, plex, { token: sim!.plexTv.serverToken('den') }, { timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS });
  return { select, proxy };
}

describe('slow local route (latency proxy)', () => {
  it('keeps local when it answers within the grace period after remote', async () => {
    const { select } = await setup(20);
    const selection = await select();
    expect(selection.chosen?.routeId).toBe('den-local');
    // Local went through the proxy: at least one delayed request and one delayed answer.
    expect(selection.chosen!.latencyMs).toBeGreaterThanOrEqual(2 * 20 - 5);
  });

  it('moves to remote when local is slower than the grace period, and records local later', async () => {
    const { select } = await setup(400);
    const selection = await select();
    expect(selection.chosen?.routeId).toBe('den-remote');
    // Decided at the end of the grace period, not when the slow local answered (≥ 800 ms).
    expect(selection.elapsedMs).toBeLessThan(2 * 400);
    expect(selection.results.map((r) => r.routeId)).not.toContain('den-local');
    const settled = await selection.settled;
    const local = settled.find((r) => r.routeId === 'den-local')!;
    expect(local.ok).toBe(true);
    expect(local.latencyMs).toBeGreaterThanOrEqual(2 * 400 - 5);
  });
});
