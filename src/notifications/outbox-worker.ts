// Delivers the durable outbox (src/store/repos/notifications-repo.ts). Targets are delivered
// independently — a target that hangs or is down delays only itself, never another target nor the
// monitor — and one message at a time per target, in order. Retries back off from 1 s, doubling,
// to `retryCapMs` (about a minute); a message older than `maxAgeMs` (counted from when it was due)
// is dropped with the reason recorded on its target. An attempt is bounded by `timeoutMs` here
// too, whatever the sender does. A row is deleted only after the target acknowledged it (in the
// same transaction as the target's success), so after a kill -9 the row is simply sent again,
// with the same message id for receivers that dedupe.
import type { DeliveryResult } from '../core/notifications.js';
import { formatDuration } from '../core/notification-policy.js';
import type { Clock, TimerHandle } from '../monitor/clock.js';
import type { NotificationsRepo, OutboxRow } from '../store/index.js';
import { redactSecrets } from '../core/redact.js';
import type { NotificationLogger, Sender } from './types.js';

export interface OutboxWorkerOptions {
  repo: NotificationsRepo;
  send: Sender;
  clock: Clock;
  timeoutMs: number;
  retryCapMs: number;
  maxAgeMs: number;
  logger: Omit<NotificationLogger, 'error'>;
  random?: () => number;
}

const FIRST_RETRY_MS = 1_000;
/** After a storage fault, look again this much later. */
const STORAGE_RETRY_MS = 5_000;

export function retryDelayMs(attempts: number, capMs: number, random: () => number): number {
  const grown = Math.min(capMs, FIRST_RETRY_MS * 2 ** Math.min(attempts, 30));
  // Spread by up to 20 % so targets that failed together do not retry in lockstep.
  return Math.round(grown * (0.8 + 0.2 * random()));
}

export class OutboxWorker {
  private readonly busy = new Map<string, Promise<void>>();
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = true;
  private readonly abort = new AbortController();
  private readonly random: () => number;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Something was queued (or a timer fired): start every target whose head message is due. */
  wake(): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    let pending: Array<{ targetId: string; nextAttemptAt: number }>;
    try {
      pending = this.options.repo.pendingTargets();
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'notification outbox unreadable; trying again shortly');
      this.schedule(now + STORAGE_RETRY_MS);
      return;
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const { targetId, nextAttemptAt } of pending) {
      if (this.busy.has(targetId)) continue;
      if (nextAttemptAt <= now) this.startTarget(targetId);
      else earliest = Math.min(earliest, nextAttemptAt);
    }
    if (earliest < Number.POSITIVE_INFINITY) this.schedule(earliest);
  }

  /** Waits for the deliveries in flight (each bounded by the timeout) after aborting them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.busy.values()]);
  }

  /** Deliveries in flight (tests). */
  idle(): Promise<void> {
    return Promise.allSettled([...this.busy.values()]).then(() => undefined);
  }

  private schedule(at: number): void {
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, Math.max(0, at - this.options.clock.now()));
  }

  private startTarget(targetId: string): void {
    let faulted = false;
    const run = this.deliverTarget(targetId)
      .catch((error: unknown) => {
        faulted = true;
        this.options.logger.warn({ targetId, err: errorText(error) }, 'notification delivery stopped on a storage fault; trying again shortly');
        this.schedule(this.options.clock.now() + STORAGE_RETRY_MS);
      })
      .finally(() => {
        this.busy.delete(targetId);
        // After a fault, the timer above wakes us: waking now would retry at once, in a loop of
        // promise callbacks that never lets the event loop (and the monitor) run.
        if (!faulted) this.wake();
      });
    this.busy.set(targetId, run);
  }

  /** One target: its due messages in order, one at a time. */
  private async deliverTarget(targetId: string): Promise<void> {
    const { repo, clock } = this.options;
    while (!this.stopped) {
      const row = repo.headFor(targetId);
      if (!row || row.nextAttemptAt > clock.now()) return;
      const target = repo.getTarget(targetId);
      if (!target) return;
      if (clock.now() - row.dueAt > this.options.maxAgeMs) {
        repo.drop(row, clock.now(), `A message ("${row.message.title}") was dropped: not delivered within ${formatDuration(this.options.maxAgeMs)} (${row.attempts} attempts).`);
        continue;
      }
      const result = await this.attempt(target.url, row);
      if (this.stopped && !result.ok) return; // shutting down: the row stays queued for the next start
      const now = clock.now();
      if (result.ok) {
        repo.acknowledge(row, now);
        this.options.logger.debug({ targetId, messageId: row.messageId }, 'notification delivered');
      } else if (!result.retryable) {
        repo.drop(row, now, `${row.message.title}: not delivered — ${result.message}.`);
        this.options.logger.warn({ targetId, messageId: row.messageId, reason: result.message }, 'notification refused by its target; dropped');
      } else {
        const next = now + retryDelayMs(row.attempts, this.options.retryCapMs, this.random);
        repo.retryLater(row, now, next, `${result.message} (attempt ${row.attempts + 1}; retrying)`);
        this.options.logger.info({ targetId, messageId: row.messageId, reason: result.message }, 'notification not delivered; will retry');
        this.schedule(next);
        return;
      }
    }
  }

  /** Sends once, bounded by the timeout whatever the sender does; never throws. */
  private async attempt(url: string, row: OutboxRow): Promise<DeliveryResult> {
    const { clock, timeoutMs } = this.options;
    const attemptAbort = new AbortController();
    const onStop = () => attemptAbort.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    let timer: TimerHandle | null = null;
    const timedOut = new Promise<DeliveryResult>((resolve) => {
      timer = clock.setTimeout(() => {
        attemptAbort.abort();
        resolve({ ok: false, retryable: true, message: `no answer within ${formatDuration(timeoutMs)}` });
      }, timeoutMs);
    });
    try {
      // Called inside a promise: a sender that throws at once (not a rejected promise) is a failed
      // attempt too, not a fault that escapes into the worker's loop.
      const sent = Promise.resolve()
        .then(() => this.options.send(url, row.message, { timeoutMs, signal: attemptAbort.signal }))
        .catch(
        (error: unknown): DeliveryResult => ({ ok: false, retryable: true, message: `sending failed (${errorText(error)})` }),
      );
      return await Promise.race([sent, timedOut]);
    } finally {
      if (timer !== null) clock.clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onStop);
    }
  }
}

function errorText(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
