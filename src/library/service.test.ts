// The library service: pages from the cache with the offline flag, item pages live with a cache
// fallback, home rows that never wait for a hung server, and searches that return what arrived
// and complete later.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBrowser, failure, makeItem, makeItems, startLibraryRig, type LibraryRig } from '../../test/support/library.js';

let rig: LibraryRig;
afterEach(async () => rig?.close());

const fast = { homeDeadlineMs: 150, searchDeadlineMs: 300, itemTimeoutMs: 300 };

describe('LibraryService', () => {
  it('library pages and info come from the cache; an away source is flagged offline with since when', async () => {
    rig = startLibraryRig();
    const id = rig.addSource('Plex');
    rig.browser.libraries.set('1', makeItems(30));
    await rig.layer.sync.syncLibrary(id, '1');
    const online = rig.layer.service.libraryItems(id, '1', { offset: 10, limit: 5, sort: 'title' });
    expect(online).toMatchObject({ ok: true, offline: false, offlineSince: null, offset: 10, page: { total: 30 }, sync: { state: 'synced' } });
    if (online.ok) expect(online.page.items).toHaveLength(5);

    rig.engine.setLost(id);
    const offline = rig.layer.service.libraryItems(id, '1', { offset: 0, limit: 100, sort: 'added', filter: 'unwatched' });
    expect(offline).toMatchObject({ ok: true, offline: true, offlineSince: expect.any(Number), page: { total: 30 - 8 } });
    const info = rig.layer.service.libraryInfo(id, '1');
    expect(info).toMatchObject({ ok: true, total: 30, offline: true });
    if (info.ok) expect(info.genres.length).toBeGreaterThan(2);
    expect(rig.layer.service.libraryItems(id, 'nope', { offset: 0, limit: 1, sort: 'title' })).toMatchObject({ ok: false, reason: 'unknown_library' });
    expect(rig.layer.service.libraryItems('nope', '1', { offset: 0, limit: 1, sort: 'title' })).toMatchObject({ ok: false, reason: 'unknown_source' });
  });

  it('an item page is read live and written through; offline or failing, it comes from the cache', async () => {
    rig = startLibraryRig(fast);
    const id = rig.addSource('Plex');
    const show = makeItem(1, { type: 'show' });
    rig.browser.details.set(show.id, { ok: true, value: { item: { ...show, overview: 'Live overview' }, children: [makeItem(2, { type: 'season', parentId: show.id })] } });
    const live = await rig.layer.service.item(id, show.id);
    expect(live).toMatchObject({ ok: true, offline: false, fetchedAt: rig.clock.now(), item: { overview: 'Live overview' }, children: [{ id: 'item-2' }] });

    rig.browser.details.set(show.id, 'hang');
    const hung = await rig.layer.service.item(id, show.id);
    expect(hung).toMatchObject({ ok: true, offline: false, item: { overview: 'Live overview' }, children: [{ id: 'item-2' }] });

    rig.engine.setLost(id);
    const calls = rig.browser.calls.length;
    expect(await rig.layer.service.item(id, show.id)).toMatchObject({ ok: true, offline: true, item: { overview: 'Live overview' } });
    expect(rig.browser.calls.length).toBe(calls); // offline: not asked
    expect(await rig.layer.service.item(id, 'item-404')).toMatchObject({ ok: false, reason: 'unknown_item' });
  });

  it('an item page read live writes its watched state and resume position through to the library listing and the cached home rows', async () => {
    rig = startLibraryRig(fast);
    const id = rig.addSource('Plex');
    const items = makeItems(20);
    rig.browser.libraries.set('1', items);
    rig.browser.continueRow = { ok: true, value: [makeItem(3, { resumeMs: 1_000, watched: false })] };
    rig.browser.recentRow = { ok: true, value: [makeItem(3, { resumeMs: 1_000, watched: false }), makeItem(7)] };
    await rig.layer.sync.syncLibrary(id, '1');
    await rig.layer.service.home(); // the rows are cached
    const row = (itemId: string) => {
      const page = rig.layer.service.libraryItems(id, '1', { offset: 0, limit: 100, sort: 'title' });
      return page.ok ? page.page.items.find((i) => i.id === itemId) : undefined;
    };
    expect(row('item-3')).toMatchObject({ watched: items[3]!.watched, resumeMs: items[3]!.resumeMs });

    // Watched elsewhere: the server says so on the item page, with an episode (child) now half-seen.
    const child = makeItem(5, { watched: false, resumeMs: 90_000, lastViewedAt: 1_800_000_000_000 });
    rig.browser.details.set('item-3', { ok: true, value: { item: { ...items[3]!, watched: true, resumeMs: null, lastViewedAt: 1_800_000_000_000, overview: 'Live' }, children: [child] } });
    await rig.layer.service.item(id, 'item-3');

    expect(row('item-3')).toMatchObject({ watched: true, resumeMs: null, lastViewedAt: 1_800_000_000_000 });
    expect(row('item-5')).toMatchObject({ watched: false, resumeMs: 90_000 });
    const watchedPage = rig.layer.service.libraryItems(id, '1', { offset: 0, limit: 100, sort: 'title', filter: 'watched' });
    expect(watchedPage.ok && watchedPage.page.items.map((i) => i.id)).toContain('item-3');
    const inProgress = rig.layer.service.libraryItems(id, '1', { offset: 0, limit: 100, sort: 'title', filter: 'in_progress' });
    expect(inProgress.ok && inProgress.page.items.map((i) => i.id)).toContain('item-5');
    expect(rig.store.libraryCache.homeRow(id, 'continue')?.items[0]).toMatchObject({ id: 'item-3', watched: true, resumeMs: null });
    expect(rig.store.libraryCache.homeRow(id, 'recent')?.items.map((i) => [i.id, i.watched])).toEqual([
      ['item-3', true],
      ['item-7', items[7]!.watched],
    ]);
    // Offline, the cached home rows show the fresh state too.
    rig.engine.setLost(id);
    const home = await rig.layer.service.home();
    expect(home.continueWatching[0]?.item).toMatchObject({ id: 'item-3', watched: true });
  });

  it('home merges sources, never waits for a hung one (its cached rows are shown, marked timeout), offline ones from the cache', async () => {
    rig = startLibraryRig(fast);
    const healthy = rig.addSource('Healthy');
    const hungBrowser = new FakeBrowser();
    const hung = rig.addSource('Hung', { browser: hungBrowser });
    const awayBrowser = new FakeBrowser();
    const away = rig.addSource('Away', { browser: awayBrowser });
    rig.browser.continueRow = { ok: true, value: [makeItem(1, { lastViewedAt: 300 })] };
    rig.browser.recentRow = { ok: true, value: [makeItem(2, { addedAt: 100 })] };
    hungBrowser.continueRow = { ok: true, value: [makeItem(10, { lastViewedAt: 500 })] };
    awayBrowser.recentRow = { ok: true, value: [makeItem(20, { addedAt: 900 })] };
    await rig.layer.service.home(); // every source answers once: rows cached

    hungBrowser.continueRow = 'hang';
    hungBrowser.recentRow = 'hang';
    rig.engine.setLost(away);
    const started = Date.now();
    const home = await rig.layer.service.home();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(home.sources.map((s) => [s.source.source.name, s.state])).toEqual([
      ['Healthy', 'online'],
      ['Hung', 'timeout'],
      ['Away', 'offline'],
    ]);
    expect(home.continueWatching.map((i) => [i.item.id, i.source.source.id])).toEqual([
      ['item-10', hung],
      ['item-1', healthy],
    ]);
    expect(home.recentlyAdded.map((i) => [i.item.id, i.offline])).toEqual([
      ['item-20', true],
      ['item-2', false],
    ]);
  });

  it('search returns the healthy sources at once, the hung one as searching, then completes with a timeout; offline sources from the cache', async () => {
    rig = startLibraryRig(fast);
    rig.addSource('Healthy');
    const slowBrowser = new FakeBrowser();
    rig.addSource('Hung', { browser: slowBrowser });
    const failingBrowser = new FakeBrowser();
    rig.addSource('Failing', { browser: failingBrowser });
    const awayBrowser = new FakeBrowser();
    const away = rig.addSource('Away', { browser: awayBrowser, connected: true });
    rig.browser.libraries.set('1', [makeItem(1, { title: 'Red Storm', sortTitle: 'Red Storm' })]);
    awayBrowser.libraries.set('1', [makeItem(5, { title: 'Red Glass', sortTitle: 'Red Glass' })]);
    await rig.layer.sync.syncLibrary(away, '1');
    rig.engine.setLost(away);
    slowBrowser.searchAnswer = () => 'hang';
    failingBrowser.searchAnswer = () => failure('the server answered 500');

    const first = await rig.layer.service.search('  RED ', 50);
    expect(first.complete).toBe(false);
    expect(first.query).toBe('RED');
    expect(Object.fromEntries(first.sources.map((s) => [s.source.source.name, s.state]))).toEqual({ Healthy: 'done', Hung: 'searching', Failing: 'failed', Away: 'offline' });
    expect(first.results.map((r) => r.item.id).sort()).toEqual(['item-1', 'item-5']);
    expect(first.results.find((r) => r.item.id === 'item-5')?.offline).toBe(true);

    const again = await rig.layer.service.search('red', 1_000);
    expect(again.complete).toBe(true);
    expect(again.sources.find((s) => s.source.source.name === 'Hung')).toMatchObject({ state: 'timeout', error: expect.stringContaining('no answer') });
    // Joined the search in flight: each source was asked once.
    expect(rig.browser.calls.filter((c) => c.method === 'search')).toHaveLength(1);
    // The order is stable between polls.
    expect(again.results.map((r) => r.item.id)).toEqual(first.results.map((r) => r.item.id));
  });
});
