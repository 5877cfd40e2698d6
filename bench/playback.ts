// Benchmark — playback (issue 15): Marquee's direct-play byte proxy against fetching the same file
// from the simulated server directly, in the same run, on loopback. The demo runtime (engine,
// backends, simulators) and the proxy run in this one process, as in `marquee demo`.
//  - time to the first 256 KB (what a <video> needs for its first frame of a faststart MP4):
//    proxy vs direct, goal ≤ 1.1×;
//  - one stream's throughput: proxy vs direct, goal ≥ 90 %;
//  - 20+ concurrent streams: aggregate proxy throughput (goal ≥ 1 Gbit/s) and CPU per stream
//    (this process: proxy + simulator + engine, so an upper bound for the proxy alone).
// The visible stall at a route cut is measured in Chromium by test/browser/player.test.ts (see
// docs/BENCHMARKS.md); the progress-report outbox across an outage belongs to the play API.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineRoutedCaller } from '../src/monitor/routed-caller.js';
import { serveMedia } from '../src/playback/byte-proxy.js';
import { PlaySessions } from '../src/playback/sessions.js';
import { ensureClips } from '../sim/index.js';
import { startTestRuntime } from '../test/support/start.js';
import { waitUntil } from '../test/support/wait.js';
import { summarize } from './stats.js';
import type { Benchmark, BenchRow } from './types.js';

const FIRST_BYTES = 256 * 1024;
/** A simulated Living-room Plex movie of the H.264 clip (sim/library-model.ts). */
const PART_PATH = '/library/parts/1000000002/1/file.mp4';

interface Fetched {
  firstMs: number;
  totalMs: number;
  bytes: number;
}

