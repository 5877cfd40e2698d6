// Benchmark — the library over the real stack (issue 14): the runtime in this process (Fastify,
// engine with its routed caller, library layer, SQLite) over the bundled simulators, and for the
// grid Debian's Chromium (playwright-core, headless) showing the built UI.
// - Search across 3 sources with one hung (sim server fault `search-hang`): how soon the healthy
//   two sources' results are there (`GET /api/search` polled as the UI polls it), beside waiting
//   for every source, the way most clients search (until the hung one's deadline).
// - Grid scroll through a 50,000-item library synced from the simulator: long tasks
//   (PerformanceObserver `longtask`) while scrolling, beside the same page idle for as long; cards
//   in the DOM; JS heap before and after.
//
// Standalone: `npx tsx bench/library-live.ts [--quick]`.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import type { SimConfig } from '../sim/index.js';
import type { ApiSource } from '../src/api/types.js';
import { toApiSource } from '../src/server/views.js';
import { CHROMIUM_LAUNCH } from '../test/support/chromium.js';
import { startTestRuntime, type TestRuntime } from '../test/support/start.js';
import { sleep, waitUntil } from '../test/support/wait.js';
import { percentile } from './stats.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB_INDEX = path.join(ROOT, 'dist/web/index.html');
/** The search deadline per source in this bench (the default is 8 s: the "wait for all" baseline scales with it). */
const SEARCH_DEADLINE_MS = 2_000;
const HUGE = 50_000;
/** Word pieces of the generated titles: one fresh search per trial. */
const QUERIES = ['the', 'er', 'or', 'an', 'ri', 'ar', 'on', 'st', 'in', 'ro', 'at', 'en', 'ea', 'ow', 'ig', 'es', 'un', 've', 'it', 'ra', 'al', 'ht'];

const plexServer = (id: string, name: string, octet: number, title: string) => ({
  id,
  kind: 'plex' as const,
  name,
  owner: 'demo',
  routes: [{ id: `${id}-local`, kind: 'local' as const, host: `127.0.0.${octet}`, port: 0 }],
  libraries: [{ title, type: 'movie' as const, itemCount: 300 }],
});

function simConfig(hugeLibrary: boolean): SimConfig {
  return {
    plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo', token: 'bench-plex-account-token-0001' }] },
    control: { host: '127.0.0.1', port: 0 },
    servers: [
      ...(hugeLibrary ? [] : [plexServer('bench-plex-a', 'Bench Plex A', 2, 'Movies'), plexServer('bench-plex-b', 'Bench Plex B (hung search)', 3, 'Films')]),
      {
        id: 'bench-jellyfin',
        kind: 'jellyfin' as const,
        name: 'Bench Jellyfin',
        users: [{ name: 'demo', password: 'bench-password-0001', admin: true }],
        routes: [{ id: 'bench-jellyfin-local', kind: 'local' as const, host: '127.0.0.6', port: 0 }],
        libraries: [{ name: 'Movies', collectionType: 'movies', itemCount: hugeLibrary ? HUGE : 300 }],
      },
    ],
  };
}

async function startStack(dir: string, hugeLibrary: boolean): Promise<TestRuntime> {
  const simPath = path.join(dir, hugeLibrary ? 'sim-huge.json' : 'sim-search.json');
  writeFileSync(simPath, JSON.stringify(simConfig(hugeLibrary)));
  const { DEFAULT_LIBRARY_SETTINGS } = await import('../src/core/settings.js');
  return startTestRuntime({
    demo: { simConfigPath: simPath },
    dataDir: path.join(dir, hugeLibrary ? 'data-huge' : 'data-search'),
    listen: true,
    library: { ...DEFAULT_LIBRARY_SETTINGS, searchDeadlineMs: SEARCH_DEADLINE_MS },
  });
}

const sourcesOf = (rt: TestRuntime): ApiSource[] => rt.engine.listSources().map(toApiSource);

