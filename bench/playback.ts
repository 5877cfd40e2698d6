// Benchmark — playback (issue 15): Marquee's direct-play byte proxy against fetching the same file
// from the simulated server directly, in the same run, on loopback. The demo runtime (engine,
// backends, simulators) and the proxy run in this one process, as in `marquee demo`; the "browser"
// runs in a worker thread. Rounds interleave proxy, direct and a bare undici pipe (the ceiling of
// any proxy here); every figure is a median over rounds, printed beside the figures before the
// performance pass (BASELINE). bench/playback-process.ts measures the first two with the simulator in
// its own process.
//  - time to the first 256 KB (what a <video> needs for its first frame of a faststart MP4):
//    proxy vs direct, goal ≤ 1.1×;
//  - one stream's throughput: proxy vs direct, goal ≥ 90 %;
//  - 20+ concurrent streams: aggregate proxy throughput (goal ≥ 1 Gbit/s, no stream stalled),
//    CPU per stream, and the proxy's own CPU per GB (main-thread busy time, proxy run − direct run).
// The visible stall at a route cut and the time to first frame are measured in Chromium by
// bench/playback-stall.ts (see docs/BENCHMARKS.md); the progress-report outbox across an outage belongs to the play API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Agent, request as undiciRequest } from 'undici';
import { EngineRoutedCaller } from '../src/monitor/routed-caller.js';
import type { RoutedCaller } from '../src/monitor/engine-types.js';
import { serveMedia, type ByteProxyOptions } from '../src/playback/byte-proxy.js';
import { PlaySessions } from '../src/playback/sessions.js';
import { ensureClips } from '../sim/index.js';
import { EngineHarness, JELLYFIN_ID, PLEX_ID } from '../test/support/engine-harness.js';
import { startTestRuntime } from '../test/support/start.js';
import { waitUntil } from '../test/support/wait.js';
import { median } from './stats.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

export const FIRST_BYTES = 256 * 1024;
/** A simulated Living-room Plex movie of the H.264 clip (sim/library-model.ts). */
export const PART_PATH = '/library/parts/1000000002/1/file.mp4';

/** The figures before the issue-15 performance pass (docs/BENCHMARKS.md, `--quick`, loaded 2-core machine). */
const BASELINE = { firstDirectMs: 1.0, firstProxyMs: 4.0, oneDirectMbps: 2808, oneProxyMbps: 1485, manyProxyGbps: 2.83, cpuPerStreamPct: 4.8 };

export const mbps = (f: Fetched) => (f.bytes * 8) / 1e6 / (f.totalMs / 1000);

export interface Fetched {
  firstMs: number;
  totalMs: number;
  bytes: number;
}

/**
 * The "browser": GETs in a worker thread, so the client's own reading does not share the event loop
 * with the simulator and the proxy (what made any proxy look ≤ 2/3 of direct in one thread). Plain
 * JS (no TypeScript loader needed in the worker); each request is timed inside the worker.
 */
