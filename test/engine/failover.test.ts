// Issue 3 against the simulators, Plex and Jellyfin together in one engine: a cut local route moves
// the source to its remote route and back by itself after the hold-down window; cutting every route of a source
// that HAD been connected ends in `reconnecting` then `disconnected` (never a stale stored URL), and
// the way back is a ConnectionRestored.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import { toApiSource } from '../../src/server/views.js';
import { EngineHarness, JELLYFIN_NAME, PLEX_NAME, SIM_ROUTES, TEST_SETTINGS } from '../support/engine-harness.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const NAMES: Record<SourceKind, string> = { plex: PLEX_NAME, jellyfin: JELLYFIN_NAME };
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const ALL_ROUTES: Record<SourceKind, string[]> = {
  plex: [SIM_ROUTES.plexLocal, SIM_ROUTES.plexRemote, SIM_ROUTES.plexRelay],
  jellyfin: [SIM_ROUTES.jellyfinLocal, SIM_ROUTES.jellyfinRemote],
};

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('engine against the simulators: route failover (issue 3)', () => {
  it('moves to the remote route when local is cut, and back to local by itself once it answered for the hold-down window', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();

    const cut = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'refuse' })));
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged', { from: cut, where: (e) => e.routeKind === 'remote' });
      expect(changed.sourceName).toBe(NAMES[kind]);
      expect(changed.previousRouteKind).toBe('local');
      expect(changed.routeId).toBe(h.routeId(kind, kind === 'plex' ? SIM_ROUTES.plexRemote : SIM_ROUTES.jellyfinRemote));
      // Another route answered: the source was never lost on the way.
      expect(h.eventsOf(kind, 'ConnectionLost', cut)).toEqual([]);
      expect(h.eventsOf(kind, 'Reconnecting', cut)).toEqual([]);
      const view = h.view(kind);
      expect(view.status).toBe('connected');
      expect(view.route?.kind).toBe('remote');
      expect(view.route?.url).toBe(h.sim.route(kind === 'plex' ? SIM_ROUTES.plexRemote : SIM_ROUTES.jellyfinRemote).url);
      const local = h.detail(kind).routes.find((r) => r.id === h!.routeId(kind, LOCAL[kind]))!;
      expect(local.lastResult).toBe('refused');
      expect(local.lastError).toMatch(/refused|reset/i);
    }

    const restored = h.mark();
    const upAt = Date.now();
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'up' })));
    for (const kind of KINDS) {
      const back = await h.waitForEvent(kind, 'ConnectionChanged', { from: restored, where: (e) => e.routeKind === 'local', timeoutMs: 10_000 });
      expect(back.sourceName).toBe(NAMES[kind]);
      expect(back.previousRouteKind).toBe('remote');
      // The return checks bring it back after the hold-down window (one retry ≤ 1 s, then 3 answers
      // over ≥ 1 s here), not a lucky accident much later.
      expect(back.receivedAt - upAt).toBeLessThan(TEST_SETTINGS.backoff!.capMs! + TEST_SETTINGS.returnHoldMs! + 2_500);
      expect(back.receivedAt - upAt).toBeGreaterThanOrEqual(TEST_SETTINGS.returnHoldMs!);
      expect(h.view(kind).route?.kind).toBe('local');
      // The stored history: local, then remote, then local again — all "connected".
      const states = h.history(kind).map((e) => `${e.state}:${e.routeKind}`);
      expect(states).toEqual(['connected:local', 'connected:remote', 'connected:local']);
    }
  });

  it('cutting every route of a connected source ends in reconnecting, then disconnected; restoring it is a ConnectionRestored', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();
    const before = Object.fromEntries(KINDS.map((k) => [k, h!.view(k).route!.url]));

    const cut = h.mark();
    await Promise.all(KINDS.flatMap((k) => ALL_ROUTES[k].map((r) => h!.sim.route(r).fault({ mode: 'refuse' }))));

    for (const kind of KINDS) {
      const lost = await h.waitForEvent(kind, 'ConnectionLost', { from: cut });
      expect(lost.sourceName).toBe(NAMES[kind]);
      expect(lost.lastRouteKind).toBe('local');
      expect(lost.error?.code).toBe('refused');
      const disconnected = await h.waitForView(kind, 'disconnected', (v) => v.status === 'disconnected', 15_000);
      // After 3 failed attempts (1, 2, 3 visible as Reconnecting), the 4th failure is "disconnected".
      const attempts = h.eventsOf(kind, 'Reconnecting', cut);
      expect(attempts.map((e) => e.attempt)).toEqual([1, 2, 3]);
      for (const e of attempts) {
        expect(e.sourceName).toBe(NAMES[kind]);
        expect(e.nextRetryAt).toBeGreaterThan(e.at);
        expect(e.nextRetryAt - e.at).toBeLessThanOrEqual(TEST_SETTINGS.backoff!.capMs!);
      }
      expect(disconnected.attempt).toBeGreaterThanOrEqual(4);
      expect(disconnected.nextRetryAt).toBeGreaterThan(disconnected.since ?? 0);
      // The old stored-URL bug: no route is claimed, and nothing ever said "connected" after the loss.
      expect(disconnected.route).toBeNull();
      expect(disconnected.push).not.toBe('open');
      expect(disconnected.error).toMatch(/refused|reset/i);
      const lostIndex = h.messages.findIndex((m, i) => i >= cut && m.message.type === 'engine' && m.message.message.event.type === 'ConnectionLost' && m.message.message.event.sourceId === h!.sourceId(kind));
      const claimedConnected = h.messages.slice(lostIndex + 1).some((m) => {
        const snapshot = m.message.type === 'source' ? m.message.source : m.message.type === 'engine' ? m.message.message.source : null;
        const view = snapshot && toApiSource(snapshot);
        return view?.id === h!.sourceId(kind) && (view.status === 'connected' || view.route !== null);
      });
      expect(claimedConnected).toBe(false);
      // Retries keep going at the cap while disconnected.
      const probesBefore = h.detail(kind).routes.find((r) => r.kind === 'local')!.checkedAt!;
      await h.waitFor(`${kind} keeps retrying while disconnected`, () => h!.detail(kind).routes.find((r) => r.kind === 'local')!.checkedAt! > probesBefore, 5_000);
      expect(h.view(kind).status).toBe('disconnected');
    }

    const restore = h.mark();
    await Promise.all(KINDS.flatMap((k) => ALL_ROUTES[k].map((r) => h!.sim.route(r).fault({ mode: 'up' }))));
    for (const kind of KINDS) {
      const back = await h.waitForEvent(kind, 'ConnectionRestored', { from: restore });
      expect(back.sourceName).toBe(NAMES[kind]);
      expect(back.routeKind).toBe('local');
      expect(back.downForMs).toBeGreaterThan(0);
      const view = await h.waitForView(kind, 'connected via local with push open', (v) => v.status === 'connected' && v.push === 'open');
      expect(view.route?.url).toBe(before[kind]);
      expect(view.attempt).toBeUndefined();
      const states = h.history(kind).map((e) => e.state);
      expect(states[0]).toBe('connected');
      expect(states.slice(1, 4)).toEqual(['reconnecting', 'reconnecting', 'reconnecting']);
      expect(states.at(-1)).toBe('connected');
      expect(states.slice(4, -1).every((s) => s === 'disconnected')).toBe(true);
      expect(states.slice(4, -1).length).toBeGreaterThanOrEqual(1);
      const reconnecting = h.history(kind).find((e) => e.state === 'reconnecting')!;
      expect(reconnecting.routeKind).toBe('local');
      expect(reconnecting.detail).toMatch(/refused|reset/i);
    }
  });
});
