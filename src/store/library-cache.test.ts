// The library cache against an in-memory model: every sort, order, filter and offset gives the
// same page and total as sorting and filtering a plain array; a full swap replaces, an incremental
// one upserts; unreadable rows are skipped.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibraryItem } from '../core/library.js';
import { openDatabase, type Store } from './database.js';
import { NATURAL_ORDER, type LibraryPageQuery, type LibrarySort } from './repos/library-cache-repo.js';
import { makeItem, makeItems } from '../../test/support/library.js';
import { makeTempDir, sampleSource } from '../../test/support/store.js';

let store: Store;
let removeDir: () => void;
let sourceId: string;
beforeAll(() => {
  const t = makeTempDir();
  removeDir = t.remove;
  store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, flushDelayMs: 0 });
  sourceId = store.sources.create(sampleSource(1)).id;
});
afterAll(() => {
  store.close();
  removeDir();
});

function replace(libraryId: string, items: LibraryItem[], at = 1000, source = sourceId): number {
  store.libraryCache.stageBegin(source, libraryId);
  for (let i = 0; i < items.length; i += 200) store.libraryCache.stagePage(source, libraryId, items.slice(i, i + 200));
  return store.libraryCache.commitStaged(source, libraryId, 'full', at).changed;
}

/** The model: what a page must be, computed from a plain array. */
function modelPage(items: LibraryItem[], q: LibraryPageQuery): { ids: string[]; total: number } {
  const key = (i: LibraryItem) => (i.sortTitle || i.title).toLowerCase();
  const natural = (a: LibraryItem, b: LibraryItem): number => {
    const byNumber = (x: number | null, y: number | null) => (x === null ? (y === null ? 0 : 1) : y === null ? -1 : y - x);
    const primary = q.sort === 'title' ? 0 : byNumber(q.sort === 'added' ? a.addedAt : q.sort === 'year' ? a.year : a.rating, q.sort === 'added' ? b.addedAt : q.sort === 'year' ? b.year : b.rating);
    if (primary !== 0) return primary;
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
  let list = items.filter((i) => {
    if (q.filter === 'unwatched' && i.watched) return false;
    if (q.filter === 'watched' && !i.watched) return false;
    if (q.filter === 'in_progress' && !(i.resumeMs !== null && i.resumeMs > 0 && !i.watched)) return false;
    if (q.genre !== undefined && !i.genres.includes(q.genre)) return false;
    if (q.year !== undefined && i.year !== q.year) return false;
    return true;
  });
  list = [...list].sort(natural);
  if ((q.order ?? NATURAL_ORDER[q.sort]) !== NATURAL_ORDER[q.sort]) list.reverse();
  return { ids: list.slice(q.offset, q.offset + q.limit).map((i) => i.id), total: list.length };
}

const itemArb = fc
  .record({
    n: fc.integer({ min: 0, max: 400 }),
    title: fc.constantFrom('Alpha', 'beta', 'Gamma', 'alpha', 'Zed', 'Émile', 'm'),
    year: fc.option(fc.integer({ min: 1990, max: 1995 }), { nil: null }),
    addedAt: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    rating: fc.option(fc.constantFrom(1.5, 7, 9.9), { nil: null }),
    watched: fc.boolean(),
    resumeMs: fc.option(fc.constantFrom(0, 5000), { nil: null }),
    genres: fc.uniqueArray(fc.constantFrom('Action', 'Drama', 'Comedy'), { maxLength: 2 }),
  })
  .map((r) => makeItem(r.n, { title: r.title, sortTitle: r.title, year: r.year, addedAt: r.addedAt, rating: r.rating, watched: r.watched, resumeMs: r.resumeMs, genres: r.genres }));

const queryArb = fc.record(
  {
    offset: fc.integer({ min: 0, max: 40 }),
    limit: fc.integer({ min: 1, max: 15 }),
    sort: fc.constantFrom<LibrarySort>('title', 'added', 'year', 'rating'),
    order: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
    filter: fc.constantFrom('unwatched' as const, 'watched' as const, 'in_progress' as const),
    genre: fc.constantFrom('Action', 'Drama', 'Comedy', 'None'),
    year: fc.integer({ min: 1990, max: 1995 }),
  },
  { requiredKeys: ['offset', 'limit', 'sort'] },
);

describe('LibraryCacheRepo pages', () => {
  it('equal the model for every sort, order, filter and offset (fast-check)', () => {
    let round = 0;
    fc.assert(
      fc.property(fc.uniqueArray(itemArb, { selector: (i) => i.id, maxLength: 40 }), fc.array(queryArb, { minLength: 1, maxLength: 8 }), (items, queries) => {
        const libraryId = `lib-${round++}`;
        replace(libraryId, items);
        for (const q of queries) {
          const page = store.libraryCache.page(sourceId, libraryId, q);
          const model = modelPage(items, q);
          expect(page.total).toBe(model.total);
          expect(page.items.map((i) => i.id)).toEqual(model.ids);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('incremental commits (watched, year, title changes, new items) keep every order equal to the model (fast-check)', () => {
    let round = 0;
    const changeArb = fc.record({
      index: fc.nat(),
      field: fc.constantFrom('watched', 'year', 'title', 'rating', 'new'),
      value: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(itemArb, { selector: (i) => i.id, minLength: 1, maxLength: 30 }), fc.array(fc.array(changeArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.array(queryArb, { minLength: 1, maxLength: 4 }), (items, batches, queries) => {
        const libraryId = `inc-${round++}`;
        replace(libraryId, items);
        const model = new Map(items.map((i) => [i.id, i]));
        for (const batch of batches) {
          const staged = new Map<string, LibraryItem>();
          for (const change of batch) {
            const ids = [...model.keys()];
            const current = model.get(ids[change.index % ids.length]!)!;
            const next: LibraryItem =
              change.field === 'watched'
                ? { ...current, watched: !current.watched }
                : change.field === 'year'
                  ? { ...current, year: 1990 + (change.value % 6) }
                  : change.field === 'title'
                    ? { ...current, title: `T${change.value}`, sortTitle: `T${change.value}` }
                    : change.field === 'rating'
                      ? { ...current, rating: change.value / 3 }
                      : makeItem(1000 + change.value, { genres: ['Drama'] });
            model.set(next.id, next);
            staged.set(next.id, next);
          }
          store.libraryCache.stageBegin(sourceId, libraryId);
          store.libraryCache.stagePage(sourceId, libraryId, [...staged.values()]);
          store.libraryCache.commitStaged(sourceId, libraryId, 'incremental', 5000);
        }
        for (const q of queries) {
          const page = store.libraryCache.page(sourceId, libraryId, q);
          const expected = modelPage([...model.values()], q);
          expect(page.total).toBe(expected.total);
          expect(page.items.map((i) => i.id)).toEqual(expected.ids);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('an incremental commit upserts (ranks follow a changed title) and a full one removes what is gone', () => {
    const items = makeItems(30);
    expect(replace('inc', items)).toBe(30);
    expect(replace('inc', items)).toBe(0); // nothing changed, nothing counted
    const renamed = { ...items[5]!, title: 'AAAA first', sortTitle: 'AAAA first', updatedAt: 1_800_000_000_000 };
    store.libraryCache.stageBegin(sourceId, 'inc');
    store.libraryCache.stagePage(sourceId, 'inc', [renamed, makeItem(1000)]);
    const result = store.libraryCache.commitStaged(sourceId, 'inc', 'incremental', 2000);
    expect(result).toEqual({ changed: 2, highWaterMs: 1_800_000_000_000 });
    const first = store.libraryCache.page(sourceId, 'inc', { offset: 0, limit: 1, sort: 'title' });
    expect(first.items[0]!.id).toBe(renamed.id);
    expect(first.total).toBe(31);
    // A full sync with the 10 first (item 5 back to its old title): 21 removed, 1 changed.
    expect(replace('inc', items.slice(0, 10), 3000)).toBe(22);
    expect(store.libraryCache.count(sourceId, 'inc')).toBe(10);
    expect(store.libraryCache.syncState(sourceId, 'inc')).toMatchObject({ fullSyncAt: 3000, syncedAt: 3000, error: null });
  });

  it('a changed title or a new item writes only its own rows (nothing renumbered), and the merge yields between bounded steps with a consistent order at each', async () => {
    const items = makeItems(3_000);
    const own = store.sources.create(sampleSource(2)).id; // its many rows would crowd the other tests' searches
    replace('steps', items, 1000, own);
    const totalChanges = () => store.sqlite.prepare('SELECT total_changes()').pluck().get() as number;
    const before = totalChanges();
    store.libraryCache.stageBegin(own, 'steps');
    store.libraryCache.stagePage(own, 'steps', [
      ...Array.from({ length: 5 }, (_, i) => ({ ...items[i * 500]!, title: `AAA ${i}`, sortTitle: `AAA ${i}`, updatedAt: 1_900_000_000_000 })),
      ...makeItems(5, 10_000, { updatedAt: 1_900_000_000_000 }),
    ]);
    const staged = totalChanges();
    expect(store.libraryCache.commitStaged(own, 'steps', 'incremental', 4000).changed).toBe(10);
    // 10 item rows, their genre rows (≤ 2 each, deleted and written again), the sync record, the staging rows: no renumbering of 3,000 rows.
    expect(totalChanges() - staged).toBeLessThan(100);
    expect(staged - before).toBeLessThan(20);
    expect(store.libraryCache.page(own, 'steps', { offset: 0, limit: 5, sort: 'title' }).items.map((i) => i.title)).toEqual(['AAA 0', 'AAA 1', 'AAA 2', 'AAA 3', 'AAA 4']);

    // A full sync of 3,000 changed items and 10 gone: several steps, the order consistent at each pause.
    const next = items.slice(10).map((i) => ({ ...i, title: `${i.title} II`, sortTitle: `${i.title} II`, updatedAt: 1_950_000_000_000 }));
    store.libraryCache.stageBegin(own, 'steps');
    for (let i = 0; i < next.length; i += 300) store.libraryCache.stagePage(own, 'steps', next.slice(i, i + 300));
    let pauses = 0;
    const result = await store.libraryCache.commitStagedStepwise(own, 'steps', 'full', 5000, async () => {
      pauses++;
      const page = store.libraryCache.page(own, 'steps', { offset: 0, limit: 5_000, sort: 'title' }).items;
      const keys = page.map((i) => `${(i.sortTitle || i.title).toLowerCase()}\u0000${i.id}`);
      expect(keys).toEqual([...keys].sort());
    });
    expect(result.changed).toBe(next.length + 15); // 10 original and 5 new items gone
    expect(pauses).toBeGreaterThanOrEqual(Math.ceil(next.length / 500));
    expect(store.libraryCache.count(own, 'steps')).toBe(next.length);
  });

  it('facets, search, details and home rows; a failure is kept in words and cleared by a success', () => {
    replace('f', makeItems(20));
    const facets = store.libraryCache.facets(sourceId, 'f');
    expect(facets.genres.length).toBeGreaterThan(3);
    expect(facets.years[0]).toBeGreaterThan(facets.years.at(-1)!);
    const hit = makeItem(7);
    expect(store.libraryCache.search(sourceId, hit.title.slice(0, 6).toUpperCase(), 50).map((i) => i.id)).toContain(hit.id);
    expect(store.libraryCache.search(sourceId, '%', 50)).toEqual([]);

    const show = makeItem(5000, { type: 'show', libraryId: null, overview: 'A show' });
    store.libraryCache.saveDetail(sourceId, { item: show, children: [makeItem(5001, { type: 'season' })] }, 42);
    expect(store.libraryCache.detail(sourceId, show.id)).toMatchObject({ item: { overview: 'A show' }, fetchedAt: 42, children: [{ id: 'item-5001' }] });
    expect(store.libraryCache.findItem(sourceId, 'item-5001')?.type).toBe('season');
    // Seen again in a list: the richer item page is kept.
    store.libraryCache.saveSeen(sourceId, [{ ...show, overview: null }], 50);
    expect(store.libraryCache.detail(sourceId, show.id)?.item.overview).toBe('A show');

    store.libraryCache.saveHomeRow(sourceId, 'continue', [makeItem(9)], 60);
    expect(store.libraryCache.homeRow(sourceId, 'continue')).toMatchObject({ fetchedAt: 60, items: [{ id: 'item-9' }] });

    store.libraryCache.recordSyncError(sourceId, 'f', 'the server answered 500', 70);
    store.flush();
    expect(store.libraryCache.syncState(sourceId, 'f')?.error).toBe('the server answered 500');
    expect(replace('f', makeItems(20), 80)).toBe(0);
    expect(store.libraryCache.syncState(sourceId, 'f')?.error).toBeNull();
  });

  it('skips an unreadable row instead of failing the page', () => {
    replace('bad', makeItems(3));
    store.sqlite.prepare("UPDATE library_items SET data = '{\"id\": 5}' WHERE source_id = ? AND item_id = 'item-1'").run(sourceId);
    const page = store.libraryCache.page(sourceId, 'bad', { offset: 0, limit: 10, sort: 'title' });
    expect(page.items.map((i) => i.id).sort()).toEqual(['item-0', 'item-2']);
    expect(page.total).toBe(3);
  });
});
