// Benchmark 4 — scale (issue 7): N sources × 3 routes with the DEFAULT settings, steady state.
// The simulators run sharded in their own process group, the engine (the real runtime: store,
// backends, monitor, push channels, Fastify + SSE) in a child process of its own, so the CPU share
// and RSS measured from /proc/<pid> are the engine's alone. 100 SSE readers run here, in the parent.
// During the window a few servers crash and come back (one change every 2 s), so the SSE stream
// carries real engine events whose fan-out latency is measured (event timestamp → reader).
// Goals at 10,000 sources: ≤ 25 % of one core, ≤ 1 GB RSS, fan-out p95 ≤ 100 ms.
//
// Standalone: `npx tsx bench/scale.ts [--quick] [--sizes 1000,10000] [--seconds 60]`.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScaleChildMessage, ScaleParentMessage, ScaleStats } from './scale-engine.js';
import { openSseReaders } from './scale-sse.js';
import { scaleSources, startScaleSim, type ScaleSim } from './scale-sim.js';
import { sleep } from '../test/support/wait.js';
import { summarize } from './stats.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SSE_CLIENTS = 100;
const CLK_TCK = 100; // Linux USER_HZ

export interface ScaleFigures {
  sources: number;
  seconds: number;
  readyMs: number;
  cpuPercent: number;
  rssMB: number[];
  probesPerS: number;
  pingsPerS: number;
  sseLatencies: number[];
  sseFrames: Record<string, number>;
  fds: number;
  status: Record<string, number>;
  push: Record<string, number>;
  /** Heap in use right after a forced full GC at the end (live objects only). */
  liveHeapMB: number;
  heapAtEnd: ScaleStats['memory'];
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}


