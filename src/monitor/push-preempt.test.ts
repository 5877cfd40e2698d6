// A silent push channel must not wait behind a check that is itself stuck on the silent route.
import { afterEach, describe, expect, it } from 'vitest';
import type { Route, Source } from '../core/types.js';
import { ConnectionMonitor } from './connection-monitor.js';
import type { MonitorListener } from './monitor-listener.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { ScriptedBackend } from '../../test/support/scripted-backend.js';

function source(): Source {
  const routes: Route[] = [
    { id: 'local', url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 },
    { id: 'remote', url: 'http://127.0.0.3:32400', kind: 'remote', priority: 0 },
  ];
  return { id: 's', name: 'Living-room Plex', kind: 'plex', serverId: 'a'.repeat(40), routes, credentialRef: 's', monitoring: {}, createdAt: 0 };
}

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

/** A started monitor with one source, connected on its local route after 50 ms. */
async function connected(listener: MonitorListener = {}) {
  const clock = new FakeClock();
  const backend = new ScriptedBackend(clock);
  const monitor = new ConnectionMonitor({ clock, random: () => 0.5, getBackend: () => backend, getCredentials: () => ({ token: 't' }), listener });
  monitor.addSource(source());
  monitor.start();
  stop = () => monitor.stop();
  await clock.advance(50);
  return { clock, backend, monitor };
}

describe('pushLost while a check is in flight', () => {
  it('cancels the stuck light check and confirms the cut with the suspect timeout', async () => {
    const { clock, backend, monitor } = await connected();
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected', routeKind: 'local' });

    // The network is cut; the next light check (base tick 10 s) hangs on local for the 5 s timeout.
    backend.route('local', { answer: 'hang' }).route('remote', { answer: 'hang' });
    const next = monitor.nextCheckAt('s')!;
    await clock.advance(next - clock.now() + 500);
    expect(monitor.isChecking('s')).toBe(true);

    // The push channel's pong timeout fires half a second into that light check.
    const lostAt = clock.now();
    monitor.pushLost('s');
    await clock.advance(2_100);
    // Confirmed at the suspect timeout (2 s) after the loss, not after the light check's 5 s.
    expect(monitor.getStatus('s')).toMatchObject({ state: 'reconnecting', reason: 'push_lost' });
    const status = monitor.getStatus('s')!;
    expect(status.state === 'reconnecting' && status.since - lostAt).toBeLessThanOrEqual(2_100);
  });
});

describe('suspect: the push channel is overdue', () => {
  it('checks every route at once with the early timeout; the pong timeout that follows does not cancel it', async () => {
    const { clock, backend, monitor } = await connected();
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected', routeKind: 'local' });

    // The network is cut: every route hangs. The channel becomes overdue, then times out 1 s later.
    backend.route('local', { answer: 'hang' }).route('remote', { answer: 'hang' });
    const suspectedAt = clock.now();
    expect(monitor.suspect('s')).toBe(true);
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected' }); // suspicion alone changes nothing
    await clock.advance(500);
    monitor.pushLost('s');
    await clock.advance(600);
    // Decided by the early check at its 1 s timeout, not 2 s after the pong timeout.
    const status = monitor.getStatus('s')!;
    expect(status).toMatchObject({ state: 'reconnecting' });
    expect(status.state === 'reconnecting' && status.since - suspectedAt).toBeLessThanOrEqual(1_100);
  });

  it('a suspicion that turns out wrong (the route answers) changes nothing', async () => {
    const events: string[] = [];
    const { clock, monitor } = await connected({ onEvents: (_id, evs) => events.push(...evs.map((e) => e.type)) });
    const before = events.length;
    expect(monitor.suspect('s')).toBe(true);
    await clock.advance(1_500);
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(events.slice(before)).toEqual([]);
  });
});

describe('suspectCleared: the overdue channel answered after all', () => {
  // A busy server: its pong came late, and its HTTP answer would come later than the early check's
  // 1 s timeout (the scripted 'hang' answers a timeout at the probe's deadline). Remote is unreachable.
  async function busyServer(listener: MonitorListener = {}) {
    const ctx = await connected(listener);
    ctx.backend.route('local', { answer: 'hang' }).route('remote', { answer: 'hang' });
    return ctx;
  }

  it('left alone, the early check would call the slow but live server lost', async () => {
    const { clock, monitor } = await busyServer();
    monitor.suspect('s');
    await clock.advance(1_100);
    expect(monitor.getStatus('s')?.state).toBe('reconnecting');
  });

  it('a pong before the early check ends cancels it: nothing changes, the planned check stays', async () => {
    const events: string[] = [];
    const { clock, monitor } = await busyServer({ onEvents: (_id, evs) => events.push(...evs.map((e) => e.type)) });
    const planned = monitor.nextCheckAt('s');
    const before = events.length;
    monitor.suspect('s');
    await clock.advance(300);
    expect(monitor.suspectCleared('s')).toBe(true);
    await clock.advance(2_000);
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(events.slice(before)).toEqual([]);
    expect(monitor.nextCheckAt('s')).toBe(planned);
    expect(monitor.suspectCleared('s')).toBe(false); // nothing left to cancel
  });
});

describe('libraries that get no answer', () => {
  it('re-check the routes once before calling the libraries broken (a hanging route is not sync_failed)', async () => {
    const states: string[] = [];
    const { clock, backend, monitor } = await connected({ onEvents: (_id, _evs, state) => states.push(state.status.state) });
    expect(monitor.getStatus('s')).toMatchObject({ state: 'connected', routeKind: 'local' });

    // Libraries time out while the routes still answer: after one re-check, it is sync_failed.
    backend.setLibraries({ ok: false, code: 'timeout', message: 'libraries did not arrive within 10 s' });
    monitor.checkNow('s');
    await clock.advance(200);
    expect(monitor.getStatus('s')).toMatchObject({ state: 'sync_failed' });
    expect(states.filter((s) => s === 'sync_failed')).toHaveLength(1);
  });

  it('a server error on the libraries is sync_failed at once', async () => {
    let probes = 0;
    const { clock, backend, monitor } = await connected({ onProbe: () => (probes += 1) });
    backend.setLibraries({ ok: false, code: 'http_error', message: 'HTTP 500' });
    const before = probes;
    monitor.checkNow('s');
    await clock.advance(200);
    expect(monitor.getStatus('s')).toMatchObject({ state: 'sync_failed' });
    // One full check (two routes), no extra re-check.
    expect(probes - before).toBe(2);
  });
});
