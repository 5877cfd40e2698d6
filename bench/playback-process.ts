// Benchmark — playback with the server in its own process (issue 15 figures: one stream ≥ 90 % of
// direct, first 256 KB ≤ 1.1×). bench/playback.ts runs the simulator in Marquee's own thread, so
// any proxy there (even a bare pipe) tops out near 70 % of direct: the two share one core's worth of
// event loop. A real Plex or Jellyfin is another process, so here the simulator is spawned with the
// sim CLI (one Plex server, one local route), Marquee's runtime (engine, routed caller, byte proxy)
// runs in this process and the "browser" in a worker thread, as in bench/playback.ts. Rounds
// interleave proxy, direct and a bare undici pipe; every figure is a median over round medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request as undiciRequest } from 'undici';
import { serveMedia } from '../src/playback/byte-proxy.js';
import { PlaySessions } from '../src/playback/sessions.js';
import { ensureClips } from '../sim/index.js';
import { startTestRuntime } from '../test/support/start.js';
import { waitUntil } from '../test/support/wait.js';
import { BrowserThread, FIRST_BYTES, interleavedRound, mbps, PART_PATH } from './playback.js';
import { median } from './stats.js';
import type { Benchmark, BenchRow } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ACCOUNT_TOKEN = 'bench-plex-account-token';

/** The same figures with the simulator in Marquee's thread (docs/BENCHMARKS.md, full run, load 4.1 → 5.0). */
const IN_PROCESS = { firstDirectMs: 0.78, firstBareMs: 1.14, firstProxyMs: 1.67, firstRatio: 2.1, oneDirectMbps: 6179, oneBareMbps: 4443, oneProxyMbps: 4223, onePct: 67, oneBarePct: 72 };

/** One Plex server ("living-room", so PART_PATH is its first movie) with one local route, and plex.tv. */
const SIM_CONFIG = {
  plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo', email: 'demo@example.invalid', token: ACCOUNT_TOKEN }] },
  control: { host: '127.0.0.1', port: 0 },
  prepareMedia: true,
  servers: [
    {
      id: 'living-room',
      kind: 'plex',
      name: 'Living-room Plex',
      owner: 'demo',
      routes: [{ id: 'living-room-local', kind: 'local', host: '127.0.0.2', port: 0 }],
      libraries: [{ title: 'Movies', type: 'movie', itemCount: 24 }],
    },
  ],
};

interface SimLine {
  plexTv: string;
  servers: { id: string; routes: { id: string; url: string }[] }[];
}

/** Spawns `node --import tsx sim/cli.ts --config …` (not `npm run`, which would orphan it on SIGTERM) and reads its one JSON line. */
async function spawnSimulator(configPath: string): Promise<{ child: ChildProcess; line: SimLine }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '..', 'sim', 'cli.ts'), '--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  try {
    const line = await new Promise<SimLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the simulator printed no line within 60 s')), 60_000);
      child.once('exit', (code) => reject(new Error(`the simulator exited (${code}) before printing its line`)));
      lines.once('line', (text) => {
        clearTimeout(timer);
        resolve(JSON.parse(text) as SimLine);
      });
    });
    return { child, line };
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
}

