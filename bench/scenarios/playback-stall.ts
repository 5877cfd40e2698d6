// Runs inside a private network namespace (bench/playback-stall.ts starts it through runInNetns):
// the real runtime over the demo's simulators (`marquee demo` through test/support/start.ts, the
// player tests' monitor cadences) and Debian's Chromium on the real player page `/play/{source}/{item}`.
//  - stall: Living-room Plex's local route (127.0.0.2) is cut with nftables `drop` mid-play, during
//    direct play (H.264 through the byte proxy) and HLS (HEVC, transcoded, through hls.js), with the
//    player's default buffer and with the route throttled near the clip's bitrate (the buffer ahead
//    then stays a few seconds); `currentTime` sampled every 100 ms in the page, `error` events
//    recorded; beside it, the engine's cut-detection time (drop → the source off its local route).
//  - first frame: the player page (SPA boot, POST /api/play, byte proxy) vs a plain page with
//    `<video src>` on Marquee's stream URL (the proxy alone) vs the same clip file from a plain
//    loopback static server (direct), interleaved; `loadeddata` (first frame decoded) from navigation.
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureClips } from '../../sim/index.js';
import { CHROMIUM_LAUNCH } from '../../test/support/chromium.js';
import { runScenario } from '../../test/support/net/netns.js';
import { cleanup, clear, drop } from '../../test/support/net/nft.js';
import { startTestRuntime } from '../../test/support/start.js';
import { BROWSER_MONITOR } from '../../test/support/browser-monitor.js';
import { sleep, waitUntil } from '../../test/support/wait.js';

const WEB_INDEX = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web/index.html');

export interface StallArgs {
  /** Trials per case (direct/HLS × default/held buffer). */
  trials: number;
  /** How long currentTime is watched after the cut. */
  watchMs: number;
  /** Interleaved first-frame rounds. */
  frameRounds: number;
  /** The held-buffer case: the local route throttled to this multiple of the clip's bitrate. */
  heldThrottle: number;
  /** The held-buffer case: longest wait for the buffer ahead to come down before cutting anyway. */
  heldWaitMs: number;
}

export interface StallTrial {
  protocol: 'direct' | 'hls';
  buffer: 'default' | 'held';
  atCutSec: number;
  bufferedAheadSec: number;
  longestStallMs: number;
  /** Lowest currentTime after the cut minus the position at the cut (negative: it went back). */
  lowestAfterCutSec: number;
  advancedSec: number;
  errors: string[];
  /** Drop → the engine reports Living-room Plex off its local route (null: not within the watch). */
  detectionMs: number | null;
  stateAfter: string | null;
}

export interface StallOutput {
  trials: StallTrial[];
  firstFrame: { direct: number[]; proxyPage: number[]; playerPage: number[] };
  /** Player page: navigation start → its media element got its src (app boot, POST /api/play). */
  playerSrcSet: number[];
  load: [number, number];
  clipKbps: number;
}

/** Simulated Living-room Plex movies (sim/library-model.ts), as in test/browser/player.test.ts. */
const H264_ITEM = '100000000';
const HEVC_ITEM = '100004000';
const LOCAL_HOST = '127.0.0.2';
/** The held-buffer case: cut once at most this many seconds are buffered ahead. */
const HELD_AHEAD_SEC = 2.5;

/** The longest time currentTime did not move, in ms. */
function longestStall(list: { at: number; t: number }[]): number {
  let longest = 0;
  let since = list[0]?.at ?? 0;
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.t > list[i - 1]!.t) since = list[i]!.at;
    else longest = Math.max(longest, list[i]!.at - since);
  }
  return longest;
}

/** Times from navigation start to the first `loadstart` (the media element got its src) and `loadeddata` (first frame decoded) of any media element (capture: media events do not bubble). */
const FIRST_FRAME_PROBE = `
  document.addEventListener('loadstart', () => { if (window.__loadStartAt === undefined) window.__loadStartAt = performance.now(); }, true);
  document.addEventListener('loadeddata', () => { if (window.__firstFrameAt === undefined) window.__firstFrameAt = performance.now(); }, true);`;

/** A fresh browser context that reaches only loopback, recording console errors. */
async function newContext(browser: Browser): Promise<{ context: BrowserContext; page: Page; consoleErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.route(/^https?:\/\/(?!127\.|localhost[:/]|\[::1\])/, (route) => route.abort('blockedbyclient'));
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  return { context, page, consoleErrors };
}

