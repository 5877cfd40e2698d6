// Flapping at 1 Hz for 60 s (issue 7, real network faults), Plex and Jellyfin in one engine with
// the default settings, inside a private network namespace (test/net/scenarios/flapping.ts). The
// local route of each — the one in use — goes down and up once a second (Plex: nft drop, a pulled
// cable; Jellyfin: nft TCP reset, a dead host); the other routes stay up. Judged here:
//   - the status is right within 3 s: whenever the flapping route has stayed down for 3 s or more
//     (+1 s slack for a loaded machine; the exact figure is bench/detection's goal), the engine does
//     not claim to use it, and the source (reachable all along through its remote route) is never
//     shown as not connected for 3 s or more. (A 1 Hz flap is too fast for any status to be "right"
//     at each change, so the schedule holds the route down for 6 s twice, up for 6.5 s once.)
//   - at most one toast-worthy notification per source per minute: the event stream goes through
//     the UI's own toast wording (src/web/lib/notifications.ts) and damping (src/web/toast-policy.ts)
//     with `now` = the event's time, exactly as the browser decides;
//   - every transition is in the history: each StatusChanged event has its stored history row.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent, SourceStatus } from '../../src/core/types.js';
import { toastForEvent } from '../../src/web/lib/notifications.js';
import { createToastPolicy, decideToast } from '../../src/web/toast-policy.js';
import { runInNetns } from '../support/net/netns.js';
import type { FlappingArgs, FlappingResult, FlappingSourceResult } from './scenarios/flapping.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios', 'flapping.ts');

/** The issue's bound: the status is right within 3 s of a change. */
const LAG_MS = 3_000;
/**
 * Slack on that bound for a loaded two-core machine: the push channel's own budget (1 s ping +
 * 2 s pong timeout) is 3 s by design, so the exact 3 s figure is a benchmark goal (bench/detection:
 * cut network p95 ≤ 3 s); this test guards the behaviour with 1 s to spare.
 */
const SLACK_MS = 1_000;
const TOAST_WINDOW_MS = 60_000;
const HOLD_MS = 6_000;

/** Down 500 ms, up 500 ms, `cycles` times: 1 Hz. */
function flap(cycles: number): FlappingArgs['schedule'] {
  return Array.from({ length: cycles }, () => [
    { up: false, ms: 500 },
    { up: true, ms: 500 },
  ]).flat();
}

/** 60 s: flapping at 1 Hz, broken by holds long enough for the 3 s rule to be judged. */
const SCHEDULE: FlappingArgs['schedule'] = [
  ...flap(10),
  { up: false, ms: HOLD_MS },
  { up: true, ms: 500 },
  ...flap(9),
  { up: true, ms: HOLD_MS },
  ...flap(10),
  { up: false, ms: HOLD_MS },
  { up: true, ms: 500 },
  ...flap(8),
  { up: true, ms: 4_000 },
];

/** The flapping route's state during each maximal interval [from, to). */
function intervals(source: FlappingSourceResult, endedAt: number): Array<{ from: number; to: number; up: boolean }> {
  const out: Array<{ from: number; to: number; up: boolean }> = [];
  source.truth.forEach((t, i) => out.push({ from: t.at, to: source.truth[i + 1]?.at ?? endedAt, up: t.up }));
  return out;
}

/** True when the route had been down without a break for the whole of (at - lagMs, at]. */
function downLongerThan(spans: ReturnType<typeof intervals>, at: number, lagMs: number): boolean {
  const span = spans.find((s) => s.from <= at && at < s.to);
  return !!span && !span.up && at - span.from >= lagMs;
}

function routeKindOf(status: SourceStatus): string | null {
  if (status.state === 'connected' || status.state === 'sync_failed') return status.routeKind;
  if (status.state === 'reconnecting') return status.lastRouteKind ?? null;
  return null;
}

const connectedStates = new Set(['connected', 'sync_failed']);

