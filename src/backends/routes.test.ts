import { describe, expect, it } from 'vitest';
import { fuzzAllParsers } from '../../test/support/parser-fuzz.js';
import { parseUserUrl } from './jellyfin/backend.js';
import { isLocalHost, jellyfinRoutes, planLocalAddress } from './jellyfin/routes.js';
import type { PlexResource } from './plex/parsers.js';
import { planRoutesFromResource, routesFromResource } from './plex/routes.js';

const resource = (over: Partial<PlexResource>): PlexResource => ({
  name: 'S',
  clientIdentifier: 'a'.repeat(40),
  accessToken: 't',
  owned: true,
  presence: true,
  httpsRequired: false,
  connections: [],
  ...over,
});

describe('Plex resources → routes', () => {
  it('orders local > remote > relay, https before http, adds a plain-http fallback only for local', () => {
    const routes = routesFromResource(
      resource({
        connections: [
          { protocol: 'https', address: '1.2.3.4', port: 32400, uri: 'https://1-2-3-4.x.plex.direct:32400', local: false, relay: false, ipv6: false },
          { protocol: 'https', address: '5.6.7.8', port: 8443, uri: 'https://5-6-7-8.x.plex.direct:8443', local: false, relay: true, ipv6: false },
          { protocol: 'https', address: '10.0.0.2', port: 32400, uri: 'https://10-0-0-2.x.plex.direct:32400/', local: true, relay: false, ipv6: false },
          { protocol: 'http', address: 'fe80::1', port: 32400, uri: 'http://[fe80::1]:32400', local: true, relay: false, ipv6: true },
        ],
      }),
    );
    expect(routes).toEqual([
      { url: 'https://10-0-0-2.x.plex.direct:32400', kind: 'local', priority: 0, origin: 'plex.tv' },
      { url: 'http://10.0.0.2:32400', kind: 'local', priority: 1, origin: 'plex.tv' },
      { url: 'https://1-2-3-4.x.plex.direct:32400', kind: 'remote', priority: 0, origin: 'plex.tv' },
      { url: 'https://5-6-7-8.x.plex.direct:8443', kind: 'relay', priority: 0, origin: 'plex.tv' },
    ]);
  });

  it('refuses link-local connections plex.tv lists (any spelling), and says why', () => {
    const conn = (uri: string, address: string, over: Partial<PlexResource['connections'][number]> = {}) => ({ protocol: 'http' as const, address, port: 32400, uri, local: true, relay: false, ipv6: false, ...over });
    const plan = planRoutesFromResource(
      resource({
        connections: [
          conn('http://[fe80::1]:32400', 'fe80::1', { ipv6: true }),
          conn('http://169.254.169.254:32400', '169.254.169.254'),
          conn('http://[::ffff:169.254.169.254]:32400', '::ffff:169.254.169.254', { ipv6: true }),
          conn('https://0xa9fea9fe:32400', '0xa9fea9fe', { local: false }),
          conn('http://10.0.0.2:32400', '10.0.0.2'),
        ],
      }),
    );
    expect(plan.routes).toEqual([{ url: 'http://10.0.0.2:32400', kind: 'local', priority: 0, origin: 'plex.tv' }]);
    expect(plan.refused.map((r) => r.url)).toEqual(['http://[fe80::1]:32400', 'http://169.254.169.254:32400', 'http://[::ffff:a9fe:a9fe]:32400', 'https://169.254.169.254:32400']);
    for (const r of plan.refused) expect(r.reason).toMatch(/link-local address/);
    expect(routesFromResource(resource({ connections: [conn('http://[fe80::1]:32400', 'fe80::1', { ipv6: true })] }))).toEqual([]);
  });

  it('keeps local routes of shared servers (identity is checked on every probe) and honours httpsRequired', () => {
    const routes = routesFromResource(
      resource({
        owned: false,
        httpsRequired: true,
        connections: [{ protocol: 'https', address: '10.0.0.2', port: 32400, uri: 'https://10-0-0-2.x.plex.direct:32400', local: true, relay: false, ipv6: false }],
      }),
    );
    expect(routes).toEqual([{ url: 'https://10-0-0-2.x.plex.direct:32400', kind: 'local', priority: 0, origin: 'plex.tv' }]);
  });

  it('drops non-http uris and duplicates', () => {
    const c = { protocol: 'http' as const, address: '10.0.0.2', port: 32400, uri: 'http://10.0.0.2:32400', local: true, relay: false, ipv6: false };
    expect(routesFromResource(resource({ connections: [c, c, { ...c, uri: 'javascript:alert(1)' }] }))).toEqual([{ url: 'http://10.0.0.2:32400', kind: 'local', priority: 0, origin: 'plex.tv' }]);
  });
});

