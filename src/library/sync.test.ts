// The library sync against a fake server: cold, incremental, deletions, paging that lies or loops,
// malformed answers and failures — the old cache always survives a failed sync, in words.
import { afterEach, describe, expect, it } from 'vitest';
import type { ItemPage } from '../backends/types.js';
import { failure, makeItem, makeItems, startLibraryRig, type LibraryRig } from '../../test/support/library.js';
import { flushPromises } from '../../test/support/fake-clock.js';
import type { LibraryUpdate } from './sync.js';

let rig: LibraryRig;
afterEach(async () => rig?.close());

const page = (r: LibraryRig, sourceId: string, libraryId = '1') => r.store.libraryCache.page(sourceId, libraryId, { offset: 0, limit: 500, sort: 'title' });

describe('LibrarySync', () => {
  it('cold sync pages through the library; incremental asks for changes since the high-water mark; a full sync removes deletions', async () => {
    rig = startLibraryRig({ pageSize: 100 });
    const id = rig.addSource('Plex');
    const items = makeItems(250);
    rig.browser.libraries.set('1', items);
    const updates: LibraryUpdate[] = [];
    rig.layer.onUpdate((u) => updates.push(u));

    expect(await rig.layer.sync.syncLibrary(id, '1')).toEqual({ ok: true, mode: 'full', changed: 250, items: 250 });
    expect(rig.browser.calls.filter((c) => c.method === 'items').map((c) => (c.arg as { start: number }).start)).toEqual([0, 100, 200]);
    expect(page(rig, id).total).toBe(250);
    expect(updates.at(-1)).toMatchObject({ sourceId: id, libraryId: '1', changed: 250, status: { state: 'synced', syncedAt: rig.clock.now() } });

    // 10 items change on the server: the next sync asks only for them.
    const changedAt = 1_800_000_000_000;
    for (let i = 0; i < 10; i++) items[i] = { ...items[i]!, watched: !items[i]!.watched, updatedAt: changedAt };
    items.splice(200, 1); // a deletion: incremental cannot see it
    rig.browser.calls.length = 0;
    expect(await rig.layer.sync.syncLibrary(id, '1')).toMatchObject({ ok: true, mode: 'incremental', changed: 10 });
    expect(rig.browser.calls[0]!.arg).toMatchObject({ changedSinceMs: 1_700_000_000_249 });
    expect(page(rig, id).total).toBe(250);
    expect(rig.store.libraryCache.findItem(id, 'item-3')?.watched).toBe(items[3]!.watched);

    // A day later the full sync is due again and the deleted item goes.
    await rig.clock.advance(24 * 3_600_000);
    expect(await rig.layer.sync.syncLibrary(id, '1')).toMatchObject({ ok: true, mode: 'full', changed: 1 });
    expect(page(rig, id).total).toBe(249);
    expect(rig.store.libraryCache.findItem(id, 'item-200')).toBeNull();
  });

  it('paging that loops or lies about its total stops, fails in words and keeps the old cache', async () => {
    rig = startLibraryRig({ pageSize: 100 });
    const id = rig.addSource('Plex');
    rig.browser.libraries.set('1', makeItems(150));
    await rig.layer.sync.syncLibrary(id, '1');

    // Looping: every page is the first one again, forever.
    rig.browser.pageHook = (q, honest) => ({ ok: true, value: { ...honest, items: makeItems(100), start: q.start } });
    rig.browser.calls.length = 0;
    const looped = await rig.layer.sync.syncLibrary(id, '1', { full: true });
    expect(looped).toMatchObject({ ok: false, error: expect.stringContaining('loops') });
    expect(rig.browser.calls.length).toBe(2);

    // Lying: claims 100 items, sends new ones forever.
    rig.browser.pageHook = (q): { ok: true; value: ItemPage } => ({ ok: true, value: { items: makeItems(100, 10_000 + q.start), total: 100, start: q.start } });
    rig.browser.calls.length = 0;
    const lied = await rig.layer.sync.syncLibrary(id, '1', { full: true });
    expect(lied).toMatchObject({ ok: false, error: expect.stringContaining('more items') });
    expect(rig.browser.calls.length).toBeLessThanOrEqual(3);

    expect(page(rig, id).total).toBe(150);
    expect(rig.layer.sync.status(id, '1')).toMatchObject({ state: 'failed', error: expect.stringContaining('more items') });
  });

  it('a malformed answer or a failure mid-way keeps the cache; the error is recorded in words and cleared by the next success', async () => {
    rig = startLibraryRig({ pageSize: 100 });
    const id = rig.addSource('Plex');
    rig.browser.libraries.set('1', makeItems(150));
    await rig.layer.sync.syncLibrary(id, '1');

    rig.browser.pageHook = (q, honest) => (q.start === 0 ? { ok: true, value: { ...honest, items: 'nonsense' as unknown as [] } } : { ok: true, value: honest });
    expect(await rig.layer.sync.syncLibrary(id, '1', { full: true })).toMatchObject({ ok: false, error: expect.stringContaining('not a list of items') });

    rig.browser.pageHook = (q, honest) => (q.start === 100 ? failure('the server answered 500 Internal Server Error') : { ok: true, value: { ...honest, items: makeItems(100, 500) } });
    expect(await rig.layer.sync.syncLibrary(id, '1', { full: true })).toEqual({ ok: false, error: 'the server answered 500 Internal Server Error' });
    expect(page(rig, id).items.map((i) => i.id)).not.toContain('item-500');
    expect(page(rig, id).total).toBe(150);
    expect(rig.layer.sync.status(id, '1')).toMatchObject({ state: 'failed', error: 'the server answered 500 Internal Server Error' });

    rig.browser.pageHook = null;
    expect(await rig.layer.sync.syncLibrary(id, '1', { full: true })).toMatchObject({ ok: true });
    expect(rig.layer.sync.status(id, '1')).toEqual({ state: 'synced', syncedAt: rig.clock.now() });
  });

  it('an offline source fails in words; never two syncs of one library at once', async () => {
    rig = startLibraryRig({ pageSize: 100 });
    const id = rig.addSource('Plex', { connected: false });
    rig.browser.libraries.set('1', makeItems(10));
    expect(await rig.layer.sync.syncLibrary(id, '1')).toMatchObject({ ok: false, error: expect.stringContaining('not reachable') });

    rig.engine.setConnected(id, 'local', 5);
    const first = rig.layer.sync.syncLibrary(id, '1');
    const second = rig.layer.sync.syncLibrary(id, '1');
    expect(second).toBe(first);
    expect(rig.layer.sync.status(id, '1').state).toBe('syncing');
    await first;
    expect(rig.browser.calls.filter((c) => c.method === 'items')).toHaveLength(1);
  });

  it('syncs when a source connects, reconnects or its libraries change, and on the periodic timer', async () => {
    rig = startLibraryRig({ pageSize: 100, refreshMs: 60_000 });
    const id = rig.addSource('Plex', { connected: false });
    rig.browser.libraries.set('1', makeItems(5));
    rig.browser.libraries.set('2', [makeItem(900, { libraryId: '2' })]);
    rig.layer.start();
    const itemCalls = () => rig.browser.calls.filter((c) => c.method === 'items').length;
    expect(itemCalls()).toBe(0);

    rig.engine.setConnected(id, 'local', 5); // connected: sync
    await rig.layer.sync.idle();
    expect(itemCalls()).toBe(1);
    expect(page(rig, id).total).toBe(5);

    rig.engine.setLibraries(id, [
      { id: '1', name: 'Movies', type: 'movie' },
      { id: '2', name: 'More', type: 'movie' },
    ]);
    await flushPromises();
    await rig.layer.sync.idle();
    expect(page(rig, id, '2').total).toBe(1);

    rig.engine.setLost(id);
    rig.engine.setConnected(id, 'remote', 5); // a reconnect refreshes in place
    await flushPromises();
    await rig.layer.sync.idle();
    const afterReconnect = itemCalls();
    expect(afterReconnect).toBe(5);

    await rig.clock.advance(60_000); // the periodic refresh
    await flushPromises();
    await rig.layer.sync.idle();
    expect(itemCalls()).toBe(afterReconnect + 2);
  });

  it('a storage fault at commit keeps the old cache, degrades the store and fails in words', async () => {
    rig = startLibraryRig({ pageSize: 100 });
    const id = rig.addSource('Plex');
    rig.browser.libraries.set('1', makeItems(20));
    await rig.layer.sync.syncLibrary(id, '1');
    rig.browser.libraries.set('1', makeItems(5, 100));
    // A write refused inside SQLite, on the same path as a read-only or full disk (see degraded.test.ts).
    rig.store.sqlite.pragma('query_only = ON');
    const outcome = await rig.layer.sync.syncLibrary(id, '1', { full: true });
    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('the cache could not be written') });
    expect(rig.store.health().state).toBe('degraded');
    expect(page(rig, id).total).toBe(20);
    rig.store.sqlite.pragma('query_only = OFF');
    rig.store.retryNow();
    expect(await rig.layer.sync.syncLibrary(id, '1', { full: true })).toMatchObject({ ok: true, changed: 25 });
    expect(page(rig, id).total).toBe(5);
  });
});
