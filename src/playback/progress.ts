// Progress reports (issue 15): every report goes to the durable outbox first, then to the server
// over the routed caller; it leaves the outbox only once the server acknowledged it (2xx). A report
// that cannot be delivered — the server away, the route dead, a 5xx — waits there, collapsed to the
// latest per (source, item), and is delivered in order when the source is connected again (the
// engine's stream says so) or its backoff has passed. A refusal (4xx) can never succeed: dropped with
// a warning. Nothing here throws into a request.
import type { ProgressReport } from '../backends/types.js';
import type { Engine, EngineStreamMessage, RoutedCaller } from '../monitor/engine-types.js';
import type { OutboxEntry } from '../store/index.js';

/** The outbox as the reporter uses it (the SQLite repo; a test may pass its own). */
export interface ProgressOutbox {
  enqueue(sourceId: string, playbackId: string, report: ProgressReport): number;
  pending(sourceId: string, limit?: number): OutboxEntry[];
  sourcesWithPending(): string[];
  remove(id: number): void;
  deferred(id: number, change: { attempts: number; nextAttemptAt: number; offline: boolean }): void;
  markOffline(sourceId: string): void;
}

export interface ProgressReporterOptions {
  outbox: ProgressOutbox;
  caller: RoutedCaller;
  engine: Pick<Engine, 'subscribe' | 'getSource'>;
  now?: () => number;
  /** Deadline of one delivery, failover included (default 10 s). */
  timeoutMs?: number;
  /** Backoff after a counted failure: base doubling up to max (defaults 2 s, 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Counted failures (5xx, timeouts) before a report is given up (default 12; the server being away never counts). */
  maxAttempts?: number;
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

const isConnected = (state: string | undefined) => state === 'connected' || state === 'sync_failed';

export class ProgressReporter {
  private readonly now: () => number;
  private readonly log: NonNullable<ProgressReporterOptions['log']>;
  /** One delivery run per source at a time: reports of a source leave in order. */
  private readonly running = new Map<string, Promise<void>>();
  /** A run was asked for while one was going: go again after it. */
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: ProgressReporterOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  /** Listen to the engine and deliver what an earlier run left behind (a restart, a kill -9). */
  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.options.engine.subscribe((message) => this.onEngine(message));
    for (const sourceId of this.options.outbox.sourcesWithPending()) void this.kick(sourceId);
  }

  /**
   * Stores the report durably, then tries to deliver it. Resolves once this delivery run is over
   * (delivered or left waiting); never rejects.
   */
  async submit(sourceId: string, playbackId: string, report: ProgressReport): Promise<void> {
    try {
      this.options.outbox.enqueue(sourceId, playbackId, report);
    } catch (error) {
      // Storage is unusable: still try to tell the server, it is the only copy now.
      this.log('warn', { err: error instanceof Error ? error.message : String(error) }, 'a progress report could not be stored; sending it without a copy');
      await this.deliverOnce(sourceId, report);
      return;
    }
    await this.kick(sourceId);
  }

  /** Every delivery run done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.idle();
  }

  private onEngine(message: EngineStreamMessage): void {
    const sourceId = message.type === 'source' ? message.source.source.id : message.type === 'engine' ? message.message.event.sourceId : null;
    if (!sourceId) return;
    if (isConnected(this.options.engine.getSource(sourceId)?.status.state) && this.options.outbox.pending(sourceId, 1).length > 0) void this.kick(sourceId);
  }

  /** Starts a delivery run for a source (or asks the running one to go again). */
  private kick(sourceId: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const running = this.running.get(sourceId);
    if (running) {
      this.again.add(sourceId);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(sourceId);
          await this.deliver(sourceId);
        } while (this.again.has(sourceId) && !this.closed);
      } catch (error) {
        this.log('warn', { sourceId, err: error instanceof Error ? error.message : String(error) }, 'progress delivery stopped');
      } finally {
        this.running.delete(sourceId);
      }
    })();
    this.running.set(sourceId, run);
    return run;
  }

  /** Delivers waiting reports of a source in order; stops at the first that has to wait. */
  private async deliver(sourceId: string): Promise<void> {
    for (let guard = 0; guard < 10_000 && !this.closed; guard++) {
      const [entry] = this.options.outbox.pending(sourceId, 1);
      if (!entry) return;
      if (!isConnected(this.options.engine.getSource(sourceId)?.status.state)) {
        if (this.options.engine.getSource(sourceId) === null) return;
        // Away: everything waiting was made while it was away. The engine's stream wakes us.
        this.options.outbox.markOffline(sourceId);
        return;
      }
      const wait = entry.nextAttemptAt - this.now();
      if (wait > 0) return this.schedule(sourceId, wait);
      const report: ProgressReport = entry.offline ? { ...entry.report, offlineAt: entry.createdAt } : entry.report;
      const outcome = await this.options.caller.call(
        sourceId,
        (use, signal) => {
          if (!use.backend.playback) return Promise.resolve({ ok: false as const, error: { code: 'malformed' as const, message: `a ${use.source.kind} server takes no progress reports here` } });
          return use.backend.playback.report(use, report, { timeoutMs: this.options.timeoutMs ?? 10_000, signal });
        },
        { timeoutMs: this.options.timeoutMs ?? 10_000 },
      );
      if (outcome.ok) {
        this.options.outbox.remove(entry.id);
        continue;
      }
      if (outcome.reason === 'unknown_source') return;
      if (outcome.reason === 'offline') {
        this.options.outbox.markOffline(sourceId);
        return;
      }
      const status = outcome.error?.status;
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429 && outcome.error?.code !== 'unauthorized') {
        this.log('warn', { sourceId, itemId: entry.itemId, status }, `a progress report was refused and dropped: ${outcome.message}`);
        this.options.outbox.remove(entry.id);
        continue;
      }
      const attempts = entry.attempts + 1;
      if (attempts >= (this.options.maxAttempts ?? 12)) {
        this.log('warn', { sourceId, itemId: entry.itemId, attempts }, `a progress report was given up after ${attempts} failed deliveries: ${outcome.message}`);
        this.options.outbox.remove(entry.id);
        continue;
      }
      const delay = Math.min(this.options.retryMaxMs ?? 300_000, (this.options.retryBaseMs ?? 2_000) * 2 ** (attempts - 1));
      this.options.outbox.deferred(entry.id, { attempts, nextAttemptAt: this.now() + delay, offline: true });
      this.log('info', { sourceId, itemId: entry.itemId, attempts, retryInMs: delay }, `a progress report waits: ${outcome.message}`);
      return this.schedule(sourceId, delay);
    }
  }

  private schedule(sourceId: string, delayMs: number): void {
    if (this.closed || this.timers.has(sourceId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(sourceId);
      void this.kick(sourceId);
    }, delayMs);
    timer.unref();
    this.timers.set(sourceId, timer);
  }

  /** Storage failed: one try, no copy. */
  private async deliverOnce(sourceId: string, report: ProgressReport): Promise<void> {
    await this.options.caller.call(sourceId, (use, signal) =>
      use.backend.playback ? use.backend.playback.report(use, report, { timeoutMs: this.options.timeoutMs ?? 10_000, signal }) : Promise.resolve({ ok: true as const, value: null }),
    );
  }
}
