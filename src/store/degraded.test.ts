// Storage faults while running. We run as root, which ignores file permissions, so chmod cannot
// make the data dir read-only here. Instead the faults are produced inside SQLite, on the same
// connection and the same code path as a real fault: `PRAGMA query_only` makes every write fail
// with SQLITE_READONLY (what a read-only remount gives), and `PRAGMA max_page_count` pinned to the
// current size makes growth fail with SQLITE_FULL (what a full disk gives).
import type { EngineEvent, SourceStatus } from '../core/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabaseOptions, type Store } from './database.js';
import { StoreUnavailableError } from './errors.js';
import { makeTempDir, recordingLogger, sampleSource } from '../../test/support/store.js';
import type { StoreHealth } from './write-guard.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function open(extra: Partial<OpenDatabaseOptions> = {}): Store {
  const t = makeTempDir();
  cleanups.push(t.remove);
  const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, retryIntervalMs: 60_000, ...extra });
  cleanups.push(() => store.close());
  return store;
}
const connected = (since: number): SourceStatus => ({ state: 'connected', routeId: 'r', routeKind: 'local', latencyMs: 3, since });
const event = (n: number): EngineEvent => ({ type: 'SyncRestored', sourceId: 's', sourceName: 'Den Jellyfin', sourceKind: 'jellyfin', at: n, libraryCount: n });
const makeReadOnly = (store: Store) => store.sqlite.pragma('query_only = ON');
const makeWritable = (store: Store) => store.sqlite.pragma('query_only = OFF');

/** Every monitor-path write, as the engine would make them after a check. */
function monitorWrites(store: Store, sourceId: string, routeIds: string[], n: number): number {
  store.status.save(sourceId, connected(n), { lastCheckedAt: n, nextCheckAt: n + 10 });
  store.status.appendHistory({ sourceId, at: n, state: 'connected', routeKind: 'local', detail: 'x'.repeat(2000) });
  store.routes.recordResults(routeIds.map((routeId) => ({ ok: true as const, routeId, at: n, latencyMs: n })));
  store.probes.appendMany(routeIds.map((routeId) => ({ ok: true as const, routeId, at: n, latencyMs: n })));
  store.libraries.replace(sourceId, [{ id: String(n), name: `Lib ${n}`, type: 'movie' }]);
  return store.events.append(event(n));
}

