// Benchmark — the sources page at scale (issue 13 item 5): 10,000 sources in the real runtime
// (test/support/many-sources.ts: last-known statuses, monitoring off, scripted backends), the
// page loaded and scrolled in Debian's Chromium. Figures: time to the first cards, detail requests
// (GET /api/sources/:id) made by the load, long tasks (PerformanceObserver 'longtask') and detail
// requests during a scroll through the list, and the page's JS heap. Beside it, in the same run,
// the page as it was before virtualization (every card rendered, every card fetching its detail),
// built from git (BASELINE_COMMIT) into bench/.baseline-web — bounded by a time limit.
//
// Standalone: `npx tsx bench/sources-page.ts [--quick]`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../test/support/chromium.js';
import { startWithManySources } from '../test/support/many-sources.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');
/** The last commit with the page that rendered and fetched every card. */
const BASELINE_COMMIT = '28f6b8a';
const BASELINE_DIR = path.join(here, '.baseline-web');
const SOURCES = 10_000;
/** The baseline page is given this long to load before it is measured as it stands. */
const BASELINE_LIMIT_MS = 180_000;

interface PageFigures {
  firstCardsMs: number;
  detailRequestsOnLoad: number;
  loadSettledMs: number;
  cardsInDom: number;
  scrollLongTasks: number;
  scrollLongTaskMs: number;
  scrollDetailRequests: number;
  heapMB: number;
  note?: string;
}

/** The old page's UI, built once from git into bench/.baseline-web/dist/web (node_modules resolve from the repo). */
function buildBaselineWeb(log: (m: string) => void): string {
  const out = path.join(BASELINE_DIR, 'dist', 'web');
  const stamp = path.join(BASELINE_DIR, `built-${BASELINE_COMMIT}`);
  if (existsSync(stamp) && existsSync(path.join(out, 'index.html'))) return out;
  log(`building the baseline UI from ${BASELINE_COMMIT}…`);
  rmSync(BASELINE_DIR, { recursive: true, force: true });
  mkdirSync(BASELINE_DIR, { recursive: true });
  const archive = execFileSync('git', ['archive', BASELINE_COMMIT, 'src/web', 'src/api', 'src/core'], { cwd: ROOT, maxBuffer: 64 * 2 ** 20 });
  execFileSync('tar', ['-x', '-C', BASELINE_DIR], { input: archive });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(BASELINE_DIR, 'src/web/vite.config.ts'), '--logLevel', 'warn'], {
    cwd: BASELINE_DIR,
    stdio: 'inherit',
  });
  execFileSync('touch', [stamp]);
  return out;
}

async function measure(page: Page, url: string, limitMs: number): Promise<PageFigures> {
  let details = 0;
  page.on('request', (request) => {
    if (request.method() === 'GET' && /\/api\/sources\/[^/?]+$/.test(new URL(request.url()).pathname)) details++;
  });
  const t0 = Date.now();
  await page.goto(url, { timeout: limitMs });
  await page.waitForSelector('article.source-card', { timeout: limitMs });
  const firstCardsMs = Date.now() - t0;
  // Settled: no new detail request for 2 s (or the limit).
  let note: string | undefined;
  let seen = -1;
  while (details !== seen) {
    seen = details;
    await page.waitForTimeout(2000);
    if (Date.now() - t0 > limitMs) {
      note = `still loading after ${limitMs / 1000} s`;
      break;
    }
  }
  const loadSettledMs = Date.now() - t0 - 2000;
  const detailRequestsOnLoad = details;
  const cardsInDom = await page.evaluate<number>(`document.querySelectorAll('article.source-card').length`);

  // Scroll through the list as a user dragging the scrollbar would: 40 steps to the bottom, 100 ms apart.
  // Strings, not functions: tsx adds name helpers to functions that do not exist in the page.
  await page.evaluate(`(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
  })()`);
  const beforeScroll = details;
  await page.evaluate(`(async () => {
    const height = document.documentElement.scrollHeight;
    for (let i = 1; i <= 40; i++) {
      window.scrollTo(0, (height * i) / 40);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })()`);
  await page.waitForTimeout(1500);
  const longTasks = await page.evaluate<number[]>('window.__longTasks');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return {
    firstCardsMs,
    detailRequestsOnLoad,
    loadSettledMs,
    cardsInDom,
    scrollLongTasks: longTasks.length,
    scrollLongTaskMs: Math.round(longTasks.reduce((a, b) => a + b, 0)),
    scrollDetailRequests: details - beforeScroll,
    heapMB: Math.round(usedSize / 2 ** 20),
    ...(note ? { note } : {}),
  };
}

async function runPage(webDir: string | undefined, limitMs: number, log: (m: string) => void, label: string): Promise<PageFigures> {
  const marquee = await startWithManySources(SOURCES, webDir ? { webDir } : {});
  const browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    log(`${label}: measuring…`);
    const figures = await measure(page, marquee.url, limitMs);
    log(`${label}: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await browser.close();
    await marquee.close();
  }
}

function rows(name: string, f: PageFigures, goals: boolean): BenchRow[] {
  const row = (what: string, unit: BenchRow['unit'], value: number, goal?: string, met?: boolean): BenchRow => ({
    case: `${name}: ${what}`,
    n: 1,
    unit,
    p50: value,
    p95: value,
    ...(goals && goal ? { goal, met: met ?? null } : {}),
    ...(f.note ? { note: f.note } : {}),
  });
  return [
    row('time to first cards', 'ms', f.firstCardsMs),
    row('load settled (last detail request)', 'ms', f.loadSettledMs),
    row('detail requests on load', 'count', f.detailRequestsOnLoad, '≈ cards on screen (≤ 12)', f.detailRequestsOnLoad <= 12),
    row('cards in the DOM', 'count', f.cardsInDom),
    row('detail requests while scrolling to the end', 'count', f.scrollDetailRequests),
    row('long tasks while scrolling', 'count', f.scrollLongTasks),
    row('long-task time while scrolling', 'ms', f.scrollLongTaskMs),
    row('JS heap after GC', 'MB', f.heapMB),
  ];
}

export const sourcesPage: Benchmark = {
  name: 'sources-page',
  description: `Sources page with ${SOURCES.toLocaleString('en')} sources in Chromium: virtualized (details for cards on screen only) vs the page before (every card rendered and fetching)`,
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const virtualized = await runPage(undefined, BASELINE_LIMIT_MS, options.log, 'virtualized');
    let baseline: BenchRow[];
    const limitMs = options.quick ? BASELINE_LIMIT_MS / 2 : BASELINE_LIMIT_MS;
    try {
      baseline = rows('before (all cards)', await runPage(buildBaselineWeb(options.log), limitMs, options.log, 'baseline'), false);
    } catch (error) {
      // The old page may not show a single card within the limit: that is its figure.
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      options.log(`baseline: ${message}`);
      const timedOut = /Timeout/.test(message);
      baseline = [
        {
          case: 'before (all cards): time to first cards',
          n: 1,
          unit: 'ms',
          p50: null,
          p95: null,
          note: timedOut ? `no card within ${limitMs / 1000} s` : `not measured: ${message}`,
        },
      ];
    }
    return [...rows('virtualized', virtualized, true), ...baseline];
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await sourcesPage.run({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