describe('Jellyfin routes', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.5', true],
    ['169.254.1.1', true],
    ['8.8.8.8', false],
    ['[::1]', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['2001:db8::1', false],
    ['localhost', true],
    ['nas', true],
    ['nas.local', true],
    ['jellyfin.example.com', false],
  ])('%s local=%s', (host, local) => {
    expect(isLocalHost(host)).toBe(local);
  });

  it('uses the given URL, plus the verified LocalAddress as a local route when different', () => {
    expect(jellyfinRoutes('https://jf.example.com/', 'http://192.168.1.5:8096')).toEqual([
      { url: 'https://jf.example.com', kind: 'remote', priority: 0, origin: 'typed' },
      { url: 'http://192.168.1.5:8096', kind: 'local', priority: 0, origin: 'server-reported' },
    ]);
    expect(jellyfinRoutes('http://192.168.1.5:8096/', 'http://192.168.1.5:8096')).toEqual([{ url: 'http://192.168.1.5:8096', kind: 'local', priority: 0, origin: 'typed' }]);
    expect(jellyfinRoutes('http://10.0.0.9:8096', 'http://192.168.1.5:8096')).toEqual([
      { url: 'http://10.0.0.9:8096', kind: 'local', priority: 0, origin: 'typed' },
      { url: 'http://192.168.1.5:8096', kind: 'local', priority: 1, origin: 'server-reported' },
    ]);
    expect(jellyfinRoutes('https://jf.example.com/jellyfin', 'not a url')).toEqual([{ url: 'https://jf.example.com/jellyfin', kind: 'remote', priority: 0, origin: 'typed' }]);
    // Defence in depth: even handed a link-local "verified" address, it is not a route.
    expect(jellyfinRoutes('http://10.0.0.9:8096', 'http://169.254.169.254')).toEqual([{ url: 'http://10.0.0.9:8096', kind: 'local', priority: 0, origin: 'typed' }]);
  });

  it.each([
    [undefined, { action: 'none' }],
    ['', { action: 'none' }],
    ['http://10.0.0.9:8096/', { action: 'none' }],
    ['http://192.168.1.5:8096', { action: 'check', url: 'http://192.168.1.5:8096' }],
    ['https://jf.lan/jellyfin/', { action: 'check', url: 'https://jf.lan/jellyfin' }],
    ['not a url', { action: 'refuse', url: 'not a url', reason: 'it is not a valid http(s) address' }],
    ['http://user:pw@10.0.0.5', { action: 'refuse', url: 'http://user:pw@10.0.0.5', reason: 'it is not a valid http(s) address' }],
    ['http://169.254.169.254', { action: 'refuse', url: 'http://169.254.169.254', reason: expect.stringMatching(/link-local/) }],
    ['http://[fe80::abcd]:8096', { action: 'refuse', url: 'http://[fe80::abcd]:8096', reason: expect.stringMatching(/link-local/) }],
    ['http://[::ffff:169.254.1.1]:8096', { action: 'refuse', url: 'http://[::ffff:a9fe:101]:8096', reason: expect.stringMatching(/link-local/) }],
    ['http://metadata.google.internal', { action: 'refuse', url: 'http://metadata.google.internal', reason: expect.stringMatching(/metadata/) }],
  ])('LocalAddress %s → %j', (reported, plan) => {
    expect(planLocalAddress('http://10.0.0.9:8096', reported)).toEqual(plan);
  });

  it('validates what a person typed', () => {
    expect(parseUserUrl('192.168.1.5:8096')).toBe('http://192.168.1.5:8096');
    expect(parseUserUrl(' https://jf.example.com/ ')).toBe('https://jf.example.com');
    expect(parseUserUrl('')).toBeNull();
    expect(parseUserUrl('ftp://x')).toBeNull();
    expect(parseUserUrl('http://user:pw@host')).toBeNull();
    expect(parseUserUrl('a b')).toBeNull();
  });
});

describe('fuzz harness (the bench runs it at 10,000 per parser)', () => {
  it('reports zero failures at 1,000 runs for every parser, user URLs and route building', () => {
    const reports = fuzzAllParsers(1000);
    expect(reports.length).toBeGreaterThanOrEqual(14);
    for (const r of reports) {
      expect(r, r.name).toMatchObject({ failures: 0, runs: 1000 });
    }
  });
});
