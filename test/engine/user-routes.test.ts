// Issue 13 item 1 against the simulators, Plex and Jellyfin in one engine: an address the user adds
// is checked anonymously first; the same server's second address becomes a route and is used when
// preferred (live, with the push channel), removing the route in use moves the source and its
// channel, and another server's address is refused without ever receiving a token.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../sim/index.js';
import { toApiSource } from '../../src/server/views.js';
import { EngineHarness, SIM_ROUTES, TEST_SETTINGS } from '../support/engine-harness.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { sleep } from '../support/wait.js';

let h: EngineHarness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Another Plex server and another Jellyfin server, on their own loopback addresses. */
async function otherServers(): Promise<Simulation> {
  const sim = await createSimulation({
    plexTv: { accounts: [{ username: 'neighbour' }] },
    servers: [
      { id: 'other-plex', kind: 'plex', name: 'Neighbour Plex', routes: [{ id: 'other-plex-local', kind: 'local', host: '127.0.0.12', port: 0 }] },
      {
        id: 'other-jellyfin',
        kind: 'jellyfin',
        name: 'Neighbour Jellyfin',
        users: [{ name: 'n', password: 'n', admin: true, disabled: false }],
        routes: [{ id: 'other-jellyfin-local', kind: 'local', host: '127.0.0.13', port: 0 }],
      },
    ],
  });
  cleanups.push(() => sim.close());
  return sim;
}

async function proxyTo(url: string, host: string): Promise<RecordingProxy> {
  const proxy = await startRecordingProxy(url, host);
  cleanups.push(() => proxy.close());
  return proxy;
}

describe('routes the user adds, against the simulators', () => {
  it('a second address of the same server becomes a route, is used when preferred, and removing it moves the source back', async () => {
    // The user gave only the public address when adding Jellyfin.
    h = await EngineHarness.start({
      jellyfinRoutes: async (sim) => [{ url: sim.route(SIM_ROUTES.jellyfinRemote).url, kind: 'remote', priority: 0 }],
    });
    const harness = h;
    await harness.waitForView('jellyfin', 'connected via remote with push open', (v) => v.status === 'connected' && v.route?.kind === 'remote' && v.push === 'open');
    const sourceId = harness.sourceId('jellyfin');
    const localUrl = harness.sim.route(SIM_ROUTES.jellyfinLocal).url;

    const mark = harness.mark();
    const added = await harness.engine.addRoute(sourceId, { url: localUrl });
    if (!added.ok) throw new Error(`refused: ${added.message}`);
    const route = added.detail.routes.find((r) => r.id === added.routeId)!;
    expect(route).toMatchObject({ url: localUrl, kind: 'local', origin: 'user', pending: false });

    // Applied at once: the monitor re-selects and the preferred (local) route wins, push follows.
    const changed = await harness.waitForEvent('jellyfin', 'ConnectionChanged', { from: mark, where: (e) => e.routeKind === 'local', timeoutMs: 5_000 });
    expect(changed.routeId).toBe(added.routeId);
    expect(changed.previousRouteKind).toBe('remote');
    await harness.waitForView('jellyfin', 'push open on the new local route', (v) => v.route?.id === added.routeId && v.push === 'open');
    expect(harness.probesOf(added.routeId).some((p) => p.ok)).toBe(true);

    // Persisted: the store has it as an ordinary route.
    expect(harness.store.sources.get(sourceId)!.routes.map((r) => r.url)).toContain(localUrl);

    // Removing the route in use: the source and its push channel move to the route left.
    const removedAt = harness.mark();
    const removed = harness.engine.removeRoute(sourceId, added.routeId);
    expect(removed.ok).toBe(true);
    await harness.waitForEvent('jellyfin', 'ConnectionChanged', { from: removedAt, where: (e) => e.routeKind === 'remote', timeoutMs: 5_000 });
    const view = await harness.waitForView('jellyfin', 'push open on the remote route again', (v) => v.route?.kind === 'remote' && v.push === 'open');
    expect(view.status).toBe('connected');
    expect(harness.eventsOf('jellyfin', 'ConnectionLost', removedAt)).toEqual([]);
    // The removed route is never probed again.
    const after = Date.now();
    await sleep(TEST_SETTINGS.reselectMs!.remote! + 500);
    expect(harness.probesOf(added.routeId, after)).toEqual([]);
  });

  it('another server’s address is refused as wrong_server and never receives a token (Plex and Jellyfin)', async () => {
    h = await EngineHarness.start();
    const harness = h;
    await harness.waitForSteadyState();
    const others = await otherServers();
    const plexProxy = await proxyTo(others.route('other-plex-local').url, '127.0.0.14');
    const jellyfinProxy = await proxyTo(others.route('other-jellyfin-local').url, '127.0.0.15');

    for (const [kind, proxy, words] of [
      ['plex', plexProxy, /a different Plex server answers at 127\.0\.0\.14:\d+, not Living-room Plex/],
      ['jellyfin', jellyfinProxy, /a different Jellyfin server \(“Neighbour Jellyfin”\) answers at 127\.0\.0\.15:\d+, not Home Jellyfin/],
    ] as const) {
      const sourceId = harness.sourceId(kind);
      const before = harness.store.routes.listForSource(sourceId).length;
      for (const force of [false, true]) {
        const result = await harness.engine.addRoute(sourceId, { url: proxy.url, kind: 'local', force });
        expect(result).toMatchObject({ ok: false, code: 'wrong_server' });
        if (!result.ok) expect(result.message).toMatch(words);
      }
      expect(harness.store.routes.listForSource(sourceId).length).toBe(before);
      // Only the anonymous identity question reached the address.
      expect(proxy.requests.length).toBe(2);
      expect(proxy.requests.every((r) => r.path === (kind === 'plex' ? '/identity' : '/System/Info/Public'))).toBe(true);
    }
    // Checks go on; nothing is ever sent there again, least of all a token.
    for (const kind of ['plex', 'jellyfin'] as const) harness.engine.checkNow(harness.sourceId(kind));
    await sleep(TEST_SETTINGS.reselectMs!.local! + 500);
    for (const proxy of [plexProxy, jellyfinProxy]) {
      expect(proxy.requestsWithToken()).toEqual([]);
      expect(proxy.requests.length).toBe(2);
    }
    // The recording listener does see tokens when they are sent: a proxy in front of the right server, added as a route.
    const rightProxy = await proxyTo(harness.sim.route(SIM_ROUTES.plexLocal).url, '127.0.0.16');
    const ok = await harness.engine.addRoute(harness.sourceId('plex'), { url: rightProxy.url, kind: 'local' });
    expect(ok.ok).toBe(true);
    await harness.waitFor('a token-carrying probe through the right server’s proxy', () => rightProxy.requestsWithToken().length > 0, 5_000);
    expect(rightProxy.requests[0]!.path).toBe('/identity');
    expect(harness.engine.listSources().map(toApiSource).every((s) => s.status === 'connected')).toBe(true);
  });
});
