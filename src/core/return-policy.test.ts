// The return policy (back to the best route, issue 13 item 2): table tests and fast-check properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';
import {
  dueReturnChecks,
  heldRouteIds,
  initialReturnState,
  isStable,
  nextReturnCheckAt,
  observeReturnProbe,
  observeSelection,
  preferredRoutes,
  returnCheckFloorMs,
  shouldReturn,
  syncReturnState,
  type ReturnState,
} from './return-policy.js';
import { decideEarly, type Arrival } from './selection.js';
import { parseMonitorSettings } from './settings.js';
import { LOCAL, RELAY, REMOTE, ROUTES, T0 } from '../../test/support/core-fixtures.js';
import type { Route, SourceStatus } from './types.js';

const S = parseMonitorSettings();
const half = () => 0.5;
const on = (route: Route): SourceStatus => ({ state: 'connected', routeId: route.id, routeKind: route.kind, latencyMs: 10, since: T0 });

/** A source connected through `route` at T0, its better routes on probation. */
function probation(route: Route = REMOTE): ReturnState {
  return syncReturnState(initialReturnState(), ROUTES, on(route), T0, S, half);
}

describe('return policy: which routes are on probation', () => {
  it.each([
    { current: LOCAL, preferred: [] as Route[] },
    { current: REMOTE, preferred: [LOCAL] },
    { current: RELAY, preferred: [LOCAL, REMOTE] },
  ])('on $current.kind: the better routes are $preferred.length', ({ current, preferred }) => {
    expect(preferredRoutes(ROUTES, current.id)).toEqual(preferred);
    const state = probation(current);
    expect(Object.keys(state.windows).sort()).toEqual(preferred.map((r) => r.id).sort());
    // Every new window starts as a route that just failed: held, first check one retry away.
    for (const route of preferred) {
      expect(state.windows[route.id]).toMatchObject({ successes: 0, since: null, failures: 1, failingSince: T0 });
      expect(state.windows[route.id]!.dueAt).toBe(T0 + backoffDelayMs(1, 0.5, S.backoff, 0));
    }
    expect([...heldRouteIds(state, T0, S)].sort()).toEqual(preferred.map((r) => r.id).sort());
  });

  it.each<[string, SourceStatus]>([
    ['reconnecting', { state: 'reconnecting', attempt: 1, nextRetryAt: T0, since: T0 }],
    ['disconnected', { state: 'disconnected', attempt: 3, nextRetryAt: T0, since: T0 }],
    ['auth_required', { state: 'auth_required', since: T0 }],
    ['connecting', { state: 'connecting' }],
  ])('%s: nothing on probation (the retries pick the best route)', (_name, status) => {
    const state = syncReturnState(probation(), ROUTES, status, T0 + 1, S, half);
    expect(state.windows).toEqual({});
    expect(nextReturnCheckAt(state)).toBeNull();
  });

  it('returnCheckMs 0 (engine schema only): no probation at all, the rule before issue 13', () => {
    const off = syncReturnState(initialReturnState(), ROUTES, on(RELAY), T0, { ...S, returnCheckMs: 0 }, half);
    expect(off.windows).toEqual({});
    expect(heldRouteIds(off, T0, S).size).toBe(0);
  });

  it('the same current route keeps its windows (the same object); a new current route starts afresh', () => {
    let state = probation(RELAY);
    state = observeReturnProbe(state, { routeId: REMOTE.id, ok: true, at: T0 + 1_000 }, S, 0.5);
    expect(syncReturnState(state, ROUTES, on(RELAY), T0 + 2_000, S, half)).toBe(state);
    const moved = syncReturnState(state, ROUTES, on(REMOTE), T0 + 2_000, S, half);
    expect(Object.keys(moved.windows)).toEqual([LOCAL.id]);
    expect(moved.windows[LOCAL.id]).toMatchObject({ successes: 0, failures: 1 });
  });
});

