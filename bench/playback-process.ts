// Benchmark — playback with the server in its own process (issue 15 figures: one stream ≥ 90 % of
// direct, first 256 KB ≤ 1.1×). bench/playback.ts runs the simulator in Marquee's own thread, so
// any proxy there (even a bare pipe) tops out near 70 % of direct: the two share one core's worth of
// event loop. A real Plex or Jellyfin is another process, so here the simulator is spawned with the
// sim CLI (one Plex server, one local route), Marquee's runtime (engine, routed caller, byte proxy)
// runs in this process and the "browser" in a worker thread, as in bench/playback.ts. Rounds
// interleave proxy, direct, a bare undici pipe and C reference proxies (socat, HAProxy with splice,
// when installed); every figure is a median over round medians. The stream read is the ~3 Mbps clip
// (~70 MB), so a read measures a steady rate. Then CPU per MB of every party (cpu-cost.ts), which
// says what ratio CPU allows here at all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureClips } from '../sim/index.js';
import { startTestRuntime } from '../test/support/start.js';
import { waitUntil } from '../test/support/wait.js';
import { BrowserThread, FIRST_BYTES, interleavedRound, mbps, PART_PATH, startProxyContenders, type ProxyContenders } from './playback.js';
import { median } from './stats.js';
import { cpuBoundRatio, ownCpuMs, processCpuMs, proxyBudgetFor } from './support/cpu-cost.js';
import { startReferenceProxies, type ReferenceProxies } from './support/reference-proxies.js';
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
      // The first movie plays the ~3 Mbps clip (~70 MB): one read lasts long enough (~0.2 s) to
      // measure a stream's steady rate, not its first milliseconds.
      mediaVariants: { '100000000': 'h264-aac-high' },
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
    let contenders: ProxyContenders | undefined;
    let browser: BrowserThread | undefined;
    let references: ReferenceProxies | undefined;
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

      contenders = await startProxyContenders({ caller: runtime.routedCaller, engine, sourceId, directUrl, directHeaders });
      const { newProxyUrl, bareUrl } = contenders;

      // What any proxy costs here: C proxies (socat, HAProxy with kernel splice) in the same rounds.
      const target = new URL(directUrl);
      references = await startReferenceProxies({ host: target.hostname, port: Number(target.port) });
      for (const words of references.missing) options.log(`reference proxy: ${words}`);
      const referenceUrls = Object.fromEntries(references.running.map((r) => [r.name, new URL(PART_PATH.slice(1), r.url).toString()]));

      browser = new BrowserThread();
      const fetchTimed = (url: string, headers: Record<string, string>, limit = Infinity) => browser!.fetch(url, headers, limit);
      const readers = (measure: (url: string, headers: Record<string, string>) => Promise<number>) => ({
        proxy: () => measure(newProxyUrl(), {}),
        direct: () => measure(directUrl, directHeaders),
        bare: () => measure(bareUrl, {}),
        ...Object.fromEntries(Object.entries(referenceUrls).map(([name, url]) => [name, () => measure(url, directHeaders)])),
      });
      for (let i = 0; i < 2; i++) for (const read of Object.values(readers((url, headers) => fetchTimed(url, headers).then((f) => f.totalMs)))) await read();

      const loadBefore = os.loadavg();
      const rounds = options.quick ? 5 : 9;
      const firstPerRound = options.quick ? 8 : 12;
      const onePerRound = options.quick ? 3 : 5;
      const first: Record<string, number[]> = {};
      const one: Record<string, number[]> = {};
      const push = (into: Record<string, number[]>, key: string, value: number) => (into[key] ??= []).push(value);
      for (let round = 0; round < rounds; round++) {
        const firstBytes = await interleavedRound(round, firstPerRound, readers(async (url, headers) => (await fetchTimed(url, headers, FIRST_BYTES)).firstMs));
        for (const [name, ms] of Object.entries(firstBytes)) {
          push(first, name, ms);
          push(first, `${name}/direct`, ms / firstBytes.direct);
        }
        const whole = await interleavedRound(round, onePerRound, readers(async (url, headers) => mbps(await fetchTimed(url, headers))));
        for (const [name, rate] of Object.entries(whole)) {
          push(one, name, rate);
          push(one, `${name}/direct`, (rate / whole.direct) * 100);
        }
      }

      // CPU per MB of every party, from long runs of whole-clip reads (steady where throughput
      // ratios are not): the simulator's process, this process (the worker "browser", plus Marquee's
      // proxy or the bare pipe when they carry the bytes), and each reference proxy's process.
      const cpuReads = options.quick ? 3 : 6;
      const cpu: Record<string, { mbps: number; simMsPerMb: number; ownMsPerMb: number; refMsPerMb: number | null }> = {};
      const simPid = child.pid!;
      for (const [name, read] of Object.entries(readers((url, headers) => fetchTimed(url, headers).then((f) => f.bytes)))) {
        const ref = references.running.find((r) => r.name === name);
        const before = { own: ownCpuMs(), sim: processCpuMs(simPid), ref: ref ? processCpuMs(ref.pid) : 0, at: performance.now() };
        let bytes = 0;
        for (let i = 0; i < cpuReads; i++) bytes += await read();
        const wallMs = performance.now() - before.at;
        const mb = bytes / 1e6;
        cpu[name] = {
          mbps: (bytes * 8) / 1e6 / (wallMs / 1000),
          simMsPerMb: (processCpuMs(simPid) - before.sim) / mb,
          ownMsPerMb: (ownCpuMs() - before.own) / mb,
          refMsPerMb: ref ? (processCpuMs(ref.pid) - before.ref) / mb : null,
        };
      }
      const loadAfter = os.loadavg();
      const load = `load average ${loadBefore[0]!.toFixed(1)} → ${loadAfter[0]!.toFixed(1)} on ${os.availableParallelism()} cores`;
      const spread = (xs: number[], digits: number) => `rounds ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
      const range = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });
      const m = (xs: number[] | undefined) => (xs ? median(xs) : null);
      const ratio = m(first['proxy/direct']);
      const pct = m(one['proxy/direct']);
      const ip = IN_PROCESS;
      const label: Record<string, string> = { direct: 'direct (reference)', bare: 'bare undici pipe (reference)', proxy: 'through the byte proxy' };
      for (const r of references.running) label[r.name] = `${r.what} (reference)`;
      const inProcess: Record<string, { first: number; one: number } | undefined> = { direct: { first: ip.firstDirectMs, one: ip.oneDirectMbps }, bare: { first: ip.firstBareMs, one: ip.oneBareMbps }, proxy: { first: ip.firstProxyMs, one: ip.oneProxyMbps } };
      const order = ['direct', 'bare', ...references.running.map((r) => r.name), 'proxy'];
      const rows: BenchRow[] = [];
      for (const name of order) {
        const before = inProcess[name];
        const versus = name === 'direct' ? '' : `${m(first[`${name}/direct`])?.toFixed(2)}× direct; `;
        rows.push({ case: `simulator in its own process: first 256 KB — ${label[name]}`, n: rounds, unit: 'ms', p50: m(first[name]), p95: null, ...range(first[name]!), note: `${versus}${before ? `in-process: ${before.first} ms` : 'not in the in-process bench'}` });
      }
      rows.push({ case: 'simulator in its own process: first 256 KB — proxy / direct', n: rounds, unit: 'x', p50: ratio, p95: null, goal: '≤ 1.1×', met: ratio === null ? null : ratio <= 1.1, note: `${spread(first['proxy/direct']!, 2)}; in-process: ${ip.firstRatio}×` });
      for (const name of order) {
        const before = inProcess[name];
        const versus = name === 'direct' ? '' : `${m(one[`${name}/direct`])?.toFixed(0)} % of direct (${spread(one[`${name}/direct`]!, 0)}); `;
        rows.push({ case: `simulator in its own process: one stream — ${label[name]}, Mbit/s`, n: rounds, unit: '/s', p50: m(one[name]), p95: null, ...range(one[name]!), note: `${versus}${before ? `in-process, 9 MB clip: ${before.one}` : 'not in the in-process bench'}` });
      }
      rows.push({ case: 'simulator in its own process: one stream — proxy / direct throughput', n: rounds, unit: '%', p50: pct, p95: null, goal: '≥ 90 %', met: pct === null ? null : pct >= 90, note: `${spread(one['proxy/direct']!, 0)}; in-process, 9 MB clip: ${ip.onePct} % (bare ${ip.oneBarePct} %)${references.missing.length ? `; ${references.missing.join(', ')}` : ''}` });
      // Who costs what per MB: the client is this process during direct reads; a proxy in this
      // process costs what it adds to that; a reference proxy, its own process.
      const cores = os.availableParallelism();
      const client = cpu.direct!.ownMsPerMb;
      const server = cpu.direct!.simMsPerMb;
      const proxyCost = (name: string) => (cpu[name]!.refMsPerMb ?? Math.max(0, cpu[name]!.ownMsPerMb - client));
      const budget = proxyBudgetFor(0.9, { server, client }, cores);
      rows.push({ case: 'CPU per MB — simulated Plex serving the file (direct reads)', n: cpuReads, unit: 'ms', p50: server, p95: null, note: `${cpuReads} reads of the 70 MB clip per contender, ${cpu.direct!.mbps.toFixed(0)} Mbit/s` });
      rows.push({ case: 'CPU per MB — the client reading it (worker thread)', n: cpuReads, unit: 'ms', p50: client, p95: null });
      for (const name of order.filter((n) => n !== 'direct')) {
        const cost = proxyCost(name);
        const ceiling = cpuBoundRatio({ server, client, proxy: cost }, cores) * 100;
        rows.push({ case: `CPU per MB — ${label[name]}`, n: cpuReads, unit: 'ms', p50: cost, p95: null, note: `CPU-bound ceiling on ${cores} cores: ${ceiling.toFixed(0)} % of direct; measured over these reads ${((cpu[name]!.mbps / cpu.direct!.mbps) * 100).toFixed(0)} %` });
      }
      rows.push({ case: `CPU per MB a proxy may cost for ≥ 90 % of direct on ${cores} cores`, n: cpuReads, unit: 'ms', p50: budget, p95: null, note: budget <= 0 ? 'none: the server and client alone fill the cores' : `Marquee's proxy costs ${proxyCost('proxy').toFixed(2)} ms` });
      rows.push({ case: 'machine load during the run', n: 1, unit: 'count', p50: loadAfter[0]!, p95: null, note: load });
      const summary = order.map((name) => `${name} ${m(first[name])?.toFixed(2)} ms / ${m(one[name])?.toFixed(0)} Mbit/s${name === 'direct' ? '' : ` (${m(first[`${name}/direct`])?.toFixed(2)}×, ${m(one[`${name}/direct`])?.toFixed(0)} %)`}`);
      options.log(`${load}; first 256 KB / one stream: ${summary.join('; ')}`);
      return rows;
    } finally {
      await browser?.close();
      await references?.close();
      await contenders?.close();
      await runtime?.close();
      if (child) await stopSimulator(child);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
