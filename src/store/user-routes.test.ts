// Routes the user adds (issue 13 item 1) in the store: a pending route is stored and listed but is
// not one of the source's usable routes; a plex.tv refresh (replaceRoutes) keeps the user's routes.
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from './database.js';
import { makeTempDir, recordingLogger } from '../../test/support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function open(): { store: Store; dir: string } {
  const t = makeTempDir();
  cleanups.push(t.remove);
  const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, logger: recordingLogger() });
  cleanups.push(() => store.close());
  return { store, dir: t.dir };
}

describe('user routes in the store', () => {
  it('adds, keeps pending routes out of Source.routes until verified, reorders, removes, and survives a reopen', () => {
    const { store, dir } = open();
    const source = store.sources.create({
      name: 'Living-room',
      kind: 'plex',
      serverId: 'a'.repeat(40),
      routes: [{ url: 'https://1-2-3-4.abc.plex.direct:32400', kind: 'remote', priority: 0, origin: 'plex.tv' }],
      credentials: { token: 'secret-token-1' },
    });
    const vpn = store.routes.add(source.id, { url: 'http://100.64.1.2:32400', kind: 'remote', priority: 1, origin: 'user', pending: true })!;
    const lan = store.routes.add(source.id, { url: 'http://192.168.1.20:32400', kind: 'local', priority: 0, origin: 'user', pending: false })!;
    expect(store.routes.add('no-such-source', { url: 'http://10.0.0.1', kind: 'local', priority: 0, origin: 'user', pending: false })).toBeNull();
    expect(() => store.routes.add(source.id, { url: 'http://u:p@10.0.0.1', kind: 'local', priority: 0, origin: 'user', pending: false })).toThrow();

    expect(store.sources.get(source.id)!.routes.map((r) => r.url)).toEqual(['http://192.168.1.20:32400', 'https://1-2-3-4.abc.plex.direct:32400']);
    expect(store.routes.listForSource(source.id).find((r) => r.id === vpn.id)).toMatchObject({ pending: true, origin: 'user' });
    expect(store.routes.sourcesWithPendingRoutes()).toEqual([source.id]);

    expect(store.routes.markVerified(source.id, vpn.id)).toBe(true);
    expect(store.sources.get(source.id)!.routes.map((r) => r.id)).toContain(vpn.id);
    expect(store.routes.sourcesWithPendingRoutes()).toEqual([]);

    store.routes.reorder(source.id, [{ id: vpn.id, kind: 'remote', priority: 0 }, { id: store.sources.get(source.id)!.routes[1]!.id, kind: 'remote', priority: 1 }]);
    expect(store.sources.get(source.id)!.routes.filter((r) => r.kind === 'remote').map((r) => r.url)).toEqual(['http://100.64.1.2:32400', 'https://1-2-3-4.abc.plex.direct:32400']);

    // plex.tv's list changed: its routes are replaced, the user's stay.
    const next = store.sources.replaceRoutes(source.id, [{ url: 'https://5-6-7-8.abc.plex.direct:32400', kind: 'remote', priority: 0, origin: 'plex.tv' }])!;
    expect(next.map((r) => r.url).sort()).toEqual(['http://100.64.1.2:32400', 'http://192.168.1.20:32400', 'https://5-6-7-8.abc.plex.direct:32400']);

    expect(store.routes.remove(source.id, lan.id)).toBe(true);
    expect(store.routes.remove(source.id, lan.id)).toBe(false);
    store.close();
    const again = openDatabase({ dataDir: dir, maintenanceIntervalMs: 0, logger: recordingLogger() });
    cleanups.push(() => again.close());
    expect(again.routes.listForSource(source.id).map((r) => [r.url, r.origin]).sort()).toEqual([
      ['http://100.64.1.2:32400', 'user'],
      ['https://5-6-7-8.abc.plex.direct:32400', 'plex.tv'],
    ]);
  });
});