describe('return policy: the hold-down window', () => {
  it('returns only after N answers in a row spanning the hold time; a failure restarts the window', () => {
    let state = probation();
    const id = LOCAL.id;
    let t = T0 + 1_000;
    // 7 answers over 15 s: enough time, not enough answers.
    for (let i = 0; i < 7; i++, t += 2_500) state = observeReturnProbe(state, { routeId: id, ok: true, at: t }, S, 0.5);
    expect(state.windows[id]).toMatchObject({ successes: 7, since: T0 + 1_000, failures: 0 });
    expect(shouldReturn(state, t, S)).toBe(false);
    // One failure: back to nothing.
    state = observeReturnProbe(state, { routeId: id, ok: false, at: t }, S, 0.5);
    expect(state.windows[id]).toMatchObject({ successes: 0, since: null, failures: 1 });
    // 8 answers but over 10.5 s only: held still.
    const start = t + 1_000;
    for (let i = 0; i < 8; i++) state = observeReturnProbe(state, { routeId: id, ok: true, at: start + i * 1_500 }, S, 0.5);
    expect(isStable(state.windows[id]!, start + 10_500, S)).toBe(false);
    expect(heldRouteIds(state, start + 10_500, S).has(id)).toBe(true);
    // The window spans 15 s at the next answers: stable, no longer held.
    for (let i = 8; i <= 10; i++) state = observeReturnProbe(state, { routeId: id, ok: true, at: start + i * 1_500 }, S, 0.5);
    expect(shouldReturn(state, start + 15_000, S)).toBe(true);
    expect(heldRouteIds(state, start + 15_000, S).size).toBe(0);
  });

  it('a late answer (slower than the fastest by more than the margin: TCP retransmissions) restarts the window without counting the route dead', () => {
    let state = probation();
    const id = LOCAL.id;
    for (let i = 0; i < 5; i++) state = observeReturnProbe(state, { routeId: id, ok: true, at: T0 + i * 1_500, latencyMs: 2 + i }, S, 0.5);
    expect(state.windows[id]).toMatchObject({ successes: 5, bestLatencyMs: 2 });
    // Within the margin: still consistent.
    state = observeReturnProbe(state, { routeId: id, ok: true, at: T0 + 7_500, latencyMs: 2 + S.returnLatencyMarginMs }, S, 0.5);
    expect(state.windows[id]!.successes).toBe(6);
    // 208 ms: one retransmission (a packet dropped).
    state = observeReturnProbe(state, { routeId: id, ok: true, at: T0 + 9_000, latencyMs: 208 }, S, 0.5);
    expect(state.windows[id]).toMatchObject({ successes: 0, since: null, failures: 0, bestLatencyMs: 2 });
    expect(state.windows[id]!.dueAt - (T0 + 9_000)).toBe(S.returnCheckMs);
    // A route that is simply slow (always ~300 ms) is judged against its own fastest answer.
    let slow = probation();
    for (let i = 0; i <= 10; i++) slow = observeReturnProbe(slow, { routeId: id, ok: true, at: T0 + i * 1_500, latencyMs: 300 + (i % 3) * 40 }, S, 0.5);
    expect(shouldReturn(slow, T0 + 15_000, S)).toBe(true);
  });

  it('cadence: an answering route every returnCheckMs ±25 %; a failing one like a retry of a dead route', () => {
    const state = probation();
    const answered = observeReturnProbe(state, { routeId: LOCAL.id, ok: true, at: T0 + 1_000 }, S, 0);
    expect(answered.windows[LOCAL.id]!.dueAt - (T0 + 1_000)).toBe(Math.round(S.returnCheckMs * 0.75));
    const answeredLate = observeReturnProbe(state, { routeId: LOCAL.id, ok: true, at: T0 + 1_000 }, S, 0.999999);
    expect(answeredLate.windows[LOCAL.id]!.dueAt - (T0 + 1_000)).toBe(Math.round(S.returnCheckMs * 1.25));
    const failed = observeReturnProbe(state, { routeId: LOCAL.id, ok: false, at: T0 + 1_000 }, S, 0.5);
    expect(failed.windows[LOCAL.id]!.dueAt - (T0 + 1_000)).toBe(backoffDelayMs(2, 0.5, S.backoff, 1_000));
    // The install-wide floor stretches both.
    const floored = observeReturnProbe(state, { routeId: LOCAL.id, ok: true, at: T0 + 1_000 }, S, 0, 60_000);
    expect(floored.windows[LOCAL.id]!.dueAt - (T0 + 1_000)).toBe(60_000);
    expect(returnCheckFloorMs(2_000, 20)).toBe(100_000);
    expect(dueReturnChecks(answered, T0 + 1_000 + 1_124)).toEqual([]);
    expect(dueReturnChecks(answered, T0 + 1_000 + 1_125)).toEqual([LOCAL.id]);
  });

  it('a selection counts like return checks; a stable route it did not use starts its window again', () => {
    let state = probation();
    for (let i = 0; i <= 10; i++) state = observeReturnProbe(state, { routeId: LOCAL.id, ok: true, at: T0 + i * 1_500 }, S, 0.5);
    const now = T0 + 15_100;
    expect(shouldReturn(state, now, S)).toBe(true);
    // Local still pending when remote decided (no result for it): not consistent after all.
    const missed = observeSelection(state, [{ routeId: REMOTE.id, ok: true, at: now }], REMOTE.id, now, S, half);
    expect(shouldReturn(missed, now, S)).toBe(false);
    expect(missed.windows[LOCAL.id]).toMatchObject({ successes: 0, since: null });
    // A failure in the selection restarts it too; an answer extends it.
    expect(observeSelection(state, [{ routeId: LOCAL.id, ok: false, at: now }], REMOTE.id, now, S, half).windows[LOCAL.id]).toMatchObject({ successes: 0, failures: 1 });
    expect(observeSelection(state, [{ routeId: LOCAL.id, ok: true, at: now }], LOCAL.id, now, S, half).windows[LOCAL.id]!.successes).toBe(12);
  });
});

