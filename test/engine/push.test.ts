// Issue 6 against the simulators, Plex and Jellyfin together: the push channel notices a crashed
// server, a hung route and a graceful shutdown long before the next poll; Jellyfin's ForceKeepAlive
// is honoured; a revoked token is auth_required; a server that refuses the channel is polled.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PushHandlers } from '../../src/backends/types.js';
import type { SourceKind } from '../../src/core/types.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import { toApiSource } from '../../src/server/views.js';
import { EngineHarness, JELLYFIN_ID, JELLYFIN_NAME, PLEX_ID, PLEX_NAME, SIM_ROUTES, TEST_PUSH } from '../support/engine-harness.js';
import { sleep } from '../support/wait.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const NAMES: Record<SourceKind, string> = { plex: PLEX_NAME, jellyfin: JELLYFIN_NAME };
const SERVER: Record<SourceKind, string> = { plex: PLEX_ID, jellyfin: JELLYFIN_ID };
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const REMOTE: Record<SourceKind, string> = { plex: SIM_ROUTES.plexRemote, jellyfin: SIM_ROUTES.jellyfinRemote };

/** Polls so rarely that only the push channel can explain a detection within seconds. */
const POLL_FAR_MS = 30_000;
const PUSH_ONLY: MonitorSettingsInput = {
  baseTickMs: POLL_FAR_MS,
  reselectMs: { local: 2 * POLL_FAR_MS, remote: 2 * POLL_FAR_MS, relay: 2 * POLL_FAR_MS, unknown: 2 * POLL_FAR_MS },
};

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * The next scheduled check of each source must be far away, or a fast detection proves nothing.
 * (The monitor may place a source's next check at a random point of its interval, e.g. when its
 * push channel opens, to spread load: wait for such a near check to pass.) Returns each source's
 * next check time.
 */
async function waitForNextPollFar(harness: EngineHarness): Promise<Record<SourceKind, number>> {
  const far = POLL_FAR_MS / 3;
  await harness.waitFor('the next scheduled polls to be far away', () => KINDS.every((k) => (harness.view(k).nextCheckAt ?? 0) - Date.now() > far), POLL_FAR_MS / 2);
  return { plex: harness.view('plex').nextCheckAt!, jellyfin: harness.view('jellyfin').nextCheckAt! };
}

