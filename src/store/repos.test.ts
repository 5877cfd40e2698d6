import type { ProbeResult, SourceStatus } from '../core/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabaseOptions, type Store } from './database.js';
import { StoreUnavailableError } from './errors.js';
import { makeTempDir, recordingLogger, sampleSource } from '../../test/support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

const clock = 1_800_000_000_000;
function open(extra: Partial<OpenDatabaseOptions> = {}): Store {
  const t = makeTempDir();
  cleanups.push(t.remove);
  const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, now: () => clock, ...extra });
  cleanups.push(() => store.close());
  return store;
}
const count = (store: Store, table: string) => store.sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const ok = (routeId: string, at: number, latencyMs: number): ProbeResult => ({ ok: true, routeId, at, latencyMs });
const fail = (routeId: string, at: number): ProbeResult => ({
  ok: false,
  routeId,
  at,
  latencyMs: 5000,
  error: { code: 'timeout', message: 'no answer within 5 s' },
});

describe('SourcesRepo', () => {
  it('creates a source with its routes and credentials in one go, and reads it back', () => {
    const store = open();
    const created = store.sources.create({ ...sampleSource(1), monitoring: { probeTimeoutMs: 3000, push: false } });
    expect(created.routes.map((r) => r.kind)).toEqual(['local', 'remote', 'relay']);
    expect(store.sources.get(created.id)).toEqual(created);
    expect(store.sources.list()).toEqual([created]);
    expect(store.credentials.get(created.credentialRef)).toEqual({ token: 'token-1-secret', userId: 'user-1' });
    expect(created.monitoring).toEqual({ probeTimeoutMs: 3000, push: false });
    expect(store.sources.get('nope')).toBeNull();
  });

  it('rolls back the whole creation when a part fails (no half-made source)', () => {
    const store = open();
    const first = store.sources.create(sampleSource(1));
    // The same route id again violates the routes primary key after the source row was inserted.
    expect(() => store.sources.create({ ...sampleSource(2), routes: [{ id: first.routes[0]!.id, url: 'http://127.0.0.2:1', kind: 'local', priority: 0 }] })).toThrow();
    expect(store.sources.list()).toHaveLength(1);
    expect(count(store, 'credentials')).toBe(1);
  });

  it('rejects invalid input: empty name, non-http URL, a token in a URL', () => {
    const store = open();
    expect(() => store.sources.create({ ...sampleSource(1), name: '   ' })).toThrow();
    expect(() => store.sources.create({ ...sampleSource(1), routes: [{ url: 'ftp://127.0.0.2', kind: 'local', priority: 0 }] })).toThrow();
    expect(() => store.sources.create({ ...sampleSource(1), routes: [{ url: 'http://127.0.0.2:32400/?X-Plex-Token=abc', kind: 'local', priority: 0 }] })).toThrow();
    expect(() => store.sources.create({ ...sampleSource(1), credentials: { token: '' } })).toThrow();
    expect(store.sources.list()).toEqual([]);
  });

  it('renames and updates monitoring settings', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    expect(store.sources.rename(s.id, 'Living-room Plex')).toBe(true);
    expect(store.sources.updateMonitoring(s.id, { enabled: false })).toBe(true);
    expect(store.sources.get(s.id)).toMatchObject({ name: 'Living-room Plex', monitoring: { enabled: false } });
    expect(store.sources.rename('missing', 'x')).toBe(false);
    expect(() => store.sources.rename(s.id, '')).toThrow();
  });

  it('replaces routes keeping the ids (and history) of unchanged URLs', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    const local = s.routes[0]!;
    store.probes.appendMany([ok(local.id, 1, 4)]);
    const next = store.sources.replaceRoutes(s.id, [
      { url: local.url, kind: 'local', priority: 0 },
      { url: 'https://10.0.0.9:32400', kind: 'remote', priority: 1 },
    ])!;
    expect(next).toHaveLength(2);
    expect(next[0]!.id).toBe(local.id);
    expect(store.probes.recentLatencies(local.id)).toEqual([4]);
    expect(store.sources.get(s.id)!.routes).toEqual(next);
    expect(store.sources.replaceRoutes('missing', [])).toBeNull();
  });

  it('deletes a source with everything that hangs off it, and only its own credentials', () => {
    const store = open();
    const a = store.sources.create(sampleSource(1));
    const b = store.sources.create(sampleSource(2));
    for (const s of [a, b]) {
      store.status.save(s.id, { state: 'connecting' });
      store.status.appendHistory({ sourceId: s.id, at: 1, state: 'connecting' });
      store.probes.appendMany(s.routes.map((r) => ok(r.id, 1, 3)));
      store.libraries.replace(s.id, [{ id: '1', name: 'Movies', type: 'movie' }]);
    }
    expect(store.sources.delete(a.id)).toBe(true);
    expect(store.sources.delete(a.id)).toBe(false);
    expect(store.sources.list().map((s) => s.id)).toEqual([b.id]);
    expect(store.credentials.get(a.credentialRef)).toBeNull();
    expect(store.credentials.get(b.credentialRef)).not.toBeNull();
    expect(count(store, 'routes')).toBe(3);
    expect(count(store, 'source_status')).toBe(1);
    expect(count(store, 'status_history')).toBe(1);
    expect(count(store, 'probe_history')).toBe(3);
    expect(count(store, 'libraries')).toBe(1);
  });
});

