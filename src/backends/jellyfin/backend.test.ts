// Jellyfin paths the simulator does not exercise, against a tiny in-test server: the 403 fallback
// of the probe (token valid, /System/Info forbidden), the legacy /Users/{id}/Views fallback (10.8),
// and the Authorization header on the push channel.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createSafeAxios } from '../axios.js';
import { HttpClient } from '../http.js';
import { JellyfinBackend } from './backend.js';

const SERVER_ID = '0123456789abcdef0123456789abcdef';
const TOKEN = 'abcdefabcdefabcdefabcdefabcdef00';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixture(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function backend() {
  const http = new HttpClient();
  cleanups.push(() => http.close());
  return new JellyfinBackend({ axios: createSafeAxios(http), installId: 'install' });
}

const hasToken = (req: IncomingMessage) => (req.headers.authorization ?? '').includes(`Token="${TOKEN}"`);
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('JellyfinBackend (fixture server)', () => {
  it('falls back to public info + /Users/Me when /System/Info is forbidden for this user', async () => {
    let tokenValid = true;
    const { url, seen } = await fixture((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/System/Info') return json(res, 403, '');
      if (path === '/System/Info/Public') return json(res, 200, { Id: SERVER_ID, ServerName: 'Den', Version: '10.10.7', ProductName: 'Jellyfin Server' });
      if (path === '/Users/Me') return tokenValid && hasToken(req) ? json(res, 200, { Id: SERVER_ID, Name: 'kid' }) : (res.writeHead(401), res.end());
      res.writeHead(404);
      res.end();
    });
    const jf = backend();
    const target = { kind: 'jellyfin' as const, serverId: SERVER_ID };
    const r = await jf.probe(target, { id: 'r', url, kind: 'local', priority: 0 }, { token: TOKEN }, { timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, serverName: 'Den', version: '10.10.7' });
    expect(seen.map((q) => q.url?.split('?')[0])).toEqual(['/System/Info', '/System/Info/Public', '/Users/Me']);
    tokenValid = false;
    const bad = await jf.probe(target, { id: 'r', url, kind: 'local', priority: 0 }, { token: TOKEN }, { timeoutMs: 2000 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
  });

  it('uses the legacy /Users/{id}/Views when /UserViews does not exist', async () => {
    const { url } = await fixture((req, res) => {
      if (req.url?.startsWith('/Users/u1/Views') && hasToken(req)) return json(res, 200, { Items: [{ Id: 'm', Name: 'Movies', CollectionType: 'movies' }], TotalRecordCount: 1 });
      res.writeHead(404);
      res.end();
    });
    const libs = await backend().libraries({ kind: 'jellyfin', serverId: SERVER_ID }, { id: 'r', url, kind: 'local', priority: 0 }, { token: TOKEN, userId: 'u1' }, { timeoutMs: 2000 });
    expect(libs).toEqual({ ok: true, libraries: [{ id: 'm', name: 'Movies', type: 'movie' }] });
  });

  it('push channel sends the token in the Authorization header only, and KeepAlive at Data×500 ms', async () => {
    const { server, url } = await fixture((_req, res) => (res.writeHead(404), res.end()));
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const upgrades: IncomingMessage[] = [];
    const keepAlives: number[] = [];
    server.on('upgrade', (req, socket, head) => {
      upgrades.push(req);
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify({ MessageType: 'ForceKeepAlive', MessageId: 'x', Data: 1 }));
        ws.on('message', (m) => {
          if (JSON.parse((m as Buffer).toString()).MessageType === 'KeepAlive') keepAlives.push(Date.now());
        });
      });
    });
    const events: string[] = [];
    const ch = backend().openPush(
      { kind: 'jellyfin', serverId: SERVER_ID },
      { id: 'r', url, kind: 'local', priority: 0 },
      { token: TOKEN, deviceId: 'd'.repeat(32) },
      { onOpen: () => events.push('open'), onLost: (d) => events.push(`lost:${d.code}`), onServerGoingAway: (r) => events.push(r) },
      { pingIntervalMs: 10_000, pongTimeoutMs: 2000, connectTimeoutMs: 2000 },
    );
    cleanups.push(() => ch.close());
    await new Promise((r) => setTimeout(r, 1300));
    expect(events).toEqual(['open']);
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]?.url).toBe('/socket');
    expect(upgrades[0]?.headers.authorization).toMatch(/^MediaBrowser Client="Marquee", Device="Marquee", DeviceId="d{32}", Version="[^"]+", Token="abcdef/);
    // Data = 1 s → one KeepAlive at once, then every 500 ms: about 3 in 1.3 s (not hundreds, not one).
    expect(keepAlives.length).toBeGreaterThanOrEqual(2);
    expect(keepAlives.length).toBeLessThanOrEqual(4);
  });
});