const CLIENT_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { request } = require('node:http');
const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: Infinity });
parentPort.on('message', ({ id, url, headers, limit, first }) => {
  const started = performance.now();
  let bytes = 0;
  let firstMs = -1;
  const fail = (message) => parentPort.postMessage({ id, error: message });
  const req = request(url, { agent, headers: limit !== null ? { ...headers, range: 'bytes=0-' + (limit - 1) } : headers }, (res) => {
    if ((res.statusCode || 0) >= 300) { res.resume(); return fail('HTTP ' + res.statusCode + ' from ' + new URL(url).pathname); }
    res.on('data', (chunk) => {
      bytes += chunk.length;
      if (firstMs < 0 && bytes >= Math.min(first, limit ?? Infinity)) firstMs = performance.now() - started;
    });
    res.on('end', () => parentPort.postMessage({ id, firstMs: firstMs < 0 ? performance.now() - started : firstMs, totalMs: performance.now() - started, bytes }));
    res.on('error', (e) => fail(e.message));
  });
  req.on('error', (e) => fail(e.message));
  req.end();
});
`;

/**
 * One round: `count` reads of each contender (proxy, direct, bare pipe, and any reference proxies),
 * interleaved and rotating who goes first so drift on a noisy machine hits all alike; the round's
 * median of each.
 */
export async function interleavedRound<K extends string>(round: number, count: number, read: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const names = Object.keys(read) as K[];
  const got = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < count; i++) {
    const shift = (round + i) % names.length;
    for (const which of [...names.slice(shift), ...names.slice(0, shift)]) got[which].push(await read[which]());
  }
  return Object.fromEntries(names.map((n) => [n, median(got[n])!])) as Record<K, number>;
}

export interface ProxyContenders {
  /** Marquee's byte proxy: a new play session (and so a new URL) per read. */
  newProxyUrl: () => string;
  /** A bare undici request piped into the response: no session, no routed caller, no checks. */
  bareUrl: string;
  close(): Promise<void>;
}

/**
 * The two Node contenders both playback benches read through, on 127.0.0.1: Marquee's byte proxy
 * (`serveMedia` over a `PlaySessions` session, as the play API's route drives it) and the floor of
 * any proxy here, a bare undici pipe to the same file.
 */
export async function startProxyContenders(options: {
  caller: RoutedCaller;
  engine: ByteProxyOptions['engine'];
  sourceId: string;
  directUrl: string;
  directHeaders: Record<string, string>;
}): Promise<ProxyContenders> {
  const { caller, engine, sourceId, directUrl, directHeaders } = options;
  const sessions = new PlaySessions();
  const proxy = createServer((req, res) => {
    const s = sessions.get((req.url ?? '').slice(1));
    if (!s) return void res.writeHead(404).end();
    void serveMedia(req, res, s, { caller, engine });
  });
  const bareAgent = new Agent({ keepAliveTimeout: 10_000 });
  const bare = createServer((req, res) => {
    undiciRequest(directUrl, { dispatcher: bareAgent, headers: { ...directHeaders, ...(req.headers.range ? { range: req.headers.range } : {}) } }).then(
      (upstream) => {
        res.writeHead(upstream.statusCode, { 'content-length': String(upstream.headers['content-length'] ?? '') });
        upstream.body.pipe(res);
      },
      () => res.destroy(),
    );
  });
  const close = async () => {
    for (const server of [bare, proxy]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    }
    await bareAgent.destroy();
  };
  try {
    for (const server of [proxy, bare]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  } catch (error) {
    await close();
    throw error;
  }
  const base = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const proxyBase = base(proxy);
  return {
    newProxyUrl: () => proxyBase + sessions.createDirect({ sourceId, itemId: '100000000', mediaPath: PART_PATH }).id,
    bareUrl: base(bare),
    close,
  };
}

export class BrowserThread {
  private readonly worker = new Worker(CLIENT_SOURCE, { eval: true });
  private readonly waiting = new Map<number, { resolve: (f: Fetched) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor() {
    this.worker.on('message', (m: { id: number; error?: string } & Fetched) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve({ firstMs: m.firstMs, totalMs: m.totalMs, bytes: m.bytes });
    });
  }

  /** GETs a URL to its end (or only its first `limit` bytes), timing the first `FIRST_BYTES`. */
  fetch(url: string, headers: Record<string, string>, limit = Infinity): Promise<Fetched> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, url, headers, limit: limit === Infinity ? null : limit, first: FIRST_BYTES });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export const playback: Benchmark = {
  name: 'playback',
  description: 'direct-play byte proxy vs the same file fetched directly on loopback: first 256 KB, one stream, 20+ concurrent streams and CPU per stream',
  async run(options) {
    await ensureClips();
    const runtime = await startTestRuntime({ demo: true });
    let contenders: ProxyContenders | undefined;
    const browser = new BrowserThread();
    const fetchTimed = (url: string, headers: Record<string, string>, limit = Infinity) => browser.fetch(url, headers, limit);
    try {
      const engine = runtime.engine;
      await waitUntil(() => engine.listSources().some((s) => s.source.name === 'Living-room Plex' && s.status.state === 'connected'), { what: 'Living-room Plex connected', timeoutMs: 30_000 });
      const view = engine.listSources().find((s) => s.source.name === 'Living-room Plex')!;
      const status = view.status;
      if (status.state !== 'connected') throw new Error('Living-room Plex is not connected');
      const route = view.source.routes.find((r) => r.id === status.routeId)!;
      const token = engine.getCredentials(view.source.id)!.token;
      const directUrl = new URL(PART_PATH, route.url.endsWith('/') ? route.url : `${route.url}/`).toString();
      const directHeaders = { 'x-plex-token': token, accept: '*/*' };

      contenders = await startProxyContenders({ caller: new EngineRoutedCaller({ engine, backends: runtime.backends.backends }), engine, sourceId: view.source.id, directUrl, directHeaders });
      const { newProxyUrl, bareUrl } = contenders;

      // Warm every path (connection pools, file cache, JIT).
      for (let i = 0; i < 2; i++) {
        await fetchTimed(directUrl, directHeaders);
        await fetchTimed(newProxyUrl(), {});
        await fetchTimed(bareUrl, {});
      }

      // Rounds, each interleaving proxy, direct, bare (then the other way round), so drift on a
      // noisy machine hits all alike; every figure is the median over rounds of a round's median.
      const loadBefore = os.loadavg();
      const rounds = options.quick ? 5 : 9;
      const firstPerRound = options.quick ? 8 : 12;
      const onePerRound = options.quick ? 3 : 5;
      const streams = options.quick ? 20 : 24;
      const perRound = { firstDirect: [] as number[], firstProxy: [] as number[], firstBare: [] as number[], firstRatio: [] as number[], firstExtra: [] as number[] };
      const one = { direct: [] as number[], proxy: [] as number[], bare: [] as number[], pct: [] as number[] };
      const many = { proxyGbps: [] as number[], directGbps: [] as number[], proxyCpu: [] as number[], directCpu: [] as number[], proxyBusy: [] as number[], directBusy: [] as number[], slowest: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const first = await interleavedRound(round, firstPerRound, {
          proxy: async () => (await fetchTimed(newProxyUrl(), {}, FIRST_BYTES)).firstMs,
          direct: async () => (await fetchTimed(directUrl, directHeaders, FIRST_BYTES)).firstMs,
          bare: async () => (await fetchTimed(bareUrl, {}, FIRST_BYTES)).firstMs,
        });
        perRound.firstDirect.push(first.direct);
        perRound.firstProxy.push(first.proxy);
        perRound.firstBare.push(first.bare);
        perRound.firstRatio.push(first.proxy / first.direct);
        perRound.firstExtra.push(first.proxy - first.direct);

        // Several whole-clip reads a round (one is ~10 ms here: too short to stand alone), alternating who goes first.
        const whole = await interleavedRound(round, onePerRound, {
          proxy: async () => mbps(await fetchTimed(newProxyUrl(), {})),
          direct: async () => mbps(await fetchTimed(directUrl, directHeaders)),
          bare: async () => mbps(await fetchTimed(bareUrl, {})),
        });
        one.proxy.push(whole.proxy);
        one.direct.push(whole.direct);
        one.bare.push(whole.bare);
        one.pct.push((whole.proxy / whole.direct) * 100);

        const concurrent = async (url: () => string, headers: Record<string, string>) => {
          const cpuBefore = process.cpuUsage();
          const loopBefore = performance.eventLoopUtilization();
          const wallStart = performance.now();
          const all = await Promise.all(Array.from({ length: streams }, () => fetchTimed(url(), headers)));
          const wallMs = performance.now() - wallStart;
          const cpu = process.cpuUsage(cpuBefore);
          const loop = performance.eventLoopUtilization(loopBefore);
          const bytes = all.reduce((n, f) => n + f.bytes, 0);
          const gbps = (bytes * 8) / 1e9 / (wallMs / 1000);
          // The main thread (simulator + proxy + engine) busy per GB moved: its share of the work, whatever the load.
          return { gbps, cpuPerStream: ((cpu.user + cpu.system) / 1000 / wallMs / streams) * 100, busyMsPerGB: loop.active / (bytes / 1e9), slowest: Math.min(...all.map(mbps)) };
        };
        const mp = await concurrent(newProxyUrl, {});
        const md = await concurrent(() => directUrl, directHeaders);
        many.proxyGbps.push(mp.gbps);
        many.directGbps.push(md.gbps);
        many.proxyCpu.push(mp.cpuPerStream);
        many.directCpu.push(md.cpuPerStream);
        many.slowest.push(mp.slowest);
        many.proxyBusy.push(mp.busyMsPerGB);
        many.directBusy.push(md.busyMsPerGB);
      }
      const loadAfter = os.loadavg();
      const load = `load average ${loadBefore[0]!.toFixed(1)} → ${loadAfter[0]!.toFixed(1)} on ${os.availableParallelism()} cores`;
      const m = (xs: number[]) => median(xs);
      const spread = (xs: number[], digits = 1) => `rounds ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

      const rows: BenchRow[] = [];
      const fd = m(perRound.firstDirect);
      const fp = m(perRound.firstProxy);
      const fb = m(perRound.firstBare);
      const firstRatio = m(perRound.firstRatio);
      rows.push({ case: 'first 256 KB — direct from the server (reference)', n: rounds, unit: 'ms', p50: fd, p95: null, min: Math.min(...perRound.firstDirect), max: Math.max(...perRound.firstDirect), note: `median of ${rounds} round medians of ${firstPerRound}; before: ${BASELINE.firstDirectMs} ms` });
      rows.push({ case: 'first 256 KB — bare undici pipe, no checks (reference: any proxy here)', n: rounds, unit: 'ms', p50: fb, p95: null, min: Math.min(...perRound.firstBare), max: Math.max(...perRound.firstBare) });
      rows.push({ case: 'first 256 KB — through the byte proxy (new session each)', n: rounds, unit: 'ms', p50: fp, p95: null, min: Math.min(...perRound.firstProxy), max: Math.max(...perRound.firstProxy), note: `before: ${BASELINE.firstProxyMs} ms` });
      rows.push({ case: 'first 256 KB — proxy / direct', n: rounds, unit: 'x', p50: firstRatio, p95: null, goal: '≤ 1.1×', met: firstRatio === null ? null : firstRatio <= 1.1, note: `${spread(perRound.firstRatio, 2)}; bare pipe / direct ${fb !== null && fd ? (fb / fd).toFixed(2) : '?'}×; proxy − direct ${m(perRound.firstExtra)?.toFixed(2)} ms; before: ${(BASELINE.firstProxyMs / BASELINE.firstDirectMs).toFixed(1)}×` });

      const threadBound = m(many.directBusy) !== null && m(many.proxyBusy) ? (m(many.directBusy)! / m(many.proxyBusy)!) * 100 : null;
      const od = m(one.direct);
      const op = m(one.proxy);
      const pct = m(one.pct);
      rows.push({ case: 'one stream (9 MB clip) — direct, Mbit/s (reference)', n: rounds, unit: '/s', p50: od, p95: null, min: Math.min(...one.direct), max: Math.max(...one.direct), note: `before: ${BASELINE.oneDirectMbps}` });
      rows.push({ case: 'one stream — bare undici pipe, Mbit/s (reference: any proxy here)', n: rounds, unit: '/s', p50: m(one.bare), p95: null, min: Math.min(...one.bare), max: Math.max(...one.bare) });
      rows.push({ case: 'one stream — through the byte proxy, Mbit/s', n: rounds, unit: '/s', p50: op, p95: null, min: Math.min(...one.proxy), max: Math.max(...one.proxy), note: `before: ${BASELINE.oneProxyMbps}` });
      rows.push({ case: 'one stream — proxy / direct throughput', n: rounds, unit: '%', p50: pct, p95: null, goal: '≥ 90 %', met: pct === null ? null : pct >= 90, note: `${spread(one.pct, 0)}; bare pipe / direct ${m(one.bare) !== null && od ? ((m(one.bare)! / od) * 100).toFixed(0) : '?'} %; the simulator shares the proxy's thread, so this is bounded by direct-run / proxy-run main-thread work per GB = ${threadBound?.toFixed(0)} %; before: ${Math.round((BASELINE.oneProxyMbps / BASELINE.oneDirectMbps) * 100)} %` });

      const gbps = m(many.proxyGbps);
      rows.push({ case: `${streams} concurrent streams — direct, aggregate Gbit/s (reference)`, n: rounds, unit: '/s', p50: m(many.directGbps), p95: null, min: Math.min(...many.directGbps), max: Math.max(...many.directGbps) });
      rows.push({ case: `${streams} concurrent streams through the proxy — aggregate, Gbit/s`, n: rounds, unit: '/s', p50: gbps, p95: null, min: Math.min(...many.proxyGbps), max: Math.max(...many.proxyGbps), goal: '≥ 1 Gbit/s', met: gbps === null ? null : gbps >= 1 && Math.min(...many.slowest) > 0, note: `slowest stream of any round ${Math.min(...many.slowest).toFixed(0)} Mbit/s; before: ${BASELINE.manyProxyGbps}` });
      const cpuProxy = m(many.proxyCpu);
      const cpuDirect = m(many.directCpu);
      rows.push({ case: `${streams} concurrent streams — process CPU per stream, % of one core (proxy + simulator + client thread)`, n: rounds, unit: '%', p50: cpuProxy, p95: null, note: `direct (simulator + client) ${cpuDirect?.toFixed(1)} %; before: ${BASELINE.cpuPerStreamPct} % (proxy + simulator + client, one thread)` });
      const busyProxy = m(many.proxyBusy);
      const busyDirect = m(many.directBusy);
      const ownMsPerGB = busyProxy !== null && busyDirect !== null ? busyProxy - busyDirect : null;
      // At a demanding 40 Mbit/s (a 4K remux) one stream moves 0.005 GB/s.
      const at40 = ownMsPerGB === null ? null : (ownMsPerGB * (40e6 / 8 / 1e9)) / 10;
      rows.push({ case: "the proxy's own CPU per GB moved (main thread busy, proxy run − direct run)", n: rounds, unit: 'ms', p50: ownMsPerGB, p95: null, note: `main thread busy per GB: proxy run ${busyProxy?.toFixed(0)} ms, direct run ${busyDirect?.toFixed(0)} ms; one 40 Mbit/s stream ≈ ${at40?.toFixed(2)} % of a core` });
      rows.push({ case: 'machine load during the run', n: 1, unit: 'count', p50: loadAfter[0]!, p95: null, note: load });
      options.log(`${load}; first 256 KB p50 direct ${fd?.toFixed(2)} ms, bare ${fb?.toFixed(2)} ms, proxy ${fp?.toFixed(2)} ms (${firstRatio?.toFixed(2)}×, before ${BASELINE.firstProxyMs} vs ${BASELINE.firstDirectMs} ms); one stream direct ${od?.toFixed(0)}, bare ${m(one.bare)?.toFixed(0)}, proxy ${op?.toFixed(0)} Mbit/s (${pct?.toFixed(0)} %, before ${BASELINE.oneProxyMbps} vs ${BASELINE.oneDirectMbps}); ${streams} streams ${gbps?.toFixed(2)} Gbit/s (before ${BASELINE.manyProxyGbps}), CPU/stream ${cpuProxy?.toFixed(1)} % (direct ${cpuDirect?.toFixed(1)} %, before ${BASELINE.cpuPerStreamPct} %)`);
      rows.push(...(await progressAcrossOutage(options)));
      return rows;
    } finally {
      await browser.close();
      await contenders?.close();
      await runtime.close();
    }
  },
};