class EngineChild {
  readonly child: ChildProcess;
  private waiters: Array<(m: ScaleChildMessage) => boolean> = [];
  constructor() {
    this.child = fork(path.join(here, 'scale-engine.ts'), [], { execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.SCALE_NODE_FLAGS ? process.env.SCALE_NODE_FLAGS.split(' ') : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: ScaleChildMessage) => {
      if (m.type === 'error') process.stderr.write(`scale engine: ${m.message}\n`);
      this.waiters = this.waiters.filter((w) => !w(m));
    });
  }
  get pid(): number {
    return this.child.pid!;
  }
  request<T extends ScaleChildMessage['type']>(message: ScaleParentMessage, reply: T, timeoutMs: number): Promise<Extract<ScaleChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`engine: no ${reply} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiters.push((m) => {
        if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.message.split('\n')[0]));
          return true;
        }
        if (m.type !== reply) return false;
        clearTimeout(timer);
        resolve(m as Extract<ScaleChildMessage, { type: T }>);
        return true;
      });
      this.child.send(message);
    });
  }
  stats(counts: boolean): Promise<ScaleStats> {
    return this.request({ type: 'stats', counts }, 'stats', 30_000);
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'stop' });
    } catch {
      /* channel closed */
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function measureScale(sources: number, seconds: number, log: (m: string) => void): Promise<ScaleFigures> {
  let sim: ScaleSim | null = null;
  let engine: EngineChild | null = null;
  let readers: ReturnType<typeof openSseReaders> | null = null;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'marquee-scale-'));
  const stopAll = async () => {
    readers?.close();
    await engine?.stop();
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sim = await startScaleSim(sources, log);
    const input = await scaleSources(sim, log);
    engine = new EngineChild();
    const t0 = Date.now();
    const started = await engine.request({ type: 'start', dataDir, plexTvUrl: sim.plexTv, sources: input }, 'started', 120_000);
    log(`engine at ${started.url}: ${sources} sources added in ${started.addMs} ms`);

    // All connected with their push channel open.
    const limitMs = Math.max(120_000, sources * 30);
    let last: ScaleStats;
    for (;;) {
      last = await engine.stats(true);
      const connected = (last.status!.connected ?? 0) + (last.status!.sync_failed ?? 0);
      const open = last.push!.open ?? 0;
      if (connected === sources && open === sources) break;
      if (Date.now() - t0 > limitMs) throw new Error(`after ${limitMs / 1000} s: status ${JSON.stringify(last.status)}, push ${JSON.stringify(last.push)}`);
      log(`waiting: status ${JSON.stringify(last.status)}, push ${JSON.stringify(last.push)}, engine ${Math.round(rssMB(engine.pid))} MB (${JSON.stringify(last.memory)}), ${fdCount(engine.pid)} fds`);
      await sleep(2_000);
    }
    const readyMs = Date.now() - t0;
    log(`all ${sources} connected, push open, after ${(readyMs / 1000).toFixed(1)} s`);

    readers = openSseReaders(started.url, SSE_CLIENTS);
    for (let i = 0; readers.ready() < SSE_CLIENTS; i++) {
      if (i > 600) throw new Error(`only ${readers.ready()} SSE readers connected`);
      await sleep(100);
    }
    await sleep(5_000); // let the snapshots' aftermath settle

    // ---- the window ----
    const pool = sim.servers.filter((s) => s.kind === 'plex').slice(-5).map((s) => s.id);
    const down = new Set<string>();
    readers.reset();
    const s0 = await engine.stats(false);
    const profileFile = process.env.SCALE_PROFILE;
    if (profileFile) engine.child.send({ type: 'profile', action: 'start' });
    const cpu0 = cpuMs(engine.pid);
    const w0 = Date.now();
    const rss: number[] = [];
    for (let tick = 0; Date.now() - w0 < seconds * 1000; tick++) {
      rss.push(rssMB(engine.pid));
      if (tick % 2 === 0) {
        const id = pool[(tick / 2) % pool.length]!;
        const mode = down.has(id) ? 'up' : 'crash';
        if (mode === 'up') down.delete(id);
        else down.add(id);
        void sim.fault(id, mode).catch(() => undefined);
      }
      await sleep(Math.max(0, w0 + (tick + 1) * 1000 - Date.now()));
    }
    const cpu1 = cpuMs(engine.pid);
    if (profileFile) engine.child.send({ type: 'profile', action: 'stop', file: `${profileFile}.${sources}.cpuprofile` });
    const s1 = await engine.stats(false);
    const elapsedS = (Date.now() - w0) / 1000;
    const fds = fdCount(engine.pid);
    const latencies = readers.latencies;
    const frames = { ...readers.frames };
    await Promise.all([...down].map((id) => sim!.fault(id, 'up').catch(() => undefined)));
    const end = await engine.stats(true);
    // After the window (never during it): how much of the heap is live, the rest being garbage V8 has not collected yet.
    const live = (await engine.request({ type: 'stats', counts: false, gc: true }, 'stats', 60_000)).memory;
    log(`RSS each second of the window (MB): ${rss.map((v) => Math.round(v)).join(' ')}`);
    log(`after a full GC: ${JSON.stringify(live)}, RSS ${Math.round(rssMB(engine.pid))} MB`);
    log(`end: engine ${Math.round(rssMB(engine.pid))} MB (${JSON.stringify(end.memory)})`);
    return {
      sources,
      seconds: elapsedS,
      readyMs,
      cpuPercent: ((cpu1 - cpu0) / (elapsedS * 1000)) * 100,
      rssMB: rss,
      probesPerS: (s1.probes - s0.probes) / elapsedS,
      pingsPerS: (s1.pings - s0.pings) / elapsedS,
      sseLatencies: latencies,
      sseFrames: frames,
      fds,
      status: end.status ?? {},
      liveHeapMB: live.heapUsedMB,
      heapAtEnd: end.memory,
      push: end.push ?? {},
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}

export function scaleRows(f: ScaleFigures): BenchRow[] {
  const judged = f.sources >= 10_000;
  const label = `${f.sources.toLocaleString('en')} sources × 3 routes`;
  const rss = summarize(f.rssMB);
  const sse = summarize(f.sseLatencies);
  const frames = Object.entries(f.sseFrames).map(([k, v]) => `${k} ${Math.round(v / SSE_CLIENTS / f.seconds * 10) / 10}/s`).join(', ');
  return [
    {
      case: `engine CPU, ${label}`,
      n: 1,
      unit: '%',
      p50: f.cpuPercent,
      p95: null,
      ...(judged ? { goal: '≤ 25 % of one core', met: f.cpuPercent <= 25 } : {}),
      note: `${Math.round(f.seconds)} s steady state, % of one core; all connected + push open after ${(f.readyMs / 1000).toFixed(0)} s`,
    },
    {
      case: `engine RSS, ${label}`,
      n: rss.n,
      unit: 'MB',
      p50: rss.p50,
      p95: rss.p95,
      max: rss.max,
      ...(judged ? { goal: '≤ 1024 MB', met: rss.max !== null && rss.max <= 1024 } : {}),
      note: `${f.fds} open fds; live JS heap ${f.liveHeapMB} MB after a full GC (V8 heap before it ${f.heapAtEnd.heapTotalMB} MB)`,
    },
    { case: `probes/s, ${label}`, n: 1, unit: '/s', p50: f.probesPerS, p95: null, note: 'HTTP probes of routes (light + full checks)' },
    { case: `WebSocket pings/s, ${label}`, n: 1, unit: '/s', p50: f.pingsPerS, p95: null, note: `push channels ${JSON.stringify(f.push)}` },
    {
      case: `SSE fan-out to ${SSE_CLIENTS} clients, ${label}`,
      n: sse.n,
      unit: 'ms',
      p50: sse.p50,
      p95: sse.p95,
      max: sse.max,
      ...(judged ? { goal: 'p95 ≤ 100 ms', met: sse.p95 !== null && sse.p95 <= 100 } : {}),
      note: `event timestamp → reader; frames per client: ${frames || 'none'}`,
    },
  ];
}

export const scale: Benchmark = {
  name: 'scale',
  description: 'N sources × 3 routes, default settings, steady state: engine CPU share, RSS, probes/s, pings/s, SSE fan-out to 100 clients',
  async run(options: BenchOptions) {
    const runs = options.quick ? [{ n: 1_000, s: 20 }] : [{ n: 1_000, s: 60 }, { n: 10_000, s: 60 }];
    const rows: BenchRow[] = [];
    for (const { n, s } of runs) {
      options.log(`scale: ${n} sources, ${s} s window`);
      rows.push(...scaleRows(await measureScale(n, s, options.log)));
    }
    return rows;
  },
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sizes = (arg('--sizes') ?? (quick ? '1000' : '1000,10000')).split(',').map(Number);
  const seconds = Number(arg('--seconds') ?? (quick ? 20 : 60));
  const log = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
  for (const n of sizes) {
    const figures = await measureScale(n, seconds, log);
    const { sseLatencies, rssMB: rss, ...rest } = figures;
    console.log(JSON.stringify({ ...rest, rssMaxMB: Math.max(...rss), sse: summarize(sseLatencies) }));
    for (const row of scaleRows(figures)) console.log(`${row.case}: p50 ${row.p50?.toFixed(1)} p95 ${row.p95?.toFixed(1) ?? '-'} ${row.unit} ${row.met === undefined ? '' : row.met ? 'MET' : 'NOT MET'} (${row.note ?? ''})`);
  }
}
