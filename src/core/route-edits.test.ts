import { describe, expect, it } from 'vitest';
import { addressScope } from './addresses.js';
import { inferRouteKind, isManagedOrigin, nextPriority, normaliseRouteUrl, planRouteMove, sameServerId, type OrderedRoute } from './route-edits.js';

describe('normaliseRouteUrl', () => {
  it.each([
    ['http://192.168.1.20:32400', 'http://192.168.1.20:32400'],
    ['  HTTP://MEDIA.Example.ORG:80/  ', 'http://media.example.org'],
    ['https://media.example.org:443/plex/', 'https://media.example.org/plex'],
    ['192.168.1.20:8096', 'http://192.168.1.20:8096'],
    ['jellyfin.lan:8096', 'http://jellyfin.lan:8096'],
    ['http://[FD7A:115C:A1E0::1]:32400', 'http://[fd7a:115c:a1e0::1]:32400'],
    ['http://0xc0a80114:32400', 'http://192.168.1.20:32400'],
    ['https://proxy.example.org/a/b//', 'https://proxy.example.org/a/b'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseRouteUrl(input)).toEqual({ ok: true, url: expected });
  });

  it.each([
    ['', /give the server/],
    ['ftp://192.168.1.20', /only http/],
    ['javascript:alert(1)', /only http/],
    ['file:///etc/passwd', /only http/],
    ['http://user:pass@192.168.1.20:32400', /user name or password/],
    ['http://token@192.168.1.20:32400', /user name or password/],
    ['http://192.168.1.20:32400/?X-Plex-Token=abc', /query/],
    ['http://192.168.1.20:32400#frag', /fragment/],
    ['http://192.168.1.20:32400/a/../b', /\. or \.\./],
    ['http://192.168.1.20:32400/./b', /\. or \.\./],
    ['http://192.168.1.20:32400//b', /empty path/],
    ['http://192.168.1.20:32400/%2e%2e/admin', /encoded/],
    ['http://192.168.1.20:32400/a%2Fb', /encoded/],
    ['http://192.168.1.20\\@evil.example', /backslash/],
    ['http://192.168.1.20:32400/a b', /spaces/],
    ['http://exa\u0000mple.org', /control/],
    ['http://', /not a valid address|no host/],
    ['http://' + 'a'.repeat(2100) + '.org', /too long/],
  ])('refuses %s', (input, reason) => {
    const result = normaliseRouteUrl(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('inferRouteKind / addressScope', () => {
  it.each([
    ['http://192.168.1.20:32400', 'local'],
    ['http://10.1.2.3', 'local'],
    ['http://172.16.0.1', 'local'],
    ['http://172.31.255.255', 'local'],
    ['http://127.0.0.2:32400', 'local'],
    ['http://169.254.10.1', 'local'],
    ['http://[fe80::1]', 'local'],
    ['http://[fd00::5]', 'local'],
    ['http://[::1]:8096', 'local'],
    ['http://[::ffff:192.168.1.1]', 'local'],
    ['http://localhost:8096', 'local'],
    ['http://nas:8096', 'local'],
    ['http://nas.local:8096', 'local'],
    ['http://jf.home.arpa', 'local'],
    ['http://172.32.0.1', 'remote'],
    ['http://100.101.102.103:32400', 'remote'],
    ['https://media.example.org', 'remote'],
    ['http://[2001:db8::1]', 'remote'],
    ['http://8.8.8.8', 'remote'],
  ] as const)('%s → %s', (url, kind) => {
    expect(inferRouteKind(url)).toBe(kind);
  });

  it('reads every spelling of an IP literal', () => {
    expect(addressScope('0xc0a80101')).toBe('local');
    expect(addressScope('3232235777')).toBe('local');
    expect(addressScope('[::ffff:c0a8:101]')).toBe('local');
    expect(addressScope('')).toBe('remote');
  });
});

describe('planRouteMove', () => {
  const routes: OrderedRoute[] = [
    { id: 'l1', kind: 'local', priority: 0 },
    { id: 'l2', kind: 'local', priority: 1 },
    { id: 'r1', kind: 'remote', priority: 0 },
    { id: 'r2', kind: 'remote', priority: 1 },
    { id: 'r3', kind: 'remote', priority: 2 },
    { id: 'x', kind: 'relay', priority: 0 },
  ];
  const apply = (changes: OrderedRoute[]) => {
    const next = routes.map((r) => changes.find((c) => c.id === r.id) ?? r);
    const order = (k: string) => next.filter((r) => r.kind === k).sort((a, b) => a.priority - b.priority).map((r) => r.id);
    return { local: order('local'), remote: order('remote'), relay: order('relay') };
  };

  it('moves a route to the front of its kind and renumbers densely', () => {
    const changes = planRouteMove(routes, 'r3', { position: 0 })!;
    expect(apply(changes)).toEqual({ local: ['l1', 'l2'], remote: ['r3', 'r1', 'r2'], relay: ['x'] });
    expect(changes).toEqual([
      { id: 'r3', kind: 'remote', priority: 0 },
      { id: 'r1', kind: 'remote', priority: 1 },
      { id: 'r2', kind: 'remote', priority: 2 },
    ]);
  });

  it('clamps the position and changes nothing when the route is already there', () => {
    expect(apply(planRouteMove(routes, 'l1', { position: 99 })!)).toEqual({ local: ['l2', 'l1'], remote: ['r1', 'r2', 'r3'], relay: ['x'] });
    expect(planRouteMove(routes, 'r2', { position: 1 })).toEqual([]);
  });

  it('a new kind puts the route last there unless a position is given; the old kind closes ranks', () => {
    expect(apply(planRouteMove(routes, 'l1', { kind: 'remote' })!)).toEqual({ local: ['l2'], remote: ['r1', 'r2', 'r3', 'l1'], relay: ['x'] });
    const changes = planRouteMove(routes, 'r1', { kind: 'local', position: 1 })!;
    expect(apply(changes)).toEqual({ local: ['l1', 'r1', 'l2'], remote: ['r2', 'r3'], relay: ['x'] });
    expect(changes.find((c) => c.id === 'r2')).toEqual({ id: 'r2', kind: 'remote', priority: 0 });
  });

  it('is null for an unknown route', () => {
    expect(planRouteMove(routes, 'nope', { position: 0 })).toBeNull();
  });
});

describe('helpers', () => {
  it('nextPriority is after every route of the kind', () => {
    expect(nextPriority([{ id: 'a', kind: 'local', priority: 4 }, { id: 'b', kind: 'remote', priority: 9 }], 'local')).toBe(5);
    expect(nextPriority([], 'remote')).toBe(0);
  });
  it('managed origins are plex.tv and server-reported', () => {
    expect([isManagedOrigin('plex.tv'), isManagedOrigin('server-reported'), isManagedOrigin('typed'), isManagedOrigin('user')]).toEqual([true, true, false, false]);
  });
  it('server ids compare without dashes and case', () => {
    expect(sameServerId('0123ABCD-0000-4000-8000-000000000001', '0123abcd000040008000000000000001')).toBe(true);
    expect(sameServerId('abc', 'abd')).toBe(false);
  });
});
