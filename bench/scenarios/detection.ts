// Runs inside a private network namespace (bench/detection.ts starts it through runInNetns).
// N simulated Plex servers, each with a local and a remote route on its own loopback addresses
// (127.1.i.2 and 127.1.i.3), all monitored by Marquee with the default settings. Once every source
// is connected, each server gets the fault at a random moment within one base tick (so the trials
// sample every phase of the check schedule), and we record the time from its fault to the first
// engine event that reports the source as no longer connected. With `push`, the PushSupervisor keeps
// one push channel per source (default 1 s ping, 2 s pong timeout), as the engine does.
//   crash  the simulator's server crash: listeners closed, open connections reset
//   cut    nft drop of every packet to and from both of the server's addresses (pulled cable)
//   hang   both routes stop answering, connections stay open (the simulator's `hang` fault)
import { createBackends } from '../../src/backends/index.js';
import type { EngineEvent, Source } from '../../src/core/types.js';
import { ConnectionMonitor } from '../../src/monitor/connection-monitor.js';
import { combineListeners, type MonitorListener } from '../../src/monitor/monitor-listener.js';
import { PushSupervisor } from '../../src/monitor/push-supervisor.js';
import { createSimulation } from '../../sim/index.js';
import { runScenario } from '../../test/support/net/netns.js';
import { cleanup, drop } from '../../test/support/net/nft.js';

export type DetectionFault = 'crash' | 'cut' | 'hang';

export interface DetectionArgs {
  fault: DetectionFault;
  sources: number;
  /** Faults are spread uniformly over [0, spreadMs) after all sources are connected. */
  spreadMs: number;
  /** Give up on a source this long after its fault. */
  limitMs: number;
  /** Keep push channels open (PushSupervisor, issue 6); false measures polling alone. */
  push: boolean;
}

export interface DetectionOutput {
  fault: DetectionFault;
  /** Milliseconds from fault to the first "not connected" event, per detected source. */
  samples: number[];
  undetected: number;
  firstEventTypes: Record<string, number>;
  baseTickMs: number;
  probeTimeoutMs: number;
  /** Sources whose push channel was open when the faults started. */
  pushOpen: number;
  /** Milliseconds from fault to the push channel leaving `open` (push runs only): where the time goes. */
  pushLostSamples: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

runScenario<DetectionArgs, DetectionOutput>(async ({ fault, sources: count, spreadMs, limitMs, push }) => {
  const sim = await createSimulation({
    servers: Array.from({ length: count }, (_, i) => ({
      id: `det-${i}`,
      kind: 'plex' as const,
      name: `Detection Plex ${i}`,
      routes: [
        { id: `det-${i}-local`, kind: 'local' as const, host: `127.1.${i}.2` },
        { id: `det-${i}-remote`, kind: 'remote' as const, host: `127.1.${i}.3` },
      ],
    })),
  });
  const { backends, close: closeBackends } = createBackends({ clientIdentifier: 'marquee-bench-detection', plexTvUrl: sim.plexTvUrl });

  const faultAt = new Map<string, number>();
  const detectedAt = new Map<string, { at: number; type: string }>();
  const connected = new Set<string>();
  const pushLostAt = new Map<string, number>();
  const getCredentials = (sourceId: string) => ({ token: sim.plexTv.serverToken(sourceId) });
  const sourcesById = new Map<string, Source>();
  const monitor = new ConnectionMonitor({
    getBackend: (kind) => backends[kind],
    getCredentials,
  });
  const supervisor = push
    ? new PushSupervisor({
        monitor,
        getSource: (id) => sourcesById.get(id),
        getBackend: (kind) => backends[kind],
        getCredentials,
        onPushState(sourceId, state) {
          const injected = faultAt.get(sourceId);
          if (injected !== undefined && state !== 'open' && !pushLostAt.has(sourceId)) pushLostAt.set(sourceId, performance.now());
        },
      })
    : null;
  const recorder: MonitorListener = {
      onEvents(sourceId, events: readonly EngineEvent[], state) {
        const now = performance.now();
        if (state.status.state === 'connected') connected.add(sourceId);
        const injected = faultAt.get(sourceId);
        if (injected === undefined || detectedAt.has(sourceId)) return;
        if (state.status.state !== 'connected' && state.status.state !== 'sync_failed') {
          detectedAt.set(sourceId, { at: now, type: events[0]?.type ?? 'unknown' });
        }
      },
  };
  monitor.setListener(supervisor ? combineListeners(recorder, supervisor.listener()) : recorder);
  try {
    for (const server of sim.servers) {
      const source: Source = {
        id: server.id,
        name: server.name,
        kind: 'plex',
        serverId: server.machineId,
        routes: server.routes.map((r, priority) => ({ id: r.id, url: r.url, kind: r.kind, priority })),
        credentialRef: server.id,
        monitoring: {},
        createdAt: Date.now(),
      };
      sourcesById.set(source.id, source);
      monitor.addSource(source);
    }
    supervisor?.start();
    monitor.start();
    const connectDeadline = performance.now() + 20_000;
    while (connected.size < count && performance.now() < connectDeadline) await sleep(20);
    if (connected.size < count) throw new Error(`only ${connected.size}/${count} sources connected`);
    // Let the first full checks' follow-ups (libraries, push channels) settle into the steady schedule.
    const settleDeadline = performance.now() + 10_000;
    const openChannels = () => sim.servers.filter((s) => supervisor?.getPushState(s.id) === 'open').length;
    while (supervisor && openChannels() < count && performance.now() < settleDeadline) await sleep(20);
    await sleep(500);
    const pushOpen = supervisor ? openChannels() : 0;

    const injections = sim.servers.map(async (server, i) => {
      await sleep(Math.random() * spreadMs);
      // Marked before the fault is applied, so an event that beats the fault call's return still counts.
      faultAt.set(server.id, performance.now());
      if (fault === 'crash') await sim.server(server.id).fault({ mode: 'crash' });
      else if (fault === 'hang') await Promise.all(server.routes.map((r) => sim.route(r.id).fault({ mode: 'hang' })));
      else {
        drop(`127.1.${i}.2`);
        drop(`127.1.${i}.3`);
      }
    });
    await Promise.all(injections);
    const deadline = performance.now() + limitMs;
    while (detectedAt.size < count && performance.now() < deadline) await sleep(20);

    const samples: number[] = [];
    const firstEventTypes: Record<string, number> = {};
    for (const [id, detected] of detectedAt) {
      samples.push(detected.at - faultAt.get(id)!);
      firstEventTypes[detected.type] = (firstEventTypes[detected.type] ?? 0) + 1;
    }
    return {
      fault,
      samples,
      undetected: count - detectedAt.size,
      firstEventTypes,
      baseTickMs: monitor.settings.baseTickMs,
      probeTimeoutMs: monitor.settings.probeTimeoutMs,
      pushOpen,
      pushLostSamples: [...pushLostAt].map(([id, at]) => at - faultAt.get(id)!),
    };
  } finally {
    supervisor?.stop();
    await monitor.stop();
    await closeBackends();
    cleanup();
    await sim.close();
  }
});