describe('degraded storage', () => {
  it('read-only: monitor writes never throw, health says why, and everything lands once writable', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    const s = store.sources.create(sampleSource(1));
    const routeIds = s.routes.map((r) => r.id);
    const changes: StoreHealth[] = [];
    store.onHealthChange((h) => changes.push(h));
    monitorWrites(store, s.id, routeIds, 1);

    makeReadOnly(store);
    const seqs: number[] = [];
    expect(() => {
      for (let n = 2; n <= 6; n++) seqs.push(monitorWrites(store, s.id, routeIds, n));
    }).not.toThrow();
    expect(seqs).toEqual([2, 3, 4, 5, 6]);

    const health = store.health();
    expect(health.state).toBe('degraded');
    if (health.state !== 'degraded') throw new Error('unreachable');
    expect(health.code).toMatch(/^SQLITE_READONLY/);
    expect(health.detail).toMatch(/read-only/);
    expect(health.detail).toMatch(/kept in memory/);
    expect(health.pendingWrites).toBeGreaterThan(0);
    expect(changes.map((c) => c.state)).toEqual(['degraded']);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('read-only'))).toBe(true);

    // SSE resume still works from memory while the disk refuses the events.
    expect(store.events.since(1)!.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6]);
    // Configuration writes are refused in plain words rather than pretending to succeed.
    expect(() => store.sources.rename(s.id, 'New name')).toThrow(StoreUnavailableError);

    // Still read-only: a retry keeps everything buffered.
    expect(store.retryNow()).toBe(false);
    expect(store.health().state).toBe('degraded');

    makeWritable(store);
    expect(store.retryNow()).toBe(true);
    expect(store.health()).toEqual({ state: 'ok' });
    expect(changes.map((c) => c.state)).toEqual(['degraded', 'ok']);

    // The latest status (coalesced), every history entry, event and probe made it to disk.
    expect(store.status.get(s.id)).toMatchObject({ status: connected(6), lastCheckedAt: 6, nextCheckAt: 16 });
    expect(store.status.recentHistory(s.id, 100)).toHaveLength(6);
    expect(store.probes.recentLatencies(routeIds[0]!, 100)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(store.routes.listForSource(s.id).every((r) => r.latencyMs === 6)).toBe(true);
    expect(store.libraries.list(s.id)).toEqual([{ id: '6', name: 'Lib 6', type: 'movie' }]);
    expect(store.sqlite.prepare('SELECT seq FROM events ORDER BY seq').pluck().all()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(store.events.since(0)!.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('full disk: degraded with SQLITE_FULL, no throw, recovers when space returns', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    const routeIds = s.routes.map((r) => r.id);
    const pages = store.sqlite.pragma('page_count', { simple: true }) as number;
    store.sqlite.pragma(`max_page_count = ${pages}`);

    expect(() => {
      for (let n = 1; n <= 40 && store.health().state === 'ok'; n++) monitorWrites(store, s.id, routeIds, n);
    }).not.toThrow();
    const health = store.health();
    expect(health.state).toBe('degraded');
    if (health.state !== 'degraded') throw new Error('unreachable');
    expect(health.code).toMatch(/^SQLITE_FULL/);
    expect(health.detail).toMatch(/disk .* is full/);
    const written = store.status.recentHistory(s.id, 1000).length;
    for (let n = 41; n <= 45; n++) monitorWrites(store, s.id, routeIds, n);

    store.sqlite.pragma('max_page_count = 1073741823');
    expect(store.retryNow()).toBe(true);
    expect(store.health().state).toBe('ok');
    expect(store.status.recentHistory(s.id, 1000).length).toBeGreaterThan(written + 4);
    expect(store.status.get(s.id)?.status).toEqual(connected(45));
    expect(store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('full disk: a configuration write is refused while the held monitor writes cannot land, even one that alone would fit', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    const routeIds = s.routes.map((r) => r.id);
    store.sqlite.pragma(`max_page_count = ${store.sqlite.pragma('page_count', { simple: true }) as number}`);
    for (let n = 1; n <= 40 && store.health().state === 'ok'; n++) monitorWrites(store, s.id, routeIds, n);
    expect(store.health().state).toBe('degraded');
    // A rename rewrites a row in place (no new page): SQLite alone would take it, but it must not
    // jump ahead of the history and status the disk has no room for.
    expect(() => store.sources.rename(s.id, 'New name')).toThrow(/^Cannot save the change: the disk holding the data directory is full\.$/);
    expect(store.sources.get(s.id)?.name).toBe(s.name);
    expect(store.health().state).toBe('degraded');

    store.sqlite.pragma('max_page_count = 1073741823');
    // Space is back: the held writes land first, then the change is taken.
    expect(store.sources.rename(s.id, 'New name')).toBe(true);
    expect(store.sources.get(s.id)?.name).toBe('New name');
    expect(store.health()).toEqual({ state: 'ok' });
    expect(store.status.get(s.id)?.status).toMatchObject({ state: 'connected' });
  });

  it('the retry timer recovers by itself', async () => {
    const store = open({ retryIntervalMs: 20 });
    const s = store.sources.create(sampleSource(1));
    makeReadOnly(store);
    store.status.save(s.id, connected(1));
    expect(store.health().state).toBe('degraded');
    makeWritable(store);
    const deadline = Date.now() + 5000;
    while (store.health().state !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(store.health().state).toBe('ok');
    expect(store.status.get(s.id)?.status).toEqual(connected(1));
  });

  it('bounds what it keeps in memory and says how much was lost', () => {
    const store = open({ maxPendingWrites: 5 });
    const s = store.sources.create(sampleSource(1));
    makeReadOnly(store);
    for (let n = 1; n <= 12; n++) store.status.appendHistory({ sourceId: s.id, at: n, state: `s${n}` });
    for (let n = 1; n <= 50; n++) store.status.save(s.id, connected(n)); // coalesced: one pending write
    const health = store.health();
    if (health.state !== 'degraded') throw new Error('expected degraded');
    expect(health.pendingWrites).toBe(6);
    expect(health.droppedWrites).toBe(7);
    expect(health.detail).toMatch(/7 history entries could not be kept/);
    makeWritable(store);
    expect(store.retryNow()).toBe(true);
    expect(store.status.recentHistory(s.id, 100).map((h) => h.at)).toEqual([12, 11, 10, 9, 8]);
    expect(store.status.get(s.id)?.status).toEqual(connected(50));
  });

  it('a write that fails for a non-storage reason is skipped without degrading', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    // The source does not exist: a foreign-key failure, not a storage fault.
    expect(() => store.status.save('missing-source', connected(1))).not.toThrow();
    expect(store.health()).toEqual({ state: 'ok' });
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg === 'store write skipped')).toBe(true);
  });

  it('close() flushes what storage accepts again and never throws', () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, retryIntervalMs: 60_000 });
    const s = store.sources.create(sampleSource(1));
    makeReadOnly(store);
    store.status.save(s.id, connected(9));
    makeWritable(store);
    expect(() => store.close()).not.toThrow();
    expect(() => store.status.save(s.id, connected(10))).not.toThrow(); // after close: ignored
    const again = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    cleanups.push(() => again.close());
    expect(again.status.get(s.id)?.status).toEqual(connected(9));
  });
});
