// Every route remembers where its address came from (typed, server-reported, plex.tv); rows from
// before migration 0001 get a sensible origin.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME, MIGRATIONS_FOLDER, openDatabase, type Store } from '../../src/store/database.js';
import { MarqueeEngine } from '../../src/monitor/engine.js';
import { FakeClock } from '../support/fake-clock.js';
import { ScriptedBackend } from '../support/scripted-backend.js';
import { makeTempDir, recordingLogger } from '../support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function tempDir(): string {
  const t = makeTempDir();
  cleanups.push(t.remove);
  return t.dir;
}

function open(dataDir: string, logger = recordingLogger()): Store {
  const store = openDatabase({ dataDir, maintenanceIntervalMs: 0, logger });
  cleanups.push(() => store.close());
  return store;
}

const credentials = { token: 'secret-token-1' };

describe('route origin', () => {
  it('is stored with each route, defaults to typed, and follows replaceRoutes', () => {
    const store = open(tempDir());
    const jf = store.sources.create({
      name: 'Home',
      kind: 'jellyfin',
      serverId: 'a'.repeat(32),
      routes: [
        { url: 'https://jf.example.com', kind: 'remote', priority: 0, origin: 'typed' },
        { url: 'http://192.168.1.5:8096', kind: 'local', priority: 0, origin: 'server-reported' },
        { url: 'http://10.0.0.9:8096', kind: 'local', priority: 1 },
      ],
      credentials,
    });
    const origins = () => Object.fromEntries(store.routes.listForSource(jf.id).map((r) => [r.url, r.origin]));
    expect(origins()).toEqual({ 'https://jf.example.com': 'typed', 'http://192.168.1.5:8096': 'server-reported', 'http://10.0.0.9:8096': 'typed' });
    store.sources.replaceRoutes(jf.id, [
      { url: 'https://jf.example.com', kind: 'remote', priority: 0, origin: 'typed' },
      { url: 'http://192.168.1.5:8096', kind: 'local', priority: 0, origin: 'typed' },
    ]);
    expect(origins()).toEqual({ 'https://jf.example.com': 'typed', 'http://192.168.1.5:8096': 'typed' });
  });

  it('reaches the API view of a source (GET /api/sources/{id})', async () => {
    const store = open(tempDir());
    const clock = new FakeClock();
    const backend = new ScriptedBackend(clock, 'jellyfin');
    const engine = new MarqueeEngine({ store, backends: { plex: backend, jellyfin: backend }, clock, random: () => 0.5, push: { enabled: false }, watchNetwork: false });
    await engine.start();
    try {
      const added = engine.addSource({
        name: 'Home',
        kind: 'jellyfin',
        serverId: 'a'.repeat(32),
        routes: [
          { url: 'https://jf.example.com', kind: 'remote', priority: 0, origin: 'typed' },
          { url: 'http://192.168.1.5:8096', kind: 'local', priority: 0, origin: 'server-reported' },
        ],
        credentials,
      });
      expect(Object.fromEntries(engine.getSourceDetail(added.source.id)?.routes.map((r) => [r.url, r.origin]) ?? [])).toEqual({
        'https://jf.example.com': 'typed',
        'http://192.168.1.5:8096': 'server-reported',
      });
    } finally {
      await engine.stop();
    }
  });

  it('skips a route row whose origin is unreadable, with a warning', () => {
    const logger = recordingLogger();
    const store = open(tempDir(), logger);
    const s = store.sources.create({ name: 'P', kind: 'plex', serverId: 'b'.repeat(40), routes: [{ url: 'http://10.0.0.2:32400', kind: 'local', priority: 0, origin: 'plex.tv' }], credentials });
    store.sqlite.prepare("UPDATE routes SET origin = 'somewhere'").run();
    expect(store.routes.listForSource(s.id)).toEqual([]);
    expect(logger.lines.some((l) => l.msg === 'skipping unreadable route row' && JSON.stringify(l.obj).includes('origin: invalid'))).toBe(true);
  });

  it('migration 0001 gives existing rows an origin: plex.tv for Plex, server-reported for a Jellyfin LocalAddress, else typed', () => {
    // A database as the previous release left it: only migration 0000 applied.
    const oldMigrations = join(tempDir(), 'migrations');
    mkdirSync(join(oldMigrations, 'meta'), { recursive: true });
    cpSync(join(MIGRATIONS_FOLDER, '0000_initial.sql'), join(oldMigrations, '0000_initial.sql'));
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    writeFileSync(join(oldMigrations, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.filter((e) => e.tag === '0000_initial') }));
    const dataDir = tempDir();
    const old = new Database(join(dataDir, DATABASE_FILE_NAME));
    migrate(drizzle(old), { migrationsFolder: oldMigrations });
    expect(old.prepare("SELECT count(*) FROM pragma_table_info('routes') WHERE name = 'origin'").pluck().get()).toBe(0);
    const source = old.prepare("INSERT INTO sources (id, name, kind, server_id, credential_ref, monitoring, created_at) VALUES (?, ?, ?, ?, ?, '{}', 0)");
    const route = old.prepare('INSERT INTO routes (id, source_id, url, kind, priority) VALUES (?, ?, ?, ?, ?)');
    source.run('plex', 'Plex', 'plex', 'c'.repeat(40), 'source:plex');
    route.run('p-local', 'plex', 'http://10.0.0.2:32400', 'local', 0);
    route.run('p-relay', 'plex', 'https://relay.plex.direct:8443', 'relay', 0);
    // Typed URL remote + LocalAddress (local, priority 0).
    source.run('jf-remote', 'Remote JF', 'jellyfin', 'd'.repeat(32), 'source:jf-remote');
    route.run('jr-typed', 'jf-remote', 'https://jf.example.com', 'remote', 0);
    route.run('jr-local', 'jf-remote', 'http://192.168.1.5:8096', 'local', 0);
    // Typed URL local + LocalAddress (local, priority 1).
    source.run('jf-local', 'Local JF', 'jellyfin', 'e'.repeat(32), 'source:jf-local');
    route.run('jl-typed', 'jf-local', 'http://10.0.0.9:8096', 'local', 0);
    route.run('jl-local', 'jf-local', 'http://192.168.1.5:8096', 'local', 1);
    // Only the typed URL.
    source.run('jf-one', 'One JF', 'jellyfin', 'f'.repeat(32), 'source:jf-one');
    route.run('j1-typed', 'jf-one', 'http://10.0.0.7:8096', 'local', 0);
    old.close();

    const store = open(dataDir);
    const origins = Object.fromEntries(['plex', 'jf-remote', 'jf-local', 'jf-one'].flatMap((id) => store.routes.listForSource(id).map((r) => [r.id, r.origin])));
    expect(origins).toEqual({
      'p-local': 'plex.tv',
      'p-relay': 'plex.tv',
      'jr-typed': 'typed',
      'jr-local': 'server-reported',
      'jl-typed': 'typed',
      'jl-local': 'server-reported',
      'j1-typed': 'typed',
    });
  });
});