describe('engine against the simulators: push channels (issue 6)', () => {
  it('a crashed server is reconnecting well before the next scheduled poll, and restored when it returns', async () => {
    h = await EngineHarness.start({ settings: PUSH_ONLY });
    await h.waitForSteadyState();
    const nextPoll = await waitForNextPollFar(h);
    const crashAt = Date.now();

    const crash = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'crash' })));
    for (const kind of KINDS) {
      const reconnecting = await h.waitForEvent(kind, 'Reconnecting', { from: crash, timeoutMs: POLL_FAR_MS / 3 });
      expect(reconnecting.sourceName).toBe(NAMES[kind]);
      expect(reconnecting.attempt).toBe(1);
      // The channel broke at once (RST): a check within a couple of seconds, not at the 30 s poll.
      expect(reconnecting.receivedAt - crashAt).toBeLessThan(3_000);
      expect(reconnecting.receivedAt).toBeLessThan(nextPoll[kind]);
      const lost = h.eventsOf(kind, 'ConnectionLost', crash)[0]!;
      expect(lost.lastRouteKind).toBe('local');
      expect(lost.reason).toBe('push_lost');
      const view = h.view(kind);
      expect(['reconnecting', 'disconnected']).toContain(view.status);
      expect(view.reason).toBe('push_lost');
      expect(view.error).toMatch(/refused|reset/i);
      expect(view.route).toBeNull();
      expect(view.push).toBe('off');
    }

    const up = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'up' })));
    for (const kind of KINDS) {
      const restored = await h.waitForEvent(kind, 'ConnectionRestored', { from: up });
      expect(restored.routeKind).toBe('local');
      // The backoff probes found it (cap 1 s here), and the channel reopened on the route.
      await h.waitForView(kind, 'push open again', (v) => v.status === 'connected' && v.push === 'open');
      const states = h.history(kind).map((e) => e.state);
      expect(states[0]).toBe('connected');
      expect(states[1]).toBe('reconnecting');
      expect(states.at(-1)).toBe('connected');
      expect(h.history(kind)[1]!.routeKind).toBe('local');
    }
  });

  it('a route that hangs with the channel open is detected by the ping timeout, and the source moves on', async () => {
    h = await EngineHarness.start({ settings: PUSH_ONLY });
    await h.waitForSteadyState();
    const nextPoll = await waitForNextPollFar(h);
    const hangAt = Date.now();

    const hang = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'hang' })));
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged', { from: hang, where: (e) => e.routeKind === 'remote', timeoutMs: POLL_FAR_MS / 3 });
      expect(changed.sourceName).toBe(NAMES[kind]);
      expect(changed.routeId).toBe(h.routeId(kind, REMOTE[kind]));
      // Silent channel: one ping period + the pong timeout, then a check with the shorter suspect
      // timeout that takes the remote route early. Far below the 30 s poll.
      expect(changed.receivedAt - hangAt).toBeLessThan(TEST_PUSH.pingIntervalMs! + TEST_PUSH.pongTimeoutMs! + 3_000);
      expect(changed.receivedAt).toBeLessThan(nextPoll[kind]);
      expect(h.eventsOf(kind, 'ConnectionLost', hang)).toEqual([]);
      // The channel follows the source to its new route.
      const view = await h.waitForView(kind, 'push open on the remote route', (v) => v.route?.kind === 'remote' && v.push === 'open');
      expect(view.status).toBe('connected');
      expect(h.sim.route(REMOTE[kind]).openSockets).toBeGreaterThanOrEqual(1);
      expect(h.history(kind).map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local', 'connected:remote']);
    }
  });

  it('a graceful stop shows "the server is shutting down" at once (and Jellyfin\'s restart "is restarting")', async () => {
    h = await EngineHarness.start({ settings: PUSH_ONLY });
    await h.waitForSteadyState();
    const nextPoll = await waitForNextPollFar(h);
    const stopAt = Date.now();

    const stop = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'stop' })));
    for (const kind of KINDS) {
      const lost = await h.waitForEvent(kind, 'ConnectionLost', { from: stop, timeoutMs: POLL_FAR_MS / 3 });
      expect(lost.sourceName).toBe(NAMES[kind]);
      expect(lost.reason).toBe('server_shutting_down');
      expect(lost.receivedAt - stopAt).toBeLessThan(3_000);
      expect(lost.receivedAt).toBeLessThan(nextPoll[kind]);
      const reconnecting = h.eventsOf(kind, 'Reconnecting', stop)[0]!;
      expect(reconnecting.reason).toBe('server_shutting_down');
      // What the stream carried with the event: the reason and its words.
      const message = h.messages.find((m) => m.message.type === 'engine' && m.message.message.seq === lost.seq)!;
      const streamed = message.message.type === 'engine' ? message.message.message.source : null;
      const shown = streamed && toApiSource(streamed);
      expect(shown?.status).toBe('reconnecting');
      expect(shown?.reason).toBe('server_shutting_down');
      expect(shown?.error).toBe('the server is shutting down');
      // Later failed retries keep the reason; the error then names the concrete problem.
      const later = await h.waitForView(kind, 'a failed retry', (v) => (v.attempt ?? 0) >= 2);
      expect(later.reason).toBe('server_shutting_down');
      expect(later.error).toMatch(/refused|reset/i);
      const history = h.history(kind);
      expect(history[1]!.state).toBe('reconnecting');
      expect(history[1]!.detail).toBe('the server is shutting down');
    }

    const up = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'up' })));
    for (const kind of KINDS) {
      await h.waitForEvent(kind, 'ConnectionRestored', { from: up });
      const view = await h.waitForView(kind, 'push open again', (v) => v.status === 'connected' && v.push === 'open');
      expect(view.reason).toBeUndefined();
    }

    const restart = h.mark();
    await h.sim.server(JELLYFIN_ID).fault({ mode: 'stop', restarting: true });
    const lost = await h.waitForEvent('jellyfin', 'ConnectionLost', { from: restart, timeoutMs: POLL_FAR_MS / 3 });
    expect(lost.reason).toBe('server_restarting');
    const message = h.messages.find((m) => m.message.type === 'engine' && m.message.message.seq === lost.seq)!;
    const streamed = message.message.type === 'engine' ? message.message.message.source : null;
    expect(streamed && toApiSource(streamed).error).toBe('the server is restarting');
    expect(h.view('plex').status).toBe('connected');
  });

  it('honours Jellyfin ForceKeepAlive: the server drops silent clients, never our channel', async () => {
    // Scaled timers: the server drops a socket that sent no KeepAlive for 3 s (60 s x 0.05).
    h = await EngineHarness.start({ jellyfinKeepAliveScale: 0.05 });
    await h.waitForSteadyState();
    const server = h.sim.server(JELLYFIN_ID);
    expect(server.openSockets).toBe(1);

    // Control: a client that answers pings but ignores ForceKeepAlive is dropped by the server.
    const token = h.sim.jellyfin(JELLYFIN_ID).issueToken();
    const silent = new WebSocket(`${h.sim.route(LOCAL.jellyfin).url.replace('http', 'ws')}/socket`, {
      headers: { Authorization: `MediaBrowser Client="Test", Device="Test", DeviceId="silent-client", Version="1.0", Token="${token}"` },
    });
    const forced = new Promise<unknown>((resolve) => silent.on('message', (data) => resolve(JSON.parse((data as Buffer).toString()))));
    const dropped = new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now())));
    silent.on('error', () => {});
    const openedAt = await new Promise<number>((resolve, reject) => {
      silent.once('open', () => resolve(Date.now()));
      silent.once('error', reject);
    });
    expect(await forced).toMatchObject({ MessageType: 'ForceKeepAlive', Data: 3 });

    const watch = h.mark();
    const droppedAt = await Promise.race([dropped, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the silent client was never dropped')), 8_000))]);
    expect(droppedAt - openedAt).toBeGreaterThanOrEqual(2_500);

    // Ours stays open across several of the server's timeout periods.
    await sleep(3 * 3_000);
    const pushStates = h.messages.slice(watch).flatMap((m) => (m.message.type === 'source' && m.message.source.source.id === h!.jellyfinSourceId ? [m.message.source.push] : []));
    expect(pushStates.filter((s) => s !== 'open')).toEqual([]);
    expect(h.view('jellyfin')).toMatchObject({ status: 'connected', push: 'open' });
    expect(server.openSockets).toBe(1);
    expect(h.eventsOf('jellyfin', 'ConnectionLost', watch)).toEqual([]);
    expect(h.eventsOf('jellyfin', 'StatusChanged', watch)).toEqual([]);
  });

  it('a revoked token is auth_required via the channel, and the upgrade itself rejects the old token', async () => {
    h = await EngineHarness.start({ settings: PUSH_ONLY });
    await h.waitForSteadyState();
    const nextPoll = await waitForNextPollFar(h);
    const revokeAt = Date.now();
    const oldCredentials = Object.fromEntries(KINDS.map((k) => [k, h!.engine.getCredentials(h!.sourceId(k))!]));

    const revoke = h.mark();
    // Plex: only a sign-in plex.tv rejects too is auth_required (a rotated server token is refreshed silently).
    h.sim.plexTv.revokeAccount();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'bad-token' })));
    for (const kind of KINDS) {
      const auth = await h.waitForEvent(kind, 'AuthStatusChanged', { from: revoke, where: (e) => e.authRequired, timeoutMs: POLL_FAR_MS / 3 });
      expect(auth.sourceName).toBe(NAMES[kind]);
      expect(auth.receivedAt - revokeAt).toBeLessThan(3_000);
      expect(auth.receivedAt).toBeLessThan(nextPoll[kind]);
      const view = h.view(kind);
      expect(view.status).toBe('auth_required');
      expect(view.push).toBe('off');
      expect(h.eventsOf(kind, 'ConnectionLost', revoke)).toEqual([]);
      expect(h.history(kind).map((e) => e.state)).toEqual(['connected', 'auth_required']);

      // The upgrade with the old token is refused as a sign-in problem (Plex 401, Jellyfin 403).
      const detail = h.detail(kind);
      const route = detail.routes.find((r) => r.kind === 'local')!;
      const backend = h.backends.backends[kind];
      const lostWith = await new Promise<Parameters<PushHandlers['onLost']>[0]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('openPush never reported')), 5_000);
        const channel = backend.openPush!({ kind, serverId: detail.serverId }, { id: route.id, url: route.url, kind: route.kind, priority: route.priority }, oldCredentials[kind]!, {
          onOpen: () => {
            clearTimeout(timer);
            channel.close();
            reject(new Error('the channel opened with a revoked token'));
          },
          onServerGoingAway: () => {},
          onLost: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
        }, { ...TEST_PUSH, pingIntervalMs: TEST_PUSH.pingIntervalMs!, pongTimeoutMs: TEST_PUSH.pongTimeoutMs!, connectTimeoutMs: TEST_PUSH.connectTimeoutMs! });
      });
      expect(lostWith.code).toBe('unauthorized');
      expect(lostWith.message).not.toContain(oldCredentials[kind]!.token);
    }
  });

  it('a change of the host network re-checks every source at once (nothing else would notice here)', async () => {
    // Push off and polls far away: only the network-change trigger can explain a fast re-check.
    h = await EngineHarness.start({ settings: PUSH_ONLY, push: { enabled: false } });
    // Libraries read too: a library list that got no answer (a loaded machine) is re-checked once at
    // once, and that check would notice the refused route before the network change does.
    for (const kind of KINDS) {
      await h.waitForView(kind, 'connected via local with its libraries', (v) => v.status === 'connected' && v.route?.kind === 'local' && v.libraries.length > 0);
    }
    // The library cache's first sync (on connect) asks the servers too, and a browse request that
    // meets a dead route makes the engine re-check at once (request failover): let it finish first.
    await h.libraryLayer.sync.idle();
    const nextPoll = await waitForNextPollFar(h);
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'refuse' })));
    await sleep(500);
    const changedAt = Date.now();
    for (const kind of KINDS) expect(h.view(kind).route?.kind).toBe('local'); // nobody noticed yet

    const mark = h.mark();
    h.changeNetwork();
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged', { from: mark, where: (e) => e.routeKind === 'remote', timeoutMs: POLL_FAR_MS / 3 });
      expect(changed.sourceName).toBe(NAMES[kind]);
      expect(changed.receivedAt - changedAt).toBeLessThan(2_000);
      expect(changed.receivedAt).toBeLessThan(nextPoll[kind]);
    }
  });
});

