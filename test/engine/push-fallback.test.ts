// Issue 6 §6 against the simulators: a server whose push channel cannot be opened is watched by
// polling instead, the view says so ('polling'), and the source stays connected.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import { EngineHarness, SIM_ROUTES, startWebSocketUnawareProxy } from '../support/engine-harness.js';
import { sleep } from '../support/wait.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('engine against the simulators: push fallback to polling (issue 6)', () => {
  it('Jellyfin behind a proxy that refuses WebSocket upgrades is polled, shown as polling, and stays connected', async () => {
    h = await EngineHarness.start({
      jellyfinRoutes: async (sim, harness) => {
        const proxy = await startWebSocketUnawareProxy(sim.route(SIM_ROUTES.jellyfinLocal).url);
        harness.onClose(() => proxy.close());
        return [
          { url: proxy.url, kind: 'local', priority: 0 },
          { url: sim.route(SIM_ROUTES.jellyfinRemote).url, kind: 'remote', priority: 1 },
        ];
      },
    });
    // Plex, next to it, has its channel as usual.
    await h.waitForView('plex', 'push open', (v) => v.status === 'connected' && v.push === 'open');
    const view = await h.waitForView('jellyfin', 'polling', (v) => v.push === 'polling');
    expect(view.status).toBe('connected');
    expect(view.route?.kind).toBe('local');
    expect(view.route?.url).toMatch(/^http:\/\/127\.0\.0\.8:/);
    expect(h.sim.server('jellyfin-home').openSockets).toBe(0);

    // Polling carries the truth: checks keep completing, and a cut of the route is still noticed.
    const pollingSince = Date.now();
    await h.waitForView('jellyfin', 'checked again while polling', (v) => (v.lastCheckedAt ?? 0) > pollingSince + 500, 5_000);
    expect(h.view('jellyfin')).toMatchObject({ status: 'connected', push: 'polling', route: { kind: 'local' } });
    expect(h.eventsOf('jellyfin', 'ConnectionLost')).toEqual([]);

    const cut = h.mark();
    await h.sim.route(SIM_ROUTES.jellyfinLocal).fault({ mode: 'refuse' });
    const changed = await h.waitForEvent('jellyfin', 'ConnectionChanged', { from: cut, where: (e) => e.routeKind === 'remote' });
    expect(changed.sourceName).toBe('Home Jellyfin');
    // On the remote route (no proxy) the channel opens.
    await h.waitForView('jellyfin', 'push open on remote', (v) => v.route?.kind === 'remote' && v.push === 'open');
    expect(h.history('jellyfin').map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local', 'connected:remote']);
  });

  it('a route that resets every upgrade (plain HTTP fine) falls back to polling for both kinds, shown in the view, still connected', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();

    const refuse = h.mark();
    // Open channels on the route are reset and every new upgrade is reset; plain HTTP keeps working.
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'drop-socket' })));
    for (const kind of KINDS) {
      const view = await h.waitForView(kind, 'push polling', (v) => v.push === 'polling', 15_000);
      expect(view.status).toBe('connected');
      expect(view.route?.kind).toBe('local');
    }
    // Polling carries on: checks keep completing, nothing was lost, no more upgrade attempts.
    const pollingSince = Date.now();
    for (const kind of KINDS) {
      await h.waitForView(kind, 'checked again while polling', (v) => (v.lastCheckedAt ?? 0) > pollingSince + 500, 5_000);
      expect(h.view(kind)).toMatchObject({ status: 'connected', push: 'polling', route: { kind: 'local' } });
      expect(h.eventsOf(kind, 'ConnectionLost', refuse)).toEqual([]);
      expect(h.eventsOf(kind, 'StatusChanged', refuse)).toEqual([]);
      expect(h.history(kind).map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local']);
      expect(h.sim.route(LOCAL[kind]).openSockets).toBe(0);
    }
    // Stays on polling (no reconnect churn) over several reopen periods.
    const later = h.mark();
    await sleep(2_500);
    for (const kind of KINDS) {
      expect(h.view(kind).push).toBe('polling');
      const pushStates = h.messages.slice(later).flatMap((m) => (m.message.type === 'source' && m.message.source.source.id === h!.sourceId(kind) ? [m.message.source.push] : []));
      expect(pushStates.filter((s) => s !== 'polling')).toEqual([]);
    }
  });
});
