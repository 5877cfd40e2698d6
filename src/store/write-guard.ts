// Every write goes through here.
//
// Group commit: monitor writes (status, check times, history, probe results, events) are queued
// and committed together in one transaction every `flushDelayMs` (or every `maxBatch` writes).
// At 10,000 sources that is a few commits per second instead of thousands. A kill -9 loses at most
// that window of monitor writes, never integrity, and never a source or credential (those are
// configuration writes, committed at once and durably). Reads flush first, so the store always
// reads its own writes.
//
// Storage faults: a fault (read-only or full disk, I/O error, lock) turns the store `degraded` with
// a reason in plain words instead of throwing into the monitor. Monitor writes are then kept in
// memory (bounded; latest-wins for current state) and replayed by a retry timer until the disk
// takes them again. Configuration writes are refused with StoreUnavailableError so the API can
// tell the user — until the held writes have landed (a retry runs first), never ahead of them.
import { StoreUnavailableError, classifyStorageError, type StorageFault } from './errors.js';
import type { StoreLogger } from './logger.js';

export type StoreHealth =
  | { state: 'ok' }
  | {
      state: 'degraded';
      /** Plain words, e.g. "the disk holding the data directory is full; 12 changes are kept in memory; retrying every 5 s". */
      detail: string;
      /** The underlying code, e.g. SQLITE_FULL or EROFS. */
      code: string;
      since: number;
      pendingWrites: number;
      droppedWrites: number;
    };

export interface WriteGuardOptions {
  logger: StoreLogger;
  now: () => number;
  /** Bound on buffered (not coalesced) monitor writes while degraded; the oldest are dropped beyond it. */
  maxPendingWrites: number;
  retryIntervalMs: number;
  /** Group-commit window for monitor writes; 0 writes each one at once. */
  flushDelayMs: number;
  /** A batch this large is committed without waiting for the window. */
  maxBatch: number;
  /** Runs `fn` in a transaction (a savepoint when nested). */
  transaction: (fn: () => void) => void;
  /** A tiny real write used to find out whether storage works again (may reconnect first). */
  heartbeat: () => void;
}

interface PendingWrite {
  label: string;
  write: () => void;
  key: string | undefined;
}

export class WriteGuard {
  private fault: (StorageFault & { since: number }) | null = null;
  /** Not yet committed (healthy storage), in order; coalesced entries are replaced in place. */
  private batch: PendingWrite[] = [];
  private batchIndex = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** While degraded: appends (history, events, probe results), replayed in order. */
  private readonly queue: PendingWrite[] = [];
  /** While degraded: latest-wins writes (a source's current status, its library set), one per key. */
  private readonly latest = new Map<string, PendingWrite>();
  private dropped = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly listeners = new Set<(health: StoreHealth) => void>();

  constructor(private readonly options: WriteGuardOptions) {}

