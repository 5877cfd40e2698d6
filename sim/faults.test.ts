import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSimulation, type Simulation } from './index.js';
import { OpenApiValidator, PLEX_SPEC } from './openapi-validator.js';
import { PLEX_HEADERS, mediaBrowser, smallConfig } from './test-fixtures.js';

let sim: Simulation;
let plexLocal: string;
let jfLocal: string;
let token: string;

beforeAll(async () => {
  sim = await createSimulation(smallConfig());
  plexLocal = sim.servers[0]!.routes[0]!.url;
  jfLocal = sim.servers[2]!.routes[0]!.url;
  token = sim.plexTv.accountToken('demo');
});
afterAll(() => sim.close());
afterEach(async () => {
  for (const s of sim.servers) {
    await sim.server(s.id).fault({ mode: 'up' });
    for (const r of s.routes) await sim.route(r.id).fault({ mode: 'up' });
  }
  await sim.plexTv.route.fault({ mode: 'up' });
});

/** 'reset' happens when the listener closes while the SYN sits in its accept queue (real kernels do that too). */
function tcpConnect(url: string): Promise<'open' | 'refused' | 'reset'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : err.code === 'ECONNRESET' ? resolve('reset') : reject(err)));
  });
}

type ClientError = Error & { cause?: { code?: string } };
/** The JSON body of a Plex `/identity` answer. */
type PlexIdentity = { MediaContainer: { machineIdentifier: string } };
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: ClientError }> {
  const start = Date.now();
  try {
    const value = await fn();
    return { ms: Date.now() - start, value };
  } catch (error) {
    return { ms: Date.now() - start, error: error as ClientError };
  }
}

const identity = (url: string, timeoutMs = 3000) => fetch(`${url}/identity`, { headers: PLEX_HEADERS, signal: AbortSignal.timeout(timeoutMs) });

function plexSocket(url: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/:/websockets/notifications?X-Plex-Token=${token}`);
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`))).once('error', reject));
  return { ws, closed, opened };
}

