import { describe, expect, it } from 'vitest';
import type { ApiSource } from '../../api/types';
import { describeStatus, isHealthy, isOnWorseRoute, overallStatus } from './status';

function source(partial: Partial<ApiSource> & Pick<ApiSource, 'status'>): ApiSource {
  return {
    id: partial.id ?? 's',
    name: partial.name ?? 'Living-room Plex',
    kind: 'plex',
    route: null,
    lastCheckedAt: null,
    nextCheckAt: null,
    since: null,
    push: 'off',
    libraries: [],
    ...partial,
  };
}

const local = { id: 'r1', url: 'http://127.0.0.2:32400', kind: 'local' as const, latencyMs: 3 };
const remote = { ...local, id: 'r2', kind: 'remote' as const };
const relay = { ...local, id: 'r3', kind: 'relay' as const };

describe('describeStatus', () => {
  it('connected on a local route is plainly OK', () => {
    expect(describeStatus(source({ status: 'connected', route: local }), 0)).toMatchObject({ tone: 'ok', icon: 'ok', label: 'Connected' });
  });

  it('remote and relay routes are warnings with the latency/bandwidth hint', () => {
    expect(describeStatus(source({ status: 'connected', route: remote }), 0)).toMatchObject({
      tone: 'warn',
      icon: 'warn',
      label: 'Remote',
      hint: 'Using a remote route: more latency and limited bandwidth',
    });
    expect(describeStatus(source({ status: 'connected', route: relay }), 0)).toMatchObject({ label: 'Relay', hint: 'Using a relay route: more latency and limited bandwidth' });
  });

  it('a remote-only server on its remote route is shown as normal, keeping the route hint', () => {
    const view = describeStatus(source({ name: "Friend's Plex", status: 'connected', route: remote, preferredRouteKind: 'remote' }), 0);
    expect(view).toMatchObject({ tone: 'ok', icon: 'ok', label: 'Remote', sentence: "Friend's Plex is connected through its remote route." });
    expect(view.hint).toContain('Using a remote route');
    expect(describeStatus(source({ status: 'connected', route: remote, preferredRouteKind: 'local' }), 0)).toMatchObject({ tone: 'warn', icon: 'warn', label: 'Remote' });
  });

  it('reconnecting counts down to the next retry, then says reconnecting', () => {
    const s = source({ status: 'reconnecting', attempt: 2, nextRetryAt: 10_000, reason: 'server_restarting', error: 'no answer within 5 s' });
    expect(describeStatus(s, 5_200)).toMatchObject({ tone: 'busy', icon: 'spinner', label: 'Retry in 5 s' });
    expect(describeStatus(s, 10_500).label).toBe('Reconnecting…');
    expect(describeStatus(s, 0).sentence).toBe('Living-room Plex is reconnecting because the server is restarting, attempt 2. Last problem: no answer within 5 s.');
  });

  it('a reason is said once: the API\'s fallback error (the reason in words) is not repeated as the problem', () => {
    // What the API sends for a server that announced its restart and has no other error yet.
    const going = source({ status: 'reconnecting', attempt: 1, nextRetryAt: 10_000, reason: 'server_restarting', error: 'the server is restarting' });
    expect(describeStatus(going, 0).sentence).toBe('Living-room Plex is reconnecting because the server is restarting, attempt 1.');
    const gone = source({ status: 'disconnected', nextRetryAt: 0, reason: 'network_changed', error: 'this machine’s network changed' });
    expect(describeStatus(gone, 0).sentence).toBe('Living-room Plex is disconnected (this machine’s network changed).');
  });

  it('disconnected, sign-in needed and sync failed each have their own icon and words', () => {
    const views = [
      describeStatus(source({ status: 'disconnected', nextRetryAt: 30_000, error: 'the server refused the connection' }), 0),
      describeStatus(source({ status: 'auth_required' }), 0),
      describeStatus(source({ status: 'sync_failed', route: local, error: 'HTTP 500 from /library/sections' }), 0),
    ];
    expect(views.map((v) => [v.icon, v.label])).toEqual([
      ['offline', 'Disconnected'],
      ['key', 'Sign in needed'],
      ['sync', 'Sync failed'],
    ]);
    expect(views[0]!.sentence).toContain('Next try in 30 seconds');
    expect(new Set(views.map((v) => v.icon)).size).toBe(3);
  });
});

describe('overallStatus', () => {
  it('all local connections → ok', () => {
    expect(overallStatus([source({ id: 'a', status: 'connected', route: local }), source({ id: 'b', status: 'connected', route: local })]).state).toBe('ok');
  });

  it('a remote route, reconnecting or sign-in needed → degraded, naming the servers', () => {
    for (const odd of [source({ id: 'b', name: 'Attic', status: 'connected', route: remote }), source({ id: 'b', name: 'Attic', status: 'reconnecting' }), source({ id: 'b', name: 'Attic', status: 'auth_required' })]) {
      const view = overallStatus([source({ id: 'a', status: 'connected', route: local }), odd]);
      expect(view.state).toBe('degraded');
      expect(view.sentence).toContain('Attic');
    }
  });

  it('a remote-only server on its remote route is not degraded; a fallback from local or any relay is', () => {
    const friend = source({ id: 'f', name: "Friend's Plex", status: 'connected', route: remote, preferredRouteKind: 'remote' });
    const home = source({ id: 'h', status: 'connected', route: local, preferredRouteKind: 'local' });
    expect(isOnWorseRoute(friend)).toBe(false);
    expect(isHealthy(friend)).toBe(true);
    expect(overallStatus([home, friend])).toMatchObject({ state: 'ok', label: 'All connected' });

    const fellBack = source({ id: 'l', name: 'Living-room Plex', status: 'connected', route: remote, preferredRouteKind: 'local' });
    expect(isOnWorseRoute(fellBack)).toBe(true);
    expect(overallStatus([home, friend, fellBack])).toMatchObject({ state: 'degraded', sentence: '1 of 3 servers need attention: Living-room Plex.' });
    const many = Array.from({ length: 8 }, (_, i) => ({ ...fellBack, id: `s${i}`, name: `S${i}` }));
    expect(overallStatus(many).sentence).toBe('8 of 8 servers need attention: S0, S1, S2, S3, S4 and 3 more.');

    const relayOnly = source({ id: 'r', status: 'connected', route: relay, preferredRouteKind: 'relay' });
    expect(isOnWorseRoute(relayOnly)).toBe(true);
    const remoteFallsToRelay = source({ id: 'x', status: 'connected', route: relay, preferredRouteKind: 'remote' });
    expect(isHealthy(remoteFallsToRelay)).toBe(false);
    // An older server without preferredRouteKind: a remote route still counts as a fallback.
    expect(isOnWorseRoute(source({ status: 'connected', route: remote }))).toBe(true);
    // Not connected is never healthy, whatever its routes.
    for (const status of ['reconnecting', 'disconnected', 'auth_required', 'sync_failed'] as const) {
      expect(isHealthy(source({ status, route: status === 'sync_failed' ? remote : null, preferredRouteKind: 'remote' }))).toBe(false);
    }
  });

  it('nothing reachable and something disconnected → offline', () => {
    expect(overallStatus([source({ id: 'a', status: 'disconnected' }), source({ id: 'b', status: 'reconnecting' })]).state).toBe('offline');
  });

  it('no sources → empty; only connecting → connecting', () => {
    expect(overallStatus([]).state).toBe('empty');
    expect(overallStatus([source({ status: 'connecting' })]).state).toBe('connecting');
  });
});