describe('decideEarly with routes on probation (held)', () => {
  const arrival = (route: Route, ok: boolean, elapsedMs: number): Arrival => ({
    result: ok ? { ok: true, routeId: route.id, at: T0, latencyMs: elapsedMs } : { ok: false, routeId: route.id, at: T0, latencyMs: elapsedMs, error: { code: 'refused', message: 'refused' } },
    elapsedMs,
  });
  const held = new Set([LOCAL.id]);

  it('a held route that answers first waits for the current route, past the grace period', () => {
    expect(decideEarly({ routes: ROUTES, arrivals: [arrival(LOCAL, true, 1)], elapsedMs: 5_000, graceMs: 100, held })).toEqual({ decided: false });
    expect(decideEarly({ routes: ROUTES, arrivals: [arrival(LOCAL, true, 1), arrival(REMOTE, true, 300)], elapsedMs: 300, graceMs: 100, held })).toMatchObject({ decided: true, chosen: { routeId: REMOTE.id } });
    // Without probation the same answers choose local at once.
    expect(decideEarly({ routes: ROUTES, arrivals: [arrival(LOCAL, true, 1)], elapsedMs: 1, graceMs: 100 })).toMatchObject({ decided: true, chosen: { routeId: LOCAL.id } });
  });

  it('when every other route failed, the held route is used (the current one is dead)', () => {
    const arrivals = [arrival(LOCAL, true, 1), arrival(REMOTE, false, 20), arrival(RELAY, false, 30)];
    expect(decideEarly({ routes: ROUTES, arrivals, elapsedMs: 30, graceMs: 100, held })).toMatchObject({ decided: true, chosen: { routeId: LOCAL.id } });
    expect(decideEarly({ routes: ROUTES, arrivals: [arrival(REMOTE, false, 20), arrival(RELAY, false, 30)], elapsedMs: 30, graceMs: 100, held })).toEqual({ decided: false });
  });

  it('property: never a held route while another route answered; never a failed route', () => {
    fc.assert(
      fc.property(
        fc.subarray(ROUTES.map((r) => r.id)),
        fc.array(fc.record({ route: fc.constantFrom(...ROUTES), ok: fc.boolean(), elapsedMs: fc.nat({ max: 10_000 }) }), { maxLength: 6 }),
        fc.nat({ max: 20_000 }),
        (heldIds, raw, extra) => {
          const seen = new Set<string>();
          const arrivals = raw.filter((a) => !seen.has(a.route.id) && seen.add(a.route.id)).map((a) => arrival(a.route, a.ok, a.elapsedMs));
          const elapsedMs = Math.max(0, ...arrivals.map((a) => a.elapsedMs)) + extra;
          const decision = decideEarly({ routes: ROUTES, arrivals, elapsedMs, graceMs: 100, held: new Set(heldIds) });
          if (!decision.decided || !decision.chosen) return;
          const chosen = decision.chosen;
          expect(chosen.ok).toBe(true);
          if (heldIds.includes(chosen.routeId)) {
            expect(arrivals.some((a) => a.result.ok && !heldIds.includes(a.result.routeId))).toBe(false);
            // …and every route not held has answered (failed): none could still win.
            for (const r of ROUTES) if (!heldIds.includes(r.id)) expect(arrivals.some((a) => a.result.routeId === r.id)).toBe(true);
          }
        },
      ),
    );
  });
});

