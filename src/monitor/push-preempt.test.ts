// A silent push channel must not wait behind a check that is itself stuck on the silent route.
import { afterEach, describe, expect, it } from 'vitest';
import type { Route, Source } from '../core/types.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { FakeClock } from './testing/fake-clock.js';
import { ScriptedBackend } from './testing/scripted-backend.js';

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

describe('pushLost while a check is in flight', () => {
  it('cancels the stuck light check and confirms the cut with the suspect timeout', async () => {
    const clock = new FakeClock();
    const backend = new ScriptedBackend(clock);
    const monitor = new ConnectionMonitor({ clock, random: () => 0.5, getBackend: () => backend, getCredentials: () => ({ token: 't' }) });
    monitor.addSource(source());
    monitor.start();
    stop = () => monitor.stop();
    await clock.advance(50);
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