describe('route faults', () => {
  it('refuse: ECONNREFUSED at once, open connections reset, same port again on up', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const kept = await new Promise<net.Socket>((resolve) =>
      http.get(`${plexLocal}/identity`, { agent }, (res) => {
        const socket = res.socket;
        res.resume().on('end', () => resolve(socket));
      }),
    );
    const reset = new Promise((resolve) => kept.once('close', resolve));
    await sim.route('plex-a-local').fault({ mode: 'refuse' });
    const refused = await timed(() => identity(plexLocal));
    expect(refused.error?.cause?.code).toBe('ECONNREFUSED');
    expect(refused.ms).toBeLessThan(1000);
    await reset;
    agent.destroy();
    // Other routes of the same server are unaffected.
    expect((await identity(sim.servers[0]!.routes[1]!.url)).status).toBe(200);
    await sim.route('plex-a-local').fault({ mode: 'up' });
    expect(sim.route('plex-a-local').url).toBe(plexLocal);
    expect((await identity(plexLocal)).status).toBe(200);
  });

  it('refuse → up when someone else took the port: reports lastError and recovers once it is free', async () => {
    await sim.route('plex-a-remote').fault({ mode: 'refuse' });
    const { hostname, port } = new URL(sim.route('plex-a-remote').url);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(port), hostname, resolve));
    await sim.route('plex-a-remote').fault({ mode: 'up' });
    const view = async () => ((await (await fetch(`${sim.controlUrl}/routes`)).json()) as { id: string; listening: boolean; lastError?: string }[]).find((r) => r.id === 'plex-a-remote')!;
    expect(await view()).toMatchObject({ listening: false, lastError: expect.stringContaining('EADDRINUSE') });
    await new Promise((resolve) => squatter.close(resolve));
    await sim.route('plex-a-remote').fault({ mode: 'up' });
    expect((await view()).listening).toBe(true);
    expect((await identity(sim.route('plex-a-remote').url)).status).toBe(200);
  });

  it('hang: the request is accepted but only the client timeout ends it, also on a kept-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (timeout: number) =>
      new Promise<{ status?: number; reused: boolean; error?: string }>((resolve) => {
        const req = http.get(`${plexLocal}/identity`, { agent, timeout }, (res) => res.resume().on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket })));
        req.on('timeout', () => req.destroy(new Error('client timeout')));
        req.on('error', (err) => resolve({ reused: req.reusedSocket, error: err.message }));
      });
    expect(await get(2000)).toMatchObject({ status: 200, reused: false });
    await sim.route('plex-a-local').fault({ mode: 'hang' });
    const start = Date.now();
    const hung = await get(600);
    expect(hung).toEqual({ reused: true, error: 'client timeout' });
    expect(Date.now() - start).toBeGreaterThanOrEqual(550);
    agent.destroy();
    // A fresh connection is accepted (TCP works) yet never answered.
    expect(await tcpConnect(plexLocal)).toBe('open');
    const fresh = await timed(() => identity(plexLocal, 500));
    expect(fresh.error?.name).toBe('TimeoutError');
    expect(fresh.ms).toBeGreaterThanOrEqual(450);
  });

  it('hang: an open WebSocket stops answering pings', async () => {
    const { ws, opened } = plexSocket(plexLocal);
    await opened;
    await sim.route('plex-a-local').fault({ mode: 'hang' });
    let ponged = false;
    ws.once('pong', () => (ponged = true));
    ws.ping();
    await new Promise((r) => setTimeout(r, 500));
    expect(ponged).toBe(false);
    ws.terminate();
  });

  it('slow: answers correctly after the configured delay', async () => {
    await sim.route('plex-a-local').fault({ mode: 'slow', delayMs: 700 });
    const res = await timed(() => identity(plexLocal));
    expect(res.value?.status).toBe(200);
    expect(res.ms).toBeGreaterThanOrEqual(650);
  });

  it('error: 500 by default, 502 and 503 with Retry-After on request', async () => {
    await sim.route('plex-a-local').fault({ mode: 'error' });
    expect((await identity(plexLocal)).status).toBe(500);
    await sim.route('plex-a-local').fault({ mode: 'error', status: 502 });
    expect((await identity(plexLocal)).status).toBe(502);
    await sim.route('plex-a-local').fault({ mode: 'error', status: 503 });
    const res = await identity(plexLocal);
    expect([res.status, res.headers.get('retry-after')]).toEqual([503, '5']);
  });

  it('wrong-identity: a different server answers at the address', async () => {
    await sim.route('plex-a-local').fault({ mode: 'wrong-identity' });
    const body = (await (await identity(plexLocal)).json()) as PlexIdentity;
    expect(body.MediaContainer.machineIdentifier).toMatch(/^[0-9a-f]{40}$/);
    expect(body.MediaContainer.machineIdentifier).not.toBe(sim.servers[0]!.machineId);
    // The other routes still reach the real server.
    const other = (await (await identity(sim.servers[0]!.routes[1]!.url)).json()) as PlexIdentity;
    expect(other.MediaContainer.machineIdentifier).toBe(sim.servers[0]!.machineId);

    await sim.route('jf-local').fault({ mode: 'wrong-identity' });
    const info = (await (await fetch(`${jfLocal}/System/Info/Public`)).json()) as { Id: string };
    expect(info.Id).not.toBe(sim.servers[2]!.machineId);
    const jfToken = sim.jellyfin('jf').issueToken();
    expect((await fetch(`${jfLocal}/Users/Me?ApiKey=${jfToken}`)).status).toBe(401);
    expect((await fetch(`${sim.servers[2]!.routes[1]!.url}/Users/Me?ApiKey=${jfToken}`)).status).toBe(200);
  });

  it('malformed: truncated, html, garbage, wrong-type and missing-fields bodies fail parsing or validation', async () => {
    const spec = new OpenApiValidator(PLEX_SPEC);
    const fetchText = async () => {
      const res = await identity(plexLocal);
      return { type: res.headers.get('content-type') ?? '', text: await res.text() };
    };
    await sim.route('plex-a-local').fault({ mode: 'malformed' });
    const truncated = await fetchText();
    expect(truncated.type).toContain('application/json');
    expect(() => JSON.parse(truncated.text)).toThrow();
    await sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'html' });
    const html = await fetchText();
    expect(html.type).toContain('text/html');
    expect(html.text).toContain('<html>');
    await sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'garbage' });
    const garbage = await fetchText();
    expect(() => JSON.parse(garbage.text)).toThrow();
    await sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'wrong-type' });
    const wrongType = JSON.parse((await fetchText()).text);
    expect(typeof wrongType.MediaContainer.machineIdentifier).toBe('number');
    expect(spec.validate('/identity', 'get', 200, wrongType).valid).toBe(false);
    await sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'missing-fields' });
    expect(JSON.parse((await fetchText()).text)).toEqual({});
  });

  it('malformed/oversized: a body far beyond any real answer, streamed until the client stops', async () => {
    await sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'oversized', sizeBytes: 50 * 1024 * 1024 });
    const res = await identity(plexLocal);
    expect(Number(res.headers.get('content-length'))).toBe(50 * 1024 * 1024);
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 2 * 1024 * 1024) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
    }
    await reader.cancel();
    expect(received).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('drop-socket: open push channels are reset, new upgrades fail, plain HTTP still works', async () => {
    const first = plexSocket(plexLocal);
    await first.opened;
    await sim.route('plex-a-local').fault({ mode: 'drop-socket' });
    expect((await first.closed).code).toBe(1006);
    await expect(plexSocket(plexLocal).opened).rejects.toThrow();
    expect((await identity(plexLocal)).status).toBe(200);

    await sim.route('plex-a-local').fault({ mode: 'up' });
    const second = plexSocket(plexLocal);
    await second.opened;
    await sim.route('plex-a-local').fault({ mode: 'drop-socket', variant: 'close-1001' });
    expect((await second.closed).code).toBe(1001);
  });

  it('flap: the port alternates between refusing and answering', async () => {
    await sim.route('plex-a-local').fault({ mode: 'flap', periodMs: 250 });
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) {
      const outcome = await tcpConnect(plexLocal);
      seen.push(outcome === 'open' ? 'open' : 'refused');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen[0]).toBe('refused');
    expect(seen).toContain('open');
    // At least two transitions: it really alternates rather than switching once.
    const transitions = seen.filter((s, i) => i > 0 && s !== seen[i - 1]).length;
    expect(transitions).toBeGreaterThanOrEqual(2);
  });

  it('hang (Jellyfin): an open socket gets no KeepAlive reply and is not aborted either', async () => {
    const jfToken = sim.jellyfin('jf').issueToken();
    const ws = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    ws.on('error', () => {});
    const types: string[] = [];
    ws.on('message', (d) => types.push(JSON.parse((d as Buffer).toString()).MessageType));
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.route('jf-local').fault({ mode: 'hang' });
    const seen = types.length;
    ws.send(JSON.stringify({ MessageType: 'KeepAlive' }));
    await new Promise((r) => setTimeout(r, 3500)); // past the scaled 3 s abort
    expect(types.slice(seen)).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.terminate();
  });

  it('rejects a variant that does not belong to the mode', async () => {
    await expect(sim.route('plex-a-local').fault({ mode: 'malformed', variant: 'close-1001' })).rejects.toThrow(/does not apply/);
    const res = await fetch(`${sim.controlUrl}/routes/plex-a-local/fault`, { method: 'POST', body: JSON.stringify({ mode: 'drop-socket', variant: 'html' }) });
    expect(res.status).toBe(400);
  });

  it('applies to plex.tv too', async () => {
    await sim.plexTv.route.fault({ mode: 'error', status: 503 });
    expect((await fetch(`${sim.plexTvUrl}/api/v2/user?X-Plex-Token=${token}`)).status).toBe(503);
  });
});