describe('return policy: properties', () => {
  const observationsArb = fc.array(fc.record({ ok: fc.boolean(), gapMs: fc.integer({ min: 1, max: 5_000 }), draw: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 60 });

  it('never returns while the window has a failure: stable ⇒ the last N observations answered, over ≥ the hold time, none failed since', () => {
    fc.assert(
      fc.property(observationsArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 30_000 }), (observations, minSuccesses, holdMs) => {
        const settings = { ...S, returnMinSuccesses: minSuccesses, returnHoldMs: holdMs };
        let state = syncReturnState(initialReturnState(), ROUTES, on(REMOTE), T0, settings, half);
        let t = T0;
        const history: Array<{ ok: boolean; at: number }> = [];
        for (const o of observations) {
          t += o.gapMs;
          state = observeReturnProbe(state, { routeId: LOCAL.id, ok: o.ok, at: t }, settings, o.draw);
          history.push({ ok: o.ok, at: t });
          for (const probeAt of [t, t + 1, t + holdMs]) {
            if (!shouldReturn(state, probeAt, settings)) continue;
            const lastFailure = history.findLastIndex((h) => !h.ok);
            const run = history.slice(lastFailure + 1);
            expect(run.length).toBeGreaterThanOrEqual(minSuccesses);
            expect(probeAt - run[0]!.at).toBeGreaterThanOrEqual(holdMs);
            expect(heldRouteIds(state, probeAt, settings).has(LOCAL.id)).toBe(false);
          }
          if (!o.ok) expect(heldRouteIds(state, t + 10 * 60_000, settings).has(LOCAL.id)).toBe(minSuccesses > 0);
        }
      }),
    );
  });

  it('a dead preferred route costs no more than the retry budget: each re-check waits a retry delay of a dead route', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }), (draws) => {
        let state = syncReturnState(initialReturnState(), ROUTES, on(REMOTE), T0, S, half);
        const outageStart = T0;
        let attempt = 1;
        for (const draw of draws) {
          const at = state.windows[LOCAL.id]!.dueAt; // the check runs when due and fails
          state = observeReturnProbe(state, { routeId: LOCAL.id, ok: false, at }, S, draw);
          attempt++;
          const gap = state.windows[LOCAL.id]!.dueAt - at;
          expect(gap).toBe(backoffDelayMs(attempt, draw, S.backoff, at - outageStart));
          // Once grown: never more often than the steady retry period of a dead route (≥ 4.05 s, then ≥ 27 s).
          if (attempt >= 4) expect(gap).toBeGreaterThanOrEqual(Math.floor(S.backoff.recentCapMs * (1 - S.backoff.capJitter)));
          if (at - outageStart >= S.backoff.recentWindowMs) expect(gap).toBeGreaterThanOrEqual(Math.floor(S.backoff.capMs * (1 - S.backoff.capJitter)));
        }
      }),
    );
  });
});
