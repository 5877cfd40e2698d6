import { describe, expect, it } from 'vitest';
import {
  decideRejectedToken,
  describeRouteChange,
  jwtRenewAt,
  jwtRenewalDue,
  mergeManagedRoutes,
  nextPeriodicRefreshAt,
  planLocalAddressRefresh,
  refreshAllowedAt,
  resourcesRefreshDue,
  tokenRejected,
  type AccountAnswer,
  type KnownRoute,
  type RefreshTrigger,
} from './route-refresh.js';
import type { ProbeResult } from './types.js';

const route = (id: string, url: string, kind: KnownRoute['kind'], priority: number, origin: KnownRoute['origin']): KnownRoute => ({ id, url, kind, priority, origin });

describe('mergeManagedRoutes', () => {
  const current = [
    route('local', 'http://10.0.0.2:32400', 'local', 0, 'plex.tv'),
    route('remote', 'https://1-2-3-4.abc.plex.direct:32400', 'remote', 0, 'plex.tv'),
    route('relay', 'https://5-6-7-8.abc.plex.direct:8443', 'relay', 0, 'plex.tv'),
    route('mine', 'https://plex.example.com', 'remote', 1, 'typed'),
  ];

  it('keeps ids of unchanged URLs, adds new ones, removes what plex.tv no longer lists, never touches other origins', () => {
    const merge = mergeManagedRoutes(current, 'plex.tv', [
      { url: 'http://10.0.0.2:32400', kind: 'local', priority: 0 },
      { url: 'https://9-9-9-9.abc.plex.direct:32400', kind: 'remote', priority: 0 },
      { url: 'https://5-6-7-8.abc.plex.direct:8443', kind: 'relay', priority: 0 },
    ]);
    expect(merge.changed).toBe(true);
    expect(merge.routes).toEqual([
      { id: 'mine', url: 'https://plex.example.com', kind: 'remote', priority: 1, origin: 'typed' },
      { id: 'local', url: 'http://10.0.0.2:32400', kind: 'local', priority: 0, origin: 'plex.tv' },
      { url: 'https://9-9-9-9.abc.plex.direct:32400', kind: 'remote', priority: 0, origin: 'plex.tv' },
      { id: 'relay', url: 'https://5-6-7-8.abc.plex.direct:8443', kind: 'relay', priority: 0, origin: 'plex.tv' },
    ]);
    expect(merge.added.map((r) => r.url)).toEqual(['https://9-9-9-9.abc.plex.direct:32400']);
    expect(merge.removed.map((r) => r.id)).toEqual(['remote']);
    expect(describeRouteChange(merge, 'plex.tv')).toBe(
      'Routes updated: plex.tv reports a new remote route https://9-9-9-9.abc.plex.direct:32400; plex.tv no longer reports the remote route https://1-2-3-4.abc.plex.direct:32400',
    );
  });

  it('the same list is no change (nothing to write, nothing in the history)', () => {
    const merge = mergeManagedRoutes(current, 'plex.tv', current.filter((r) => r.origin === 'plex.tv'));
    expect(merge.changed).toBe(false);
    expect(describeRouteChange(merge, 'plex.tv')).toBeNull();
  });

  it('a kind or order change of a kept URL is a change, with the id kept', () => {
    const merge = mergeManagedRoutes(current, 'plex.tv', [
      { url: 'http://10.0.0.2:32400', kind: 'remote', priority: 0 },
      { url: 'https://1-2-3-4.abc.plex.direct:32400', kind: 'remote', priority: 1 },
      { url: 'https://5-6-7-8.abc.plex.direct:8443', kind: 'relay', priority: 0 },
    ]);
    expect(merge.changed).toBe(true);
    expect(merge.added).toEqual([]);
    expect(merge.removed).toEqual([]);
    expect(merge.routes.find((r) => r.url === 'http://10.0.0.2:32400')).toEqual({ id: 'local', url: 'http://10.0.0.2:32400', kind: 'remote', priority: 0, origin: 'plex.tv' });
    expect(describeRouteChange(merge, 'plex.tv')).toBe('Routes updated: plex.tv reordered its routes');
  });

  it('a reported URL the user typed stays the user’s route; an empty report removes only managed routes', () => {
    const merge = mergeManagedRoutes(current, 'plex.tv', [{ url: 'https://plex.example.com', kind: 'remote', priority: 0 }]);
    expect(merge.routes).toEqual([{ id: 'mine', url: 'https://plex.example.com', kind: 'remote', priority: 1, origin: 'typed' }]);
    expect(merge.removed.map((r) => r.id)).toEqual(['local', 'remote', 'relay']);
  });

  it('Jellyfin: a new LocalAddress replaces the server-reported route, the typed one stays', () => {
    const jf = [route('typed', 'https://jf.example.com', 'remote', 0, 'typed'), route('lan', 'http://192.168.1.5:8096', 'local', 0, 'server-reported')];
    const merge = mergeManagedRoutes(jf, 'server-reported', [{ url: 'http://192.168.1.9:8096', kind: 'local', priority: 0 }]);
    expect(merge.routes.map((r) => [r.id, r.url, r.origin])).toEqual([
      ['typed', 'https://jf.example.com', 'typed'],
      [undefined, 'http://192.168.1.9:8096', 'server-reported'],
    ]);
    expect(describeRouteChange(merge, 'server-reported')).toBe(
      'Routes updated: the server reports a new local route http://192.168.1.9:8096; the server no longer reports the local route http://192.168.1.5:8096',
    );
  });
});

