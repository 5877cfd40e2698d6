import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../core/types';
import { toastForEvent } from './notifications';

const base = { sourceId: 's1', sourceName: 'Living-room Plex', sourceKind: 'plex' as const, at: 0 };

describe('toastForEvent', () => {
  it('names the server when the connection is lost, with the reason in words', () => {
    const toast = toastForEvent({ ...base, type: 'ConnectionLost', lastRouteKind: 'local', reason: 'server_restarting' });
    expect(toast).toMatchObject({ kind: 'lost', tone: 'error', title: 'Living-room Plex lost its connection' });
    expect(toast?.description).toContain('The server is restarting');
  });

  it('says the server is back', () => {
    const toast = toastForEvent({ ...base, type: 'ConnectionRestored', routeId: 'r', routeKind: 'local', latencyMs: 4, downForMs: 1000 });
    expect(toast).toMatchObject({ kind: 'restored', tone: 'success', title: 'Living-room Plex is back' });
  });

  it('a remote-only server back on its remote route is plainly back; a fallback to remote is a warning', () => {
    const event = { ...base, sourceName: "Friend's Plex", type: 'ConnectionRestored' as const, routeId: 'r', routeKind: 'remote' as const, latencyMs: 40, downForMs: 1000 };
    expect(toastForEvent(event, 'remote')).toMatchObject({ kind: 'restored', tone: 'success', title: "Friend's Plex is back", description: 'Connected on its remote route (40 ms).' });
    expect(toastForEvent(event, 'local')).toMatchObject({ tone: 'warning', description: 'Connected on a remote route: more latency and limited bandwidth.' });
    expect(toastForEvent(event)).toMatchObject({ tone: 'warning' });
    expect(toastForEvent({ ...event, routeKind: 'relay' }, 'relay')).toMatchObject({ tone: 'warning' });
  });

  it('warns about remote and relay routes', () => {
    const remote = toastForEvent({ ...base, type: 'ConnectionChanged', routeId: 'r', routeKind: 'remote', previousRouteKind: 'local', latencyMs: 80 });
    expect(remote).toMatchObject({ kind: 'remote', tone: 'warning', title: 'Living-room Plex is now on a remote route' });
    const relay = toastForEvent({ ...base, type: 'ConnectionChanged', routeId: 'r', routeKind: 'relay', previousRouteKind: 'remote', latencyMs: 300 });
    expect(relay).toMatchObject({ kind: 'relay', title: 'Living-room Plex is now on a relay route' });
  });

  it('stays quiet for a first connection or an unchanged route kind', () => {
    expect(toastForEvent({ ...base, type: 'ConnectionChanged', routeId: 'r', routeKind: 'remote', previousRouteKind: null, latencyMs: 1 })).toBeNull();
    expect(toastForEvent({ ...base, type: 'ConnectionChanged', routeId: 'r', routeKind: 'local', previousRouteKind: 'local', latencyMs: 1 })).toBeNull();
  });

  it('asks to sign in again, with an action', () => {
    expect(toastForEvent({ ...base, type: 'AuthStatusChanged', authRequired: true })).toMatchObject({ kind: 'auth', title: 'Sign in to Living-room Plex again', signIn: true });
    expect(toastForEvent({ ...base, type: 'AuthStatusChanged', authRequired: false })).toBeNull();
  });

  it('does not toast routine events', () => {
    const events: EngineEvent[] = [
      { ...base, type: 'Reconnecting', attempt: 2, nextRetryAt: 5 },
      { ...base, type: 'SyncRestored', libraryCount: 3 },
      { ...base, type: 'StatusChanged', status: { state: 'connecting' }, previous: { state: 'connecting' } },
    ];
    for (const event of events) expect(toastForEvent(event)).toBeNull();
  });
});
