// Runs inside a private network namespace (bench/detection.ts starts it through runInNetns).
// N simulated Plex servers, each with a local and a remote route on its own loopback addresses
// (127.1.i.2 and 127.1.i.3), all watched by Marquee (startRuntime through test/support/start.ts, no
// port: MarqueeEngine with monitor and push channels, SQLite store in a temp dir, real backends)
// with the default settings. Once every source
// is connected, each server gets the fault at a random moment within one base tick (so the trials
// sample every phase of the check schedule), and we record the time from its fault to the first
// engine event on the stream that reports the source as no longer connected.
//   crash  the simulator's server crash: listeners closed, open connections reset
//   cut    nft drop of every packet to and from both of the server's addresses (pulled cable)
//   hang   both routes stop answering, connections stay open (the simulator's `hang` fault)
import type { EngineEvent } from '../../src/core/types.js';
import type { EngineStreamMessage } from '../../src/monitor/engine-types.js';
import { createSimulation } from '../../sim/index.js';
import { runScenario } from '../../test/support/net/netns.js';
import { cleanup, drop } from '../../test/support/net/nft.js';
import { startTestRuntime } from '../../test/support/start.js';
import { sleep, waitAtMost, waitUntil } from '../../test/support/wait.js';

export type DetectionFault = 'crash' | 'cut' | 'hang';

export interface DetectionArgs {
  fault: DetectionFault;
  sources: number;
  /** Faults are spread uniformly over [0, spreadMs) after all sources are connected. */
  spreadMs: number;
  /** Give up on a source this long after its fault. */
  limitMs: number;
  /** Push channels on (the engine's default) or off: polling alone, the reference. */
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

/** True when the event says the source is not (or no longer) connected. */
function reportsLoss(event: EngineEvent): boolean {
  if (event.type === 'ConnectionLost' || event.type === 'Reconnecting') return true;
  return event.type === 'StatusChanged' && event.status.state !== 'connected' && event.status.state !== 'sync_failed';
}

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

  // Engine source id -> sim server id, and the measurements keyed by engine source id.
  const simIdOf = new Map<string, string>();
  const faultAt = new Map<string, number>();
  const detectedAt = new Map<string, { at: number; type: string }>();
  const pushLostAt = new Map<string, number>();
  const record = (message: EngineStreamMessage) => {
    const now = performance.now();
    if (message.type === 'source') {
      const id = message.source.source.id;
      if (faultAt.has(id) && message.source.push !== 'open' && !pushLostAt.has(id)) pushLostAt.set(id, now);
      return;
    }
    if (message.type !== 'engine') return;
    const { event } = message.message;
    const id = event.sourceId;
    if (message.message.source && faultAt.has(id) && message.message.source.push !== 'open' && !pushLostAt.has(id)) pushLostAt.set(id, now);
    if (faultAt.has(id) && !detectedAt.has(id) && reportsLoss(event)) detectedAt.set(id, { at: now, type: event.type });
  };
  const runtime = await startTestRuntime({ plexTvUrl: sim.plexTvUrl, push: { enabled: push }, onMessage: record }).catch(async (error: unknown) => {
    await sim.close();
    throw error;
  });
  const engine = runtime.engine;
  try {
    for (const server of sim.servers) {
      const added = engine.addSource({
        name: server.name,
        kind: 'plex',
        serverId: server.machineId,
        routes: server.routes.map((r, priority) => ({ url: r.url, kind: r.kind, priority })),
        credentials: { token: sim.plexTv.serverToken(server.id) },
      });
      simIdOf.set(added.source.id, server.id);
    }
    const ids = [...simIdOf.keys()];
    const connectedCount = () => engine.listSources().filter((s) => s.status.state === 'connected').length;
    await waitUntil(() => connectedCount() === count, { what: 'every source connected', timeoutMs: 20_000, intervalMs: 20, detail: () => `only ${connectedCount()}/${count} sources connected` });
    const openCount = () => ids.filter((id) => engine.pushState(id) === 'open').length;
    if (push) await waitAtMost(() => openCount() === count, 10_000);
    await sleep(500); // let follow-ups (libraries) settle into the steady schedule
    const pushOpen = push ? openCount() : 0;

    await Promise.all(
      ids.map(async (id) => {
        const simId = simIdOf.get(id)!;
        const index = Number(simId.slice('det-'.length));
        await sleep(Math.random() * spreadMs);
        // Marked before the fault is applied, so an event that beats the fault call's return still counts.
        faultAt.set(id, performance.now());
        if (fault === 'crash') await sim.server(simId).fault({ mode: 'crash' });
        else if (fault === 'hang') await Promise.all([`${simId}-local`, `${simId}-remote`].map((r) => sim.route(r).fault({ mode: 'hang' })));
        else {
          drop(`127.1.${index}.2`);
          drop(`127.1.${index}.3`);
        }
      }),
    );
    await waitAtMost(() => detectedAt.size === count, limitMs);

    const samples: number[] = [];
    const firstEventTypes: Record<string, number> = {};
    for (const [id, detected] of detectedAt) {
      samples.push(detected.at - faultAt.get(id)!);
      firstEventTypes[detected.type] = (firstEventTypes[detected.type] ?? 0) + 1;
    }
    const settings = runtime.config.monitor;
    return {
      fault,
      samples,
      undetected: count - detectedAt.size,
      firstEventTypes,
      baseTickMs: settings.baseTickMs,
      probeTimeoutMs: settings.probeTimeoutMs,
      pushOpen,
      pushLostSamples: [...pushLostAt].map(([id, at]) => at - faultAt.get(id)!),
    };
  } finally {
    await runtime.close();
    cleanup();
    await sim.close();
  }
});
