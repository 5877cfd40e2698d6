// Issue 3 against the simulators, Plex and Jellyfin together: a route that hangs on an already-open
// keep-alive connection is bounded by the probe timeout; the selection decides early instead of
// waiting for hung routes; after a restart the last-known status is served at once, then re-verified.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import { EngineHarness, JELLYFIN_ID, JELLYFIN_NAME, PLEX_NAME, SIM_ROUTES, TEST_SETTINGS } from '../support/engine-harness.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const NAMES: Record<SourceKind, string> = { plex: PLEX_NAME, jellyfin: JELLYFIN_NAME };
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const REMOTE: Record<SourceKind, string> = { plex: SIM_ROUTES.plexRemote, jellyfin: SIM_ROUTES.jellyfinRemote };
const NON_LOCAL: Record<SourceKind, string[]> = { plex: [SIM_ROUTES.plexRemote, SIM_ROUTES.plexRelay], jellyfin: [SIM_ROUTES.jellyfinRemote] };

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('engine against the simulators: hung routes and restarts (issue 3)', () => {
  it('a route that hangs on an already-open keep-alive connection is bounded by the probe timeout', async () => {
    // Push off and no periodic re-selection in sight: only the light check on the pooled keep-alive
    // connection can notice the hang.
    const slow = 60_000;
    h = await EngineHarness.start({ push: { enabled: false }, settings: { reselectMs: { local: slow, remote: slow, relay: slow, unknown: slow } } });
    const probeTimeoutMs = TEST_SETTINGS.probeTimeoutMs!;
    for (const kind of KINDS) {
      const first = await h.waitForView(kind, 'connected via local', (v) => v.status === 'connected' && v.route?.kind === 'local');
      // A few successful light checks, so the hang hits connections that are already open and idle.
      await h.waitForView(kind, 'two more successful checks', (v) => (v.lastCheckedAt ?? 0) > (first.lastCheckedAt ?? 0) + 2 * TEST_SETTINGS.baseTickMs! - 100);
    }

    const hung = h.mark();
    const hungAt = Date.now();
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'hang' })));
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged', { from: hung, where: (e) => e.routeKind === 'remote' });
      expect(changed.sourceName).toBe(NAMES[kind]);
      // A light check that times out, then a full check that takes the remote route without
      // waiting for the hung one again: one timeout plus a tick plus slack, nowhere near "forever".
      expect(changed.receivedAt - hungAt).toBeLessThan(TEST_SETTINGS.baseTickMs! + 2 * probeTimeoutMs + 1_000);
      const localId = h.routeId(kind, LOCAL[kind]);
      const timeouts = h.probesOf(localId, hungAt).filter((p) => !p.ok);
      expect(timeouts.length).toBeGreaterThanOrEqual(1);
      for (const p of timeouts) {
        expect(p.ok ? null : p.error.code).toBe('timeout');
        // Bounded by the per-route timeout (1.5 s), with a little scheduling slack.
        expect(p.latencyMs).toBeGreaterThanOrEqual(probeTimeoutMs - 100);
        expect(p.latencyMs).toBeLessThan(probeTimeoutMs + 750);
      }
      // The hung route's result is also in the stored probe history.
      expect(h.store.probes.recent(localId, 5).some((p) => p.code === 'timeout')).toBe(true);
      const local = h.detail(kind).routes.find((r) => r.id === localId)!;
      expect(local.lastResult).toBe('timeout');
      expect(local.lastError).toMatch(/no answer within 1\.5 s/);
      expect(h.view(kind).status).toBe('connected');
      expect(h.eventsOf(kind, 'ConnectionLost', hung)).toEqual([]);
      expect(h.history(kind).map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local', 'connected:remote']);
    }
  });

  it('decides early: local up with remote and relay hanging connects well under the hang timeout', async () => {
    const probeTimeoutMs = 5_000; // the real default: what a hung route would cost a naive selection
    h = await EngineHarness.start({
      settings: { probeTimeoutMs, suspectProbeTimeoutMs: probeTimeoutMs, reselectMs: { local: 60_000, remote: 60_000, relay: 60_000, unknown: 60_000 } },
      beforeAddSources: async (sim) => {
        await Promise.all(Object.values(NON_LOCAL).flat().map((r) => sim.route(r).fault({ mode: 'hang' })));
      },
    });
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged');
      expect(changed.sourceName).toBe(NAMES[kind]);
      expect(changed.routeKind).toBe('local');
      expect(changed.previousRouteKind).toBeNull();
      // The most preferred route answered: no waiting for the hung ones (5 s).
      expect(changed.at - h.addedAt[kind]).toBeLessThan(2_000);
    }
    // The hung routes finish in the background and their results are recorded.
    for (const kind of KINDS) {
      await h.waitFor(`${kind}: stragglers recorded as timeouts`, () => NON_LOCAL[kind].every((r) => h!.detail(kind).routes.find((x) => x.id === h!.routeId(kind, r))?.lastResult === 'timeout'), probeTimeoutMs + 4_000);
      for (const r of NON_LOCAL[kind]) {
        const route = h.detail(kind).routes.find((x) => x.id === h!.routeId(kind, r))!;
        expect(route.lastError).toMatch(/no answer within 5 s/);
        const late = h.probesOf(route.id).filter((p) => !p.ok);
        expect(late.length).toBeGreaterThanOrEqual(1);
        expect(late[0]!.latencyMs).toBeGreaterThanOrEqual(probeTimeoutMs - 100);
      }
      // Still connected locally; the late results changed nothing.
      expect(h.view(kind).route?.kind).toBe('local');
      expect(h.eventsOf(kind, 'StatusChanged').length).toBe(1);
    }
  });

  it('decides early the other way too: local hanging, remote answering, connects after the grace period, not the timeout', async () => {
    const probeTimeoutMs = 5_000;
    h = await EngineHarness.start({
      settings: { probeTimeoutMs, suspectProbeTimeoutMs: probeTimeoutMs, reselectMs: { local: 60_000, remote: 60_000, relay: 60_000, unknown: 60_000 } },
      // Jellyfin signs in through its local route (sign-in needs it), so this case is Plex's.
      beforeAddSources: async (sim) => {
        await sim.route(SIM_ROUTES.plexLocal).fault({ mode: 'hang' });
      },
    });
    // Plex: its first selection had local hanging.
    const plex = await h.waitForEvent('plex', 'ConnectionChanged');
    expect(plex.routeKind).toBe('remote');
    expect(plex.at - h.addedAt.plex).toBeLessThan(2_000);
    expect(h.view('plex').route?.url).toBe(h.sim.route(REMOTE.plex).url);
    await h.waitFor('plex local recorded as timeout', () => h!.detail('plex').routes.find((r) => r.id === h!.routeId('plex', LOCAL.plex))?.lastResult === 'timeout', probeTimeoutMs + 4_000);
  });

  it('after a restart the last-known status is served at once, then re-verified', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();
    // Plex moves to its remote route; then the engine stops.
    await h.sim.route(LOCAL.plex).fault({ mode: 'refuse' });
    await h.waitForView('plex', 'connected via remote', (v) => v.status === 'connected' && v.route?.kind === 'remote');
    const lastSeen = Object.fromEntries(KINDS.map((k) => [k, h!.view(k)]));
    const historyBefore = Object.fromEntries(KINDS.map((k) => [k, h!.history(k)]));

    // While Marquee is down, the Jellyfin server crashes.
    const restartMark = h.mark();
    // Taken once the old engine has stopped: a check it finished while stopping (under load, after
    // restart() began) is part of the last-known status too; the new engine has checked nothing yet.
    let restartedAt = Number.NaN;
    await h.restart(() => {
      restartedAt = Date.now();
    });
    // Read synchronously right after start(): no check can have completed yet.
    const served = Object.fromEntries(KINDS.map((k) => [k, h!.view(k)]));
    await h.sim.server(JELLYFIN_ID).fault({ mode: 'crash' });
    for (const kind of KINDS) {
      const view = served[kind]!;
      const before = lastSeen[kind]!;
      expect(view.name).toBe(NAMES[kind]);
      expect(view.status).toBe('connected');
      expect(view.route?.kind).toBe(before.route?.kind);
      expect(view.route?.url).toBe(before.route?.url);
      expect(view.libraries).toEqual(before.libraries);
      expect(view.lastCheckedAt).not.toBeNull();
      expect(view.lastCheckedAt!).toBeLessThan(restartedAt);
    }
    expect(served.plex!.route?.kind).toBe('remote');

    // Then it re-verifies: Plex is checked again (still remote, local still refused), and Jellyfin,
    // which crashed meanwhile, is found lost instead of staying "connected" on its stored route.
    await h.waitForView('plex', 're-verified after the restart', (v) => (v.lastCheckedAt ?? 0) > restartedAt && v.status === 'connected' && v.route?.kind === 'remote');
    const lost = await h.waitForEvent('jellyfin', 'ConnectionLost', { from: restartMark });
    expect(lost.sourceName).toBe(JELLYFIN_NAME);
    expect(lost.lastRouteKind).toBe('local');
    expect(lost.at - restartedAt).toBeLessThan(TEST_SETTINGS.probeTimeoutMs! + 1_500);
    await h.waitForView('jellyfin', 'reconnecting', (v) => v.status === 'reconnecting' && v.route === null);
    // Stored history survived the restart and continues.
    for (const kind of KINDS) {
      const history = h.history(kind);
      expect(history.slice(0, historyBefore[kind]!.length)).toEqual(historyBefore[kind]);
    }
    expect(h.history('jellyfin').at(-1)!.state).toBe('reconnecting');
    expect(h.history('plex').map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local', 'connected:remote']);

    // And it comes back when the server does.
    const up = h.mark();
    await h.sim.server(JELLYFIN_ID).fault({ mode: 'up' });
    const restored = await h.waitForEvent('jellyfin', 'ConnectionRestored', { from: up });
    expect(restored.routeKind).toBe('local');
  });
});