async function getJson<T>(rt: TestRuntime, pathAndQuery: string): Promise<T> {
  const res = await fetch(new URL(pathAndQuery.replace(/^\//, ''), rt.url!), { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status}`);
  return (await res.json()) as T;
}

interface SearchPoll {
  complete: boolean;
  sources: { id: string; state: string; count: number }[];
}

async function searchWithOneHung(rt: TestRuntime, options: BenchOptions): Promise<BenchRow[]> {
  const sources = sourcesOf(rt);
  await waitUntil(() => sourcesOf(rt).length === 3 && sourcesOf(rt).every((s) => s.status === 'connected'), { what: 'three sources connected', timeoutMs: 60_000 });
  const hung = sources.find((s) => s.name.includes('hung'))!;
  const healthy = sources.filter((s) => s.id !== hung.id).map((s) => s.id);
  await rt.simulation!.server('bench-plex-b').fault({ mode: 'search-hang' });
  const trials = options.quick ? 8 : QUERIES.length;
  const healthySamples: number[] = [];
  const allSamples: number[] = [];
  for (let i = 0; i < trials; i++) {
    // A new query each trial (the same words within searchKeepMs would join the search in flight).
    const query = QUERIES[i % QUERIES.length]!;
    const started = performance.now();
    let healthyAt: number | null = null;
    let allAt: number | null = null;
    while (allAt === null && performance.now() - started < SEARCH_DEADLINE_MS * 3) {
      const answer = await getJson<SearchPoll>(rt, `/api/search?q=${query}&wait=0`);
      const now = performance.now() - started;
      if (healthyAt === null && healthy.every((id) => answer.sources.find((s) => s.id === id)?.state === 'done')) healthyAt = now;
      if (answer.complete) allAt = now;
      else await sleep(5);
    }
    if (healthyAt === null || allAt === null) throw new Error(`search trial ${i}: healthy ${healthyAt} all ${allAt}`);
    healthySamples.push(healthyAt);
    allSamples.push(allAt);
  }
  await rt.simulation!.server('bench-plex-b').fault({ mode: 'up' });
  const p95 = percentile(healthySamples, 95);
  options.log(`search, one of 3 hung: healthy results p95 ${p95?.toFixed(0)} ms; all sources p95 ${percentile(allSamples, 95)?.toFixed(0)} ms`);
  return [
    { case: 'search across 3 sources, one hung: results of the healthy two there', n: trials, unit: 'ms', p50: percentile(healthySamples, 50), p95, goal: 'p95 ≤ 300 ms', met: p95 !== null && p95 <= 300, note: 'GET /api/search polled' },
    { case: 'same search, waiting for every source (baseline: how most clients search)', n: trials, unit: 'ms', p50: percentile(allSamples, 50), p95: percentile(allSamples, 95), note: `the hung one's deadline, ${SEARCH_DEADLINE_MS} ms here (8 s by default)` },
  ];
}

/** Installed before the app's scripts: every long task's duration, and a switch to start recording. */
const LONG_TASK_SCRIPT = `(() => {
  window.__mqLong = [];
  window.__mqRecord = false;
  new PerformanceObserver((list) => { if (window.__mqRecord) for (const e of list.getEntries()) window.__mqLong.push(e.duration); }).observe({ type: 'longtask', buffered: false });
})();`;

/** The scroll, as a string for page.evaluate (tsx adds helpers a function would miss in the page). */
const SCROLL_SCRIPT = `(async () => {
  let most = 0;
  for (let i = 0; i < 150; i++) {
    window.scrollBy(0, 700);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    most = Math.max(most, document.querySelectorAll('[data-testid="library-grid"] [role="listitem"]').length);
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  for (let i = 0; i < 30; i++) await new Promise((r) => requestAnimationFrame(() => r(null)));
  return most;
})()`;

async function gridScroll(rt: TestRuntime, options: BenchOptions): Promise<BenchRow[]> {
  await waitUntil(() => sourcesOf(rt).length === 1 && sourcesOf(rt)[0]!.status === 'connected', { what: 'the Jellyfin source connected', timeoutMs: 60_000 });
  const source = sourcesOf(rt)[0]!;
  const library = source.libraries[0]!;
  const syncStart = performance.now();
  await waitUntil(async () => (await getJson<{ total: number }>(rt, `/api/sources/${source.id}/libraries/${library.id}/items?limit=1`)).total >= HUGE, {
    what: `the ${HUGE}-item library synced`,
    timeoutMs: 10 * 60_000,
    intervalMs: 500,
  });
  const syncMs = performance.now() - syncStart;
  options.log(`50,000 items synced from the simulator over HTTP in ${(syncMs / 1000).toFixed(1)} s`);

  if (!existsSync(WEB_INDEX)) {
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'src/web/vite.config.ts'), logLevel: 'warn' });
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'marquee-bench-chromium-'));
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args, '--enable-precise-memory-info'], viewport: { width: 1280, height: 860 }, timeout: 30_000 });
    await context.route(/^https?:\/\/(?!127\.|localhost[:/]|\[::1\])/, (route) => route.abort('blockedbyclient'));
    await context.addInitScript({ content: LONG_TASK_SCRIPT });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(new URL(`library/${source.id}/${library.id}`, rt.url!).href);
    await page.getByTestId('library-total').waitFor();
    await waitUntil(async () => (await page.getByTestId('library-total').getAttribute('data-total')) === String(HUGE), { what: 'the grid showing 50,000', timeoutMs: 30_000 });
    await sleep(1_000);
    const heap = () => page.evaluate<number>('performance.memory ? performance.memory.usedJSHeapSize : 0');
    const runs = options.quick ? 2 : 4;
    const scrollTasks: number[] = [];
    const idleTasks: number[] = [];
    let mostCards = 0;
    const heapBefore = await heap();
    let scrollMs = 0;
    for (let r = 0; r < runs; r++) {
      await page.evaluate('window.scrollTo(0, 0); window.__mqLong = []; window.__mqRecord = true;');
      const t = performance.now();
      mostCards = Math.max(mostCards, await page.evaluate<number>(SCROLL_SCRIPT));
      const ms = performance.now() - t;
      scrollMs += ms;
      scrollTasks.push(...(await page.evaluate<number[]>('window.__mqRecord = false; window.__mqLong')));
      // Baseline: the same page, not scrolled, for as long.
      await page.evaluate('window.__mqLong = []; window.__mqRecord = true;');
      await sleep(ms);
      idleTasks.push(...(await page.evaluate<number[]>('window.__mqRecord = false; window.__mqLong')));
    }
    await sleep(500);
    const heapAfter = await heap();
    const worst = scrollTasks.length ? Math.max(...scrollTasks) : 0;
    const idleWorst = idleTasks.length ? Math.max(...idleTasks) : 0;
    options.log(`grid scroll: ${scrollTasks.length} long tasks over ${runs} scrolls (worst ${worst.toFixed(0)} ms), idle ${idleTasks.length} (worst ${idleWorst.toFixed(0)} ms); at most ${mostCards} cards; heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MB`);
    return [
      { case: 'cold sync of 50,000 items from the simulator over HTTP (Jellyfin, pages of 300)', n: 1, unit: 'ms', p50: syncMs, p95: syncMs },
      { case: `grid scroll through 50,000 items in Chromium: longest long task (${scrollTasks.length} long tasks in ${runs} scrolls of 150 steps + a jump to the end)`, n: runs, unit: 'ms', p50: percentile(scrollTasks, 50) ?? 0, p95: worst, goal: 'no long task > 50 ms', met: worst <= 50 },
      { case: `same page idle as long (baseline): longest long task (${idleTasks.length} long tasks)`, n: runs, unit: 'ms', p50: percentile(idleTasks, 50) ?? 0, p95: idleWorst },
      { case: 'grid scroll: most cards in the DOM at once', n: runs, unit: 'count', p50: mostCards, p95: mostCards, goal: 'bounded (< 150)', met: mostCards < 150 },
      { case: 'grid scroll: JS heap of the page before → after the scrolls', n: runs, unit: 'MB', p50: heapBefore / 2 ** 20, p95: heapAfter / 2 ** 20, note: `${(scrollMs / runs / 1000).toFixed(1)} s per scroll` },
    ];
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function run(options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'marquee-bench-library-live-'));
  const rows: BenchRow[] = [];
  try {
    const searchRt = await startStack(dir, false);
    try {
      rows.push(...(await searchWithOneHung(searchRt, options)));
    } finally {
      await searchRt.close();
    }
    const gridRt = await startStack(dir, true);
    try {
      rows.push(...(await gridScroll(gridRt, options)));
    } finally {
      await gridRt.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export const libraryLive: Benchmark = {
  name: 'library-live',
  description: 'Library over the real stack and simulators: search with one hung server, 50,000-item grid scroll in Chromium',
  run,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`${m}\n`) });
  for (const r of rows) console.log(`${r.case}: p50 ${r.p50?.toFixed(2)} p95 ${r.p95?.toFixed(2)} ${r.unit}${r.goal ? ` (goal ${r.goal}: ${r.met ? 'met' : 'NOT met'})` : ''}${r.note ? ` — ${r.note}` : ''}`);
}
