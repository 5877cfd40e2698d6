// Benchmark — the library cache (issue 14), in-process against a fake server holding a 50,000-item
// library (test/support/library.ts), over the real store (SQLite in a temp dir):
// - cold sync of the whole library (time, peak RSS) beside the raw paging of the same server
//   without the cache (the floor any sync pays);
// - incremental refresh of 10 changed items;
// - the longest event-loop block during the cold sync and during each incremental refresh
//   (perf_hooks.monitorEventLoopDelay): the monitor, SSE and HTTP wait that long at worst;
// - a 100-item library page at random offsets, every sort, with and without filters (unwatched,
//   genre, year), beside the naive `ORDER BY title LIMIT 100 OFFSET n` over the same rows;
// - an image from the on-disk cache, and the cache staying under its cap.
//
// Standalone: `npx tsx bench/library.ts [--quick]`.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ItemsQuery } from '../src/backends/types.js';
import type { LibraryPageQuery, LibrarySort } from '../src/store/index.js';
import { makeItem, makeItems, startLibraryRig } from '../test/support/library.js';
import { percentile } from './stats.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

const ITEMS = 50_000;
const PAGE = 100;

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

const MB = (bytes: number) => bytes / 2 ** 20;

/** The longest the event loop was held while `work` ran, in ms (2 ms resolution). */
async function longestBlock<T>(work: () => Promise<T>): Promise<{ result: T; blockMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  histogram.enable();
  try {
    const result = await work();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the last block is recorded on the next tick
    return { result, blockMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

async function run(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const rig = startLibraryRig({ pageSize: 300, imageCacheBytes: 1_000_000 });
  try {
    const sourceId = rig.addSource('Bench Plex');
    const items = makeItems(ITEMS);
    rig.browser.libraries.set('1', items);
    // A real server's page arrives as I/O (a macrotask); the fake's would resolve at once, and a
    // sync that never reached the event loop would hide every block it causes.
    const fakeItems = rig.browser.items.bind(rig.browser);
    const overTheNetwork: typeof rig.browser.items = async (...args) => {
      await new Promise((resolve) => setImmediate(resolve));
      return fakeItems(...args);
    };

    // Baseline: the same server paged without any cache.
    const rawStart = performance.now();
    let received = 0;
    for (let start = 0; ; start += 300) {
      const page = await rig.browser.items({} as never, { libraryId: '1', start, limit: 300 } satisfies ItemsQuery, { timeoutMs: 1000 });
      if (!page.ok || page.value.items.length === 0) break;
      received += page.value.items.length;
    }
    const rawMs = performance.now() - rawStart;
    options.log(`raw paging: ${received} items in ${rawMs.toFixed(0)} ms`);

    const rssBefore = process.memoryUsage().rss;
    const sampler = rssSampler();
    const coldStart = performance.now();
    rig.browser.items = overTheNetwork;
    const { result: cold, blockMs: coldBlockMs } = await longestBlock(() => rig.layer.sync.syncLibrary(sourceId, '1'));
    const coldMs = performance.now() - coldStart;
    const peak = sampler.stop();
    if (!cold.ok) throw new Error(`cold sync failed: ${cold.error}`);
    options.log(`cold sync: ${coldMs.toFixed(0)} ms, peak RSS ${MB(peak).toFixed(0)} MB (+${MB(peak - rssBefore).toFixed(0)} MB)`);
    rows.push({ case: 'raw paging of 50,000 items, no cache (baseline)', n: 1, unit: 'ms', p50: rawMs, p95: rawMs });
    rows.push({ case: 'cold sync of 50,000 items (pages of 300)', n: 1, unit: 'ms', p50: coldMs, p95: coldMs, note: `${cold.items} items` });
    rows.push({ case: 'cold sync: peak RSS of the process', n: 1, unit: 'MB', p50: MB(peak), p95: MB(peak), note: `+${MB(peak - rssBefore).toFixed(0)} MB over the start of the sync` });
    rows.push({ case: 'cold sync of 50,000 items: longest event-loop block', n: 1, unit: 'ms', p50: coldBlockMs, p95: coldBlockMs, goal: '≤ 100 ms', met: coldBlockMs <= 100 });

    // Incremental refreshes of 10 changed items: watched states (no order moves), titles (every
    // order moves: the title breaks ties in all of them), then 10 new items (every order too).
    const incremental = async (label: string, change: ((i: number) => Partial<(typeof items)[number]>) | 'new', stamp: number) => {
      for (let i = 0; i < 10; i++) {
        if (change === 'new') items.push(makeItem(ITEMS + i, { title: `New ${i}`, sortTitle: `New ${i}`, updatedAt: stamp }));
        else items[i * 4_000] = { ...items[i * 4_000]!, ...change(i), updatedAt: stamp };
      }
      const t = performance.now();
      const { result: inc, blockMs } = await longestBlock(() => rig.layer.sync.syncLibrary(sourceId, '1'));
      const ms = performance.now() - t;
      if (!inc.ok || inc.mode !== 'incremental' || inc.changed !== 10) throw new Error(`incremental sync: ${JSON.stringify(inc)}`);
      rows.push({ case: `incremental refresh, 10 changed items: ${label}`, n: 1, unit: 'ms', p50: ms, p95: ms });
      rows.push({ case: `incremental refresh, 10 changed items: ${label}: longest event-loop block`, n: 1, unit: 'ms', p50: blockMs, p95: blockMs, goal: '≤ 50 ms', met: blockMs <= 50 });
    };
    await incremental('watched states', (i) => ({ watched: !items[i * 4_000]!.watched }), 1_900_000_000_000);
    await incremental('titles (every order moves)', (i) => ({ title: `Changed ${i}`, sortTitle: `Changed ${i}` }), 1_900_000_000_001);
    await incremental('new items (every order moves)', 'new', 1_900_000_000_002);

    // Pages at random offsets, every sort, with and without filters.
    const trials = options.quick ? 200 : 1_000;
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const sorts: LibrarySort[] = ['title', 'added', 'year', 'rating'];
    const cases: Array<[string, () => Omit<LibraryPageQuery, 'offset' | 'limit' | 'sort'>]> = [
      ['no filter', () => ({})],
      ['unwatched', () => ({ filter: 'unwatched' })],
      ['genre', () => ({ genre: 'Drama' })],
      ['year', () => ({ year: 1950 + Math.floor(random() * 70) })],
      ['genre + unwatched, descending', () => ({ genre: 'Comedy', filter: 'unwatched', order: 'asc' })],
    ];
    for (const [name, filters] of cases) {
      const samples: number[] = [];
      for (let i = 0; i < trials; i++) {
        const extra = filters();
        const total = rig.store.libraryCache.page(sourceId, '1', { offset: 0, limit: 1, sort: 'title', ...extra }).total;
        const offset = Math.floor(random() * Math.max(1, total - PAGE));
        const t = performance.now();
        const answer = rig.layer.service.libraryItems(sourceId, '1', { offset, limit: PAGE, sort: sorts[i % 4]!, ...extra });
        samples.push(performance.now() - t);
        if (!answer.ok || answer.page.items.length === 0) throw new Error(`empty page: ${name} at ${offset}`);
      }
      const p95 = percentile(samples, 95);
      rows.push({ case: `library page of 100 at a random offset, ${name}`, n: trials, unit: 'ms', p50: percentile(samples, 50), p95, goal: 'p95 ≤ 50 ms', met: p95 !== null && p95 <= 50 });
    }
    const naive = rig.store.sqlite.prepare('SELECT data FROM library_items NOT INDEXED WHERE source_id = ? AND library_id = ? ORDER BY title_key, item_id LIMIT 100 OFFSET ?');
    const naiveSamples: number[] = [];
    for (let i = 0; i < Math.min(trials, 100); i++) {
      const t = performance.now();
      naive.all(sourceId, '1', Math.floor(random() * (ITEMS - PAGE)));
      naiveSamples.push(performance.now() - t);
    }
    rows.push({ case: 'naive ORDER BY title LIMIT 100 OFFSET n, same rows (baseline)', n: naiveSamples.length, unit: 'ms', p50: percentile(naiveSamples, 50), p95: percentile(naiveSamples, 95) });

    // Images: hits from disk; the cache stays under its 1 MB cap through 500 distinct 4 KB images.
    await rig.layer.images.get(sourceId, 'item-1', 'poster', 300);
    const hits: number[] = [];
    for (let i = 0; i < trials; i++) {
      const t = performance.now();
      const answer = await rig.layer.images.get(sourceId, 'item-1', 'poster', 300);
      hits.push(performance.now() - t);
      if (!answer.ok) throw new Error('image miss');
    }
    const hitP95 = percentile(hits, 95);
    rows.push({ case: 'image from the on-disk cache', n: trials, unit: 'ms', p50: percentile(hits, 50), p95: hitP95, goal: 'p95 ≤ 5 ms', met: hitP95 !== null && hitP95 <= 5 });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    let largest = 0;
    for (let i = 0; i < 500; i++) {
      rig.browser.images.set(items[i + 100]!.poster!.path, { ok: true, value: { contentType: 'image/png', bytes: Buffer.concat([png, Buffer.alloc(4_000, i % 256)]) } });
      await rig.layer.images.get(sourceId, items[i + 100]!.id, 'poster', 300);
      largest = Math.max(largest, rig.layer.images.size);
    }
    rows.push({ case: 'image cache size through 500 × 4 KB images, cap 1 MB', n: 500, unit: 'MB', p50: MB(rig.layer.images.size), p95: MB(largest), goal: '≤ cap (0.95 MB)', met: largest <= 1_000_000 });
  } finally {
    await rig.close();
  }
  return rows;
}

export const library: Benchmark = {
  name: 'library',
  description: 'Library cache: cold and incremental sync of 50,000 items, pages at any offset, images from cache',
  run,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows) console.log(`${r.case}: p50 ${r.p50?.toFixed(2)} p95 ${r.p95?.toFixed(2)} ${r.unit}${r.goal ? ` (goal ${r.goal}: ${r.met ? 'met' : 'NOT met'})` : ''}${r.note ? ` — ${r.note}` : ''}`);
}
