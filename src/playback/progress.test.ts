// The progress reporter over the real SQLite outbox (issue 15), on a fake clock: a 60 s outage with
// reports of several items loses none and delivers them in order once the server is back; the
// collapse rules (latest per item, furthest position within a playback, stops kept); backoff on 5xx
// and a 4xx dropped. The "server" records what it was sent.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrowseResult, ProgressReport } from '../backends/types.js';
import type { EngineStreamMessage, RoutedCaller, RoutedOutcome, RouteUse, SourceSnapshot } from '../monitor/engine-types.js';
import { openDatabase, type Store } from '../store/index.js';
import { makeTempDir, sampleSource } from '../../test/support/store.js';
import { ProgressReporter } from './progress.js';

const START = 1_800_000_000_000;

/** A server that is up or away, answers reports with a status, and records what it accepted. */
class FakeServer {
  up = true;
  /** Status of the next answers (200 = accepted). */
  answer = 200;
  readonly received: Array<{ at: number; report: ProgressReport }> = [];
  readonly attempts: number[] = [];

  report(report: ProgressReport): BrowseResult<null> {
    this.attempts.push(Date.now());
    if (this.answer >= 300) return { ok: false, error: { code: 'http_error', message: `the server answered ${this.answer}`, status: this.answer } };
    this.received.push({ at: Date.now(), report });
    return { ok: true, value: null };
  }
}

class FakeEngine {
  private readonly listeners = new Set<(m: EngineStreamMessage) => void>();
  constructor(
    private readonly sourceId: string,
    private readonly server: FakeServer,
  ) {}

  subscribe(listener: (m: EngineStreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getSource(id: string): SourceSnapshot | null {
    if (id !== this.sourceId) return null;
    return { source: { id }, status: { state: this.server.up ? 'connected' : 'disconnected' } } as unknown as SourceSnapshot;
  }

  /** The server came back (or left): the engine's stream says so. */
  announce(): void {
    for (const l of this.listeners) l({ type: 'source', source: this.getSource(this.sourceId)! });
  }
}

function callerFor(server: FakeServer): RoutedCaller {
  return {
    async call<T>(sourceId: string, run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>): Promise<RoutedOutcome<T>> {
      if (!server.up) return { ok: false, reason: 'offline', message: 'the server is away' };
      const use = { backend: { playback: { report: (_c: unknown, report: ProgressReport) => Promise.resolve(server.report(report)) } }, source: { id: sourceId, kind: 'plex' } } as unknown as RouteUse;
      const result = await run(use, new AbortController().signal);
      return result.ok ? { ok: true, value: result.value, routeId: 'r', routeKind: 'local', retried: false } : { ok: false, reason: 'failed', message: result.error.message, error: result.error };
    },
  };
}

const report = (itemId: string, positionMs: number, event: ProgressReport['event'] = 'progress', state: ProgressReport['state'] = 'playing'): ProgressReport => ({
  itemId,
  decision: { playSessionId: `ps-${itemId}`, mediaSourceId: `m-${itemId}`, method: 'direct', durationMs: 180_000 },
  positionMs,
  state,
  event,
});

let store: Store;
let sourceId: string;
let server: FakeServer;
let engine: FakeEngine;
let reporter: ProgressReporter;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: START });
  const dir = makeTempDir('marquee-progress-');
  cleanups.push(dir.remove);
  store = openDatabase({ dataDir: dir.dir, maintenanceIntervalMs: 0, now: () => Date.now() });
  cleanups.push(() => store.close());
  sourceId = store.sources.create(sampleSource(1, 'plex')).id;
  server = new FakeServer();
  engine = new FakeEngine(sourceId, server);
  reporter = new ProgressReporter({ outbox: store.playOutbox, caller: callerFor(server), engine, now: () => Date.now(), retryBaseMs: 2_000, retryMaxMs: 60_000, maxAttempts: 5 });
  reporter.start();
});

afterEach(async () => {
  await reporter.close();
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) c();
});

