// Runs inside a private network namespace (bench/playback-stall.ts starts it through runInNetns):
// the real runtime over the demo's simulators (`marquee demo` through test/support/start.ts, the
// player tests' monitor cadences) and Debian's Chromium on the real player page `/play/{source}/{item}`.
//  - stall: Living-room Plex's local route (127.0.0.2) is cut with nftables `drop` mid-play, during
//    direct play (H.264 through the byte proxy) and HLS (HEVC, transcoded, through hls.js), with the
//    player's default buffer and with the buffer HELD at ~2 s ahead: a feedback loop samples what
//    is ahead every 100 ms and steers the route's throttle (below the bitrate while too much is
//    ahead, about it in the band, above it under; test/support/held-buffer.ts), cutting once it
//    stayed in the band for 1 s (HLS: on entering it — its buffer grows in whole segments). Ahead
//    is `buffered end − currentTime` for HLS; for direct play it is what the bytes Chromium has
//    received (DevTools `Network.dataReceived`) can play by the clip's own packet index, since
//    Chromium's progressive `buffered` is a linear bytes estimate (see clipIndex). The bytes already
//    past the cut (Marquee's proxy, socket buffers) count as ahead too: the byte where the proxy
//    resumed minus the bytes Chromium had received at the cut.
//    `currentTime` sampled every 100 ms in the page, `error` events recorded; beside it, the
//    engine's cut-detection time (drop → the source off its local route).
//  - first frame: the player page opened cold (SPA boot, POST /api/play, byte proxy) and a click on
//    Play on the item page already loaded in the app (what a user waits), vs a plain page with
//    `<video src>` on Marquee's stream URL (the proxy alone) vs the same clip file from a plain
//    loopback static server (direct), interleaved; to the first `loadeddata` (first frame decoded)
//    from navigation, or from the click.
import { spawnSync } from 'node:child_process';
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
import { createLogger } from '../../src/server/logger.js';
import { startTestRuntime } from '../../test/support/start.js';
import { BROWSER_MONITOR } from '../../test/support/browser-monitor.js';
import { HELD_BUFFER_START, HOLD_TWO_SECONDS, holdBufferStep, type HeldBufferSettings } from '../../test/support/held-buffer.js';
import { longestStall } from '../../test/support/stall.js';
import { sleep, waitUntil } from '../../test/support/wait.js';

const WEB_INDEX = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web/index.html');

export interface StallArgs {
  /** Trials per case (direct/HLS × default/held buffer). */
  trials: number;
  /** How long currentTime is watched after the cut. */
  watchMs: number;
  /** Interleaved first-frame rounds. */
  frameRounds: number;
  /** The held-buffer case: the local route's rate (multiple of the clip's bitrate) from the start of play until the loop steers it. */
  heldThrottle: number;
  /** The held-buffer case: longest the loop may steer before cutting anyway (what was reached is reported). */
  heldWaitMs: number;
}

/** How the held case went before its cut (null in the default-buffer case). */
export interface HeldReport {
  /** The buffer stayed in the band long enough (false: the wait ran out and it was cut anyway). */
  reached: boolean;
  /** Time the loop steered before the cut, ms. */
  steeredMs: number;
  /** Time in the band without a break at the cut, ms. */
  inBandMs: number;
  /** Rate changes the loop made. */
  rateChanges: number;
  /** The route's rate at the cut, multiple of the clip's bitrate. */
  rateAtCut: number;
}

export interface StallTrial {
  protocol: 'direct' | 'hls';
  buffer: 'default' | 'held';
  atCutSec: number;
  /** The browser's buffered end − currentTime at the cut. */
  bufferedAheadSec: number;
  /** Direct play: what the bytes Chromium had received at the cut can play beyond currentTime, by the clip's own packet index (the held loop steers on this); null for HLS. */
  playableAheadSec: number | null;
  /** Direct play: bytes past the cut not yet in the browser (Marquee's proxy and the sockets): where the proxy resumed minus what Chromium had received; null when not measured. */
  inFlightBytes: number | null;
  /** The same in seconds of media, by the clip's packet index. */
  inFlightSec: number | null;
  held: HeldReport | null;
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
  firstFrame: { direct: number[]; server: number[]; proxyPage: number[]; playerPage: number[]; clickPlay: number[] };
  /** Player page: navigation start → its media element got its src (app boot, POST /api/play). */
  playerSrcSet: number[];
  /** Click on Play on the item page → the player's media element got its src. */
  clickSrcSet: number[];
  load: [number, number];
  clipKbps: number;
  heldSettings: HeldBufferSettings;
}

