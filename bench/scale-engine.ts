// Child process of the scale benchmark: the real Marquee runtime (store in a temp dir, backends,
// engine, Fastify server with SSE) with its DEFAULT monitor settings, so the parent can measure this
// process alone (/proc/<pid>/stat) while the simulators run in processes of their own.
// Talks to the parent over IPC: `start` (sources to add), `stats`, `stop`.
import type { Session } from 'node:inspector';
import WebSocket from 'ws';
import type { NewSourceInput } from '../src/monitor/engine-types.js';
import { limitHeapGrowth } from '../src/cli/heap.js';
import { startRuntime, type Runtime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { createMetrics } from '../src/server/metrics.js';
import { toApiSource } from '../src/server/views.js';

export interface ScaleStartMessage {
  type: 'start';
  dataDir: string;
  plexTvUrl: string;
  sources: NewSourceInput[];
}
export type ScaleParentMessage = ScaleStartMessage | { type: 'stats'; counts: boolean; gc?: boolean } | { type: 'profile'; action: 'start' | 'stop'; file?: string } | { type: 'stop' };

export interface ScaleStats {
  type: 'stats';
  at: number;
  probes: number;
  pings: number;
  /** source count by status, and push channels by state (only when asked: it walks every source). */
  status?: Record<string, number>;
  push?: Record<string, number>;
  /** Up to five sources that are not connected, with their error. */
  unhealthy?: string[];
  memory: { heapUsedMB: number; heapTotalMB: number; externalMB: number; arrayBuffersMB: number };
}
export type ScaleChildMessage = { type: 'started'; url: string; addMs: number } | ScaleStats | { type: 'stopped' } | { type: 'error'; message: string };

// Counters for the figures: every WebSocket ping the push channels send, every probe made.
let pings = 0;
let probes = 0;
// eslint-disable-next-line @typescript-eslint/unbound-method -- called back with .apply(this) below
const originalPing = WebSocket.prototype.ping;
WebSocket.prototype.ping = function (this: WebSocket, ...args: Parameters<WebSocket['ping']>) {
  pings++;
  return originalPing.apply(this, args);
};

// Diagnosis only (SCALE_DIAG_NO_KEEPALIVE): every HTTP request closes its connection afterwards,
// to measure what the idle keep-alive sockets to thousands of origins cost.
if (process.env.SCALE_DIAG_NO_KEEPALIVE) {
  const { Agent } = await import('undici');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called back with .call(this) below
  const dispatch = Agent.prototype.dispatch;
  Agent.prototype.dispatch = function (this: InstanceType<typeof Agent>, opts: Parameters<typeof dispatch>[0], handler: Parameters<typeof dispatch>[1]) {
    return dispatch.call(this, { ...opts, reset: true }, handler);
  };
}

// Diagnosis only (SCALE_DIAG_CLIENT_PER_ORIGIN): the Agent makes a single Client per origin instead
// of a Pool (what `connections: 1` does), to measure what a Pool per probed origin costs.
if (process.env.SCALE_DIAG_CLIENT_PER_ORIGIN) {
  const { Agent, Client } = await import('undici');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called back with .call(this) below
  const dispatch = Agent.prototype.dispatch;
  Agent.prototype.dispatch = function (this: InstanceType<typeof Agent>, opts: Parameters<typeof dispatch>[0], handler: Parameters<typeof dispatch>[1]) {
    const self = this as unknown as Record<symbol, unknown>;
    const key = Object.getOwnPropertySymbols(self).find((k) => k.description === 'factory');
    if (key) self[key] = (origin: string, o: object) => new Client(origin, o);
    return dispatch.call(this, opts, handler);
  };
}

let runtime: Runtime | null = null;

const send = (m: ScaleChildMessage) => process.send?.(m);

async function start(m: ScaleStartMessage): Promise<void> {
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--data-dir', m.dataDir, '--log-level', 'error'], { MARQUEE_PLEX_TV_URL: m.plexTvUrl });
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const observe = metrics.observeProbe.bind(metrics);
  metrics.observeProbe = (...args: Parameters<typeof observe>) => {
    probes++;
    observe(...args);
  };
  // As `marquee serve` does. Diagnosis only (SCALE_DIAG_DEFAULT_HEAP_GROWTH): V8's own growth step,
  // to measure what the limit saves (2026-11-26: RSS 750 -> 826 MB climbing over the window, vs a
  // flat 478-493 MB with the limit).
  if (!process.env.SCALE_DIAG_DEFAULT_HEAP_GROWTH) limitHeapGrowth();
  const started = await startRuntime(config, { metrics, logger });
  runtime = started;
  const t0 = performance.now();
  for (const source of m.sources) started.engine.addSource(source);
  send({ type: 'started', url: started.url ?? '', addMs: Math.round(performance.now() - t0) });
}

function stats(counts: boolean): ScaleStats {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 2 ** 20);
  const memory = { heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers) };
  const out: ScaleStats = { type: 'stats', at: Date.now(), probes, pings, memory };
  if (counts && runtime) {
    const status: Record<string, number> = {};
    const push: Record<string, number> = {};
    const unhealthy: string[] = [];
    for (const s of runtime.engine.listSources().map(toApiSource)) {
      status[s.status] = (status[s.status] ?? 0) + 1;
      push[s.push] = (push[s.push] ?? 0) + 1;
      // A few examples of why a source is not connected (a healthy steady state has none).
      if (s.status !== 'connected' && s.status !== 'connecting' && unhealthy.length < 5) unhealthy.push(`${s.name}: ${s.status}${s.attempt ? ` (attempt ${s.attempt})` : ''}${s.error ? ` — ${s.error}` : ''}`);
    }
    out.status = status;
    out.push = push;
    if (unhealthy.length > 0) out.unhealthy = unhealthy;
  }
  return out;
}

// Diagnosis only (SCALE_PROFILE): a CPU profile of the measured window, via the inspector.
let session: Session | null = null;
async function profile(action: 'start' | 'stop', file?: string): Promise<void> {
  const inspector = await import('node:inspector');
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  const heap = process.env.SCALE_HEAP_PROFILE === '1';
  if (action === 'start') {
    session = new inspector.Session();
    session.connect();
    if (heap) {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true });
    } else {
      await post('Profiler.enable');
      await post('Profiler.start');
    }
  } else if (session) {
    const { profile: result } = (await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop')) as { profile: unknown };
    const { writeFileSync } = await import('node:fs');
    if (file) writeFileSync(file, JSON.stringify(result));
    session.disconnect();
    session = null;
  }
}

async function stop(): Promise<void> {
  await runtime?.close().catch(() => undefined);
  send({ type: 'stopped' });
  process.exit(0);
}

process.on('message', (m: ScaleParentMessage) => {
  const fail = (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  if (m.type === 'start') start(m).catch(fail);
  else if (m.type === 'stats') {
    if (m.gc) (globalThis as { gc?: () => void }).gc?.();
    send(stats(m.counts));
  }
  else if (m.type === 'stop') stop().catch(fail);
  else if (m.type === 'profile') profile(m.action, m.file).catch(fail);
});
// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