describe('RoutesRepo', () => {
  it('records the latest probe result per route', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    const [local, remote] = s.routes;
    store.routes.recordResults([ok(local!.id, 10, 3.4), fail(remote!.id, 10)]);
    store.routes.recordResult(ok(remote!.id, 20, 40));
    const byId = new Map(store.routes.listForSource(s.id).map((r) => [r.id, r]));
    expect(byId.get(local!.id)).toMatchObject({ lastResult: 'ok', lastError: null, latencyMs: 3, checkedAt: 10 });
    expect(byId.get(remote!.id)).toMatchObject({ lastResult: 'ok', latencyMs: 40, checkedAt: 20 });
    store.routes.recordResult(fail(local!.id, 30));
    expect(store.routes.listForSource(s.id).find((r) => r.id === local!.id)).toMatchObject({
      lastResult: 'timeout',
      lastError: 'no answer within 5 s',
    });
    expect(byId.get(s.routes[2]!.id)).toMatchObject({ lastResult: null, checkedAt: null });
  });
});

describe('CredentialsRepo', () => {
  it('gets, puts and deletes', () => {
    const store = open();
    expect(store.credentials.get('r1')).toBeNull();
    store.credentials.put('r1', { token: 'a', accountToken: 'b' });
    expect(store.credentials.get('r1')).toEqual({ token: 'a', accountToken: 'b' });
    store.credentials.put('r1', { token: 'c' });
    expect(store.credentials.get('r1')).toEqual({ token: 'c' });
    expect(store.credentials.delete('r1')).toBe(true);
    expect(store.credentials.get('r1')).toBeNull();
  });

  it('keeps what it read in memory (no SQLite read per routed call), and every write — its own or a source deleted with its credentials — is seen by the next read', () => {
    const store = open();
    store.credentials.put('r1', { token: 'a' });
    const first = store.credentials.get('r1')!;
    // A second read is the same row, not a new query; and nobody can change it through the object.
    let selects = 0;
    const db = (store as unknown as { credentials: { ctx: { db: { select: (...a: unknown[]) => unknown } } } }).credentials.ctx.db;
    const select = db.select.bind(db);
    db.select = (...a: unknown[]) => {
      selects++;
      return select(...a);
    };
    expect(store.credentials.get('r1')).toBe(first);
    expect(selects).toBe(0);
    expect(() => {
      (first as { token: string }).token = 'changed';
    }).toThrow();
    store.credentials.put('r1', { token: 'b' });
    expect(store.credentials.get('r1')).toEqual({ token: 'b' });
    expect(selects).toBe(1);
    expect(store.credentials.delete('r1')).toBe(true);
    expect(store.credentials.get('r1')).toBeNull();

    const source = store.sources.create(sampleSource(1));
    expect(store.credentials.get(source.credentialRef)).not.toBeNull();
    expect(store.sources.delete(source.id)).toBe(true);
    expect(store.credentials.get(source.credentialRef)).toBeNull();
  });

  it('skips a corrupt credentials row without logging its content', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    store.sqlite.prepare("INSERT INTO credentials (ref, payload, updated_at) VALUES ('r', '{\"tok\":\"hunter2-secret\"', 1)").run();
    expect(store.credentials.get('r')).toBeNull();
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('credentials'))).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain('hunter2');
  });
});