/** Simulated Living-room Plex movies (sim/library-model.ts), as in test/browser/player.test.ts. */
const H264_ITEM = '100000000';
const HEVC_ITEM = '100004000';
const LOCAL_HOST = '127.0.0.2';
const LOCAL_ROUTE = 'living-room-local';
const FFPROBE = process.env.MARQUEE_FFPROBE ?? '/usr/bin/ffprobe';
/** HLS: the MSE buffer grows a whole 4 s segment at a time, so it never stays in a 0.4 s band: cut on entering it. */
const HELD_SETTINGS = { direct: HOLD_TWO_SECONDS, hls: { ...HOLD_TWO_SECONDS, dwellMs: 0 } } as const;
/** How often the held loop samples the buffer and may change the rate. */
const HELD_SAMPLE_MS = 100;

/** Times from navigation start to the first `loadstart` (the media element got its src) and `loadeddata` (first frame decoded) of any media element (capture: media events do not bubble). */
const FIRST_FRAME_PROBE = `
  document.addEventListener('loadstart', () => { if (window.__loadStartAt === undefined) window.__loadStartAt = performance.now(); }, true);
  document.addEventListener('loadeddata', () => { if (window.__firstFrameAt === undefined) window.__firstFrameAt = performance.now(); }, true);`;

/**
 * The clip's own packet index (ffprobe): how far a prefix of the file can play. Chromium's
 * `buffered` for a progressive file is the received bytes mapped linearly onto the duration, the
 * ~125 KB `moov` header at the front included (≈ 2.5 s of this clip) — it read ~3 s "ahead" while
 * the player was already starving — so direct play is steered and reported on this instead.
 */
