import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSimConfig, parseSimConfig } from './config.js';
import { parseMediaBrowserHeader } from './jellyfin-auth.js';

describe('simulation config', () => {
  it('loads and validates sim/example.json', () => {
    const config = parseSimConfig(loadSimConfig(new URL('./example.json', import.meta.url).pathname));
    expect(config.servers.map((s) => [s.kind, s.routes.map((r) => r.kind)])).toEqual([
      ['plex', ['local', 'remote', 'relay']],
      ['plex', ['remote']],
      ['jellyfin', ['local', 'remote']],
    ]);
  });

  it('rejects non-loopback hosts, duplicate ids and unknown accounts with every problem named', () => {
    expect(() => parseSimConfig({ servers: [{ id: 'a', kind: 'plex', name: 'A', routes: [{ id: 'r', kind: 'local', host: '10.0.0.1' }] }] })).toThrow(/loopback/);
    expect(() =>
      parseSimConfig({
        servers: [
          { id: 'a', kind: 'plex', name: 'A', owner: 'ghost', routes: [{ id: 'r', kind: 'local', host: '127.0.0.2' }] },
          { id: 'a', kind: 'jellyfin', name: 'B', routes: [{ id: 'r', kind: 'local', host: '127.0.0.2' }] },
        ],
      }),
    ).toThrow(/unknown plex.tv account "ghost".*duplicate server id "a".*duplicate route id "r"/);
  });

  it('loadSimConfig fails on a bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-config-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify({ servers: [{ id: 'x', kind: 'emby' }] }));
      expect(() => loadSimConfig(file)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MediaBrowser header parsing', () => {
  it.each([
    ['MediaBrowser Client="A", Token="t1"', { client: 'A', token: 't1' }],
    ['mediabrowser client=A,token=t1', { client: 'A', token: 't1' }],
    ['MediaBrowser Device="My%20Phone%2C%20new", Token=t1', { device: 'My Phone, new', token: 't1' }],
    ['MediaBrowser Client="a, b", Token="t1"', { client: 'a, b', token: 't1' }],
  ])('%s', (header, expected) => {
    const pairs = parseMediaBrowserHeader(header, false)!;
    for (const [k, v] of Object.entries(expected)) expect(pairs.get(k)).toBe(v);
  });

  it('accepts the Emby scheme only with legacy auth', () => {
    expect(parseMediaBrowserHeader('Emby Token="t"', false)).toBeUndefined();
    expect(parseMediaBrowserHeader('Emby Token="t"', true)?.get('token')).toBe('t');
    expect(parseMediaBrowserHeader('Bearer abc', true)).toBeUndefined();
  });
});