describe('flapping at 1 Hz for 60 s, Plex and Jellyfin in one engine (nft in a private namespace, default settings)', () => {
  let r: FlappingResult;
  beforeAll(async () => {
    expect(SCHEDULE.reduce((sum, s) => sum + s.ms, 0)).toBe(60_000);
    r = await runInNetns<FlappingResult>(scenario, { schedule: SCHEDULE, settleMs: 4_000, sampleEveryMs: 100 } satisfies FlappingArgs, { timeoutMs: 130_000 });
  }, 150_000);

  /** Engine route changes of a source, for failure messages. */
  const timeline = (source: FlappingSourceResult) =>
    r.events
      .filter((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged' && e.sourceId === source.sourceId)
      .map((e) => `${((e.at - r.startedAt) / 1000).toFixed(2)} s ${e.status.state}/${routeKindOf(e.status) ?? '-'}`)
      .join(', ');

  it('the schedule really flapped: ≥ 60 changes per source, two long holds down, the view sampled throughout', () => {
    for (const source of r.sources) {
      const spans = intervals(source, r.endedAt);
      expect(source.truth.length, source.kind).toBeGreaterThan(60);
      // A hold's span is measured between the nft calls that started and ended it; on a loaded
      // machine one call can take several hundred ms longer than the other. Flap segments are 0.5 s,
      // so anything over 5 s is unmistakably one of the two 6 s holds.
      expect(spans.filter((s) => !s.up && s.to - s.from >= HOLD_MS - 1_000).length, source.kind).toBe(2);
      expect(source.samples.length, source.kind).toBeGreaterThan(500);
    }
  });

  it('status right within 3 s (+1 s slack): never on a route down that long, never shown lost while the remote route answers', () => {
    for (const source of r.sources) {
      const label = `${source.kind} (${source.fault}); route changes: ${timeline(source)}`;
      const spans = intervals(source, r.endedAt);
      // 1. Never claims the route it uses while that route has been down for longer than the bound.
      const wrongRoute = source.samples.filter(
        (s) => connectedStates.has(s.state) && s.routeKind === 'local' && downLongerThan(spans, s.at, LAG_MS + SLACK_MS),
      );
      expect(wrongRoute.map((s) => `${s.at - r.startedAt} ms: ${s.state} via local`), label).toEqual([]);
      // Not vacuous: in each long hold the engine left the dead local route (for remote).
      for (const hold of spans.filter((s) => !s.up && s.to - s.from >= HOLD_MS - 100)) {
        const inHold = source.samples.filter((s) => s.at >= hold.from + LAG_MS + SLACK_MS && s.at < hold.to);
        expect(inHold.length, label).toBeGreaterThan(5);
        expect(inHold.every((s) => s.state === 'connected' && s.routeKind === 'remote'), label).toBe(true);
      }
      // 2. Reachable all along (remote never flapped): never shown as not connected for 3 s or more.
      let outageStart: number | null = null;
      const longOutages: string[] = [];
      for (const s of source.samples) {
        if (!connectedStates.has(s.state)) outageStart ??= s.at;
        else outageStart = null;
        if (outageStart !== null && s.at - outageStart >= LAG_MS) longOutages.push(`${outageStart - r.startedAt} ms: ${s.state}`);
      }
      expect(longOutages, label).toEqual([]);
      expect(source.samples.at(-1)!.state, label).toBe('connected');
    }
  });

  it("at most one toast-worthy notification per source per minute (the UI's wording and damping, at the events' times)", () => {
    for (const source of r.sources) {
      let policy = createToastPolicy({ windowMs: TOAST_WINDOW_MS });
      // A toast-worthy notification is a NEW toast; rewriting the source's toast on screen in place
      // (its one slot, e.g. "now on a remote route" → "is unstable") is not another one.
      const created: Array<{ at: number; kind: string }> = [];
      const decisions: string[] = [];
      for (const event of r.events.filter((e) => e.sourceId === source.sourceId)) {
        const content = toastForEvent(event);
        if (!content) continue;
        const decided = decideToast(policy, source.sourceId, content.kind, event.at);
        policy = decided.state;
        const at = event.at - r.startedAt;
        const { decision } = decided;
        decisions.push(`${(at / 1000).toFixed(2)} s ${content.kind}: ${decision.show ? `${decision.replace ? 'rewrite' : 'NEW'} ${decision.kind}` : decision.why}`);
        if (decision.show && !decision.replace) created.push({ at, kind: decision.kind });
      }
      const label = `${source.kind} (${source.fault}): toast decisions ${decisions.join(', ')}; route changes: ${timeline(source)}`;
      // The move off the dead local route was worth telling.
      expect(created.length, label).toBeGreaterThanOrEqual(1);
      // At most one new toast in any window of a minute.
      for (let i = 1; i < created.length; i++) expect(created[i]!.at - created[i - 1]!.at, label).toBeGreaterThanOrEqual(TOAST_WINDOW_MS);
    }
  });

  it('every status transition is in the stored history, in order, with its time and route kind', () => {
    for (const source of r.sources) {
      const changes = r.events
        .filter((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged' && e.sourceId === source.sourceId)
        .map((e) => ({ at: e.at, state: e.status.state, routeKind: routeKindOf(e.status) }));
      const history = [...source.history].sort((a, b) => a.at - b.at || a.id - b.id).map((h) => ({ at: h.at, state: h.state, routeKind: h.routeKind }));
      expect(changes.length, source.kind).toBeGreaterThanOrEqual(1);
      expect(history, source.kind).toEqual(changes);
    }
  });
});