function clipIndex(file: string) {
  const run = spawnSync(FFPROBE, ['-v', 'error', '-show_entries', 'packet=stream_index,dts_time,pos,size', '-of', 'json', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`ffprobe could not read the clip: ${run.stderr}`);
  const packets = (JSON.parse(run.stdout) as { packets: { stream_index: number; dts_time: string; pos: string; size: string }[] }).packets;
  const streams = new Map<number, { t: number; end: number }[]>();
  for (const p of packets) {
    const list = streams.get(p.stream_index) ?? [];
    list.push({ t: Number(p.dts_time), end: Number(p.pos) + Number(p.size) });
    streams.set(p.stream_index, list);
  }
  for (const list of streams.values()) list.sort((a, b) => a.t - b.t);
  const lastSec = Math.max(...[...streams.values()].map((list) => list.at(-1)?.t ?? 0));
  return {
    /** Media time up to which the first `bytes` bytes hold every stream's packets (the first one missing, over all streams). */
    playableSec(bytes: number): number {
      let t = Infinity;
      for (const list of streams.values()) t = Math.min(t, list.find((x) => x.end > bytes)?.t ?? Infinity);
      return Math.min(t, lastSec);
    },
    /** The first byte past the packets of every stream up to `sec`. */
    byteAt(sec: number): number {
      let end = 0;
      for (const list of streams.values()) end = Math.max(end, list.find((x) => x.t >= sec)?.end ?? 0);
      return end;
    },
  };
}

/** The byte proxy's "resumed at byte N" lines (its log, at info): where each resumed stream went on. */
function resumeRecorder() {
  const resumes: { at: number; byte: number }[] = [];
  const destination = {
    write(line: string) {
      if (!line.includes('playback stream resumed at byte')) return;
      const parsed = JSON.parse(line) as { at?: unknown };
      if (typeof parsed.at === 'number') resumes.push({ at: performance.now(), byte: parsed.at });
    },
  };
  return { resumes, logger: createLogger({ level: 'info', destination }) };
}

/** Bytes Chromium received per stream response (DevTools Network domain), by the response's first byte. */
async function watchStreamBytes(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  const responses = new Map<string, { start: number; received: number }>();
  cdp.on('Network.responseReceived', (e) => {
    if (!/\/api\/play\/[^/]+\/stream/.test(e.response.url)) return;
    const range = /bytes (\d+)-/.exec(String(e.response.headers['content-range'] ?? e.response.headers['Content-Range'] ?? ''));
    responses.set(e.requestId, { start: range ? Number(range[1]) : 0, received: 0 });
  });
  cdp.on('Network.dataReceived', (e) => {
    const r = responses.get(e.requestId);
    if (r) r.received += e.dataLength;
  });
  await cdp.send('Network.enable');
  /** Each stream response's next byte (start + received) now. */
  return () => [...responses.values()].map((r) => ({ start: r.start, next: r.start + r.received }));
}

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
  const proxyLog = resumeRecorder();
  const runtime = await startTestRuntime({ demo: true, listen: true, monitor: BROWSER_MONITOR, logger: proxyLog.logger });
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
    const bytesPerSec = clip.bitrate / 8;
    const index = clipIndex(clip.path);
    /** Seconds the bytes Chromium has received can play beyond `t` (the response carrying `t`'s bytes). */
    const playableAhead = (received: { start: number; next: number }[], t: number): number => {
      const here = index.byteAt(t);
      const carrying = received.filter((r) => r.start <= here).sort((a, b) => b.next - a.next)[0];
      return carrying ? Math.max(0, index.playableSec(carrying.next) - t) : 0;
    };
    const setRate = (rate: number) => sim.route(LOCAL_ROUTE).fault({ mode: 'throttle', bytesPerSecond: Math.round(bytesPerSec * rate) });
    for (let trial = 0; trial < trials; trial++) {
      for (const c of cases) {
        await restore();
        // Held: the route starts near the clip's bitrate so little gets ahead; the loop below steers it from there.
        if (c.buffer === 'held') await setRate(heldThrottle);
        const item = c.protocol === 'direct' ? H264_ITEM : HEVC_ITEM;
        sim.library('living-room').setResume(item, 0);
        const { context, page, consoleErrors } = await newContext(browser);
        contexts.add(context);
        const streamBytes = c.protocol === 'direct' ? await watchStreamBytes(page) : null;
        await page.goto(new URL(`play/${sourceId}/${item}`, marqueeUrl).toString());
        await page.getByTestId('player-page').waitFor();
        const state = () => page.getByTestId('player-page').getAttribute('data-state');
        await waitUntil(() => state().then((x) => x === 'playing' || x === 'paused'), { what: 'the player to start', timeoutMs: 20_000 });
        // Headless Chromium may refuse to autoplay sound: press Play like a user.
        if ((await state()) === 'paused') await page.getByTestId('player-play').click();
        await waitUntil(async () => (await media(page)).t > 3, { what: '3 s played', timeoutMs: 40_000 });
        await page.evaluate(`(() => {
          const m = ${MEDIA};
          window.__samples = [];
          window.__mediaErrors = [];
          m.addEventListener('error', () => window.__mediaErrors.push(String(m.error && (m.error.message || m.error.code))));
          setInterval(() => window.__samples.push({ at: performance.now(), t: m.currentTime }), 100);
        })()`);
        let before: { t: number; ahead: number };
        let held: HeldReport | null = null;
        if (c.buffer === 'held') {
          // Steer the route until the buffer has been held in the band (bounded: after heldWaitMs it is cut anyway, and what was reached is reported).
          const settings = HELD_SETTINGS[c.protocol];
          let control = HELD_BUFFER_START;
          let rate = heldThrottle;
          let rateChanges = 0;
          const steerFrom = performance.now();
          for (;;) {
            before = await media(page);
            const ahead = streamBytes ? playableAhead(streamBytes(), before.t) : before.ahead;
            const step = holdBufferStep(settings, control, ahead, performance.now());
            control = step.state;
            if (step.rate !== rate) {
              rate = step.rate;
              rateChanges++;
              await setRate(rate);
            }
            const steeredMs = performance.now() - steerFrom;
            if (step.cut || steeredMs >= heldWaitMs) {
              held = { reached: step.cut, steeredMs, inBandMs: step.inBandMs, rateChanges, rateAtCut: rate };
              break;
            }
            await sleep(HELD_SAMPLE_MS);
          }
        } else {
          await sleep(500);
          before = await media(page);
        }
        const bytesAtCut = streamBytes?.() ?? [];
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
        // In flight: the proxy's first resume after the cut says up to which byte the dead route's bytes were forwarded;
        // the browser had received up to `next` of the response carrying that byte.
        const resumed = proxyLog.resumes.find((r) => r.at >= cutAt);
        const carrying = resumed ? bytesAtCut.filter((r) => r.start <= resumed.byte).sort((a, b) => b.start - a.start)[0] : undefined;
        out.push({
          ...c,
          atCutSec: before.t,
          bufferedAheadSec: before.ahead,
          playableAheadSec: streamBytes ? playableAhead(bytesAtCut, before.t) : null,
          inFlightBytes: resumed && carrying ? resumed.byte - carrying.next : null,
          inFlightSec: resumed && carrying ? Math.max(0, index.playableSec(resumed.byte) - index.playableSec(carrying.next)) : null,
          held,
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
    const firstFrame = { direct: [] as number[], server: [] as number[], proxyPage: [] as number[], playerPage: [] as number[], clickPlay: [] as number[] };
    // The same file fetched directly from the simulated Living-room Plex over its local route (what
    // the byte proxy fetches; the token in the URL only on this bench page, as Plex accepts it there).
    const local = sim.servers.find((x) => x.id === 'living-room')!.routes.find((r) => r.kind === 'local')!;
    const serverPartUrl = `${local.url}/library/parts/${Number(H264_ITEM) * 10 + 2}/1/file.mp4?X-Plex-Token=${encodeURIComponent(sim.plexTv.serverToken('living-room'))}`;
    const playerSrcSet: number[] = [];
    const clickSrcSet: number[] = [];
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
    /** The item page loaded in the app, then a click on Play: click → the player's first frame (and its src set). */
    const measureClick = async () => {
      const page = await context.newPage();
      try {
        await page.goto(new URL(`item/${sourceId}/${H264_ITEM}`, marqueeUrl).toString());
        const play = page.getByTestId('play-button');
        await play.waitFor();
        if ((await play.getAttribute('href')) === null) throw new Error('the item page offers no Play link');
        await page.evaluate(`document.addEventListener('click', () => { if (window.__clickAt === undefined) window.__clickAt = performance.now(); }, true)`);
        await play.click();
        await page.waitForFunction('window.__firstFrameAt !== undefined', undefined, { timeout: 20_000 });
        return await page.evaluate<{ frame: number; src: number }>('({ frame: window.__firstFrameAt - window.__clickAt, src: window.__loadStartAt - window.__clickAt })');
      } finally {
        await page.close();
      }
    };
    const kinds = ['direct', 'server', 'proxyPage', 'playerPage', 'clickPlay'] as const;
    for (let round = -1; round < frameRounds; round++) {
      const order = round % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        // Every Marquee case starts the movie from its beginning (a resume point would add a seek).
        sim.library('living-room').setResume(H264_ITEM, 0);
        if (kind === 'clickPlay') {
          const at = await measureClick();
          if (round < 0) continue;
          firstFrame.clickPlay.push(at.frame);
          clickSrcSet.push(at.src);
          continue;
        }
        let url: string;
        if (kind === 'direct') url = `${staticBase}/`;
        else if (kind === 'server') url = `${staticBase}/page?src=${encodeURIComponent(serverPartUrl)}`;
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
    return { trials: out, firstFrame, playerSrcSet, clickSrcSet, load: [loadBefore, os.loadavg()[0]!], clipKbps: clip.bitrate / 1000, heldSettings: HOLD_TWO_SECONDS };
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close().catch(() => undefined);
    staticServer?.closeAllConnections();
    staticServer?.close();
    cleanup();
    await runtime.close();
  }
});