describe('StatusRepo', () => {
  const connected: SourceStatus = { state: 'connected', routeId: 'r', routeKind: 'local', latencyMs: 3, since: 100 };

  it('saves and reloads every last-known status with its check times', () => {
    const store = open();
    const a = store.sources.create(sampleSource(1));
    const b = store.sources.create(sampleSource(2));
    store.status.save(a.id, { state: 'connecting' }, { updatedAt: 1 });
    store.status.save(a.id, connected, { updatedAt: 2, lastCheckedAt: 2, nextCheckAt: 12 });
    const reconnecting: SourceStatus = { state: 'reconnecting', attempt: 2, nextRetryAt: 50, since: 40, lastRouteKind: 'remote', lastError: { code: 'refused', message: 'refused' } };
    store.status.save(b.id, reconnecting);
    const all = new Map(store.status.loadAll().map((s) => [s.sourceId, s]));
    expect(all.get(a.id)).toEqual({ sourceId: a.id, status: connected, updatedAt: 2, lastCheckedAt: 2, nextCheckAt: 12 });
    expect(all.get(b.id)).toMatchObject({ status: reconnecting, updatedAt: clock });
    expect(store.status.get('missing')).toBeNull();
  });

  it('skips a corrupt status row with a warning instead of crashing the restart', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    const a = store.sources.create(sampleSource(1));
    const b = store.sources.create(sampleSource(2));
    const c = store.sources.create(sampleSource(3));
    store.status.save(a.id, connected);
    store.sqlite.prepare("INSERT INTO source_status (source_id, status, updated_at) VALUES (?, '{not json', 1)").run(b.id);
    store.sqlite.prepare(`INSERT INTO source_status (source_id, status, updated_at) VALUES (?, '{"state":"connected"}', 1)`).run(c.id);
    expect(store.status.loadAll().map((s) => s.sourceId)).toEqual([a.id]);
    expect(logger.lines.filter((l) => l.level === 'warn' && l.msg.includes('status'))).toHaveLength(2);
  });

  it('appends history and returns it newest first', () => {
    const store = open();
    const a = store.sources.create(sampleSource(1));
    store.status.appendHistory([
      { sourceId: a.id, at: 1, state: 'connecting' },
      { sourceId: a.id, at: 2, state: 'connected', routeKind: 'local' },
    ]);
    store.status.appendHistory({ sourceId: a.id, at: 3, state: 'reconnecting', routeKind: 'local', detail: 'connection refused' });
    expect(store.status.recentHistory(a.id, 2).map((h) => [h.at, h.state, h.routeKind, h.detail])).toEqual([
      [3, 'reconnecting', 'local', 'connection refused'],
      [2, 'connected', 'local', null],
    ]);
  });
});

describe('ProbeHistoryRepo', () => {
  it('returns sparkline latencies oldest first, per route and per source', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    const [local, remote] = s.routes;
    store.probes.appendMany([ok(local!.id, 1, 3), fail(remote!.id, 1)]);
    store.probes.appendMany([ok(local!.id, 2, 5), ok(remote!.id, 2, 80)]);
    store.probes.appendMany([fail(local!.id, 3)]);
    expect(store.probes.recentLatencies(local!.id)).toEqual([3, 5, null]);
    expect(store.probes.recentLatencies(local!.id, 2)).toEqual([5, null]);
    const bySource = store.probes.recentLatenciesForSource(s.id, 2);
    expect(bySource.get(local!.id)).toEqual([5, null]);
    expect(bySource.get(remote!.id)).toEqual([null, 80]);
    expect(store.probes.recent(local!.id, 1)[0]).toMatchObject({ ok: false, code: 'timeout', latencyMs: null, at: 3 });
  });

  it('ignores results for routes removed meanwhile without losing the rest of the batch', () => {
    const store = open();
    const s = store.sources.create(sampleSource(1));
    store.probes.appendMany([ok(s.routes[0]!.id, 1, 3), ok('gone-route', 1, 3)]);
    expect(store.probes.count()).toBe(1);
  });

  it('prunes to the per-route cap and the age limit, in batches', () => {
    const store = open({ retention: { probesPerRoute: 10, probeMaxAgeMs: 1000, batchSize: 7 } });
    const s = store.sources.create(sampleSource(1));
    const [local, remote, relay] = s.routes;
    const batch: ProbeResult[] = [];
    for (let i = 0; i < 50; i++) batch.push(ok(local!.id, clock - 500 + i, i), ok(remote!.id, clock - 500 + i, i));
    for (let i = 0; i < 5; i++) batch.push(ok(relay!.id, clock - 5000 + i, i)); // all too old
    store.probes.appendMany(batch);
    const result = store.prune();
    expect(result.probes).toBe(40 + 40 + 5);
    expect(store.probes.recentLatencies(local!.id, 100)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    expect(store.probes.recentLatencies(relay!.id)).toEqual([]);
    expect(store.probes.count()).toBe(20);
  });
});