/**
 * Progress reports across a 60 s outage (issue 15 figure), Plex and Jellyfin together, through the
 * real app (play API → progress reporter → durable outbox): a session on each, both servers stopped,
 * the player's reports every 10 s while they are away (and a pause at the end), then both back. A
 * report counts as lost when nothing at or after its position reached the server (the outbox
 * collapses to the latest per item, so delivering the last one keeps every earlier one).
 */
async function progressAcrossOutage(options: BenchOptions): Promise<BenchRow[]> {
  const outageMs = 60_000;
  const everyMs = 10_000;
  const h = await EngineHarness.start();
  try {
    await h.waitForSteadyState(30_000);
    const plexCatalog = h.sim.library(PLEX_ID).mediaCatalog();
    const plexItem = Array.from({ length: 20 }, (_, i) => String(100_000_000 + i * 1000)).find((key) => plexCatalog.playable(key)?.variant === 'h264-aac');
    const jfCreds = h.engine.getCredentials(h.jellyfinSourceId)!;
    const jfUrl = h.sim.route('jellyfin-home-local').url;
    const jfItems = (await (await fetch(`${jfUrl}/Items?recursive=true&includeItemTypes=Movie&limit=20&userId=${jfCreds.userId}`, { headers: { authorization: `MediaBrowser Token="${jfCreds.token}"` } })).json()) as { Items: { Id: string }[] };
    const jfCatalog = h.sim.library(JELLYFIN_ID).mediaCatalog();
    const jfItem = jfItems.Items.map((i) => i.Id).find((id) => jfCatalog.playable(id)?.variant === 'h264-aac');
    if (!plexItem || !jfItem) throw new Error('no H.264 movie in the simulated libraries');
    const servers = [
      { name: 'Plex', simId: PLEX_ID, sourceId: h.plexSourceId, kind: 'plex' as const, itemId: plexItem, session: '', made: [] as number[] },
      { name: 'Jellyfin', simId: JELLYFIN_ID, sourceId: h.jellyfinSourceId, kind: 'jellyfin' as const, itemId: jfItem, session: '', made: [] as number[] },
    ];
    for (const server of servers) {
      const res = await h.running.app.inject({ method: 'POST', url: '/api/play', payload: { sourceId: server.sourceId, itemId: server.itemId, startMs: 30_000 } });
      if (res.statusCode !== 201) throw new Error(`${server.name}: POST /api/play answered ${res.statusCode}`);
      server.session = res.json<{ id: string }>().id;
    }
    await h.running.play.idle();
    for (const server of servers) h.sim.server(server.simId).clearPlaybackReports();

    options.log(`progress outbox: both servers stopped for ${outageMs / 1000} s, a report every ${everyMs / 1000} s`);
    for (const server of servers) await h.sim.server(server.simId).fault({ mode: 'stop' });
    for (const server of servers) await h.waitForView(server.kind, 'away', (v) => v.status !== 'connected', 30_000);
    const cutAt = Date.now();
    let positionMs = 60_000;
    for (let tick = 0; Date.now() - cutAt < outageMs && tick < 20; tick++) {
      const state = Date.now() - cutAt + everyMs >= outageMs ? 'paused' : 'playing';
      for (const server of servers) {
        const r = await h.running.app.inject({ method: 'POST', url: `/api/play/${server.session}/progress`, payload: { positionMs, state } });
        if (r.statusCode !== 204) throw new Error(`${server.name}: progress answered ${r.statusCode}`);
        server.made.push(positionMs);
      }
      positionMs += everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(everyMs, outageMs - (Date.now() - cutAt)))));
    }
    const upAt = Date.now();
    for (const server of servers) await h.sim.server(server.simId).fault({ mode: 'up' });
    const deliveredAfter: number[] = [];
    for (const server of servers) {
      await h.waitFor(`${server.name}'s outbox delivered`, () => h.store.playOutbox.count(server.sourceId) === 0, 60_000);
      deliveredAfter.push(Date.now() - upAt);
    }
    const rows: BenchRow[] = [];
    for (const server of servers) {
      const seen = h.sim
        .server(server.simId)
        .playbackReports()
        .filter((r) => r.itemId === server.itemId && r.accepted && r.positionMs !== null);
      const latest = Math.max(-1, ...seen.map((r) => r.positionMs!));
      const lost = server.made.filter((p) => p > latest).length;
      rows.push({
        case: `${server.name}: progress reports lost across a ${outageMs / 1000} s outage (server stopped)`,
        n: server.made.length,
        unit: 'count',
        p50: lost,
        p95: null,
        goal: '0',
        met: lost === 0,
        note: `${server.made.length} reports made while away, ${seen.length} call(s) delivered once back (collapsed to the latest), last position ${latest / 1000} s of ${server.made.at(-1)! / 1000} s`,
      });
    }
    rows.push({ case: 'progress outbox — delivered after the servers are back', n: servers.length, unit: 'ms', p50: median(deliveredAfter), p95: Math.max(...deliveredAfter), note: 'from the fault lifted to the outbox empty (includes the engine noticing the servers are back)' });
    return rows;
  } finally {
    await h.close();
  }
}
