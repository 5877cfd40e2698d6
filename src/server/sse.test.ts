import { EventEmitter } from 'node:events';
import { get, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEventMessage, ApiSnapshot } from '../api/types.js';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { createMetrics } from './metrics.js';
import { SseHub } from './sse.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, testConfig } from '../../test/support/server-fakes.js';

interface Frame {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads an SSE response frame by frame. */
class SseReader {
  private buffer = '';
  private readonly frames: Frame[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.reader = response.body!.getReader();
  }

  /** Next frame that matches, within a generous bound. */
  async next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(0, i + 1).pop()!;
      this.frames.length = 0;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no matching SSE frame in time');
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no matching SSE frame in time')), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error('stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: Frame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else {
            const [k, ...v] = line.split(': ');
            if (k === 'event' || k === 'id' || k === 'data') frame[k] = v.join(': ');
          }
        }
        this.frames.push(frame);
      }
    }
  }

  close(): void {
    this.abort.abort();
  }
}

const apps: FastifyInstance[] = [];
const readers: SseReader[] = [];
afterEach(async () => {
  readers.splice(0).forEach((r) => r.close());
  // fetch may leave an idle pre-opened socket behind; it is not what these tests are about.
  await Promise.all(
    apps.splice(0).map((a) => {
      const closing = a.close();
      a.server.closeAllConnections();
      return closing;
    }),
  );
});

async function setup(config: Partial<AppConfig> = {}) {
  const engine = new FakeEngine();
  const metrics = createMetrics({ defaultMetrics: false });
  const app = await buildApp({ engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig(config), metrics });
  apps.push(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, engine, base: address };
}

async function open(base: string, headers: Record<string, string | undefined> = {}, path = '/api/events'): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(`${base}${path}`, { headers: { accept: 'text/event-stream', ...(Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>) }, signal: abort.signal });
  const reader = new SseReader(response, abort);
  readers.push(reader);
  return reader;
}

const addSource = (engine: FakeEngine, name: string) =>
  engine.addSource({ name, kind: 'jellyfin', serverId: name.padEnd(32, '0'), routes: [{ url: 'http://127.0.0.3:8096', kind: 'local', priority: 0 }], credentials: { token: 't' } }).source;

