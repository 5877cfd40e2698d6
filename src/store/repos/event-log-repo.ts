import type { EngineEvent } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { engineEventSchema, parseJsonColumn } from '../validation.js';
import { deleteInBatches } from './status-repo.js';

/** Events kept in memory while the disk refuses writes; older ones are then lost to resume. */
const MAX_UNFLUSHED = 10_000;

export interface StoredEvent {
  seq: number;
  event: EngineEvent;
}

/**
 * The engine event log behind SSE `Last-Event-ID`. Sequence numbers are assigned here, in
 * memory, so `append` answers at once even when the disk refuses the write: the event is then
 * kept in memory (and still served by `since`) until the retry lands it with the same seq.
 */
export class EventLogRepo {
  private lastSeq: number;
  /** Appended but not yet on disk (storage degraded), by seq. */
  private readonly unflushed = new Map<number, StoredEvent>();

  constructor(private readonly ctx: StoreContext) {
    // sqlite_sequence remembers the highest seq ever used, even after every row was pruned.
    const fromSequence = ctx.sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck().get() as number | undefined;
    const fromRows = ctx.sqlite.prepare('SELECT max(seq) FROM events').pluck().get() as number | null;
    this.lastSeq = Math.max(fromSequence ?? 0, fromRows ?? 0);
  }

  /** Stores the event and returns its seq. Never throws. */
  append(event: EngineEvent): number {
    const seq = ++this.lastSeq;
    const stored: StoredEvent = { seq, event };
    const json = JSON.stringify(event);
    this.unflushed.set(seq, stored);
    this.ctx.guard.background('events.append', () => {
      this.ctx
        .statement('INSERT INTO events (seq, at, source_id, type, json) VALUES (?, ?, ?, ?, ?)')
        .run(seq, event.at, event.sourceId, event.type, json);
      this.unflushed.delete(seq);
    });
    if (this.unflushed.size > MAX_UNFLUSHED) this.unflushed.delete(this.unflushed.keys().next().value as number);
    return seq;
  }

  latestSeq(): number {
    return this.lastSeq;
  }

  /**
   * Events with seq > `afterSeq`, oldest first, at most `limit`. Null when some events after
   * `afterSeq` are no longer retained, or `afterSeq` was never issued by this database: the
   * client must resync from a snapshot.
   */
  since(afterSeq: number, limit = 1000): StoredEvent[] | null {
    this.ctx.guard.flush();
    if (afterSeq === this.lastSeq) return [];
    // A seq we never issued (the database was replaced or reset): the client must resync.
    if (afterSeq > this.lastSeq || afterSeq < 0) return null;
    const oldestOnDisk = this.ctx.statement('SELECT min(seq) FROM events').pluck().get() as number | null;
    const oldestInMemory = this.unflushed.size > 0 ? Math.min(...this.unflushed.keys()) : null;
    const oldest = Math.min(oldestOnDisk ?? Infinity, oldestInMemory ?? Infinity);
    if (!Number.isFinite(oldest) || oldest > afterSeq + 1) return null;

    const rows = this.ctx
      .statement('SELECT seq, json FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?')
      .all(afterSeq, limit) as Array<{ seq: number; json: string }>;
    const out: StoredEvent[] = [];
    for (const row of rows) {
      const parsed = parseJsonColumn(engineEventSchema, row.json);
      if (!parsed.ok) {
        this.ctx.logger.warn({ table: 'events', seq: row.seq, problem: parsed.problem }, 'skipping unreadable event row');
        continue;
      }
      out.push({ seq: row.seq, event: parsed.value });
    }
    if (this.unflushed.size > 0) {
      const onDisk = new Set(out.map((e) => e.seq));
      for (const e of this.unflushed.values()) if (e.seq > afterSeq && !onDisk.has(e.seq)) out.push(e);
      out.sort((a, b) => a.seq - b.seq);
    }
    return out.slice(0, limit);
  }

  /** Keeps the newest `keep` events and none older than `olderThan`, one batch per step. */
  *pruneSteps(options: { keep: number; olderThan: number; batchSize: number }): Generator<void, number> {
    this.ctx.guard.flush();
    const floor = this.lastSeq - options.keep;
    return yield* deleteInBatches(this.ctx, options.batchSize, (limit) =>
      this.ctx
        .statement('DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? OR at < ? ORDER BY seq LIMIT ?)')
        .run(floor, options.olderThan, limit).changes,
    );
  }
}
