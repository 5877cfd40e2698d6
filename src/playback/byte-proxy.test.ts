// The direct-play byte proxy (issue 15) end to end on loopback: two routes of one server serve the
// same file; the browser side reads slowly; the first route dies mid-body (reset, or hang) and the
// client still receives the whole file, byte-identical, in ONE response, while the engine moved to
// the second route. A second route with another file ends the response short, no wrong bytes.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineRoutedCaller } from '../monitor/routed-caller.js';
import { parseRange, resolveRange, serveMedia } from './byte-proxy.js';
import { PlaySessions } from './sessions.js';
import { MediaFake } from '../../test/support/media-fake.js';
import { addTwoRouteSource, startMediaEngine } from '../../test/support/media-engine.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

const FILE = randomBytes(3 * 1024 * 1024 + 123);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rig(secondFile: Buffer = FILE, firstFile: Buffer = FILE) {
  const a = await MediaFake.start(firstFile);
  const b = await MediaFake.start(secondFile);
  cleanups.push(() => a.close(), () => b.close());
  const { backend, engine } = await startMediaEngine({ kind: 'plex', dirPrefix: 'marquee-proxy-', mediaHeaders: (call) => ({ 'x-plex-token': call.credentials.token }), cleanups });
  const { view, local: routeA, remote: routeB } = await addTwoRouteSource(engine, { name: 'Living room', kind: 'plex', serverId: 'c'.repeat(40), localUrl: a.url, remoteUrl: b.url, credentials: { token: 'token-0123456789' } });
  expect(engine.getSource(view.source.id)?.status).toMatchObject({ state: 'connected', routeId: routeA.id });
  const caller = new EngineRoutedCaller({ engine, backends: { plex: backend, jellyfin: backend } });
  const sessions = new PlaySessions();
  const session = sessions.createDirect({ sourceId: view.source.id, itemId: 'item-1', mediaPath: '/library/parts/1/file.mp4' });
  const logs: string[] = [];
  const proxy: Server = createServer((req, res) => {
    const s = sessions.get(req.url!.split('/')[1]!);
    if (!s) return void res.writeHead(404).end();
    void serveMedia(req, res, s, { caller, engine, stallMs: 400, openTimeoutMs: 3_000, log: (_l, _o, msg) => logs.push(msg) });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
  cleanups.push(() => proxy.closeAllConnections());
  const port = (proxy.address() as AddressInfo).port;
  return { a, b, backend, engine, routeA, routeB, session, sourceId: view.source.id, logs, url: `http://127.0.0.1:${port}/${session.id}` };
}

/** A browser that reads slowly (pauses between chunks); resolves with what it got, in one response. */
function fetchSlowly(url: string, range?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: range ? { range } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        res.pause();
        setTimeout(() => res.resume(), 2);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: false }));
      res.on('aborted', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete: false }));
    });
    req.on('error', reject);
  });
}