async function stopSimulator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export const playbackProcess: Benchmark = {
  name: 'playback-process',
  description: 'direct-play byte proxy vs direct with the simulated Plex in its own process (as a real server is): first 256 KB and one stream, beside the in-process figures',
  async run(options) {
    await ensureClips(); // the child then finds the clips cached
    const dir = mkdtempSync(path.join(os.tmpdir(), 'marquee-bench-simproc-'));
    const configPath = path.join(dir, 'sim.json');
    writeFileSync(configPath, JSON.stringify(SIM_CONFIG));
    let child: ChildProcess | undefined;
    let runtime: Awaited<ReturnType<typeof startTestRuntime>> | undefined;
    let proxy: Server | undefined;
    let bare: Server | undefined;
    let browser: BrowserThread | undefined;
    try {
      const sim = await spawnSimulator(configPath);
      child = sim.child;
      options.log(`simulator pid ${child.pid}, plex.tv ${sim.line.plexTv}`);
      runtime = await startTestRuntime({ plexTvUrl: sim.line.plexTv });
      const engine = runtime.engine;
      const found = (await runtime.backends.plexSignIn.listServers(ACCOUNT_TOKEN)).find((s) => s.name === 'Living-room Plex');
      if (!found) throw new Error('plex.tv did not list Living-room Plex');
      const added = engine.addSource({ name: found.name, kind: 'plex', serverId: found.serverId, routes: found.routes, credentials: found.credentials });
      const sourceId = added.source.id;
      await waitUntil(() => engine.listSources().some((s) => s.source.id === sourceId && s.status.state === 'connected'), { what: 'Living-room Plex connected', timeoutMs: 30_000 });
      const view = engine.listSources().find((s) => s.source.id === sourceId)!;
      const status = view.status;
      if (status.state !== 'connected') throw new Error('Living-room Plex is not connected');
      const route = view.source.routes.find((r) => r.id === status.routeId)!;
      const token = engine.getCredentials(sourceId)!.token;
      const directUrl = new URL(PART_PATH, route.url.endsWith('/') ? route.url : `${route.url}/`).toString();
      const directHeaders = { 'x-plex-token': token, accept: '*/*' };

      const sessions = new PlaySessions();
      const caller = runtime.routedCaller;
      proxy = createServer((req, res) => {
        const s = sessions.get((req.url ?? '').slice(1));
        if (!s) return void res.writeHead(404).end();
        void serveMedia(req, res, s, { caller, engine });
      });
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
      const proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
      const newProxyUrl = () => proxyBase + sessions.createDirect({ sourceId, itemId: '100000000', mediaPath: PART_PATH }).id;

      const bareAgent = new Agent({ keepAliveTimeout: 10_000 });
      bare = createServer((req, res) => {
        undiciRequest(directUrl, { dispatcher: bareAgent, headers: { ...directHeaders, ...(req.headers.range ? { range: req.headers.range } : {}) } }).then(
          (upstream) => {
            res.writeHead(upstream.statusCode, { 'content-length': String(upstream.headers['content-length'] ?? '') });
            upstream.body.pipe(res);
          },
          () => res.destroy(),
        );
      });
      await new Promise<void>((resolve) => bare!.listen(0, '127.0.0.1', resolve));
      const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

      browser = new BrowserThread();
      const fetchTimed = (url: string, headers: Record<string, string>, limit = Infinity) => browser!.fetch(url, headers, limit);
      for (let i = 0; i < 2; i++) {
        await fetchTimed(directUrl, directHeaders);
        await fetchTimed(newProxyUrl(), {});
        await fetchTimed(bareUrl, {});
      }

      const loadBefore = os.loadavg();
      const rounds = options.quick ? 5 : 9;
      const firstPerRound = options.quick ? 8 : 12;
      const onePerRound = options.quick ? 3 : 5;
      const first = { direct: [] as number[], proxy: [] as number[], bare: [] as number[], ratio: [] as number[] };
      const one = { direct: [] as number[], proxy: [] as number[], bare: [] as number[], pct: [] as number[], barePct: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const firstBytes = await interleavedRound(round, firstPerRound, {
          proxy: async () => (await fetchTimed(newProxyUrl(), {}, FIRST_BYTES)).firstMs,
          direct: async () => (await fetchTimed(directUrl, directHeaders, FIRST_BYTES)).firstMs,
          bare: async () => (await fetchTimed(bareUrl, {}, FIRST_BYTES)).firstMs,
        });
        first.direct.push(firstBytes.direct);
        first.proxy.push(firstBytes.proxy);
        first.bare.push(firstBytes.bare);
        first.ratio.push(firstBytes.proxy / firstBytes.direct);
        const whole = await interleavedRound(round, onePerRound, {
          proxy: async () => mbps(await fetchTimed(newProxyUrl(), {})),
          direct: async () => mbps(await fetchTimed(directUrl, directHeaders)),
          bare: async () => mbps(await fetchTimed(bareUrl, {})),
        });
        one.direct.push(whole.direct);
        one.proxy.push(whole.proxy);
        one.bare.push(whole.bare);
        one.pct.push((whole.proxy / whole.direct) * 100);
        one.barePct.push((whole.bare / whole.direct) * 100);
      }
      const loadAfter = os.loadavg();
      const load = `load average ${loadBefore[0]!.toFixed(1)} → ${loadAfter[0]!.toFixed(1)} on ${os.availableParallelism()} cores`;
      const spread = (xs: number[], digits: number) => `rounds ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
      const range = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });
      const ratio = median(first.ratio);
      const pct = median(one.pct);
      const fd = median(first.direct);
      const fb = median(first.bare);
      const ip = IN_PROCESS;
      const rows: BenchRow[] = [
        { case: 'simulator in its own process: first 256 KB — direct (reference)', n: rounds, unit: 'ms', p50: fd, p95: null, ...range(first.direct), note: `in-process: ${ip.firstDirectMs} ms` },
        { case: 'simulator in its own process: first 256 KB — bare undici pipe (reference)', n: rounds, unit: 'ms', p50: fb, p95: null, ...range(first.bare), note: `in-process: ${ip.firstBareMs} ms` },
        { case: 'simulator in its own process: first 256 KB — through the byte proxy', n: rounds, unit: 'ms', p50: median(first.proxy), p95: null, ...range(first.proxy), note: `in-process: ${ip.firstProxyMs} ms` },
        { case: 'simulator in its own process: first 256 KB — proxy / direct', n: rounds, unit: 'x', p50: ratio, p95: null, goal: '≤ 1.1×', met: ratio === null ? null : ratio <= 1.1, note: `${spread(first.ratio, 2)}; bare pipe / direct ${fb !== null && fd ? (fb / fd).toFixed(2) : '?'}×; in-process: ${ip.firstRatio}×` },
        { case: 'simulator in its own process: one stream — direct, Mbit/s (reference)', n: rounds, unit: '/s', p50: median(one.direct), p95: null, ...range(one.direct), note: `in-process: ${ip.oneDirectMbps}` },
        { case: 'simulator in its own process: one stream — bare undici pipe, Mbit/s (reference)', n: rounds, unit: '/s', p50: median(one.bare), p95: null, ...range(one.bare), note: `in-process: ${ip.oneBareMbps}` },
        { case: 'simulator in its own process: one stream — through the byte proxy, Mbit/s', n: rounds, unit: '/s', p50: median(one.proxy), p95: null, ...range(one.proxy), note: `in-process: ${ip.oneProxyMbps}` },
        { case: 'simulator in its own process: one stream — proxy / direct throughput', n: rounds, unit: '%', p50: pct, p95: null, goal: '≥ 90 %', met: pct === null ? null : pct >= 90, note: `${spread(one.pct, 0)}; bare pipe / direct ${median(one.barePct)?.toFixed(0)} %; in-process: ${ip.onePct} % (bare ${ip.oneBarePct} %)` },
        { case: 'machine load during the run', n: 1, unit: 'count', p50: loadAfter[0]!, p95: null, note: load },
      ];
      options.log(`${load}; first 256 KB direct ${fd?.toFixed(2)} ms, bare ${fb?.toFixed(2)} ms, proxy ${median(first.proxy)?.toFixed(2)} ms (${ratio?.toFixed(2)}×); one stream direct ${median(one.direct)?.toFixed(0)}, bare ${median(one.bare)?.toFixed(0)}, proxy ${median(one.proxy)?.toFixed(0)} Mbit/s (${pct?.toFixed(0)} %)`);
      return rows;
    } finally {
      await browser?.close();
      bare?.closeAllConnections();
      await new Promise<void>((resolve) => (bare ? bare.close(() => resolve()) : resolve()));
      proxy?.closeAllConnections();
      await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
      await runtime?.close();
      if (child) await stopSimulator(child);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
