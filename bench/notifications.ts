// Benchmark — notifications (issue 16): the real runtime (engine with push channels, SQLite store,
// NotificationService, durable outbox, the real webhook sender) over the simulators, sending to a
// webhook receiver on loopback. Two groups of simulated Plex servers run side by side in one runtime:
//   - crash group: each server crashes at a random moment within 2 s, stays down until its "lost"
//     arrived and one damping window passed (so its "back" is not held by the window), then comes
//     back. Per source: crash → engine ConnectionLost (detection, the engine's own figure: the
//     baseline), ConnectionLost → webhook "lost" (the hold-down plus queueing and delivery), and
//     their sum crash → webhook; restore → ConnectionRestored (baseline) and restore → webhook "back".
//   - flap group: each server flaps at 1 Hz (crash 500 ms, up 500 ms) for 2 min (quick: 30 s).
//     Messages per source per minute reaching the webhook while it flaps, beside the engine's own
//     ConnectionLost + ConnectionRestored events per source per minute in the same interval (what a
//     notifier sending every change would send: the baseline).
// Default monitor and notification settings in the full run (hold-down 30 s, window 60 s); the
// quick run shortens the hold-down to 5 s and the window to 10 s (the settings' minimum) so it
// ends in under a minute. Each source has its own target (the same receiver, its own path), so a
// target's rate limit (20 per minute) never hides a message from these counts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MONITOR_SETTINGS, EngineNotificationSettingsSchema, type NotificationSettingsInput } from '../src/core/settings.js';
import type { EngineStreamMessage } from '../src/monitor/engine-types.js';
import { createSimulation, type Simulation } from '../sim/index.js';
import { startTestRuntime, type TestRuntime } from '../test/support/start.js';
import { sleep, waitAtMost, waitUntil } from '../test/support/wait.js';
import { summarize } from './stats.js';
import type { Benchmark, BenchRow } from './types.js';

interface Delivery {
  /** performance.now() when the request arrived. */
  at: number;
  event: string;
  sourceId: string | null;
}

