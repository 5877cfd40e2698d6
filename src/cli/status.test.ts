import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiSource } from '../api/types.js';
import { buildApp } from '../server/app.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, SECRETS, testConfig } from '../../test/support/server-fakes.js';
import { defaultServerUrl, runCli } from './cli.js';
import { formatStatusTable } from './status.js';

const source = (over: Partial<ApiSource>): ApiSource => ({
  id: 's',
  name: 'S',
  kind: 'plex',
  status: 'connected',
  route: null,
  lastCheckedAt: null,
  nextCheckAt: null,
  since: null,
  push: 'off',
  libraries: [],
  ...over,
});

describe('formatStatusTable', () => {
  it('prints name, kind, status, route kind and latency in aligned columns', () => {
    const table = formatStatusTable([
      source({ name: 'Living-room Plex', route: { id: 'r', url: 'http://127.0.0.2:32400', kind: 'local', latencyMs: 12.4 } }),
      source({ name: 'Attic', kind: 'jellyfin', status: 'reconnecting', attempt: 3 }),
      source({ name: 'Cabin', status: 'auth_required' }),
      source({ name: 'Fast', kind: 'jellyfin', route: { id: 'r2', url: 'http://x', kind: 'remote', latencyMs: 2.25 } }),
    ]);
    expect(table).toBe(
      [
        'NAME              KIND      STATUS                    ROUTE   LATENCY',
        'Living-room Plex  plex      connected                 local   12 ms',
        'Attic             jellyfin  reconnecting (attempt 3)  -       -',
        'Cabin             plex      sign-in needed            -       -',
        'Fast              jellyfin  connected                 remote  2.3 ms',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are no sources', () => {
    expect(formatStatusTable([])).toBe('No sources yet. Add a Plex or Jellyfin server in the web UI.\n');
  });
});

describe('marquee status against a server', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  function capture() {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
  }

  it('prints the table and JSON from a running server (with its API key)', async () => {
    const engine = new FakeEngine();
    const { id } = engine.addSource({
      name: 'Attic Jellyfin',
      kind: 'jellyfin',
      serverId: 'b'.repeat(32),
      routes: [{ url: 'http://127.0.0.3:8096', kind: 'local', priority: 0 }],
      credentials: { token: 't' },
    }).source;
    engine.setConnected(id, 'local', 8);
    const app = await buildApp({
      engine,
      plexSignIn: new FakePlexSignIn(),
      jellyfinSignIn: new FakeJellyfinSignIn(),
      config: testConfig({ apiKey: SECRETS.apiKey, basePath: '/marquee/' }),
    });
    apps.push(app);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${address}/marquee`;

    const table = capture();
    expect(await runCli(['status', '--url', url, '--api-key', SECRETS.apiKey], {}, table.io)).toBe(0);
    expect(table.out.stdout).toContain('Attic Jellyfin  jellyfin  connected  local  8.0 ms');

    const asJson = capture();
    expect(await runCli(['status', '--json', '--url', url], { MARQUEE_API_KEY: SECRETS.apiKey }, asJson.io)).toBe(0);
    expect(JSON.parse(asJson.out.stdout)).toMatchObject([{ id, name: 'Attic Jellyfin', status: 'connected', route: { kind: 'local', latencyMs: 8 } }]);

    const noKey = capture();
    expect(await runCli(['status', '--url', url], {}, noKey.io)).toBe(3);
    expect(noKey.out.stderr).toContain('needs its API key');
  });

  it('never prints control characters or escape sequences a server put in its answer', async () => {
    const ESC = '\u001b';
    const hostile = [
      {
        id: 'evil',
        name: `${ESC}]0;owned${'\u0007'}Evil${ESC}[2J${ESC}[31mRed\u009b31m\r\nFAKE  plex  connected\u202e`,
        kind: `plex${'\u0007'}`,
        status: `${ESC}[5mblinking`,
        route: { id: 'r', url: 'http://x', kind: `local${ESC}[0m`, latencyMs: `${ESC}[2J` },
        attempt: `${ESC}[1A`,
      },
    ];
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hostile)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const anyControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

      const table = capture();
      expect(await runCli(['status', '--url', url], {}, table.io)).toBe(0);
      expect(table.out.stdout).not.toMatch(anyControl);
      expect(table.out.stdout.split('\n').filter(Boolean)).toHaveLength(2); // header + one row: no injected line
      expect(table.out.stdout).toContain('EvilRed');

      const asJson = capture();
      expect(await runCli(['status', '--json', '--url', url], {}, asJson.io)).toBe(0);
      expect(asJson.out.stdout).not.toMatch(anyControl);
      expect(JSON.parse(asJson.out.stdout)).toEqual(hostile); // still JSON, same values
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    const badUrl = capture();
    expect(await runCli(['status', '--url', `${'\u001b'}[2Jnot a url`], {}, badUrl.io)).toBe(2);
    expect(badUrl.out.stderr).toMatch(/^marquee status: Not a valid URL: not a url\n$/);
  });

  it('fails with a clear message and a non-zero code when the server is unreachable', async () => {
    const app = await buildApp({ engine: new FakeEngine(), plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig() });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    await app.close(); // the port is now closed
    const { out, io } = capture();
    expect(await runCli(['status', '--url', address], {}, io)).toBe(2);
    expect(out.stderr).toMatch(/^marquee status: Cannot reach Marquee at http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\)\. Is it running\? Try --url\.\n$/);
    expect(out.stdout).toBe('');
  });

  it('derives the default URL from the server settings', () => {
    expect(defaultServerUrl({})).toBe('http://127.0.0.1:8844/');
    expect(defaultServerUrl({ MARQUEE_HOST: '0.0.0.0', MARQUEE_PORT: '9000', MARQUEE_BASE_URL: '/marquee' })).toBe('http://127.0.0.1:9000/marquee/');
    expect(defaultServerUrl({ MARQUEE_URL: 'https://media.example.com/marquee/' })).toBe('https://media.example.com/marquee/');
  });

  it('rejects unknown commands and options with usage', async () => {
    const bad = capture();
    expect(await runCli(['frobnicate'], {}, bad.io)).toBe(64);
    expect(bad.out.stderr).toContain('unknown command "frobnicate"');
    const help = capture();
    expect(await runCli(['help'], {}, help.io)).toBe(0);
    expect(help.out.stdout).toContain('marquee [command]');
    const badConfig = capture();
    expect(await runCli(['serve', '--host', '0.0.0.0'], {}, badConfig.io)).toBe(78);
    expect(badConfig.out.stderr).toMatch(/^marquee: Refusing to start: binding to 0\.0\.0\.0/);
  });
});
