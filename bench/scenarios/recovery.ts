// Runs inside a private network namespace (bench/recovery.ts starts it through runInNetns).
// N simulated servers (Plex and Jellyfin alternating), each with a local and a remote route on its
// own loopback addresses (127.2.i.2, 127.2.i.3), all watched by Marquee (startRuntime through
// test/support/start.ts, no port: one MarqueeEngine with push channels, SQLite store in a temp dir,
// real backends) with the given monitor settings. Once every source is
// connected with its push channel open, each server crashes at a random moment within `spreadMs`
// (connections reset, then every route refuses: a dead server), stays down for `outageMs`, and is
// brought back up. Per source we record:
//   - the time from the restore to the engine's ConnectionRestored event, and
//   - every probe the engine sent to the dead server during the outage (the engine's onProbe: one
//     HTTP request per probe; push channels are only opened while connected, so nothing else is
//     sent), as a rate per route over the whole outage and over its second half (once the backoff
//     has grown).
import type { RouteCandidate } from '../../src/backends/types.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import { createSimulation, type SimConfig } from '../../sim/index.js';
import { runScenario } from '../../test/support/net/netns.js';
import { startTestRuntime } from '../../test/support/start.js';
import { sleep, waitAtMost, waitUntil } from '../../test/support/wait.js';

export interface RecoveryArgs {
  sources: number;
  outageMs: number;
  /** Crashes are spread uniformly over [0, spreadMs) so restores land at every backoff phase. */
  spreadMs: number;
  /** Give up waiting for ConnectionRestored this long after a restore. */
  limitMs: number;
  settings: MonitorSettingsInput;
}

export interface RecoveryOutput {
  /** Milliseconds from restore to ConnectionRestored, per restored source. */
  samples: number[];
  notRestored: number;
  /** Requests per second per route sent to the dead server, over the whole outage, per source. */
  ratePerRoute: number[];
  /** The same over the second half of the outage (the backoff has grown). */
  lateRatePerRoute: number[];
  /** Route-seconds observed and probes counted, summed over the sources, for pooled rates. */
  pooled: { whole: { probes: number; routeSeconds: number }; late: { probes: number; routeSeconds: number } };
  /** Total probes sent during outages, and their kinds of failure (sanity: refused). */
  probesDuringOutage: number;
  errorCodes: Record<string, number>;
  kinds: Record<string, number>;
}

const USER = { name: 'bench', password: 'bench-password' };

runScenario<RecoveryArgs, RecoveryOutput>(async ({ sources: count, outageMs, spreadMs, limitMs, settings }) => {
  const config: SimConfig = {
    servers: Array.from({ length: count }, (_, i) => {
      const routes = [
        { id: `rec-${i}-local`, kind: 'local' as const, host: `127.2.${i}.2` },
        { id: `rec-${i}-remote`, kind: 'remote' as const, host: `127.2.${i}.3` },
      ];
      return i % 2 === 0
        ? { id: `rec-${i}`, kind: 'plex' as const, name: `Recovery Plex ${i}`, routes }
        : { id: `rec-${i}`, kind: 'jellyfin' as const, name: `Recovery Jellyfin ${i}`, routes, users: [{ ...USER, admin: true, disabled: false }] };
    }),
  };
  const sim = await createSimulation(config);
  const probes: Array<{ sourceId: string; at: number; ok: boolean; code?: string }> = [];
  const simIdOf = new Map<string, string>();
  const restoredAt = new Map<string, number>();
  const restoreAt = new Map<string, number>();
  const runtime = await startTestRuntime({
    plexTvUrl: sim.plexTvUrl,
    monitor: settings,
    onProbe: (source, result) => probes.push({ sourceId: source.id, at: performance.now(), ok: result.ok, ...(result.ok ? {} : { code: result.error.code }) }),
    onMessage: (message) => {
      if (message.type !== 'engine') return;
      const { event } = message.message;
      if (event.type === 'ConnectionRestored' && restoreAt.has(event.sourceId) && !restoredAt.has(event.sourceId)) restoredAt.set(event.sourceId, performance.now());
    },
  }).catch(async (error: unknown) => {
    await sim.close();
    throw error;
  });
  const { engine, backends } = runtime;
  try {
    const kinds: Record<string, number> = {};
    for (const server of sim.servers) {
      const routes: RouteCandidate[] = server.routes.map((r, priority) => ({ url: r.url, kind: r.kind, priority }));
      kinds[server.kind] = (kinds[server.kind] ?? 0) + 1;
      if (server.kind === 'plex') {
        const added = engine.addSource({ name: server.name, kind: 'plex', serverId: server.machineId, routes, credentials: { token: sim.plexTv.serverToken(server.id) } });
        simIdOf.set(added.source.id, server.id);
      } else {
        const signedIn = await backends.jellyfinSignIn.signInByName(routes[0]!.url, USER.name, USER.password);
        const added = engine.addSource({ name: signedIn.serverName, kind: 'jellyfin', serverId: signedIn.serverId, routes, credentials: signedIn.credentials });
        simIdOf.set(added.source.id, server.id);
      }
    }
    const ids = [...simIdOf.keys()];
    const connected = () => engine.listSources().filter((s) => s.status.state === 'connected' && s.push === 'open').length;
    await waitUntil(() => connected() === count, { what: 'every source connected with push open', timeoutMs: 30_000, intervalMs: 20, detail: () => `only ${connected()}/${count} sources connected with push open` });
    await sleep(500);

    const faultAt = new Map<string, number>();
    await Promise.all(
      ids.map(async (id) => {
        const simId = simIdOf.get(id)!;
        await sleep(Math.random() * spreadMs);
        faultAt.set(id, performance.now());
        await sim.server(simId).fault({ mode: 'crash' });
        const upDue = faultAt.get(id)! + outageMs;
        await sleep(Math.max(0, upDue - performance.now()));
        // Marked before the restore is applied, so an event that beats the call's return still counts.
        restoreAt.set(id, performance.now());
        await sim.server(simId).fault({ mode: 'up' });
      }),
    );
    await waitAtMost(() => restoredAt.size === count, limitMs);

    const samples: number[] = [];
    for (const [id, at] of restoredAt) samples.push(at - restoreAt.get(id)!);
    const ratePerRoute: number[] = [];
    const lateRatePerRoute: number[] = [];
    const errorCodes: Record<string, number> = {};
    let probesDuringOutage = 0;
    const pooled = { whole: { probes: 0, routeSeconds: 0 }, late: { probes: 0, routeSeconds: 0 } };
    for (const id of ids) {
      const from = faultAt.get(id)!;
      const to = restoreAt.get(id)!;
      const during = probes.filter((p) => p.sourceId === id && p.at > from && p.at <= to);
      probesDuringOutage += during.length;
      for (const p of during) if (!p.ok) errorCodes[p.code ?? '?'] = (errorCodes[p.code ?? '?'] ?? 0) + 1;
      const routes = 2;
      ratePerRoute.push(during.length / ((to - from) / 1000) / routes);
      const half = (from + to) / 2;
      const late = during.filter((p) => p.at > half).length;
      lateRatePerRoute.push(late / ((to - half) / 1000) / routes);
      pooled.whole.probes += during.length;
      pooled.whole.routeSeconds += ((to - from) / 1000) * routes;
      pooled.late.probes += late;
      pooled.late.routeSeconds += ((to - half) / 1000) * routes;
    }
    return { samples, notRestored: count - restoredAt.size, ratePerRoute, lateRatePerRoute, pooled, probesDuringOutage, errorCodes, kinds };
  } finally {
    await runtime.close();
    await sim.close();
  }
});
