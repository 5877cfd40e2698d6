// Plex push paths the simulator does not exercise: a server that only reads the token from the
// query string (the one-time fallback), and the restart close code.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { HttpClient } from '../http.js';
import type { PushHandlers } from '../types.js';
import { PlexBackend } from './backend.js';

const TOKEN = 'plex-secret-token-42';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function wsFixture(accept: (req: IncomingMessage) => boolean, onSocket: (ws: WebSocket) => void = () => undefined) {
  const server = createServer((_req, res) => (res.writeHead(404), res.end()));
  const wss = new WebSocketServer({ noServer: true });
  const upgrades: IncomingMessage[] = [];
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req);
    if (!accept(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, onSocket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, upgrades };
}

function plex(extra: { pushTokenInQuery?: boolean } = {}) {
  const http = new HttpClient();
  cleanups.push(() => http.close());
  return new PlexBackend({ http, clientIdentifier: 'install', ...extra });
}

function record() {
  const events: string[] = [];
  const messages: string[] = [];
  const handlers: PushHandlers = {
    onOpen: () => events.push('open'),
    onLost: (d) => (events.push(`lost:${d.code}`), messages.push(d.message)),
    onServerGoingAway: (r) => events.push(r),
  };
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  return { events, messages, handlers, until };
}

const opts = { pingIntervalMs: 5000, pongTimeoutMs: 2000, connectTimeoutMs: 2000 };
const target = { kind: 'plex' as const, serverId: 'x' };

describe('Plex push channel (fixture server)', () => {
  it('sends the token in a header first, then falls back once to the query parameter', async () => {
    const fx = await wsFixture((req) => new URL(req.url ?? '/', 'http://h').searchParams.get('X-Plex-Token') === TOKEN);
    const r = record();
    const ch = plex().openPush(target, { id: 'r', url: fx.url, kind: 'local', priority: 0 }, { token: TOKEN }, r.handlers, opts);
    cleanups.push(() => ch.close());
    await r.until(() => r.events.length > 0);
    expect(r.events).toEqual(['open']);
    expect(fx.upgrades).toHaveLength(2);
    expect(fx.upgrades[0]?.url).toBe('/:/websockets/notifications');
    expect(fx.upgrades[0]?.headers['x-plex-token']).toBe(TOKEN);
    expect(fx.upgrades[0]?.headers['x-plex-product']).toBe('Marquee');
  });

  it('without the fallback a query-only server is reported as unauthorized, message free of the token', async () => {
    const fx = await wsFixture(() => false);
    const r = record();
    const ch = plex({ pushTokenInQuery: false }).openPush(target, { id: 'r', url: fx.url, kind: 'local', priority: 0 }, { token: TOKEN }, r.handlers, opts);
    cleanups.push(() => ch.close());
    await r.until(() => r.events.length > 0);
    expect(r.events).toEqual(['lost:unauthorized']);
    expect(fx.upgrades).toHaveLength(1);
    expect(r.messages.join(' ')).not.toContain(TOKEN);
  });

  it('an upgrade that never gets an answer ends at the connect timeout', async () => {
    const { createServer: createNetServer } = await import('node:net');
    const silent = createNetServer((sock) => cleanups.push(() => void sock.destroy()));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const r = record();
    const started = Date.now();
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const ch = plex().openPush(target, { id: 'r', url, kind: 'local', priority: 0 }, { token: TOKEN }, r.handlers, { ...opts, connectTimeoutMs: 300 });
    cleanups.push(() => ch.close());
    await r.until(() => r.events.length > 0);
    expect(r.events).toEqual(['lost:error']);
    expect(r.messages[0]).toMatch(/no answer within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('close() before the channel opens reports nothing and leaves no socket behind', async () => {
    const fx = await wsFixture(() => true);
    const r = record();
    const ch = plex().openPush(target, { id: 'r', url: fx.url, kind: 'local', priority: 0 }, { token: TOKEN }, r.handlers, opts);
    ch.close();
    await new Promise((res) => setTimeout(res, 200));
    expect(r.events).toEqual([]);
  });

  it('a close with 1012 is a restart, 1001 a shutdown only when its reason says so', async () => {
    let code = 1012;
    let reason = 'bye';
    const fx = await wsFixture(
      () => true,
      (ws) => setTimeout(() => ws.close(code, reason), 50),
    );
    for (const [c, why, expected] of [
      [1012, 'bye', ['open', 'server_restarting', 'lost:closed']],
      [1001, 'Server shutting down', ['open', 'server_shutting_down', 'lost:closed']],
      // A proxy going away is no server shutdown: a plain loss (the engine then checks at once).
      [1001, 'proxy going away', ['open', 'lost:closed']],
    ] as const) {
      code = c;
      reason = why;
      const r = record();
      const ch = plex().openPush(target, { id: 'r', url: fx.url, kind: 'local', priority: 0 }, { token: TOKEN }, r.handlers, opts);
      cleanups.push(() => ch.close());
      await r.until(() => r.events.some((e) => e.startsWith('lost')));
      expect(r.events).toEqual(expected);
    }
  });
});

describe('Plex probe (fixture server)', () => {
  it('a 401 from a different server at the address is wrong_server; from ours it stays unauthorized', async () => {
    let identity = 'b'.repeat(40);
    const server = createServer((req, res) => {
      if (req.url === '/identity' && !req.headers['x-plex-token']) {
        res.writeHead(200, { 'content-type': 'text/xml' });
        return void res.end(`<MediaContainer size="0" claimed="1" machineIdentifier="${identity}" version="1"/>`);
      }
      res.writeHead(401, { 'content-type': 'text/html' });
      res.end('<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const route = { id: 'r', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kind: 'local' as const, priority: 0 };
    const ours = { kind: 'plex' as const, serverId: 'a'.repeat(40) };
    const impostor = await plex().probe(ours, route, { token: TOKEN }, { timeoutMs: 2000 });
    expect(impostor).toMatchObject({ ok: false, error: { code: 'wrong_server', foundServerId: 'b'.repeat(40) } });
    identity = 'a'.repeat(40);
    const revoked = await plex().probe(ours, route, { token: TOKEN }, { timeoutMs: 2000 });
    expect(revoked).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
  });
});