  /**
   * A monitor write: never throws. Committed with the next group commit; a write that fails for a
   * non-storage reason (a bug, or the source was removed meanwhile) is logged and dropped.
   * `coalesceKey` makes a later write replace an earlier uncommitted one with the same key.
   */
  background(label: string, write: () => void, coalesceKey?: string): void {
    if (this.closed) return;
    const pending: PendingWrite = { label, write, key: coalesceKey };
    if (this.fault) {
      this.enqueue(pending);
      return;
    }
    const index = coalesceKey === undefined ? undefined : this.batchIndex.get(coalesceKey);
    if (index !== undefined) {
      this.batch[index] = pending;
    } else {
      if (coalesceKey !== undefined) this.batchIndex.set(coalesceKey, this.batch.length);
      this.batch.push(pending);
    }
    if (this.options.flushDelayMs <= 0 || this.batch.length >= this.options.maxBatch) this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.options.flushDelayMs);
      this.flushTimer.unref();
    }
  }

  /** Commits queued monitor writes now (reads, health and configuration writes call this first). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.batch.length === 0) return;
    const ops = this.batch;
    this.batch = [];
    this.batchIndex = new Map();
    if (this.fault) {
      ops.forEach((op) => this.enqueue(op));
      return;
    }
    try {
      this.options.transaction(() => ops.forEach((op) => this.runOne(op)));
    } catch (error) {
      const fault = classifyStorageError(error);
      if (!fault) {
        this.options.logger.warn({ op: 'flush', err: describe(error) }, 'store writes skipped');
        return;
      }
      ops.forEach((op) => this.enqueue(op));
      this.markDegraded(fault, ops[0]?.label ?? 'flush');
    }
  }

  /** Storage was already unusable when the store opened (e.g. a read-only data dir). */
  startDegraded(fault: StorageFault): void {
    this.markDegraded(fault, 'open');
  }

  /**
   * A configuration write: throws StoreUnavailableError (plain words) on a storage fault. While
   * degraded, the writes held in memory must land first: a change that alone would fit (a row
   * rewritten in place, the space a failed commit left in the WAL) must not jump ahead of them, use
   * the room they wait for, and be reported saved while the store says the disk is full.
   */
  foreground<T>(label: string, write: () => T): T {
    if (this.closed) throw new StoreUnavailableError('The database is closed.');
    this.flush();
    if (this.fault && !this.retryNow()) throw new StoreUnavailableError(`Cannot save the change: ${this.fault.reason}.`);
    try {
      return write();
    } catch (error) {
      const fault = classifyStorageError(error);
      if (!fault) throw error;
      this.markDegraded(fault, label);
      throw new StoreUnavailableError(`Cannot save the change: ${fault.reason}.`, { cause: error });
    }
  }

  health(): StoreHealth {
    if (!this.closed) this.flush();
    if (!this.fault) return { state: 'ok' };
    const pending = this.pendingCount();
    const kept = pending === 0 ? '' : `; ${pending} change${pending === 1 ? ' is' : 's are'} kept in memory`;
    const lost = this.dropped === 0 ? '' : `; ${this.dropped} history entr${this.dropped === 1 ? 'y' : 'ies'} could not be kept`;
    return {
      state: 'degraded',
      detail: `${this.fault.reason}${kept}${lost}; retrying every ${formatSeconds(this.options.retryIntervalMs)}`,
      code: this.fault.code,
      since: this.fault.since,
      pendingWrites: pending,
      droppedWrites: this.dropped,
    };
  }

  onChange(listener: (health: StoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replays buffered writes now, in one transaction. Returns true when storage is healthy afterwards. */
  retryNow(): boolean {
    if (this.closed) return false;
    this.flush();
    if (!this.fault) return true;
    const ops = [...this.queue, ...this.latest.values()];
    try {
      this.options.heartbeat();
      this.options.transaction(() => ops.forEach((op) => this.runOne(op)));
    } catch (error) {
      const fault = classifyStorageError(error) ?? { code: 'UNKNOWN', reason: 'the database cannot be written' };
      this.fault = { ...fault, since: this.fault.since };
      return false;
    }
    this.queue.length = 0;
    this.latest.clear();
    const was = this.fault;
    this.fault = null;
    this.stopRetryTimer();
    this.options.logger.info({ code: was.code, downForMs: this.options.now() - was.since, dropped: this.dropped }, 'storage recovered');
    this.dropped = 0;
    this.emit();
    return true;
  }

  /** Commits what it can, then refuses further writes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.fault) this.retryNow();
    this.closed = true;
    this.stopRetryTimer();
    this.listeners.clear();
  }

  /**
   * One write inside the batch transaction. A failing statement is undone on its own by SQLite
   * (statement atomicity) and writes of several statements use their own savepoint, so a
   * non-storage error drops just this write; a storage fault aborts the batch.
   */
  private runOne(op: PendingWrite): void {
    try {
      op.write();
    } catch (error) {
      if (classifyStorageError(error)) throw error;
      // A bug or a constraint (e.g. the source was removed meanwhile): retrying would not help.
      this.options.logger.warn({ op: op.label, err: describe(error) }, 'store write skipped');
    }
  }

  private enqueue(pending: PendingWrite): void {
    if (pending.key !== undefined) {
      this.latest.delete(pending.key);
      this.latest.set(pending.key, pending);
      return;
    }
    this.queue.push(pending);
    while (this.queue.length > this.options.maxPendingWrites) {
      this.queue.shift();
      this.dropped += 1;
    }
  }

  private markDegraded(fault: StorageFault, label: string): void {
    if (this.fault) return;
    this.fault = { ...fault, since: this.options.now() };
    this.options.logger.error({ code: fault.code, op: label }, `storage degraded: ${fault.reason}`);
    this.retryTimer = setInterval(() => this.retryNow(), this.options.retryIntervalMs);
    this.retryTimer.unref();
    this.emit();
  }

  private stopRetryTimer(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  private pendingCount(): number {
    return this.queue.length + this.latest.size;
  }

  private emit(): void {
    const health = this.health();
    for (const listener of this.listeners) {
      try {
        listener(health);
      } catch {
        // A listener's bug must not break the store.
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: string }).code ?? error.name}: ${error.message}`;
  return String(error);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
