import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync, existsSync, openSync, writeSync, closeSync, mkdirSync, chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME, MIGRATIONS_FOLDER, openDatabase, type Store } from './database.js';
import { StoreOpenError } from './errors.js';
import { makeTempDir, sampleSource, tsxLoaderUrl } from '../../test/support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function tempDir() {
  const t = makeTempDir();
  cleanups.push(t.remove);
  return t.dir;
}
function open(dataDir: string): Store {
  const store = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
  cleanups.push(() => store.close());
  return store;
}
function expectOpenError(fn: () => unknown, code: string): StoreOpenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as StoreOpenError).code).toBe(code);
    return error as StoreOpenError;
  }
  throw new Error('expected openDatabase to fail');
}

describe('openDatabase', () => {
  it('creates the data dir and an empty, migrated database from nothing', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const store = open(dataDir);
    const tables = store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining(['credentials', 'events', 'libraries', 'probe_history', 'routes', 'settings', 'source_status', 'sources', 'status_history', '__drizzle_migrations']),
    );
    expect(store.sources.list()).toEqual([]);
    expect(store.events.latestSeq()).toBe(0);
    expect(store.health()).toEqual({ state: 'ok' });
  });

  it('uses WAL, foreign keys, a busy timeout and NORMAL sync by default', () => {
    const store = open(tempDir());
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(store.sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
  });

  it('keeps the data dir 0700 and the database with its WAL and SHM 0600, even under a lax umask', () => {
    const parent = tempDir();
    const dataDir = join(parent, 'data');
    const previous = process.umask(0o000);
    let store: Store;
    try {
      store = open(dataDir);
      store.sources.create(sampleSource(1)); // forces the WAL to exist
    } finally {
      process.umask(previous);
    }
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(dataDir)).toBe(0o700);
    const db = join(dataDir, DATABASE_FILE_NAME);
    expect(mode(db)).toBe(0o600);
    expect(existsSync(`${db}-wal`)).toBe(true);
    expect(mode(`${db}-wal`)).toBe(0o600);
    expect(mode(`${db}-shm`)).toBe(0o600);
  });

  it('makes an existing world-readable database file private', () => {
    const dataDir = tempDir();
    open(dataDir).close();
    chmodSync(join(dataDir, DATABASE_FILE_NAME), 0o644);
    open(dataDir);
    expect(statSync(join(dataDir, DATABASE_FILE_NAME)).mode & 0o777).toBe(0o600);
  });

  it('keeps data across reopen and does not re-run migrations', () => {
    const dataDir = tempDir();
    const first = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
    const created = first.sources.create(sampleSource(7));
    first.close();
    const second = open(dataDir);
    expect(second.sources.get(created.id)).toEqual(created);
    const migrations = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).length;
    expect(second.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(migrations);
  });

  it('finds its migrations from any working directory', () => {
    const dataDir = tempDir();
    const script = `import { openDatabase } from ${JSON.stringify(join(import.meta.dirname, 'database.ts'))};
      const s = openDatabase({ dataDir: ${JSON.stringify(dataDir)}, maintenanceIntervalMs: 0 });
      console.log(s.sources.list().length); s.close();`;
    const result = spawnSync(process.execPath, ['--import', tsxLoaderUrl(), '--input-type=module', '-e', script], {
      cwd: '/',
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('0');
  });

  it('refuses a file that is not a database with a clear error and leaves it untouched', () => {
    const dataDir = tempDir();
    const db = join(dataDir, DATABASE_FILE_NAME);
    writeFileSync(db, 'this is my shopping list, not a database\n'.repeat(20));
    const error = expectOpenError(() => openDatabase({ dataDir, maintenanceIntervalMs: 0 }), 'not_a_database');
    expect(error.message).toContain('is not an SQLite database');
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(statSync(db).size).toBe(41 * 20);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  it('refuses a damaged database (valid header, garbage pages) with a clear error', () => {
    const dataDir = tempDir();
    const store = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
    for (let i = 0; i < 20; i++) store.sources.create(sampleSource(i));
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    const db = join(dataDir, DATABASE_FILE_NAME);
    const pageSize = 4096;
    const fd = openSync(db, 'r+');
    // Keep page 1 (header + schema root), trash the pages after it.
    const garbage = Buffer.alloc(pageSize * 4, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, pageSize);
    closeSync(fd);
    const error = expectOpenError(() => openDatabase({ dataDir, maintenanceIntervalMs: 0 }), 'corrupt');
    expect(error.message).toMatch(/damaged/);
  });

  it('refuses a database written by a newer Marquee', () => {
    const dataDir = tempDir();
    open(dataDir).close();
    const raw = new Database(join(dataDir, DATABASE_FILE_NAME));
    raw.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('future', Date.now() + 365 * 86_400_000 * 10);
    raw.close();
    expectOpenError(() => openDatabase({ dataDir, maintenanceIntervalMs: 0 }), 'too_new');
  });

  it('refuses a data dir path that is a file', () => {
    const parent = tempDir();
    const notDir = join(parent, 'file');
    writeFileSync(notDir, 'x');
    expectOpenError(() => openDatabase({ dataDir: notDir, maintenanceIntervalMs: 0 }), 'cannot_open');
  });

  it('refuses a database path that is a directory', () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, DATABASE_FILE_NAME));
    expectOpenError(() => openDatabase({ dataDir, maintenanceIntervalMs: 0 }), 'not_a_database');
  });
});
