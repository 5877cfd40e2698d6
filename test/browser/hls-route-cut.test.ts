// The HLS path in Debian's Chromium through hls.js (issue 15): a minimal page served by the test
// plays a Jellyfin transcode through Marquee's HLS service while the local route is refused mid
// play (the engine moves to the remote route) — `currentTime` keeps advancing, no fatal hls.js
// error, and the longest stall of `currentTime` (sampled every 100 ms) is reported.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSimulation, ensureClips, type Simulation } from '../../sim/index.js';
import { smallConfig } from '../../sim/test-fixtures.js';
import type { PlaybackRequest } from '../../src/backends/types.js';
import { EngineRoutedCaller } from '../../src/monitor/routed-caller.js';
import { HlsService } from '../../src/playback/hls-stream.js';
import { CHROMIUM_LAUNCH } from '../support/chromium.js';
import { addTwoRouteSource, startMediaEngine } from '../support/media-engine.js';
import { simJellyfinPlayback } from '../support/sim-jellyfin-playback.js';

const DEVICE = 'marquee-hls-browser';
const HLS_JS = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), 'utf8');
let sim: Simulation;
let browser: Browser;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  await ensureClips();
  sim = await createSimulation({ ...smallConfig(), mediaKeepAliveScale: 0.2 });
  browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args, '--autoplay-policy=no-user-gesture-required'] });
}, 180_000);
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await browser?.close();
  await sim?.close();
});

it('hls.js keeps playing through Marquee while the local route is refused mid-play', async () => {
  const jf = sim.servers.find((s) => s.id === 'jf')!;
  const [local, remote] = jf.routes;
  const token = sim.jellyfin('jf').issueToken('demo', DEVICE);
  const auth = { authorization: `MediaBrowser Client="t", Device="t", DeviceId="${DEVICE}", Version="1", Token="${token}"` };
  const listed = (await (await fetch(`${local!.url}/Items?Recursive=true&IncludeItemTypes=Movie&Limit=50`, { headers: auth })).json()) as { Items: { Id: string }[] };
  const catalog = sim.library('jf').mediaCatalog();
  const itemId = listed.Items.find((i) => catalog.playable(i.Id)?.variant === 'hevc-ac3')!.Id;

  const playback = simJellyfinPlayback(DEVICE);
  const { backend, engine } = await startMediaEngine({ kind: 'jellyfin', dirPrefix: 'marquee-hls-browser-', mediaHeaders: (call) => ({ authorization: `MediaBrowser Client="Marquee", Device="Test", DeviceId="${DEVICE}", Version="1.0.0", Token="${call.credentials.token}"` }), playback, cleanups });
  const { view, local: routeLocal, remote: routeRemote } = await addTwoRouteSource(engine, { name: 'Home Jellyfin', kind: 'jellyfin', serverId: jf.machineId, localUrl: local!.url, remoteUrl: remote!.url, credentials: { token, userId: 'u' } });
  const caller = new EngineRoutedCaller({ engine, backends: { plex: backend, jellyfin: backend } });
  const hls = new HlsService({ caller, engine, stallMs: 1_000, openTimeoutMs: 4_000, pingIntervalMs: 2_000 });
  cleanups.push(() => hls.close());
  const request: PlaybackRequest = { itemId, startMs: 0, maxBitrateKbps: null, deviceId: DEVICE, clientSessionId: 'browser-session-0123456789' };
  const decided = await caller.call(view.source.id, (use, signal) => playback.decide(use, request, { timeoutMs: 3_000, signal }));
  if (!decided.ok || decided.value.method !== 'transcode') throw new Error('no transcode decided');
  const stream = hls.attach({ sessionId: request.clientSessionId, sourceId: view.source.id, request, decision: decided.value });

  const page = `<!doctype html><meta charset="utf-8"><video id="v" muted playsinline></video><script src="/hls.js"></script><script>
    window.fatal = null;
    const video = document.getElementById('v');
    // A small buffer ahead (4 s): the cut must be crossed by segments fetched after it.
    const hls = new Hls({ maxBufferLength: 4, maxMaxBufferLength: 4, fragLoadPolicy: { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 2000 }, errorRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 2000 } } } });
    hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) window.fatal = data.type + ': ' + data.details; });
    hls.loadSource('/hls/master.m3u8');
    hls.attachMedia(video);
    video.play();
  </script>`;
  const server: Server = createServer((req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    if (req.url === '/hls.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS);
    if (req.url?.startsWith('/hls/')) return void hls.serve(req, res, stream, req.url.slice(5));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanups.push(() => server.closeAllConnections());

  const tab = await browser.newPage();
  cleanups.push(() => tab.close());
  await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await tab.waitForFunction(() => (document.getElementById('v') as HTMLVideoElement).currentTime > 3, undefined, { timeout: 20_000 });

  await sim.route(local!.id).fault({ mode: 'refuse' });
  backend.route(routeLocal.id, { answer: 'refused' });
  const samples: number[] = [];
  for (let i = 0; i < 120; i++) {
    samples.push(await tab.evaluate(() => (document.getElementById('v') as HTMLVideoElement).currentTime));
    await new Promise((r) => setTimeout(r, 100));
  }
  let longestStallMs = 0;
  let stallStart = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]! > samples[i - 1]!) stallStart = i;
    else longestStallMs = Math.max(longestStallMs, (i - stallStart) * 100);
  }
  console.log(`HLS through Marquee, local route refused mid-play: currentTime ${samples[0]!.toFixed(1)} → ${samples.at(-1)!.toFixed(1)} s in ~12 s, longest stall ${longestStallMs} ms`);
  expect(await tab.evaluate(() => (window as unknown as { fatal: string | null }).fatal)).toBeNull();
  expect(samples.at(-1)! - samples[0]!).toBeGreaterThan(8);
  expect(engine.getSource(view.source.id)?.status).toMatchObject({ state: 'connected', routeId: routeRemote.id });
  expect(await tab.evaluate(() => (document.getElementById('v') as HTMLVideoElement).error)).toBeNull();
}, 90_000);
