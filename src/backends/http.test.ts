import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSafeAxios, probeErrorFromAxios } from './axios.js';
import { classifyStatus, HttpClient, MAX_BODY_BYTES, redactUrl } from './http.js';
import { JellyfinBackend } from './jellyfin/backend.js';
import { PlexBackend } from './plex/backend.js';

const TOKEN = 'SECRET-TOKEN-abcdef0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

function client(opts: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const c = new HttpClient(opts);
  cleanups.push(() => c.close());
  return c;
}

function expectNoToken(value: unknown) {
  expect(JSON.stringify(value)).not.toContain(TOKEN);
}

describe('HttpClient', () => {
  it('returns status, body and a latency', async () => {
    const { url } = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: req.headers['x-plex-token'] === TOKEN }));
    });
    const r = await client().request({ url: `${url}/`, headers: { 'x-plex-token': TOKEN }, timeoutMs: 2000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ token: true });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('bounds a hang on an already-open keep-alive connection by the timeout', async () => {
    // The server answers the first request on each socket and hangs any later one on the same
    // socket: a peer that died silently behind a pooled keep-alive connection.
    const served = new Map<Socket, number>();
    let hungOnReused = 0;
    const { url } = await serve((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 1) res.end('fresh');
      else hungOnReused++;
    });
    const c = client();
    let failure: Awaited<ReturnType<HttpClient['request']>> | undefined;
    let took = 0;
    for (let i = 0; i < 6 && !failure; i++) {
      const started = Date.now();
      const r = await c.request({ url: `${url}/${i}`, timeoutMs: 300, headers: { 'x-plex-token': TOKEN } });
      took = Date.now() - started;
      if (!r.ok) failure = r;
      else expect(r.body).toBe('fresh');
    }
    expect(hungOnReused).toBe(1); // the failing request really went over a reused socket
    expect(failure?.ok).toBe(false);
    if (!failure || failure.ok) return;
    expect(failure.error.code).toBe('timeout');
    expect(failure.error.message).toMatch(/no answer within 0.3 s/);
    expect(took).toBeLessThan(2000);
    expectNoToken(failure);
  });

  it('retries a GET when a kept-alive socket was closed by the server (stale connection)', async () => {
    const served = new Map<Socket, number>();
    let dropped = 0;
    const { url } = await serve((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n === 1) return void res.end('fresh');
      dropped++;
      req.socket.destroy(); // the server had already given up on this idle connection
    });
    const c = client();
    for (let i = 0; i < 6; i++) {
      const r = await c.request({ url: `${url}/${i}`, timeoutMs: 2000 });
      expect(r.ok && r.body, `request ${i}`).toBe('fresh');
    }
    expect(dropped).toBeGreaterThan(0);
  });

  it('does not retry a POST on a reset', async () => {
    let hits = 0;
    const { url } = await serve((req) => {
      hits++;
      req.socket.destroy();
    });
    const r = await client().request({ url, method: 'POST', body: '{}', timeoutMs: 2000 });
    expect(!r.ok && r.error.code).toBe('refused');
    expect(hits).toBe(1);
  });

  it('bounds a peer that sends headers and then stalls the body', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"MediaContainer":');
    });
    const r = await client().request({ url, timeoutMs: 300 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('timeout');
  });

  it('cuts a body over 1 MB (streamed, no content-length)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const push = () => {
        while (sent < 3 * MAX_BODY_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', push);
        }
        res.end();
      };
      push();
    });
    const r = await client().request({ url, timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    // Its own reason, not a garbled or unreachable server: it answered, just far too much.
    expect(r.error.code).toBe('too_large');
    expect(r.error.message).toMatch(/^127\.0\.0\.1:\d+ answered with more than 1 MB$/);
  });

  it('refuses a declared content-length over 1 MB without reading it', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(MAX_BODY_BYTES + 1) });
      res.write('x');
    });
    const r = await client().request({ url, timeoutMs: 2000 });
    expect(!r.ok && r.error.code).toBe('too_large');
  });

  it('a probe of a server answering more than 1 MB reports "too large" in words (Plex and Jellyfin)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(MAX_BODY_BYTES + 4096, ' ')); // valid JSON whitespace, just far too much of it
    });
    const route = { id: 'r1', url, kind: 'local' as const, priority: 0 };
    const http = client();
    const plex = await new PlexBackend({ http, clientIdentifier: 'install' }).probe({ kind: 'plex', serverId: 'x' }, route, { token: TOKEN }, { timeoutMs: 5000 });
    const jellyfin = await new JellyfinBackend({ axios: createSafeAxios(http), installId: 'install' }).probe({ kind: 'jellyfin', serverId: 'x' }, route, { token: TOKEN }, { timeoutMs: 5000 });
    for (const result of [plex, jellyfin]) {
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error.code).toBe('too_large');
      expect(result.error.message).toMatch(/answered with more than 1 MB/);
      expectNoToken(result);
    }
  });

  it('accepts a body of exactly 1 MB', async () => {
    const { url } = await serve((_req, res) => res.end(Buffer.alloc(MAX_BODY_BYTES, 'b')));
    const r = await client().request({ url, timeoutMs: 5000 });
    expect(r.ok && r.body.length).toBe(MAX_BODY_BYTES);
  });

  it('a per-call cap lets a library page or image be larger (bytes kept as bytes) while other calls keep 1 MB', async () => {
    const body = Buffer.alloc(2 * MAX_BODY_BYTES, 0xab);
    const { url } = await serve((_req, res) => res.end(body));
    const c = client();
    const big = await c.requestBytes({ url, timeoutMs: 5000, maxBodyBytes: 4 * MAX_BODY_BYTES });
    expect(big.ok && big.bytes.equals(body)).toBe(true);
    const capped = await c.request({ url, timeoutMs: 5000 });
    expect(!capped.ok && capped.error.message).toMatch(/answered with more than 1 MB$/);
    const lowered = await c.requestBytes({ url, timeoutMs: 5000, maxBodyBytes: 512 * 1024 });
    expect(!lowered.ok && lowered.error).toMatchObject({ code: 'too_large', message: expect.stringMatching(/more than 512 KB$/) });
  });

  it('does not follow a redirect to another host and never sends it our headers', async () => {
    let otherHit = 0;
    const other = await serve((_req, res) => {
      otherHit++;
      res.end('{}');
    }, '127.0.0.2');
    const { url } = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.url}/steal?X-Plex-Token=${TOKEN}` });
      res.end();
    });
    const r = await client().request({ url, headers: { 'x-plex-token': TOKEN }, timeoutMs: 2000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe(302);
    const e = classifyStatus(r.status, url, r.headers);
    expect(e?.code).toBe('http_error');
    expect(e?.message).toContain('redirects are not followed');
    expect(e?.message).toContain('127.0.0.2');
    expectNoToken(e);
    expect(otherHit).toBe(0);
  });

  it('classifies connection refused', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await client().request({ url: `http://127.0.0.1:${port}/?X-Plex-Token=${TOKEN}`, timeoutMs: 2000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('refused');
    expect(r.error.message).toBe(`connection refused by 127.0.0.1:${port}`);
    expectNoToken(r);
  });

  it('classifies a TCP accept that never answers as a timeout', async () => {
    const silent = createNetServer((s) => {
      cleanups.push(() => void s.destroy());
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const r = await client().request({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, timeoutMs: 250 });
    expect(!r.ok && r.error.code).toBe('timeout');
    expect(!r.ok && r.error.message).toMatch(/^no answer within 0.3 s|^no answer within 0.25 s/);
  });

  it('classifies a DNS failure (injected lookup) and uses the injected lookup for loopback', async () => {
    const { url } = await serve((_req, res) => res.end('ok'));
    const port = new URL(url).port;
    const lookup = ((hostname: string, options: unknown, cb: (...a: unknown[]) => void) => {
      const callback = typeof options === 'function' ? (options as typeof cb) : cb;
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
      if (hostname === 'server.test') {
        if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      } else {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        callback(err);
      }
    }) as unknown as LookupFunction;
    const c = client({ lookup });
    const good = await c.request({ url: `http://server.test:${port}/`, timeoutMs: 2000 });
    expect(good.ok && good.body).toBe('ok');
    const bad = await c.request({ url: `http://nowhere.test:${port}/`, timeoutMs: 2000 });
    expect(!bad.ok && bad.error.code).toBe('dns');
    expect(!bad.ok && bad.error.message).toContain('nowhere.test');
  });

  it('classifies a caller abort', async () => {
    const { url } = await serve(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = await client().request({ url, timeoutMs: 5000, signal: ac.signal });
    expect(!r.ok && r.error.code).toBe('timeout');
    expect(!r.ok && r.error.message).toMatch(/cancelled/);
  });

  it('classifies TLS failures (plain HTTP server spoken to over https)', async () => {
    const { url } = await serve((_req, res) => res.end('x'));
    const r = await client().request({ url: url.replace('http:', 'https:'), timeoutMs: 2000 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('tls');
  });
});

describe('classifyStatus', () => {
  it.each([
    [200, null],
    [204, null],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [404, 'http_error'],
    [500, 'http_error'],
    [503, 'http_error'],
    [301, 'http_error'],
  ])('%i → %s', (status, code) => {
    expect(classifyStatus(status, 'http://127.0.0.1:1/')?.code ?? null).toBe(code);
  });
});

describe('redactUrl', () => {
  it('removes tokens from query parameters and userinfo', () => {
    const out = redactUrl(`http://user:${TOKEN}@h:1/p?X-Plex-Token=${TOKEN}&ApiKey=${TOKEN}&api_key=${TOKEN}&keep=1`);
    expect(out).not.toContain(TOKEN);
    expect(out).toContain('keep=1');
    expect(out).toContain('X-Plex-Token=REDACTED');
  });
  it('never throws on garbage', () => {
    expect(redactUrl('::not a url')).toBe('(invalid address)');
  });
});

describe('safe axios (the Jellyfin SDK transport)', () => {
  it('rejects with a classified error for 401 and refused, and passes 2xx bodies', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/ok') return void res.end(JSON.stringify({ a: 1 }));
      res.statusCode = 401;
      res.end();
    });
    const c = client();
    const ax = createSafeAxios(c);
    const ok = await ax.get(`${url}/ok`);
    expect(ok.data).toEqual({ a: 1 });
    const err = await ax.get(`${url}/no`, { headers: { Authorization: `MediaBrowser Token="${TOKEN}"` } }).catch((e: unknown) => e);
    const pe = probeErrorFromAxios(err);
    expect(pe.code).toBe('unauthorized');
    expect(pe.status).toBe(401);
    expectNoToken(pe);
  });

  it('applies the timeout to a hung peer', async () => {
    const { url } = await serve(() => undefined);
    const ax = createSafeAxios(client());
    const err = await ax.get(url, { timeout: 200 }).catch((e: unknown) => e);
    expect(probeErrorFromAxios(err).code).toBe('timeout');
  });
});

describe('TLS', () => {
  it('rejects a self-signed certificate as `tls`, and accepts it when verification is turned off', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createServer: createHttpsServer } = await import('node:https');
    const dir = mkdtempSync(join(tmpdir(), 'marquee-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const strict = await client().request({ url, timeoutMs: 3000 });
    expect(strict.ok).toBe(false);
    if (!strict.ok) {
      expect(strict.error.code).toBe('tls');
      expect(strict.error.message).toContain('certificate');
    }
    const lax = await client({ rejectUnauthorized: false }).request({ url, timeoutMs: 3000 });
    expect(lax.ok && lax.body).toBe('secure');
  });
});