describe('periodic maintenance', () => {
  it('prunes in the background, in steps, without being asked', async () => {
    const store = open({ maintenanceIntervalMs: 20, retention: { probesPerRoute: 5, batchSize: 3 } });
    const s = store.sources.create(sampleSource(1));
    const route = s.routes[0]!.id;
    store.probes.appendMany(Array.from({ length: 50 }, (_, i) => ok(route, clock + i, i)));
    const deadline = Date.now() + 5000;
    while (store.probes.count() > 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(store.probes.recentLatencies(route, 100)).toEqual([45, 46, 47, 48, 49]);
  });
});

describe('status history retention', () => {
  it('keeps the newest transitions per source', () => {
    const store = open({ retention: { historyPerSource: 3, batchSize: 2 } });
    const a = store.sources.create(sampleSource(1));
    const b = store.sources.create(sampleSource(2));
    store.status.appendHistory(Array.from({ length: 8 }, (_, i) => ({ sourceId: a.id, at: clock + i, state: `s${i}` })));
    store.status.appendHistory({ sourceId: b.id, at: clock, state: 'connecting' });
    expect(store.prune().history).toBe(5);
    expect(store.status.recentHistory(a.id).map((h) => h.state)).toEqual(['s7', 's6', 's5']);
    expect(store.status.recentHistory(b.id)).toHaveLength(1);
  });

  it('a periodic run caps only the sources written since the last prune; a full run (startup) caps all', () => {
    const store = open({ retention: { historyPerSource: 2, batchSize: 100 } });
    const quiet = store.sources.create(sampleSource(1));
    const busy = store.sources.create(sampleSource(2));
    store.status.appendHistory(Array.from({ length: 5 }, (_, i) => ({ sourceId: quiet.id, at: clock + i, state: `q${i}` })));
    expect(store.prune().history).toBe(3);
    // Rows of a source nobody wrote to since (as a previous run left them, killed before pruning).
    const insert = store.sqlite.prepare('INSERT INTO status_history (source_id, at, state) VALUES (?, ?, ?)');
    for (let i = 0; i < 4; i++) insert.run(quiet.id, clock + 10 + i, `old${i}`);
    store.status.appendHistory(Array.from({ length: 4 }, (_, i) => ({ sourceId: busy.id, at: clock + i, state: `b${i}` })));
    expect(store.prune().history).toBe(2);
    expect(store.status.recentHistory(busy.id).map((h) => h.state)).toEqual(['b3', 'b2']);
    expect(store.status.recentHistory(quiet.id)).toHaveLength(6);
    // Nothing written since: a periodic run does nothing per source.
    expect(store.prune().history).toBe(0);
    expect(store.prune({ allRoutes: true }).history).toBe(4);
    expect(store.status.recentHistory(quiet.id).map((h) => h.state)).toEqual(['old3', 'old2']);
  });

  it('finds transitions past the age limit through the index on their time, not a scan', () => {
    const store = open();
    const plan = store.sqlite
      .prepare('EXPLAIN QUERY PLAN SELECT id FROM status_history WHERE at < ? LIMIT ?')
      .all(clock, 10) as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING (COVERING )?INDEX status_history_at_idx/);
  });
});

describe('LibrariesRepo', () => {
  it('replaces the set, keeps the server order, and skips unreadable rows', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    const s = store.sources.create(sampleSource(1));
    store.libraries.replace(s.id, [
      { id: '2', name: 'Shows', type: 'show' },
      { id: '1', name: 'Movies', type: 'movie' },
    ]);
    expect(store.libraries.list(s.id).map((l) => l.name)).toEqual(['Shows', 'Movies']);
    store.libraries.replace(s.id, [{ id: '3', name: 'Music', type: 'music' }]);
    expect(store.libraries.list(s.id)).toEqual([{ id: '3', name: 'Music', type: 'music' }]);
    store.sqlite.prepare("INSERT INTO libraries (source_id, id, name, type, position) VALUES (?, '9', 'Weird', 'hologram', 5)").run(s.id);
    expect(store.libraries.listAll().get(s.id)).toEqual([{ id: '3', name: 'Music', type: 'music' }]);
    expect(logger.lines.some((l) => l.msg.includes('library'))).toBe(true);
    store.libraries.replace(s.id, []);
    expect(store.libraries.list(s.id)).toEqual([]);
  });
});

