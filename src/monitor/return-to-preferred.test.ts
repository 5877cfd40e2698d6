// Back to the best route by itself, without flapping (issue 13 item 2): the monitor with the
// default settings on a fake clock, a scripted backend per route.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_SETTINGS } from '../core/settings.js';
import type { EngineEvent, ProbeResult, Route, Source } from '../core/types.js';
import { ConnectionMonitor, type ConnectionMonitorOptions } from './connection-monitor.js';
import { FakeClock, seededRandom } from '../../test/support/fake-clock.js';
import { ScriptedBackend } from '../../test/support/scripted-backend.js';

function makeSource(id: string): Source {
  const routes: Route[] = [
    { id: `${id}-local`, url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 },
    { id: `${id}-remote`, url: 'http://127.0.0.3:32400', kind: 'remote', priority: 0 },
  ];
  return { id, name: `Plex ${id}`, kind: 'plex', serverId: 'a'.repeat(40), routes, credentialRef: id, monitoring: {}, createdAt: 0 };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function setup(ids: string[], options: Partial<ConnectionMonitorOptions> = {}) {
  const clock = new FakeClock();
  const backend = new ScriptedBackend(clock);
  const events: EngineEvent[] = [];
  const probes: Array<{ sourceId: string; result: ProbeResult; check: string; at: number }> = [];
  const monitor = new ConnectionMonitor({
    clock,
    random: seededRandom(13),
    getBackend: () => backend,
    getCredentials: () => ({ token: 'tok-0123456789abcdef' }),
    listener: {
      onEvents: (_id, e) => events.push(...e),
      onProbe: (sourceId, result, info) => probes.push({ sourceId, result, check: info.check, at: clock.now() }),
    },
    ...options,
  });
  for (const id of ids) monitor.addSource(makeSource(id));
  monitor.start();
  stops.push(() => monitor.stop());
  const returnsToLocal = (sourceId: string) => events.filter((e) => e.sourceId === sourceId && e.type === 'ConnectionChanged' && e.routeKind === 'local' && e.previousRouteKind === 'remote');
  return { clock, backend, monitor, events, probes, returnsToLocal, t0: clock.now() };
}

/** Script the route to answer and fail alternately every 500 ms (1 Hz) for `ms`, then stay up. */
function flap(ctx: ReturnType<typeof setup>, routeId: string, ms: number): void {
  let up = false;
  ctx.backend.route(routeId, { answer: 'refused' });
  for (let at = 500; at < ms; at += 500) {
    ctx.clock.setTimeout(() => {
      up = !up;
      ctx.backend.route(routeId, up ? { answer: 'ok', delayMs: 3 } : { answer: 'refused' });
    }, at);
  }
  ctx.clock.setTimeout(() => ctx.backend.route(routeId, { answer: 'ok', delayMs: 3 }), ms);
}

describe('back to the best route (fake clock, default settings)', () => {
  it('local restored and stable: back on local after the hold-down window, by itself — not at the next re-selection', async () => {
    const ctx = setup(['a']);
    ctx.backend.route('a-local', { answer: 'refused' });
    await ctx.clock.advance(30_000);
    expect(ctx.monitor.getStatus('a')).toMatchObject({ state: 'connected', routeKind: 'remote' });
    const restoredAt = ctx.clock.now();
    ctx.backend.route('a-local', { answer: 'ok', delayMs: 3 });
    // Step in 100 ms so the moment of return is known to a tenth of a second.
    while (ctx.returnsToLocal('a').length === 0 && ctx.clock.now() - restoredAt < 120_000) await ctx.clock.advance(100);
    const took = ctx.clock.now() - restoredAt;
    expect(ctx.monitor.getStatus('a')).toMatchObject({ state: 'connected', routeKind: 'local' });
    // At least the hold-down window, at most one retry delay (4.5 s) + the window + one check cadence.
    expect(took).toBeGreaterThanOrEqual(DEFAULT_MONITOR_SETTINGS.returnHoldMs);
    expect(took).toBeLessThanOrEqual(DEFAULT_MONITOR_SETTINGS.backoff.recentCapMs + DEFAULT_MONITOR_SETTINGS.returnHoldMs + 1.25 * DEFAULT_MONITOR_SETTINGS.returnCheckMs + 500);
    // Every answer in the window was a return check of local; none changed the status on its own.
    const windowProbes = ctx.probes.filter((p) => p.check === 'return' && p.at >= restoredAt);
    expect(windowProbes.length).toBeGreaterThanOrEqual(DEFAULT_MONITOR_SETTINGS.returnMinSuccesses);
    expect(windowProbes.every((p) => p.result.routeId === 'a-local')).toBe(true);
    // On local now: nothing left on probation, no more return checks.
    const after = ctx.probes.length;
    await ctx.clock.advance(60_000);
    expect(ctx.probes.slice(after).filter((p) => p.check === 'return')).toEqual([]);
  });

  it('local flapping at 1 Hz for 2 min: no return to it (also not at the full re-selections), then back once it is stable', async () => {
    const ctx = setup(['a']);
    await ctx.clock.advance(1_000);
    expect(ctx.monitor.getStatus('a')).toMatchObject({ routeKind: 'local' });
    ctx.backend.route('a-local', { answer: 'refused' });
    await ctx.clock.advance(11_000); // the light check fails: on remote
    expect(ctx.monitor.getStatus('a')).toMatchObject({ state: 'connected', routeKind: 'remote' });
    const flapFrom = ctx.clock.now();
    flap(ctx, 'a-local', 120_000);
    // Full re-selections while local is in its up half (as a user's "check now" or a push loss would run them).
    for (let at = 10_600; at < 120_000; at += 10_000) ctx.clock.setTimeout(() => ctx.monitor.checkNow('a'), at);
    await ctx.clock.advance(120_000);
    expect(ctx.returnsToLocal('a')).toEqual([]);
    expect(ctx.monitor.getStatus('a')).toMatchObject({ state: 'connected', routeKind: 'remote' });
    // Not vacuous: local was probed throughout and answered about half the time, full checks ran too.
    const localProbes = ctx.probes.filter((p) => p.result.routeId === 'a-local' && p.at >= flapFrom && p.at < flapFrom + 120_000);
    expect(localProbes.filter((p) => p.result.ok).length).toBeGreaterThan(10);
    expect(localProbes.filter((p) => !p.result.ok).length).toBeGreaterThan(10);
    expect(localProbes.filter((p) => p.check === 'full' && p.result.ok).length).toBeGreaterThanOrEqual(10);
    // Stable from now on: back within the window plus a check or two.
    await ctx.clock.advance(30_000);
    expect(ctx.returnsToLocal('a')).toHaveLength(1);
    expect(ctx.monitor.getStatus('a')).toMatchObject({ state: 'connected', routeKind: 'local' });
  });

  it('a dead preferred route is re-checked no more often than a dead route is retried (≤ 1 per 4.05 s, then ≤ 1 per 27 s)', async () => {
    const ctx = setup(['a']);
    ctx.backend.route('a-local', { answer: 'refused' });
    await ctx.clock.advance(1_000);
    expect(ctx.monitor.getStatus('a')).toMatchObject({ routeKind: 'remote' });
    const from = ctx.clock.now();
    await ctx.clock.advance(20 * 60_000);
    const b = DEFAULT_MONITOR_SETTINGS.backoff;
    const toLocal = (lo: number, hi: number) => ctx.probes.filter((p) => p.result.routeId === 'a-local' && p.at >= from + lo && p.at < from + hi);
    // Return checks only (full re-selections of remote every 120 s probe local too: counted separately).
    const returnChecks = (lo: number, hi: number) => toLocal(lo, hi).filter((p) => p.check === 'return').length;
    const fullChecks = (lo: number, hi: number) => toLocal(lo, hi).filter((p) => p.check === 'full').length;
    // Minutes 1–10: the recent cap, like retries of a dead route.
    expect(returnChecks(60_000, 600_000)).toBeLessThanOrEqual(Math.ceil(540_000 / (b.recentCapMs * (1 - b.capJitter))) + 1);
    expect(returnChecks(60_000, 600_000)).toBeGreaterThan(540_000 / b.recentCapMs - 2);
    // After 10 minutes: the long cap.
    expect(returnChecks(11 * 60_000, 20 * 60_000)).toBeLessThanOrEqual(Math.ceil(540_000 / (b.capMs * (1 - b.capJitter))) + 1);
    expect(fullChecks(60_000, 20 * 60_000)).toBeLessThanOrEqual(Math.ceil((19 * 60_000) / DEFAULT_MONITOR_SETTINGS.reselectMs.remote) + 1);
    expect(ctx.returnsToLocal('a')).toEqual([]);
  });

  it('install-wide budget: 100 sources on probation make at most maxReturnChecksPerS return checks per second', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `s${i}`);
    const ctx = setup(ids, { settings: { maxReturnChecksPerS: 5, returnHoldMs: 3_600_000 } });
    for (const id of ids) ctx.backend.route(`${id}-local`, { answer: 'refused' });
    await ctx.clock.advance(2_000);
    expect(ids.every((id) => ctx.monitor.getStatus(id)?.state === 'connected')).toBe(true);
    for (const id of ids) ctx.backend.route(`${id}-local`, { answer: 'ok', delayMs: 3 });
    const from = ctx.clock.now() + 30_000; // past the first checks, which were planned before the floor grew
    await ctx.clock.advance(150_000);
    const checks = ctx.probes.filter((p) => p.check === 'return' && p.at >= from && p.at < from + 120_000).length;
    expect(checks).toBeLessThanOrEqual(5 * 120 * 1.05);
    expect(checks).toBeGreaterThan(5 * 120 * 0.5);
  });
});