describe('resourcesRefreshDue', () => {
  const cadence = { intervalMs: 3_600_000, minGapMs: 60_000 };
  const T = 10_000_000;
  const table: Array<[string, RefreshTrigger, number | null, number | null, number, boolean]> = [
    // name, trigger, lastAnsweredAt, lastAttemptAt, now, due
    ['never asked: periodic is due', 'periodic', null, null, T, true],
    ['answered 59 min ago: not yet', 'periodic', T - 59 * 60_000, T - 59 * 60_000, T, false],
    ['answered an hour ago: due', 'periodic', T - 3_600_000, T - 3_600_000, T, true],
    ['failed attempt 30 s ago: wait the gap', 'periodic', T - 7_200_000, T - 30_000, T, false],
    ['failed attempt 60 s ago: try again', 'periodic', T - 7_200_000, T - 60_000, T, true],
    ['every route failed, answered 5 min ago: at once', 'all_routes_failed', T - 300_000, T - 300_000, T, true],
    ['every route failed, asked 10 s ago: not more often than the gap', 'all_routes_failed', T - 10_000, T - 10_000, T, false],
    ['token rejected, asked 2 min ago: at once', 'token_rejected', T - 120_000, T - 120_000, T, true],
    ['token rejected, asked 1 s ago: no', 'token_rejected', T - 1_000, T - 1_000, T, false],
    ['token rejected, asked 6 s ago: a tenth of the gap is enough', 'token_rejected', T - 6_000, T - 6_000, T, true],
  ];
  it.each(table)('%s', (_name, trigger, lastAnsweredAt, lastAttemptAt, now, due) => {
    expect(resourcesRefreshDue(trigger, { lastAnsweredAt, lastAttemptAt }, now, cadence)).toBe(due);
  });

  it('a refresh not allowed yet says when it is', () => {
    expect(refreshAllowedAt('token_rejected', { lastAnsweredAt: T - 1_000, lastAttemptAt: T - 1_000 }, T, cadence)).toBe(T + 5_000);
    expect(refreshAllowedAt('all_routes_failed', { lastAnsweredAt: T - 1_000, lastAttemptAt: T - 1_000 }, T, cadence)).toBe(T + 59_000);
    expect(refreshAllowedAt('token_rejected', { lastAnsweredAt: null, lastAttemptAt: null }, T, cadence)).toBe(T);
  });

  it('next periodic refresh: an interval after the last answer, at least a gap after the last attempt', () => {
    expect(nextPeriodicRefreshAt({ lastAnsweredAt: null, lastAttemptAt: null }, T, cadence)).toBe(T);
    expect(nextPeriodicRefreshAt({ lastAnsweredAt: T, lastAttemptAt: T }, T, cadence)).toBe(T + 3_600_000);
    expect(nextPeriodicRefreshAt({ lastAnsweredAt: T - 7_200_000, lastAttemptAt: T - 1_000 }, T, cadence)).toBe(T + 59_000);
  });
});

