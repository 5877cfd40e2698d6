import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceStatus } from '../core/types.js';
import { openDatabase, type OpenDatabaseOptions, type Store } from './database.js';
import { makeTempDir, recordingLogger, sampleSource } from '../../test/support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});
function open(extra: Partial<OpenDatabaseOptions> = {}): Store {
  const t = makeTempDir();
  cleanups.push(t.remove);
  const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, ...extra });
  cleanups.push(() => store.close());
  return store;
}
/** A second connection, as another process (e.g. a backup or the crash check) would see the file. */
function observer(store: Store): Database.Database {
  const other = new Database(store.path, { readonly: true });
  cleanups.push(() => other.close());
  return other;
}
const connected = (n: number): SourceStatus => ({ state: 'connected', routeId: 'r', routeKind: 'local', latencyMs: n, since: n });
const committedStatuses = (db: Database.Database) => db.prepare('SELECT count(*) FROM source_status').pluck().get();

describe('group commit of monitor writes', () => {
  it('commits within the window on its own, and reads see their own writes at once', async () => {
    const store = open({ flushDelayMs: 30 });
    const s = store.sources.create(sampleSource(1));
    const other = observer(store);
    store.status.save(s.id, connected(1));
    expect(committedStatuses(other)).toBe(0); // still in the window
    expect(store.status.get(s.id)?.status).toEqual(connected(1)); // the store reads its own writes
    store.status.save(s.id, connected(2));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (other.prepare('SELECT status FROM source_status').pluck().get() as string | undefined) !== JSON.stringify(connected(2))) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(JSON.parse(other.prepare('SELECT status FROM source_status').pluck().get() as string)).toEqual(connected(2));
  });

  it('flushDelayMs 0 commits every write at once', () => {
    const store = open({ flushDelayMs: 0 });
    const s = store.sources.create(sampleSource(1));
    const other = observer(store);
    store.status.save(s.id, connected(1));
    expect(committedStatuses(other)).toBe(1);
  });

  it('a write that fails in a batch does not sink the others', () => {
    const logger = recordingLogger();
    const store = open({ logger });
    const s = store.sources.create(sampleSource(1));
    store.status.save(s.id, connected(1));
    store.status.save('removed-meanwhile', connected(1)); // foreign key failure
    store.status.appendHistory({ sourceId: s.id, at: 1, state: 'connected' });
    store.libraries.replace('removed-meanwhile', [{ id: '1', name: 'Movies', type: 'movie' }]);
    store.libraries.replace(s.id, [{ id: '1', name: 'Movies', type: 'movie' }]);
    store.flush();
    expect(store.health()).toEqual({ state: 'ok' });
    expect(store.status.get(s.id)?.status).toEqual(connected(1));
    expect(store.status.recentHistory(s.id)).toHaveLength(1);
    expect(store.libraries.list(s.id)).toHaveLength(1);
    expect(store.sqlite.prepare('SELECT count(*) FROM source_status').pluck().get()).toBe(1);
    expect(logger.lines.filter((l) => l.msg === 'store write skipped')).toHaveLength(2);
  });

  it('close() commits what is still in the window', () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, flushDelayMs: 60_000 });
    const s = store.sources.create(sampleSource(1));
    store.status.save(s.id, connected(7));
    store.close();
    const again = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    cleanups.push(() => again.close());
    expect(again.status.get(s.id)?.status).toEqual(connected(7));
  });
});
