// Runs inside a private network namespace (see test/net/flapping.test.ts).
// One engine (MarqueeEngine, default monitor and push settings) watches the simulated Plex server
// (local 127.0.0.2, remote 127.0.0.3, relay 127.0.0.4) and the simulated Jellyfin server (local
// 127.0.0.6, remote 127.0.0.7). The current route of each — its local one — flaps for 60 s: down
// for 500 ms, up for 500 ms (once a second), with holds of 6 s down and 6 s up in between so there
// are periods long enough for "the status is right within 3 s" to be judged. Plex's local route
// flaps as a pulled cable (nft drop: silence), Jellyfin's as a dead host (nft reject with TCP reset).
// The other routes stay up. The scenario only records: the fault schedule as applied, the engine's
// view sampled every 100 ms, every stream event and the stored history; the test judges.
import { DEFAULT_MONITOR_SETTINGS } from '../../../src/core/settings.js';
import type { EngineEvent, SourceKind } from '../../../src/core/types.js';
import { DEFAULT_PUSH_SETTINGS } from '../../../src/monitor/push-supervisor.js';
import type { StoredHistoryEntry } from '../../../src/store/index.js';
import { EngineHarness, SIM_ROUTES } from '../../support/engine-harness.js';
import { sleep } from '../../support/wait.js';
import { runScenario } from '../../support/net/netns.js';
import { cleanup, clear, drop, reset } from '../../support/net/nft.js';

export interface FlappingArgs {
  /** Segments of the schedule: the flapping route is up or down for `ms`. */
  schedule: Array<{ up: boolean; ms: number }>;
  /** After the schedule (route up), keep recording this long. */
  settleMs: number;
  sampleEveryMs: number;
}

export interface FlapSample {
  at: number;
  state: string;
  routeKind: string | null;
}

export interface FlappingSourceResult {
  kind: SourceKind;
  sourceId: string;
  fault: 'drop' | 'reset';
  /** When the flapping route went down or up (wall-clock ms, taken right after the nft change). */
  truth: Array<{ at: number; up: boolean }>;
  samples: FlapSample[];
  history: StoredHistoryEntry[];
}

export interface FlappingResult {
  startedAt: number;
  endedAt: number;
  sources: FlappingSourceResult[];
  /** Every engine event of both sources, in stream order. */
  events: EngineEvent[];
  /** Number of probes per route id during the run (context for failures). */
  probesPerRoute: Record<string, number>;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

runScenario<FlappingArgs, FlappingResult>(async ({ schedule, settleMs, sampleEveryMs }) => {
  // The defaults a user runs with, not the harness's short test settings.
  const h = await EngineHarness.start({ settings: DEFAULT_MONITOR_SETTINGS, push: DEFAULT_PUSH_SETTINGS });
  try {
    await h.waitForSteadyState(20_000);
    const flapping = {
      plex: { ...hostPort(h.sim.route(SIM_ROUTES.plexLocal).url), fault: 'drop' as const },
      jellyfin: { ...hostPort(h.sim.route(SIM_ROUTES.jellyfinLocal).url), fault: 'reset' as const },
    };
    const kinds: SourceKind[] = ['plex', 'jellyfin'];
    const truth: Record<SourceKind, Array<{ at: number; up: boolean }>> = { plex: [], jellyfin: [] };
    const samples: Record<SourceKind, FlapSample[]> = { plex: [], jellyfin: [] };
    const setUp = (up: boolean) => {
      for (const kind of kinds) {
        const f = flapping[kind];
        if (up) clear(f.host, f.port);
        else if (f.fault === 'drop') drop(f.host, f.port);
        else reset(f.host, f.port);
        truth[kind].push({ at: Date.now(), up });
      }
    };
    const mark = h.mark();
    const startedAt = Date.now();
    for (const kind of kinds) truth[kind].push({ at: startedAt, up: true });
    const sampler = setInterval(() => {
      const at = Date.now();
      for (const kind of kinds) {
        const v = h.view(kind);
        samples[kind].push({ at, state: v.status, routeKind: v.route?.kind ?? null });
      }
    }, sampleEveryMs);

    // Segment ends are absolute, so the schedule does not drift with the time nft takes.
    let due = startedAt;
    let current = true;
    for (const segment of schedule) {
      if (segment.up !== current) {
        setUp(segment.up);
        current = segment.up;
      }
      due += segment.ms;
      await sleep(Math.max(0, due - Date.now()));
    }
    if (!current) setUp(true);
    await sleep(settleMs);
    clearInterval(sampler);
    const endedAt = Date.now();

    const events = h.events(mark).map(({ seq: _seq, receivedAt: _receivedAt, ...event }) => event);
    const probesPerRoute: Record<string, number> = {};
    for (const p of h.probes) if (p.receivedAt >= startedAt) probesPerRoute[p.result.routeId] = (probesPerRoute[p.result.routeId] ?? 0) + 1;
    return {
      startedAt,
      endedAt,
      events,
      probesPerRoute,
      sources: kinds.map((kind) => ({
        kind,
        sourceId: h.sourceId(kind),
        fault: flapping[kind].fault,
        truth: truth[kind],
        samples: samples[kind],
        history: h.history(kind).filter((e) => e.at >= startedAt),
      })),
    };
  } finally {
    cleanup();
    await h.close();
  }
});