describe('byte proxy: the stream survives a route change', () => {
  it('a healthy route: the whole file, byte-identical, 200 with Accept-Ranges, no upstream header copied blindly', async () => {
    const t = await rig();
    const got = await fetchSlowly(t.url);
    expect(got.status).toBe(200);
    expect(got.headers['accept-ranges']).toBe('bytes');
    expect(got.headers['content-type']).toBe('video/mp4');
    expect(Number(got.headers['content-length'])).toBe(FILE.length);
    expect(sha(got.body)).toBe(sha(FILE));
    expect(JSON.stringify(got.headers)).not.toMatch(/token|127\.0\.0\.1:/i);
  });

  it('the route is reset after 1 MB: the rest comes over the other route into the same response, byte-identical', async () => {
    const t = await rig();
    t.a.fault = { mode: 'reset_after', bytes: 1024 * 1024 };
    t.backend.route(t.routeA.id, { answer: 'refused' });
    const got = await fetchSlowly(t.url);
    expect(got.complete).toBe(true);
    expect(got.body.length).toBe(FILE.length);
    expect(sha(got.body)).toBe(sha(FILE));
    expect(t.engine.getSource(t.sourceId)?.status).toMatchObject({ state: 'connected', routeId: t.routeB.id });
    expect(t.b.requests[0]).toMatch(/^bytes=\d+-\d+$/);
    expect(Number(/^bytes=(\d+)-/.exec(t.b.requests[0]!)![1])).toBeGreaterThan(0);
  });

  it('the route hangs mid-body: the stall is noticed and the rest comes over the other route, byte-identical', async () => {
    const t = await rig();
    t.a.fault = { mode: 'hang_after', bytes: 700 * 1024 };
    t.backend.route(t.routeA.id, { answer: 'hang' });
    const started = Date.now();
    const got = await fetchSlowly(t.url, 'bytes=100-');
    expect(got.status).toBe(206);
    expect(got.headers['content-range']).toBe(`bytes 100-${FILE.length - 1}/${FILE.length}`);
    expect(got.complete).toBe(true);
    expect(sha(got.body)).toBe(sha(FILE.subarray(100)));
    expect(t.engine.getSource(t.sourceId)?.status).toMatchObject({ state: 'connected', routeId: t.routeB.id });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('the other route serves a file of another length: the response ends short, no wrong bytes', async () => {
    const other = Buffer.concat([FILE, Buffer.from('extra')]);
    const t = await rig(other);
    t.a.fault = { mode: 'reset_after', bytes: 512 * 1024 };
    t.backend.route(t.routeA.id, { answer: 'refused' });
    const got = await fetchSlowly(t.url);
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeLessThan(FILE.length);
    expect(got.body.equals(FILE.subarray(0, got.body.length))).toBe(true);
    expect(t.logs.join('\n')).toMatch(/different file/);
  });

  it('ranges: malformed and unsatisfiable get 416 with the total; a suffix and a multi-range (first served) work', async () => {
    const t = await rig();
    for (const bad of ['bytes=abc', 'items=0-1', 'bytes=5-2', `bytes=${FILE.length}-`]) {
      const got = await fetchSlowly(t.url, bad);
      expect(got.status, bad).toBe(416);
      expect(got.headers['content-range']).toBe(`bytes */${FILE.length}`);
    }
    const suffix = await fetchSlowly(t.url, 'bytes=-1000');
    expect(suffix.status).toBe(206);
    expect(suffix.body.equals(FILE.subarray(FILE.length - 1000))).toBe(true);
    const multi = await fetchSlowly(t.url, 'bytes=10-19, 30-39');
    expect(multi.headers['content-range']).toBe(`bytes 10-19/${FILE.length}`);
    expect(multi.body.equals(FILE.subarray(10, 20))).toBe(true);
  });

  it('a browser that pauses for several stall periods is not a stall: one upstream request, no resume, byte-identical', async () => {
    const t = await rig();
    const req = get(t.url);
    const res = await new Promise<IncomingMessage>((r) => req.on('response', r));
    const chunks: Buffer[] = [];
    let got = 0;
    let paused = false;
    const complete = await new Promise<boolean>((resolve) => {
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (!paused && got >= 512 * 1024) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), 1_300); // stallMs is 400 in the rig
        }
      });
      res.on('end', () => resolve(res.complete));
      res.on('error', () => resolve(false));
    });
    expect(complete).toBe(true);
    expect(sha(Buffer.concat(chunks))).toBe(sha(FILE));
    expect(t.a.requests).toHaveLength(1);
    expect(t.b.requests).toHaveLength(0);
    expect(t.logs.join('\n')).not.toMatch(/resumed/);
  });

  it('sequential requests of a session reuse the upstream connection (keep-alive), each read to its end', async () => {
    const t = await rig();
    for (let i = 0; i < 4; i++) {
      const got = await fetchSlowly(t.url, `bytes=${i * 1000}-${i * 1000 + 65_535}`);
      expect(got.status).toBe(206);
      expect(got.body.equals(FILE.subarray(i * 1000, i * 1000 + 65_536))).toBe(true);
    }
    expect(t.a.requests).toHaveLength(4);
    expect(t.a.connections).toBeLessThanOrEqual(2);
  });

  it('a browser that stops reading does not make the proxy buffer the file; one that leaves aborts the upstream', async () => {
    const big = randomBytes(48 * 1024 * 1024);
    const t = await rig(big, big);
    const req = get(t.url);
    const res = await new Promise<IncomingMessage>((r) => req.on('response', r));
    res.pause();
    await new Promise((r) => setTimeout(r, 500));
    // What left the upstream server is bounded by socket buffers, not the file size.
    const upstreamSent = t.a.sentBytes();
    expect(upstreamSent).toBeLessThan(big.length / 3);
    req.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect(t.a.openResponses()).toBe(0);
  });
});

describe('range parsing', () => {
  it('is strict', () => {
    expect(parseRange(undefined)).toEqual({ kind: 'all' });
    expect(parseRange('bytes=0-')).toEqual({ kind: 'from', start: 0 });
    expect(parseRange('bytes=-5')).toEqual({ kind: 'suffix', length: 5 });
    expect(parseRange('bytes=-')).toEqual({ kind: 'invalid' });
    expect(parseRange('bytes=1-2,x')).toEqual({ kind: 'invalid' });
    expect(parseRange('bytes=-0')).toEqual({ kind: 'invalid' });
    expect(resolveRange({ kind: 'from', start: 5, end: 100 }, 10)).toEqual({ start: 5, end: 9 });
    expect(resolveRange({ kind: 'from', start: 10 }, 10)).toBeNull();
  });
});