describe('a rejected per-server token', () => {
  const ok: ProbeResult = { ok: true, routeId: 'a', at: 0, latencyMs: 1 };
  const unauthorized: ProbeResult = { ok: false, routeId: 'b', at: 0, latencyMs: 1, error: { code: 'unauthorized', status: 401, message: 'x' } };
  const refused: ProbeResult = { ok: false, routeId: 'c', at: 0, latencyMs: 1, error: { code: 'refused', message: 'x' } };

  it('asks plex.tv only when nothing answered and a route rejected the token', () => {
    expect(tokenRejected([unauthorized, refused])).toBe(true);
    expect(tokenRejected([refused])).toBe(false);
    expect(tokenRejected([ok, unauthorized])).toBe(false);
    expect(tokenRejected([])).toBe(false);
  });

  const table: Array<[string, AccountAnswer, string]> = [
    ['plex.tv hands out a new token: retry silently', { kind: 'listed', serverToken: 'new' }, 'retry_with new'],
    ['plex.tv hands out the same token: the server refuses it', { kind: 'listed', serverToken: 'old' }, 'auth_required'],
    ['plex.tv no longer lists the server (share removed)', { kind: 'listed', serverToken: null }, 'auth_required'],
    ['plex.tv rejects the account token: the sign-in is gone', { kind: 'account_rejected' }, 'auth_required'],
    ['plex.tv unreachable: the rejection stands until asked again', { kind: 'unknown' }, 'auth_required'],
  ];
  it.each(table)('%s', (_name, answer, expected) => {
    const d = decideRejectedToken('old', answer);
    expect(d.action === 'retry_with' ? `retry_with ${d.token}` : d.action).toBe(expected);
    if (d.action === 'auth_required') expect(d.why).toMatch(/plex\.tv|server/);
  });
});

describe('Plex JWT renewal', () => {
  const DAY = 86_400_000;
  it('a 7-day token is renewed one day before it expires', () => {
    const token = { issuedAt: 0, expiresAt: 7 * DAY };
    expect(jwtRenewAt(token, DAY)).toBe(6 * DAY);
    expect(jwtRenewalDue(token, 6 * DAY - 1, DAY)).toBe(false);
    expect(jwtRenewalDue(token, 6 * DAY, DAY)).toBe(true);
    expect(jwtRenewalDue(token, 8 * DAY, DAY)).toBe(true);
  });
  it('a short-lived token is renewed at half its lifetime, not at the last moment', () => {
    const token = { issuedAt: 1_000, expiresAt: 11_000 };
    expect(jwtRenewAt(token, DAY)).toBe(6_000);
    expect(jwtRenewalDue(token, 5_999, DAY)).toBe(false);
    expect(jwtRenewalDue(token, 6_000, DAY)).toBe(true);
  });
  it('a token already past its expiry (or with a broken lifetime) is due', () => {
    expect(jwtRenewalDue({ issuedAt: 10, expiresAt: 5 }, 6, DAY)).toBe(true);
  });
});

describe('planLocalAddressRefresh', () => {
  const routes = [route('t', 'https://jf.example.com', 'remote', 0, 'typed'), route('s', 'http://192.168.1.5:8096', 'local', 0, 'server-reported')];
  const noProblem = () => null;
  it.each([
    ['none reported', undefined, { action: 'none' }],
    ['the managed route already', 'http://192.168.1.5:8096/', { action: 'none' }],
    ['the address the user typed', 'https://jf.example.com', { action: 'none' }],
    ['a new address: verify first', 'http://192.168.1.9:8096', { action: 'verify', url: 'http://192.168.1.9:8096' }],
    ['not http(s)', 'ftp://192.168.1.9', { action: 'refuse', url: 'ftp://192.168.1.9', reason: 'it is not a valid http(s) address' }],
  ] as const)('%s', (_name, reported, expected) => {
    expect(planLocalAddressRefresh(routes, reported, noProblem)).toEqual(expected);
  });
  it('an address in forbidden space is refused with the reason, never asked', () => {
    expect(planLocalAddressRefresh(routes, 'http://169.254.169.254', (u) => (u.includes('169.254') ? 'link-local' : null))).toEqual({ action: 'refuse', url: 'http://169.254.169.254', reason: 'link-local' });
  });
});