/** A webhook target on loopback that notes when each message arrived (performance.now()). */
async function startWebhookReceiver(): Promise<{ port: number; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event?: string; source?: { id?: string } | null };
        deliveries.push({ at, event: String(body.event), sourceId: body.source?.id ?? null });
      } catch {
        deliveries.push({ at, event: 'unparsable', sourceId: null });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface EngineSeen {
  lost: number[];
  restored: number[];
}

export interface NotificationBenchConfig {
  crashSources: number;
  flapSources: number;
  flapMs: number;
  notifications: NotificationSettingsInput;
  log: (message: string) => void;
}

export interface NotificationBenchOutput {
  holdDownMs: number;
  windowMs: number;
  detectionMs: number[];
  lostAfterEventMs: number[];
  crashToLostMs: number[];
  restoreToEventMs: number[];
  restoreToBackMs: number[];
  /** Crash-group sources whose "lost" / "back" never arrived. */
  missingLost: number;
  missingBack: number;
  /** Per flapping source, per minute of flapping. */
  flapMessagesPerMinute: number[];
  flapEngineChangesPerMinute: number[];
  /** The events the flapping sources' messages were (e.g. {"unstable": 10}). */
  flapMessageEvents: Record<string, number>;
  /** Most messages any one flapping source sent while it flapped. */
  flapMaxMessages: number;
}

export async function measureNotifications(config: NotificationBenchConfig): Promise<NotificationBenchOutput> {
  const settings = EngineNotificationSettingsSchema.parse(config.notifications);
  const crashIds = Array.from({ length: config.crashSources }, (_, i) => `notify-crash-${i}`);
  const flapIds = Array.from({ length: config.flapSources }, (_, i) => `notify-flap-${i}`);
  const sim: Simulation = await createSimulation({
    servers: [...crashIds.map((id, i) => ({ id, host: `127.2.${i}` })), ...flapIds.map((id, i) => ({ id, host: `127.3.${i}` }))].map(({ id, host }) => ({
      id,
      kind: 'plex' as const,
      name: id,
      routes: [
        { id: `${id}-local`, kind: 'local' as const, host: `${host}.2` },
        { id: `${id}-remote`, kind: 'remote' as const, host: `${host}.3` },
      ],
    })),
  });
  const receiver = await startWebhookReceiver();
  const seen = new Map<string, EngineSeen>();
  const record = (message: EngineStreamMessage) => {
    if (message.type !== 'engine') return;
    const { event } = message.message;
    const entry = seen.get(event.sourceId);
    if (!entry) return;
    if (event.type === 'ConnectionLost') entry.lost.push(performance.now());
    if (event.type === 'ConnectionRestored') entry.restored.push(performance.now());
  };
  let runtime: TestRuntime | undefined;
  try {
    runtime = await startTestRuntime({ plexTvUrl: sim.plexTvUrl, notifications: config.notifications, onMessage: record });
    const engine = runtime.engine;
    const sourceOf = new Map<string, string>(); // sim id -> engine source id
    for (const server of sim.servers) {
      const added = engine.addSource({
        name: server.name,
        kind: 'plex',
        serverId: server.machineId,
        routes: server.routes.map((r, priority) => ({ url: r.url, kind: r.kind, priority })),
        credentials: { token: sim.plexTv.serverToken(server.id) },
      });
      sourceOf.set(server.id, added.source.id);
      seen.set(added.source.id, { lost: [], restored: [] });
      // One target per source: a target's rate limit never hides a message from the counts.
      const target = runtime.notifications.addTarget({ name: server.id, url: `json://127.0.0.1:${receiver.port}/hook/${server.id}`, sources: [added.source.id] });
      if (!target.ok) throw new Error(target.message);
    }
    const total = sim.servers.length;
    const connected = () => engine.listSources().filter((s) => s.status.state === 'connected').length;
    await waitUntil(() => connected() === total, { what: 'every source connected', timeoutMs: 30_000, intervalMs: 50, detail: () => `${connected()}/${total} connected` });
    await waitAtMost(() => [...sourceOf.values()].every((id) => engine.pushState(id) === 'open'), 10_000);
    await sleep(1_000); // follow-ups (libraries) settle into the steady schedule
    config.log(`${total} sources connected; crashing ${crashIds.length}, flapping ${flapIds.length} for ${config.flapMs / 1000} s`);

    const messagesOf = (sourceId: string) => receiver.deliveries.filter((d) => d.sourceId === sourceId);
    const crashAt = new Map<string, number>();
    const restoreAt = new Map<string, number>();

    const crashGroup = Promise.all(
      crashIds.map(async (simId) => {
        const sourceId = sourceOf.get(simId)!;
        await sleep(Math.random() * 2_000);
        crashAt.set(sourceId, performance.now());
        await sim.server(simId).fault({ mode: 'crash' });
        // Down until its "lost" arrived and one window passed, so the "back" is not held by the window.
        const limit = settings.holdDownMs + 30_000;
        const lostArrived = await waitAtMost(() => messagesOf(sourceId).some((d) => d.event === 'lost'), limit, 50);
        await sleep(lostArrived ? settings.windowMs + 500 + Math.random() * 1_000 : 0);
        restoreAt.set(sourceId, performance.now());
        await sim.server(simId).fault({ mode: 'up' });
        await waitAtMost(() => messagesOf(sourceId).some((d) => d.event === 'back'), 30_000, 50);
      }),
    );

    const flapStart = performance.now();
    const flapEnd = flapStart + config.flapMs;
    const flapGroup = Promise.all(
      flapIds.map(async (simId) => {
        await sleep(Math.random() * 1_000); // each source at its own phase
        for (let cycle = 0; cycle < Math.ceil(config.flapMs / 1_000) && performance.now() < flapEnd; cycle++) {
          await sim.server(simId).fault({ mode: 'crash' });
          await sleep(500);
          await sim.server(simId).fault({ mode: 'up' });
          await sleep(500);
        }
      }),
    );
    await Promise.all([crashGroup, flapGroup]);
    const flapStop = Math.max(flapEnd, performance.now());

    const output: NotificationBenchOutput = {
      holdDownMs: settings.holdDownMs,
      windowMs: settings.windowMs,
      detectionMs: [],
      lostAfterEventMs: [],
      crashToLostMs: [],
      restoreToEventMs: [],
      restoreToBackMs: [],
      missingLost: 0,
      missingBack: 0,
      flapMessagesPerMinute: [],
      flapEngineChangesPerMinute: [],
      flapMessageEvents: {},
      flapMaxMessages: 0,
    };
    for (const simId of crashIds) {
      const sourceId = sourceOf.get(simId)!;
      const crashed = crashAt.get(sourceId)!;
      const restored = restoreAt.get(sourceId)!;
      const events = seen.get(sourceId)!;
      const lostEvent = events.lost.find((t) => t >= crashed);
      const lost = messagesOf(sourceId).find((d) => d.event === 'lost');
      const back = messagesOf(sourceId).find((d) => d.event === 'back');
      const restoredEvent = events.restored.find((t) => t >= restored);
      if (lostEvent !== undefined) output.detectionMs.push(lostEvent - crashed);
      if (lost) {
        output.crashToLostMs.push(lost.at - crashed);
        if (lostEvent !== undefined) output.lostAfterEventMs.push(lost.at - lostEvent);
      } else output.missingLost++;
      if (restoredEvent !== undefined) output.restoreToEventMs.push(restoredEvent - restored);
      if (back) output.restoreToBackMs.push(back.at - restored);
      else output.missingBack++;
    }
    const minutes = (flapStop - flapStart) / 60_000;
    for (const simId of flapIds) {
      const sourceId = sourceOf.get(simId)!;
      const during = messagesOf(sourceId).filter((d) => d.at >= flapStart && d.at <= flapStop);
      for (const d of during) output.flapMessageEvents[d.event] = (output.flapMessageEvents[d.event] ?? 0) + 1;
      output.flapMaxMessages = Math.max(output.flapMaxMessages, during.length);
      output.flapMessagesPerMinute.push(during.length / minutes);
      const events = seen.get(sourceId)!;
      const changes = [...events.lost, ...events.restored].filter((t) => t >= flapStart && t <= flapStop).length;
      output.flapEngineChangesPerMinute.push(changes / minutes);
    }
    return output;
  } finally {
    await runtime?.close();
    await receiver.close();
    await sim.close();
  }
}

const FLAP_MS = { quick: 45_000, full: 120_000 };

function msRow(caseName: string, samples: number[], extra: Partial<BenchRow> = {}): BenchRow {
  const s = summarize(samples);
  return { case: caseName, n: s.n, unit: 'ms', p50: s.p50, p95: s.p95, min: s.min, max: s.max, ...extra };
}

export const notifications: Benchmark = {
  name: 'notifications',
  description: 'server crash → webhook "lost" (detection + hold-down), restore → "back", and messages per source per minute under 1 Hz flapping, real runtime over the simulators',
  async run(options) {
    const out = await measureNotifications({
      crashSources: options.quick ? 5 : 10,
      flapSources: options.quick ? 5 : 10,
      flapMs: options.quick ? FLAP_MS.quick : FLAP_MS.full,
      // Full run: the defaults. Quick: half of them (a 10 s window is shorter than the quiet
      // stretches the engine itself sees in 1 Hz flapping — retries ~4 s apart while down — so it
      // would measure those stretches, not the damping).
      notifications: options.quick ? { holdDownMs: 15_000, windowMs: 30_000 } : {},
      log: options.log,
    });
    options.log(`flapping sources' messages: ${JSON.stringify(out.flapMessageEvents)}; missing lost ${out.missingLost}, back ${out.missingBack}`);
    const settingsNote = `hold-down ${out.holdDownMs / 1000} s, window ${out.windowMs / 1000} s`;
    const lostExtra = out.lostAfterEventMs.length ? Math.max(...out.lostAfterEventMs) - out.holdDownMs : null;
    const flap = summarize(out.flapMessagesPerMinute);
    const flapMinutes = (options.quick ? FLAP_MS.quick : FLAP_MS.full) / 60_000;
    const missing = (what: string, n: number) => (n > 0 ? `; ${n} ${what} never arrived` : '');
    return [
      msRow('crash → engine ConnectionLost (detection; reference)', out.detectionMs, { note: `push on, monitor defaults (base tick ${DEFAULT_MONITOR_SETTINGS.baseTickMs / 1000} s)` }),
      msRow('engine ConnectionLost → webhook "lost" (hold-down + queue + delivery)', out.lostAfterEventMs, {
        goal: `≥ hold-down, ≤ hold-down + 1 s`,
        met: out.lostAfterEventMs.length === 0 || out.missingLost > 0 ? false : out.lostAfterEventMs.every((ms) => ms >= out.holdDownMs - 5) && lostExtra !== null && lostExtra <= 1_000,
        note: `${settingsNote}${lostExtra !== null ? `; at most ${Math.round(lostExtra)} ms beyond the hold-down` : ''}`,
      }),
      msRow('crash → webhook "lost" (detection + hold-down)', out.crashToLostMs, { note: `sum of the two rows above${missing('"lost"', out.missingLost)}` }),
      msRow('restore → engine ConnectionRestored (reference)', out.restoreToEventMs),
      msRow('restore → webhook "back"', out.restoreToBackMs, {
        note: `restored one window after its "lost", so the window does not hold it${missing('"back"', out.missingBack)}`,
      }),
      {
        case: 'engine ConnectionLost + ConnectionRestored per source per minute under 1 Hz flapping (what a notifier sending every change would send; reference)',
        n: out.flapEngineChangesPerMinute.length,
        unit: 'count',
        ...pick(summarize(out.flapEngineChangesPerMinute)),
        note: `${flapMinutes} min of flapping`,
      },
      {
        case: 'webhook messages per source per minute under 1 Hz flapping',
        n: flap.n,
        unit: 'count',
        ...pick(flap),
        goal: 'at most one message per source while it flaps',
        met: out.flapMessagesPerMinute.length > 0 && out.flapMaxMessages <= 1,
        note: `${flapMinutes} min; most from one source: ${out.flapMaxMessages}; events ${JSON.stringify(out.flapMessageEvents)}; ${settingsNote}`,
      },
    ];
  },
};

function pick(s: { p50: number | null; p95: number | null; min: number | null; max: number | null }) {
  return { p50: s.p50, p95: s.p95, min: s.min, max: s.max };
}