describe('GET /api/events', () => {
  it('sends a snapshot first, then engine events with ids, source updates and removals', async () => {
    const { engine, base } = await setup();
    const a = addSource(engine, 'Attic');
    engine.setConnected(a.id, 'local', 5);

    const sse = await open(base);
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const first = await sse.next((f) => f.event !== undefined);
    expect(first.event).toBe('snapshot');
    expect(first.id).toBe('1');
    const snapshot = JSON.parse(first.data!) as ApiSnapshot;
    expect(snapshot).toMatchObject({ lastEventId: 1, demo: false, sources: [{ id: a.id, status: 'connected' }] });

    engine.setLost(a.id);
    const lost = await sse.next((f) => f.event !== undefined);
    expect(lost.event).toBe('engine');
    expect(lost.id).toBe('2');
    const message = JSON.parse(lost.data!) as ApiEventMessage;
    expect(message).toMatchObject({ seq: 2, event: { type: 'ConnectionLost', sourceName: 'Attic' }, source: { status: 'reconnecting' } });

    engine.touch(a.id);
    const touched = await sse.next((f) => f.event !== undefined);
    expect(touched.event).toBe('source');
    expect(touched.id).toBeUndefined();
    expect(JSON.parse(touched.data!).source.id).toBe(a.id);

    engine.removeSource(a.id);
    const removed = await sse.next((f) => f.event !== undefined);
    expect(removed).toMatchObject({ event: 'removed', data: JSON.stringify({ sourceId: a.id }) });
  });

  it('resumes from Last-Event-ID with exactly the missed events, and from ?lastEventId=', async () => {
    const { engine, base } = await setup();
    const a = addSource(engine, 'Attic');
    const b = addSource(engine, 'Basement');
    engine.setConnected(a.id, 'local', 5); // seq 1
    engine.setConnected(b.id, 'local', 7); // seq 2
    engine.setLost(a.id); // seq 3
    engine.touch(b.id); // a view-only change after seq 3

    for (const headers of [{ 'last-event-id': '1' }, {}]) {
      const sse = await open(base, headers, 'last-event-id' in headers ? '/api/events' : '/api/events?lastEventId=1');
      const frames: Frame[] = [];
      do frames.push(await sse.next((f) => f.event !== undefined));
      while (frames.at(-1)!.event !== 'source');
      const engineIds = Array.from({ length: engine.lastSeq() - 1 }, (_, i) => String(i + 2));
      expect(frames.map((f) => [f.event, f.id])).toEqual([...engineIds.map((id) => ['engine', id]), ['source', undefined]]);
      expect(JSON.parse(frames.at(-1)!.data!).source.id).toBe(b.id);
      // And the live stream continues after the resume.
      const next = engine.setConnected(a.id, 'local', 4);
      const live = await sse.next((f) => f.event === 'engine');
      expect(live.id).toBe(String(next.seq));
      sse.close();
    }
  });

  it('sends a fresh snapshot when the events are no longer retained or the id is from another epoch', async () => {
    const { engine, base } = await setup();
    const a = addSource(engine, 'Attic');
    engine.setConnected(a.id, 'local', 5);
    engine.setLost(a.id);
    engine.retainFromSeq = 2;
    const old = await open(base, { 'last-event-id': '1' });
    const frame = await old.next((f) => f.event !== undefined);
    expect(frame.event).toBe('snapshot');
    expect(JSON.parse(frame.data!).lastEventId).toBe(2);

    const future = await open(base, { 'last-event-id': '999' });
    expect((await future.next((f) => f.event !== undefined)).event).toBe('snapshot');
    const garbage = await open(base, { 'last-event-id': 'abc' });
    expect((await garbage.next((f) => f.event !== undefined)).event).toBe('snapshot');
  });

  it('caps open streams per client address and in total: 503 in words with Retry-After, counts drop on close', async () => {
    const { base } = await setup({ sseMaxStreamsPerAddress: 2, sseMaxStreams: 3 });
    const open: ClientRequest[] = [];
    const streams: IncomingMessage[] = [];
    /** GET /api/events from a given loopback address; a 200 stays open, a refusal is read whole. */
    const connect = (localAddress: string) =>
      new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
        const req = get(`${base}/api/events`, { localAddress, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode === 200) {
            streams.push(res);
            res.once('data', () => resolve({ status: 200, retryAfter: undefined, body: '' }));
            return;
          }
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
        });
        req.on('error', reject);
        open.push(req);
      });
    try {
      expect((await connect('127.0.0.1')).status).toBe(200);
      expect((await connect('127.0.0.1')).status).toBe(200);
      const perAddress = await connect('127.0.0.1');
      expect(perAddress.status).toBe(503);
      expect(perAddress.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(perAddress.body)).toEqual({ error: 'too_many_streams', message: expect.stringMatching(/Too many open event streams from this address \(at most 2\)/) });

      expect((await connect('127.0.0.2')).status).toBe(200); // another address: 3 in total
      const total = await connect('127.0.0.3');
      expect(total.status).toBe(503);
      expect(JSON.parse(total.body).message).toMatch(/too many open event streams \(at most 3\)/);

      // A stream from 127.0.0.1 closes: that address, and the total, have room again.
      open[0]!.destroy();
      const deadline = Date.now() + 3000;
      let again = await connect('127.0.0.1');
      while (again.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        again = await connect('127.0.0.1');
      }
      expect(again.status).toBe(200);
    } finally {
      for (const req of open) req.destroy();
    }
  });

  it('sends heartbeat comments at the configured interval and counts clients', async () => {
    const { app, base } = await setup({ sseHeartbeatMs: 150 });
    const sse = await open(base);
    await sse.next((f) => f.event === 'snapshot');
    const beat = await sse.next((f) => f.comment !== undefined, 3000);
    expect(beat.comment).toBe('heartbeat');
    const second = await open(base);
    await second.next((f) => f.event === 'snapshot');
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toContain('marquee_sse_clients 2');
    second.close();
    sse.close();
    const deadline = Date.now() + 3000;
    let body = '';
    while (Date.now() < deadline) {
      body = (await app.inject('/metrics')).body;
      if (body.includes('marquee_sse_clients 0')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(body).toContain('marquee_sse_clients 0');
  });

  it('drops a client that stops reading instead of buffering without bound', async () => {
    const { engine, base, app } = await setup();
    const a = addSource(engine, 'Attic');
    const abort = new AbortController();
    // Connect but never read the body.
    const res = await fetch(`${base}/api/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const big = 'x'.repeat(64 * 1024);
    engine.updateSource(a.id, { name: big });
    // Up to 64 MB offered; the kernel's socket buffers take a few MB, then the client must be dropped.
    let metrics = '';
    for (let i = 0; i < 1000; i++) {
      engine.touch(a.id);
      if (i % 20 === 19) {
        await new Promise((r) => setTimeout(r, 5));
        metrics = (await app.inject('/metrics')).body;
        if (metrics.includes('marquee_sse_dropped_total 1')) break;
      }
    }
    expect(metrics).toContain('marquee_sse_dropped_total 1');
    expect(metrics).toContain('marquee_sse_clients 0');
    abort.abort();
  });

  it('closes open streams so the server can shut down', async () => {
    const { app, base } = await setup();
    const sse = await open(base);
    await sse.next((f) => f.event === 'snapshot');
    const started = Date.now();
    await app.close();
    apps.length = 0;
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(sse.next(() => true, 2000)).rejects.toThrow(/stream ended|terminated|abort/i);
  });
});

describe('resume across a restart', () => {
  it('adds a snapshot after the missed events when the view changes before this process are unknown', async () => {
    const engine = new FakeEngine();
    const a = addSource(engine, 'Attic');
    engine.setConnected(a.id, 'local', 5); // seq 1, "in the previous process"
    engine.setLost(a.id); // seq 2
    const app = await buildApp({ engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig() });
    apps.push(app);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const sse = await open(base, { 'last-event-id': '1' });
    const missed = await sse.next((f) => f.event !== undefined);
    expect([missed.event, missed.id]).toEqual(['engine', '2']);
    const snapshot = await sse.next((f) => f.event !== undefined);
    expect(snapshot.event).toBe('snapshot');
    expect(JSON.parse(snapshot.data!).sources[0]).toMatchObject({ id: a.id, status: 'reconnecting' });
  });
});

/** A response that never drains: every written byte stays buffered. */
class StuckResponse extends EventEmitter {
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  socket = null;
  chunks: string[] = [];
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

describe('SseHub backpressure', () => {
  it('tolerates a snapshot bigger than the limit, then drops a client that does not drain', () => {
    const engine = new FakeEngine();
    const a = addSource(engine, 'Attic');
    engine.updateSource(a.id, { name: `Attic ${'n'.repeat(5000)}` });
    let dropped = 0;
    const hub = new SseHub(engine, { heartbeatMs: 60_000, demo: false, maxBufferedBytes: 2000, onDropped: () => (dropped += 1) });
    hub.start();
    try {
      const res = new StuckResponse();
      hub.open(res as unknown as ServerResponse, null);
      expect(res.writableLength).toBeGreaterThan(5000);
      engine.setConnected(a.id, 'local', 3); // ~5 KB more, within limit + snapshot allowance
      expect(dropped).toBe(0);
      expect(res.chunks.at(-1)).toContain('event: engine');
      for (let i = 0; i < 5 && !res.destroyed; i++) engine.touch(a.id);
      expect(dropped).toBe(1);
      expect(res.destroyed).toBe(true);
      expect(hub.clientCount).toBe(0);
    } finally {
      hub.stop();
    }
  });
});

describe('SseHub snapshot sharing', () => {
  it('clients connecting within a second share one snapshot buffer, followed by the frames since it was built', () => {
    const engine = new FakeEngine();
    const a = addSource(engine, 'Attic');
    let now = 1_000_000;
    const hub = new SseHub(engine, { heartbeatMs: 60_000, demo: false, now: () => now });
    hub.start();
    try {
      let built = 0;
      const list = engine.listSources.bind(engine);
      engine.listSources = () => {
        built += 1;
        return list();
      };
      const first = hub.prepare(null);
      const second = hub.prepare(null);
      expect(built).toBe(1);
      expect(second[1]).toBe(first[1]); // the same Buffer, not a copy
      expect(Buffer.isBuffer(first[1])).toBe(true);
      // A change after the build: a later client gets the shared snapshot plus that change, i.e.
      // exactly what the first client has received by now.
      engine.setConnected(a.id, 'remote', 12);
      const third = hub.prepare(null);
      expect(built).toBe(1);
      expect(third[1]).toBe(first[1]);
      const tail = third.slice(2).join('');
      expect(tail).toContain('"status":"connected"');
      // After the reuse window the snapshot is built afresh and already holds the change.
      now += 1_000;
      const fourth = hub.prepare(null);
      expect(built).toBe(2);
      expect(fourth).toHaveLength(2);
      expect(fourth[1]!.toString()).toContain('"status":"connected"');
    } finally {
      hub.stop();
    }
  });

  it('a long tail of changes makes the next client get a fresh snapshot instead', () => {
    const engine = new FakeEngine();
    const a = addSource(engine, 'Attic');
    const hub = new SseHub(engine, { heartbeatMs: 60_000, demo: false, now: () => 0 });
    hub.start();
    try {
      const first = hub.prepare(null);
      for (let i = 0; i < 2_000; i++) engine.touch(a.id);
      const next = hub.prepare(null);
      expect(next[1]).not.toBe(first[1]);
      expect(next).toHaveLength(2);
    } finally {
      hub.stop();
    }
  });
});
