// Every write goes through here. A storage fault (read-only or full disk, I/O error, lock) turns
// the store `degraded` with a reason in plain words instead of throwing into the monitor: monitor
// writes are kept in memory (bounded) and replayed by a retry timer until the disk takes them
// again; configuration writes (add/rename/remove a source, credentials) are refused with
// StoreUnavailableError so the API can tell the user.
import { StoreUnavailableError, classifyStorageError, type StorageFault } from './errors.js';
import type { StoreLogger } from './logger.js';

export type StoreHealth =
  | { state: 'ok' }
  | {
      state: 'degraded';
      /** Plain words, e.g. "the disk holding the data directory is full; 12 changes are kept in memory and retried every 5 s". */
      detail: string;
      /** The underlying code, e.g. SQLITE_FULL. */
      code: string;
      since: number;
      pendingWrites: number;
      droppedWrites: number;
    };

export interface WriteGuardOptions {
  logger: StoreLogger;
  now: () => number;
  /** Bound on buffered (not coalesced) monitor writes; the oldest are dropped beyond it. */
  maxPendingWrites: number;
  retryIntervalMs: number;
  /** A tiny real write used to find out whether storage works again when nothing is pending. */
  heartbeat: () => void;
}

interface PendingWrite {
  label: string;
  write: () => void;
}

export class WriteGuard {
  private fault: (StorageFault & { since: number }) | null = null;
  /** Appends (history, events, probe results), replayed in order. */
  private readonly queue: PendingWrite[] = [];
  /** Latest-wins writes (a source's current status, its library set), one per key. */
  private readonly latest = new Map<string, PendingWrite>();
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly listeners = new Set<(health: StoreHealth) => void>();

  constructor(private readonly options: WriteGuardOptions) {}

  /**
   * A monitor write: never throws. Returns true when written now, false when buffered for retry
   * (or dropped as a non-storage error, which is logged). `coalesceKey` makes a later write
   * replace an earlier buffered one with the same key (current status, not history).
   */
  background(label: string, write: () => void, coalesceKey?: string): boolean {
    if (this.closed) return false;
    if (this.fault) {
      this.enqueue({ label, write }, coalesceKey);
      return false;
    }
    try {
      write();
      return true;
    } catch (error) {
      const fault = classifyStorageError(error);
      if (!fault) {
        // A bug or a constraint (e.g. the source was removed meanwhile): retrying would not help.
        this.options.logger.warn({ op: label, err: describe(error) }, 'store write skipped');
        return false;
      }
      this.enqueue({ label, write }, coalesceKey);
      this.markDegraded(fault, label);
      return false;
    }
  }

  /** Storage was already unusable when the store opened (e.g. a read-only data dir). */
  startDegraded(fault: StorageFault): void {
    this.markDegraded(fault, 'open');
  }

  /** A configuration write: throws StoreUnavailableError (plain words) on a storage fault. */
  foreground<T>(label: string, write: () => T): T {
    if (this.closed) throw new StoreUnavailableError('The database is closed.');
    try {
      const result = write();
      // A successful write proves storage works again: replay what is buffered now.
      if (this.fault) this.retryNow();
      return result;
    } catch (error) {
      const fault = classifyStorageError(error);
      if (!fault) throw error;
      this.markDegraded(fault, label);
      throw new StoreUnavailableError(`Cannot save the change: ${fault.reason}.`, { cause: error });
    }
  }

  health(): StoreHealth {
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

  /** Replays buffered writes now. Returns true when storage is healthy afterwards. */
  retryNow(): boolean {
    if (this.closed) return false;
    if (!this.fault) return true;
    try {
      this.options.heartbeat();
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        this.replay(next);
        this.queue.shift();
      }
      for (const [key, next] of this.latest) {
        this.replay(next);
        this.latest.delete(key);
      }
    } catch (error) {
      const fault = classifyStorageError(error) ?? { code: 'UNKNOWN', reason: 'the database cannot be written' };
      this.fault = { ...fault, since: this.fault.since };
      return false;
    }
    const was = this.fault;
    this.fault = null;
    this.stopTimer();
    this.options.logger.info({ code: was.code, downForMs: this.options.now() - was.since, dropped: this.dropped }, 'storage recovered');
    this.dropped = 0;
    this.emit();
    return true;
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    this.listeners.clear();
  }

  /** Runs one buffered write; a non-storage error drops it (logged) rather than blocking the rest. */
  private replay(pending: PendingWrite): void {
    try {
      pending.write();
    } catch (error) {
      if (classifyStorageError(error)) throw error;
      this.options.logger.warn({ op: pending.label, err: describe(error) }, 'buffered store write skipped');
    }
  }

  private enqueue(pending: PendingWrite, coalesceKey: string | undefined): void {
    if (coalesceKey !== undefined) {
      this.latest.delete(coalesceKey);
      this.latest.set(coalesceKey, pending);
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
    this.timer = setInterval(() => this.retryNow(), this.options.retryIntervalMs);
    this.timer.unref();
    this.emit();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
