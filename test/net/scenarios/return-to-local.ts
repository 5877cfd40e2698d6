// Runs inside a private network namespace (test/net/return-to-local.test.ts, bench/return.ts).
// Back to the best route (issue 13 item 2) with real packet faults: one engine (MarqueeEngine, the
// default monitor and push settings unless overridden) watches the simulated Plex and Jellyfin
// servers. Their local route — the one in use — goes down (Plex: nft drop, a pulled cable;
// Jellyfin: nft TCP reset, a dead host) until both sources are on remote, then flaps at 1 Hz
// (down 500 ms, up 500 ms) for `flapMs`, then stays up. Recorded: every engine event, when the
// flap ended, and when each source came back to local. The caller judges.
import type { MonitorSettingsInput } from '../../../src/core/settings.js';
import { DEFAULT_MONITOR_SETTINGS } from '../../../src/core/settings.js';
import type { EngineEvent, SourceKind } from '../../../src/core/types.js';
import { DEFAULT_PUSH_SETTINGS } from '../../../src/monitor/push-supervisor.js';
import { EngineHarness, SIM_ROUTES } from '../../support/engine-harness.js';
import { sleep, waitAtMost } from '../../support/wait.js';
import { runScenario } from '../../support/net/netns.js';
import { cleanup, clear, drop, reset } from '../../support/net/nft.js';

export interface ReturnArgs {
  /** Before the flap, local stays down this long (default 0): the cost of a dead preferred route. */
  deadMs?: number;
  flapMs: number;
  /** After the flap, wait at most this long for both sources to be back on local. */
  limitMs: number;
  settings?: MonitorSettingsInput;
}

export interface ReturnSourceResult {
  kind: SourceKind;
  sourceId: string;
  /** Milliseconds from the end of the flap (local up for good) to ConnectionChanged → local; null: not within the limit. */
  backAfterMs: number | null;
  /** Milliseconds from local's last failed or late (> 150 ms) probe to that return. */
  backAfterLastBadProbeMs: number | null;
  /** ConnectionChanged events to local while local was flapping. */
  returnsWhileFlapping: number;
  /** Probes of local during the flap, and how many answered (context: the flap was real). */
  localProbes: number;
  localAnswers: number;
  /** Requests to local per second over the second half of the dead period (null without one). */
  deadRatePerS: number | null;
  /** Latencies (ms) of local's answers during the flap, and the codes of its failures. */
  answerLatencies: number[];
  failureCodes: Record<string, number>;
}

export interface ReturnResult {
  flapStartedAt: number;
  flapEndedAt: number;
  sources: ReturnSourceResult[];
  events: EngineEvent[];
}

const KINDS: SourceKind[] = ['plex', 'jellyfin'];

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

runScenario<ReturnArgs, ReturnResult>(async ({ deadMs = 0, flapMs, limitMs, settings }) => {
  const h = await EngineHarness.start({ settings: { ...DEFAULT_MONITOR_SETTINGS, ...settings }, push: DEFAULT_PUSH_SETTINGS });
  try {
    await h.waitForSteadyState(20_000);
    const local = {
      plex: { ...hostPort(h.sim.route(SIM_ROUTES.plexLocal).url), fault: 'drop' as const },
      jellyfin: { ...hostPort(h.sim.route(SIM_ROUTES.jellyfinLocal).url), fault: 'reset' as const },
    };
    const setUp = (up: boolean) => {
      for (const kind of KINDS) {
        const f = local[kind];
        if (up) clear(f.host, f.port);
        else if (f.fault === 'drop') drop(f.host, f.port);
        else reset(f.host, f.port);
      }
    };
    const mark = h.mark();
    setUp(false);
    for (const kind of KINDS) await h.waitForView(kind, 'on remote after local went down', (v) => v.status === 'connected' && v.route?.kind === 'remote', 15_000);

    const deadFrom = Date.now();
    await sleep(deadMs);
    const flapStartedAt = Date.now();
    let due = flapStartedAt;
    for (let up = true; due - flapStartedAt < flapMs; up = !up) {
      setUp(up);
      due += 500;
      await sleep(Math.max(0, due - Date.now()));
    }
    setUp(true);
    const flapEndedAt = Date.now();
    const backAt = (kind: SourceKind) =>
      h.eventsOf(kind, 'ConnectionChanged', mark).find((e) => e.routeKind === 'local' && e.receivedAt >= flapEndedAt)?.receivedAt ?? null;
    await waitAtMost(() => KINDS.every((k) => backAt(k) !== null), limitMs);

    const events = h.events(mark).map(({ seq: _seq, receivedAt: _receivedAt, ...event }) => event);
    return {
      flapStartedAt,
      flapEndedAt,
      events,
      sources: KINDS.map((kind) => {
        const localId = h.routeId(kind, kind === 'plex' ? SIM_ROUTES.plexLocal : SIM_ROUTES.jellyfinLocal);
        const deadHalf = deadFrom + deadMs / 2;
        const deadProbes = h.probes.filter((p) => p.result.routeId === localId && p.receivedAt >= deadHalf && p.receivedAt < flapStartedAt).length;
        const during = h.probes.filter((p) => p.result.routeId === localId && p.receivedAt >= flapStartedAt && p.receivedAt < flapEndedAt);
        const back = backAt(kind);
        const bad = h.probes.filter((p) => p.result.routeId === localId && (!p.result.ok || p.result.latencyMs > 150) && (back === null || p.receivedAt < back));
        const lastBadAt = bad.at(-1)?.receivedAt ?? null;
        return {
          kind,
          sourceId: h.sourceId(kind),
          backAfterMs: back === null ? null : back - flapEndedAt,
          backAfterLastBadProbeMs: back === null || lastBadAt === null ? null : back - lastBadAt,
          returnsWhileFlapping: h.eventsOf(kind, 'ConnectionChanged', mark).filter((e) => e.routeKind === 'local' && e.receivedAt >= flapStartedAt && e.receivedAt < flapEndedAt).length,
          localProbes: during.length,
          localAnswers: during.filter((p) => p.result.ok).length,
          deadRatePerS: deadMs > 0 ? deadProbes / ((flapStartedAt - deadHalf) / 1000) : null,
          answerLatencies: during.filter((p) => p.result.ok).map((p) => p.result.latencyMs),
          failureCodes: during.reduce<Record<string, number>>((codes, p) => {
            if (!p.result.ok) codes[p.result.error.code] = (codes[p.result.error.code] ?? 0) + 1;
            return codes;
          }, {}),
        };
      }),
    };
  } finally {
    cleanup();
    await h.close();
  }
});