/** GETs a URL to its end (or only its first `limit` bytes), timing the first `FIRST_BYTES`. */
function fetchTimed(url: string, headers: Record<string, string>, limit = Infinity): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    let firstMs = -1;
    const req = request(url, { headers: limit < Infinity ? { ...headers, range: `bytes=0-${limit - 1}` } : headers }, (res: IncomingMessage) => {
      if ((res.statusCode ?? 0) >= 300) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode} from ${new URL(url).pathname}`));
      }
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (firstMs < 0 && bytes >= Math.min(FIRST_BYTES, limit)) firstMs = performance.now() - started;
      });
      res.on('end', () => resolve({ firstMs: firstMs < 0 ? performance.now() - started : firstMs, totalMs: performance.now() - started, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const playback: Benchmark = {
  name: 'playback',
  description: 'direct-play byte proxy vs the same file fetched directly on loopback: first 256 KB, one stream, 20+ concurrent streams and CPU per stream',
  async run(options) {
    await ensureClips();
    const runtime = await startTestRuntime({ demo: true });
    let proxy: Server | undefined;
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

      const caller = new EngineRoutedCaller({ engine, backends: runtime.backends.backends });
      const sessions = new PlaySessions();
      proxy = createServer((req, res) => {
        const s = sessions.get((req.url ?? '').slice(1));
        if (!s) return void res.writeHead(404).end();
        void serveMedia(req, res, s, { caller, engine });
      });
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
      const proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
      const newProxyUrl = () => proxyBase + sessions.createDirect({ sourceId: view.source.id, itemId: '100000000', mediaPath: PART_PATH }).id;

      // Warm both paths (connection pools, file cache).
      await fetchTimed(directUrl, directHeaders);
      await fetchTimed(newProxyUrl(), {});

      const rows: BenchRow[] = [];
      const trials = options.quick ? 8 : 25;
      const firstDirect: number[] = [];
      const firstProxy: number[] = [];
      for (let i = 0; i < trials; i++) {
        // Alternate, so drift on a noisy machine hits both alike.
        firstDirect.push((await fetchTimed(directUrl, directHeaders, FIRST_BYTES)).firstMs);
        firstProxy.push((await fetchTimed(newProxyUrl(), {}, FIRST_BYTES)).firstMs);
      }
      const fd = summarize(firstDirect);
      const fp = summarize(firstProxy);
      rows.push({ case: 'first 256 KB — direct from the server (reference)', n: fd.n, unit: 'ms', p50: fd.p50, p95: fd.p95, min: fd.min, max: fd.max });
      rows.push({ case: 'first 256 KB — through the byte proxy (new session each)', n: fp.n, unit: 'ms', p50: fp.p50, p95: fp.p95, min: fp.min, max: fp.max });
      const firstRatio = fp.p50 !== null && fd.p50 ? fp.p50 / fd.p50 : null;
      rows.push({ case: 'first 256 KB — proxy / direct (p50)', n: fd.n, unit: 'x', p50: firstRatio, p95: null, goal: '≤ 1.1×', met: firstRatio === null ? null : firstRatio <= 1.1, note: 'with a fixed cost of the session lookup and the upstream open, small absolute figures make this ratio strict' });

      const oneTrials = options.quick ? 3 : 8;
      const mbps = (f: Fetched) => (f.bytes * 8) / 1e6 / (f.totalMs / 1000);
      const oneDirect: number[] = [];
      const oneProxy: number[] = [];
      for (let i = 0; i < oneTrials; i++) {
        oneDirect.push(mbps(await fetchTimed(directUrl, directHeaders)));
        oneProxy.push(mbps(await fetchTimed(newProxyUrl(), {})));
      }
      const od = summarize(oneDirect);
      const op = summarize(oneProxy);
      const pct = op.p50 !== null && od.p50 ? (op.p50 / od.p50) * 100 : null;
      rows.push({ case: 'one stream (9 MB clip) — direct, Mbit/s (reference)', n: od.n, unit: '/s', p50: od.p50, p95: null, min: od.min, max: od.max });
      rows.push({ case: 'one stream — through the byte proxy, Mbit/s', n: op.n, unit: '/s', p50: op.p50, p95: null, min: op.min, max: op.max });
      rows.push({ case: 'one stream — proxy / direct throughput', n: op.n, unit: '%', p50: pct, p95: null, goal: '≥ 90 %', met: pct === null ? null : pct >= 90 });

      const streams = options.quick ? 20 : 24;
      const cpuBefore = process.cpuUsage();
      const wallStart = performance.now();
      const all = await Promise.all(Array.from({ length: streams }, () => fetchTimed(newProxyUrl(), {})));
      const wallMs = performance.now() - wallStart;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const totalBits = all.reduce((n, f) => n + f.bytes * 8, 0);
      const gbps = totalBits / 1e9 / (wallMs / 1000);
      const perStream = summarize(all.map(mbps));
      rows.push({ case: `${streams} concurrent streams through the proxy — aggregate, Gbit/s`, n: streams, unit: '/s', p50: gbps, p95: null, goal: '≥ 1 Gbit/s', met: gbps >= 1, note: `each stream p50 ${perStream.p50?.toFixed(0)} Mbit/s, slowest ${perStream.min?.toFixed(0)} Mbit/s; simulator in the same process` });
      rows.push({ case: `${streams} concurrent streams — CPU per stream (% of one core, proxy + simulator)`, n: streams, unit: '%', p50: (cpuMs / wallMs / streams) * 100, p95: null, note: `process CPU ${Math.round(cpuMs)} ms over ${Math.round(wallMs)} ms wall` });
      options.log(`first 256 KB p50 direct ${fd.p50?.toFixed(1)} ms, proxy ${fp.p50?.toFixed(1)} ms; one stream ${od.p50?.toFixed(0)} vs ${op.p50?.toFixed(0)} Mbit/s; ${streams} streams ${gbps.toFixed(2)} Gbit/s`);
      return rows;
    } finally {
      proxy?.closeAllConnections();
      await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
      await runtime.close();
    }
  },
};