const MEDIA = `document.querySelector('[data-testid="player-media"]')`;

runScenario<StallArgs, StallOutput>(async ({ trials, watchMs, frameRounds, heldThrottle, heldWaitMs }) => {
  if (!existsSync(WEB_INDEX)) throw new Error('the web UI is not built (npm run build:web)');
  const clips = await ensureClips();
  const clip = clips.files['h264-aac'];
  const runtime = await startTestRuntime({ demo: true, listen: true, monitor: BROWSER_MONITOR });
  const browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
  const contexts = new Set<BrowserContext>();
  let staticServer: Server | undefined;
  const loadBefore = os.loadavg()[0]!;
  try {
    const { engine, simulation: sim, url: marqueeUrl } = runtime;
    if (!sim || !marqueeUrl) throw new Error('the demo runtime did not start its simulators or did not listen');
    const source = engine.listSources().find((v) => v.source.name === 'Living-room Plex');
    if (!source) throw new Error('no Living-room Plex source in the demo');
    const sourceId = source.source.id;
    const localRouteId = source.source.routes.find((r) => r.kind === 'local')!.id;
    const onLocal = () => {
      const status = engine.getSource(sourceId)!.status;
      return status.state === 'connected' && status.routeId === localRouteId;
    };
    const restore = async () => {
      clear();
      for (const route of sim.servers.find((x) => x.id === 'living-room')!.routes) await sim.route(route.id).fault({ mode: 'up' });
      engine.checkNow(sourceId);
      await waitUntil(onLocal, { what: 'Living-room Plex back on its local route', timeoutMs: 30_000, intervalMs: 100 });
    };
    const media = (page: Page) => page.evaluate<{ t: number; ahead: number }>(`(() => {
      const m = ${MEDIA};
      return { t: m ? m.currentTime : 0, ahead: m && m.buffered.length ? m.buffered.end(m.buffered.length - 1) - m.currentTime : 0 };
    })()`);

    const out: StallTrial[] = [];
    const cases = [
      { protocol: 'direct', buffer: 'default' },
      { protocol: 'hls', buffer: 'default' },
      { protocol: 'direct', buffer: 'held' },
      { protocol: 'hls', buffer: 'held' },
    ] as const;
    for (let trial = 0; trial < trials; trial++) {
      for (const c of cases) {
        await restore();
        // Held: the route throttled just above the clip's bitrate, so the buffer ahead stays small (the player test's way).
        if (c.buffer === 'held') await sim.route('living-room-local').fault({ mode: 'throttle', bytesPerSecond: Math.round((clip.bitrate / 8) * heldThrottle) });
        const item = c.protocol === 'direct' ? H264_ITEM : HEVC_ITEM;
        sim.library('living-room').setResume(item, 0);
        const { context, page, consoleErrors } = await newContext(browser);
        contexts.add(context);
        await page.goto(new URL(`play/${sourceId}/${item}`, marqueeUrl).toString());
        await page.getByTestId('player-page').waitFor();
        const state = () => page.getByTestId('player-page').getAttribute('data-state');
        await waitUntil(() => state().then((x) => x === 'playing' || x === 'paused'), { what: 'the player to start', timeoutMs: 20_000 });
        // Headless Chromium may refuse to autoplay sound: press Play like a user.
        if ((await state()) === 'paused') await page.getByTestId('player-play').click();
        await waitUntil(async () => (await media(page)).t > 3, { what: '3 s played', timeoutMs: 40_000 });
        // Held: cut once the buffer ahead is down to ~2 s (or after heldWaitMs, whatever it is then: reported).
        if (c.buffer === 'held') {
          await waitUntil(async () => (await media(page)).ahead <= HELD_AHEAD_SEC, { what: 'buffer ahead ≤ 2.5 s', timeoutMs: heldWaitMs, intervalMs: 100 }).catch(() => undefined);
        }
        await page.evaluate(`(() => {
          const m = ${MEDIA};
          window.__samples = [];
          window.__mediaErrors = [];
          m.addEventListener('error', () => window.__mediaErrors.push(String(m.error && (m.error.message || m.error.code))));
          setInterval(() => window.__samples.push({ at: performance.now(), t: m.currentTime }), 100);
        })()`);
        await sleep(500);
        const before = await media(page);
        const cutAtPage = await page.evaluate<number>('performance.now()');
        const cutAt = performance.now();
        drop(LOCAL_HOST);
        let detectionMs: number | null = null;
        while (performance.now() - cutAt < watchMs) {
          if (detectionMs === null && !onLocal()) detectionMs = performance.now() - cutAt;
          await sleep(detectionMs === null ? 20 : 250);
        }
        const { list, errors } = await page.evaluate<{ list: { at: number; t: number }[]; errors: string[] }>('({ list: window.__samples, errors: window.__mediaErrors })');
        const after = list.filter((x) => x.at >= cutAtPage);
        out.push({
          ...c,
          atCutSec: before.t,
          bufferedAheadSec: before.ahead,
          longestStallMs: longestStall(after),
          lowestAfterCutSec: Math.min(...after.map((x) => x.t)) - before.t,
          advancedSec: (after.at(-1)?.t ?? before.t) - before.t,
          errors: [...errors, ...consoleErrors],
          detectionMs,
          stateAfter: await state(),
        });
        process.stderr.write(`[stall] ${JSON.stringify(out.at(-1))}\n`);
        await context.close();
        contexts.delete(context);
      }
    }
    await restore();

    // Time to first frame. Direct: the same clip file from a plain static server with ranges.
    staticServer = createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><video muted autoplay preload="auto" src="/clip.mp4"></video>');
      if (req.url?.startsWith('/page?')) {
        const src = new URL(req.url, 'http://x').searchParams.get('src') ?? '';
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><video muted autoplay preload="auto" src="${src.replace(/"/g, '')}"></video>`);
      }
      if (req.url !== '/clip.mp4') return void res.writeHead(404).end();
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range && range[2] ? Math.min(Number(range[2]), clip.size - 1) : clip.size - 1;
      res.writeHead(range ? 206 : 200, {
        'content-type': 'video/mp4',
        'accept-ranges': 'bytes',
        'content-length': String(end - start + 1),
        ...(range ? { 'content-range': `bytes ${start}-${end}/${clip.size}` } : {}),
      });
      createReadStream(clip.path, { start, end }).pipe(res);
    });
    await new Promise<void>((resolve) => staticServer!.listen(0, '127.0.0.1', resolve));
    const staticBase = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;
    const firstFrame = { direct: [] as number[], proxyPage: [] as number[], playerPage: [] as number[] };
    const playerSrcSet: number[] = [];
    const { context } = await newContext(browser);
    contexts.add(context);
    await context.addInitScript(FIRST_FRAME_PROBE);
    const measure = async (url: string) => {
      const page = await context.newPage();
      try {
        await page.goto(url);
        await page.waitForFunction('window.__firstFrameAt !== undefined', undefined, { timeout: 20_000 });
        return await page.evaluate<{ frame: number; src: number }>('({ frame: window.__firstFrameAt, src: window.__loadStartAt })');
      } finally {
        await page.close();
      }
    };
    sim.library('living-room').setResume(H264_ITEM, 0);
    const kinds = ['direct', 'proxyPage', 'playerPage'] as const;
    for (let round = -1; round < frameRounds; round++) {
      const order = round % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        let url: string;
        if (kind === 'direct') url = `${staticBase}/`;
        else if (kind === 'playerPage') url = new URL(`play/${sourceId}/${H264_ITEM}`, marqueeUrl).toString();
        else {
          const created = await fetch(new URL('api/play', marqueeUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sourceId, itemId: H264_ITEM, startMs: 0 }) });
          if (created.status !== 201) throw new Error(`POST /api/play answered ${created.status}`);
          const { id } = (await created.json()) as { id: string };
          url = `${staticBase}/page?src=${encodeURIComponent(new URL(`api/play/${id}/stream`, marqueeUrl).toString())}`;
        }
        const at = await measure(url);
        if (round < 0) continue; // round −1 warms every path
        firstFrame[kind].push(at.frame);
        if (kind === 'playerPage') playerSrcSet.push(at.src);
      }
    }
    return { trials: out, firstFrame, playerSrcSet, load: [loadBefore, os.loadavg()[0]!], clipKbps: clip.bitrate / 1000 };
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close().catch(() => undefined);
    staticServer?.closeAllConnections();
    staticServer?.close();
    cleanup();
    await runtime.close();
  }
});