describe('server faults', () => {
  it('bad-token (Plex): 401 everywhere, sockets closed, WebSocket 401; a new accessToken from plex.tv works; up restores', async () => {
    const oldServerToken = sim.plexTv.serverToken('plex-a', 'demo');
    const socket = plexSocket(plexLocal);
    await socket.opened;
    await sim.server('plex-a').fault({ mode: 'bad-token' });
    await socket.closed;
    for (const t of [token, oldServerToken]) expect((await fetch(`${plexLocal}/?X-Plex-Token=${t}`)).status).toBe(401);
    await expect(plexSocket(plexLocal).opened).rejects.toThrow('HTTP 401');
    const resources = (await (await fetch(`${sim.plexTvUrl}/api/v2/resources?X-Plex-Token=${token}`, { headers: PLEX_HEADERS })).json()) as { name: string; accessToken: string }[];
    const fresh = resources.find((r) => r.name === 'Living-room Plex')!.accessToken;
    expect(fresh).not.toBe(oldServerToken);
    expect((await fetch(`${plexLocal}/?X-Plex-Token=${fresh}`)).status).toBe(200);
    await sim.server('plex-a').fault({ mode: 'up' });
    expect((await fetch(`${plexLocal}/?X-Plex-Token=${token}`)).status).toBe(200);
  });

  it('bad-token (Jellyfin): 401 with an empty body, sockets closed with 1000, upgrade 403; a new sign-in works', async () => {
    const jfToken = sim.jellyfin('jf').issueToken();
    const ws = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.server('jf').fault({ mode: 'bad-token' });
    expect(await closed).toBe(1000);
    const res = await fetch(`${jfLocal}/Users/Me?ApiKey=${jfToken}`);
    expect([res.status, await res.text()]).toEqual([401, '']);
    const again = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    again.on('error', () => {});
    const status = await new Promise<number>((resolve) => again.once('unexpected-response', (q, r) => (resolve(r.statusCode ?? 0), q.destroy())));
    expect(status).toBe(403);
    const signIn = await fetch(`${jfLocal}/Users/AuthenticateByName`, {
      method: 'POST',
      headers: { Authorization: mediaBrowser({ deviceId: 'after-revoke' }), 'Content-Type': 'application/json' },
      body: JSON.stringify({ Username: 'demo', Pw: 'secret pw' }),
    });
    const { AccessToken } = (await signIn.json()) as { AccessToken: string };
    expect((await fetch(`${jfLocal}/Users/Me?ApiKey=${AccessToken}`)).status).toBe(200);
  });

  it('stop (Jellyfin): ServerShuttingDown, then close 1000 "System Shutdown", then refused until up', async () => {
    const jfToken = sim.jellyfin('jf').issueToken();
    const ws = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    ws.on('error', () => {});
    const types: string[] = [];
    ws.on('message', (d) => types.push(JSON.parse((d as Buffer).toString()).MessageType));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.server('jf').fault({ mode: 'stop' });
    expect(await closed).toEqual({ code: 1000, reason: 'System Shutdown' });
    expect(types.at(-1)).toBe('ServerShuttingDown');
    for (const r of sim.servers[2]!.routes) expect(await tcpConnect(r.url)).toBe('refused');
    await sim.server('jf').fault({ mode: 'up' });
    expect((await fetch(`${jfLocal}/System/Info/Public`)).status).toBe(200);
  });

  it('stop with restarting (Jellyfin): ServerRestarting before the close', async () => {
    const jfToken = sim.jellyfin('jf').issueToken();
    const ws = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    ws.on('error', () => {});
    const types: string[] = [];
    ws.on('message', (d) => types.push(JSON.parse((d as Buffer).toString()).MessageType));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.server('jf').fault({ mode: 'stop', restarting: true });
    expect(await closed).toBe(1000);
    expect(types.at(-1)).toBe('ServerRestarting');
  });

  it('stop (Plex): push channels get a close frame; every route refuses', async () => {
    const socket = plexSocket(plexLocal);
    await socket.opened;
    await sim.server('plex-a').fault({ mode: 'stop' });
    expect((await socket.closed).code).toBe(1001);
    for (const r of sim.servers[0]!.routes) expect(await tcpConnect(r.url)).toBe('refused');
    const presence = (await (await fetch(`${sim.plexTvUrl}/api/v2/resources?X-Plex-Token=${token}`, { headers: PLEX_HEADERS })).json()) as { presence: boolean }[];
    expect(presence[0]!.presence).toBe(false);
  });

  it('crash: connections reset without close frames, then refused until up', async () => {
    const socket = plexSocket(plexLocal);
    await socket.opened;
    const jfToken = sim.jellyfin('jf').issueToken();
    const ws = new WebSocket(`${jfLocal.replace('http', 'ws')}/socket?ApiKey=${jfToken}`);
    ws.on('error', () => {});
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(JSON.parse((d as Buffer).toString()).MessageType));
    const jfClosed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.server('plex-a').fault({ mode: 'crash' });
    await sim.server('jf').fault({ mode: 'crash' });
    expect((await socket.closed).code).toBe(1006);
    expect(await jfClosed).toBe(1006);
    expect(messages).not.toContain('ServerShuttingDown');
    const refused = await timed(() => identity(plexLocal));
    expect(refused.error?.cause?.code).toBe('ECONNREFUSED');
    await sim.server('plex-a').fault({ mode: 'up' });
    expect((await identity(plexLocal)).status).toBe(200);
  });
});
