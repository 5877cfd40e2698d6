// Issue 6 §6 against the simulators: a server whose push channel cannot be opened is watched by
// polling instead, the view says so ('polling'), and the source stays connected.
import { afterEach, describe, expect, it } from 'vitest';
import { EngineHarness, SIM_ROUTES, startWebSocketUnawareProxy } from '../support/engine-harness.js';

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
});