describe('EventLogRepo', () => {
  const event = (n: number) => ({ type: 'SyncFailed' as const, sourceId: 's', sourceName: 'Living-room Plex', sourceKind: 'plex' as const, at: clock + n, error: `e${n}` });

  it('assigns increasing seqs and replays after a seq', () => {
    const store = open();
    expect(store.events.append(event(1))).toBe(1);
    expect(store.events.append(event(2))).toBe(2);
    expect(store.events.append(event(3))).toBe(3);
    expect(store.events.latestSeq()).toBe(3);
    expect(store.events.since(1)!.map((e) => e.seq)).toEqual([2, 3]);
    expect(store.events.since(0, 2)!.map((e) => e.event)).toEqual([event(1), event(2)]);
    expect(store.events.since(3)).toEqual([]);
    expect(store.events.since(99)).toBeNull(); // from another database's timeline
  });

  it('keeps seqs increasing across restarts, even after everything was pruned', () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const first = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, retention: { eventsKept: 0 } });
    first.events.append(event(1));
    first.events.append(event(2));
    first.prune();
    expect(first.sqlite.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    first.close();
    const second = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    cleanups.push(() => second.close());
    expect(second.events.latestSeq()).toBe(2);
    expect(second.events.since(1)).toBeNull(); // event 2 is gone: resync from a snapshot
    expect(second.events.append(event(3))).toBe(3);
  });

  it('prunes to the newest N and reports a gap as null', () => {
    const store = open({ retention: { eventsKept: 3, batchSize: 2 } });
    for (let i = 1; i <= 10; i++) store.events.append(event(i));
    expect(store.prune().events).toBe(7);
    expect(store.events.since(7)!.map((e) => e.seq)).toEqual([8, 9, 10]);
    expect(store.events.since(6)).toBeNull();
    expect(store.events.since(10)).toEqual([]);
  });

  it('skips a corrupt event row', () => {
    const store = open();
    for (let i = 1; i <= 3; i++) store.events.append(event(i));
    store.flush();
    store.sqlite.prepare(`UPDATE events SET json = '{"type":"Nope"}' WHERE seq = 2`).run();
    expect(store.events.since(0)!.map((e) => e.seq)).toEqual([1, 3]);
  });
});

describe('SettingsRepo', () => {
  it('gets, sets, and creates a stable value once', () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const first = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    expect(first.settings.get('theme')).toBeNull();
    first.settings.set('theme', 'dark');
    expect(first.settings.get('theme')).toBe('dark');
    const id = first.settings.getOrCreate('clientIdentifier', () => 'id-1');
    expect(first.settings.getOrCreate('clientIdentifier', () => 'id-2')).toBe(id);
    expect(first.settings.delete('theme')).toBe(true);
    first.close();
    const second = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    cleanups.push(() => second.close());
    expect(second.settings.getOrCreate('clientIdentifier', () => 'id-3')).toBe('id-1');
  });
});

describe('sources with unreadable rows', () => {
  it('skips a source whose monitoring JSON is corrupt and keeps the others', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    const good = store.sources.create(sampleSource(1));
    const bad = store.sources.create(sampleSource(2));
    store.sqlite.prepare("UPDATE sources SET monitoring = '{\"probeTimeoutMs\": -5}' WHERE id = ?").run(bad.id);
    expect(store.sources.list().map((s) => s.id)).toEqual([good.id]);
    expect(store.sources.get(bad.id)).toBeNull();
    expect(logger.lines.some((l) => l.level === 'warn' && (l.obj as { id?: string }).id === bad.id)).toBe(true);
  });

  it('throws StoreUnavailableError (not a raw SqliteError) for a configuration write the disk refuses', () => {
    const store = open();
    store.sqlite.pragma('query_only = ON');
    expect(() => store.sources.create(sampleSource(1))).toThrow(StoreUnavailableError);
    expect(() => store.sources.create(sampleSource(1))).toThrow(/read-only/);
    store.sqlite.pragma('query_only = OFF');
  });
});