describe('a 60 s outage', () => {
  it('loses no report of any item and delivers them in order, marked as made offline, once the server is back', async () => {
    // Three items start while the server is up.
    for (const item of ['a', 'b', 'c']) await reporter.submit(sourceId, `play-${item}`, report(item, 0, 'start'));
    expect(server.received.map((r) => r.report.itemId)).toEqual(['a', 'b', 'c']);
    server.received.length = 0;

    server.up = false;
    engine.announce();
    const outageStart = Date.now();
    // Every 10 s for 60 s, each item reports; item b stops at 30 s, item c is paused at the end.
    for (let t = 10_000; t <= 60_000; t += 10_000) {
      await vi.advanceTimersByTimeAsync(10_000);
      await reporter.submit(sourceId, 'play-a', report('a', t));
      if (t < 30_000) await reporter.submit(sourceId, 'play-b', report('b', t));
      if (t === 30_000) await reporter.submit(sourceId, 'play-b', report('b', t, 'stop', 'stopped'));
      await reporter.submit(sourceId, 'play-c', report('c', t, 'progress', t === 60_000 ? 'paused' : 'playing'));
    }
    expect(Date.now() - outageStart).toBe(60_000);
    expect(server.received).toHaveLength(0);
    // Collapsed to the latest per item (b's stop is kept).
    expect(store.playOutbox.count(sourceId)).toBe(3);

    server.up = true;
    engine.announce();
    await reporter.idle();
    expect(store.playOutbox.count(sourceId)).toBe(0);
    // In the order they were last made: b stopped at 30 s; a and c reported at 60 s (a first).
    expect(server.received.map(({ report: r }) => [r.itemId, r.event, r.state, r.positionMs])).toEqual([
      ['b', 'stop', 'stopped', 30_000],
      ['a', 'progress', 'playing', 60_000],
      ['c', 'progress', 'paused', 60_000],
    ]);
    // Each carries when it was made (Plex offline=1&updated=…).
    expect(server.received.map((r) => r.report.offlineAt)).toEqual([outageStart + 30_000, outageStart + 60_000, outageStart + 60_000]);
  });
});

describe('the outbox collapses', () => {
  it('to the latest per item, keeping a start a start at the furthest position of its playback, and every stop', async () => {
    server.up = false;
    engine.announce();
    await reporter.submit(sourceId, 'p1', report('x', 0, 'start'));
    await reporter.submit(sourceId, 'p1', report('x', 40_000));
    // A seek back: the server keeps the furthest position of this playback.
    await reporter.submit(sourceId, 'p1', report('x', 25_000));
    await reporter.submit(sourceId, 'p1', report('y', 5_000));
    expect(store.playOutbox.pending(sourceId).map((e) => [e.itemId, e.report.event, e.report.positionMs])).toEqual([
      ['x', 'start', 40_000],
      ['y', 'progress', 5_000],
    ]);
    await reporter.submit(sourceId, 'p1', report('x', 50_000, 'stop', 'stopped'));
    // A new playback of x after its stop: the stop stays, the new report follows it.
    await reporter.submit(sourceId, 'p2', report('x', 0, 'start'));
    expect(store.playOutbox.pending(sourceId).map((e) => [e.itemId, e.playbackId, e.report.event, e.report.positionMs])).toEqual([
      ['y', 'p1', 'progress', 5_000],
      ['x', 'p1', 'stop', 50_000],
      ['x', 'p2', 'start', 0],
    ]);
    server.up = true;
    engine.announce();
    await reporter.idle();
    expect(server.received.map(({ report: r }) => [r.itemId, r.event, r.positionMs])).toEqual([
      ['y', 'progress', 5_000],
      ['x', 'stop', 50_000],
      ['x', 'start', 0],
    ]);
  });
});

describe('delivery failures', () => {
  it('backs off on 5xx (2 s, 4 s, 8 s…), keeps the order behind the failing report, and delivers once the server answers', async () => {
    server.answer = 503;
    await reporter.submit(sourceId, 'p1', report('a', 1_000));
    await reporter.submit(sourceId, 'p1', report('b', 2_000));
    expect(server.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(server.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(server.attempts).toHaveLength(3);
    const gaps = server.attempts.slice(1).map((at, i) => at - server.attempts[i]!);
    expect(gaps).toEqual([2_000, 4_000]);
    expect(server.received).toHaveLength(0);

    server.answer = 200;
    await vi.advanceTimersByTimeAsync(8_000);
    await reporter.idle();
    expect(server.received.map((r) => r.report.itemId)).toEqual(['a', 'b']);
    // It waited after a failure: it says when it was made.
    expect(server.received[0]!.report.offlineAt).toBe(START);
    expect(store.playOutbox.count(sourceId)).toBe(0);
  });

  it('drops a refused report (4xx) and goes on with the next', async () => {
    server.answer = 400;
    await reporter.submit(sourceId, 'p1', report('a', 1_000));
    expect(store.playOutbox.count(sourceId)).toBe(0);
    server.answer = 200;
    await reporter.submit(sourceId, 'p1', report('b', 1_000));
    expect(server.received.map((r) => r.report.itemId)).toEqual(['b']);
  });
});
