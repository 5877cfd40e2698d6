import { desc, eq } from 'drizzle-orm';
import type { RouteKind, SourceStatus } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { sourceStatus, statusHistory } from '../schema.js';
import { parseJsonColumn, routeKindSchema, sourceStatusSchema } from '../validation.js';

export interface StoredStatus {
  sourceId: string;
  status: SourceStatus;
  updatedAt: number;
  lastCheckedAt: number | null;
  nextCheckAt: number | null;
}

export interface StatusTimes {
  /** Defaults to now. */
  updatedAt?: number;
  lastCheckedAt?: number | null;
  nextCheckAt?: number | null;
}

export interface HistoryEntry {
  sourceId: string;
  at: number;
  /** The new SourceState. */
  state: string;
  routeKind?: RouteKind | null;
  /** Plain words, e.g. the error that caused the transition. Never a token. */
  detail?: string | null;
}

export interface StoredHistoryEntry extends HistoryEntry {
  id: number;
  routeKind: RouteKind | null;
  detail: string | null;
}

/** Last-known status of every source (served at once after a restart) and its transitions. */
export class StatusRepo {
  /** Sources with transitions written since the last prune: only they can be over the per-source cap. */
  private readonly touched = new Set<string>();

  constructor(private readonly ctx: StoreContext) {}

  /** Every readable last-known status; corrupt rows are skipped with a warning. */
  loadAll(): StoredStatus[] {
    this.ctx.guard.flush();
    const out: StoredStatus[] = [];
    for (const row of this.ctx.db.select().from(sourceStatus).all()) {
      const stored = this.toStored(row);
      if (stored) out.push(stored);
    }
    return out;
  }

  get(sourceId: string): StoredStatus | null {
    this.ctx.guard.flush();
    const row = this.ctx.db.select().from(sourceStatus).where(eq(sourceStatus.sourceId, sourceId)).get();
    return row ? this.toStored(row) : null;
  }

  /** Upserts the current status. Never throws; buffered (latest wins) while storage is degraded. */
  save(sourceId: string, status: SourceStatus, times: StatusTimes = {}): void {
    const json = JSON.stringify(status);
    const updatedAt = times.updatedAt ?? this.ctx.now();
    const lastCheckedAt = times.lastCheckedAt ?? null;
    const nextCheckAt = times.nextCheckAt ?? null;
    this.ctx.guard.background(
      'status.save',
      () =>
        this.ctx
          .statement(
            `INSERT INTO source_status (source_id, status, updated_at, last_checked_at, next_check_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(source_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
               last_checked_at = excluded.last_checked_at, next_check_at = excluded.next_check_at`,
          )
          .run(sourceId, json, updatedAt, lastCheckedAt, nextCheckAt),
      `status:${sourceId}`,
    );
  }

  appendHistory(entries: HistoryEntry | readonly HistoryEntry[]): void {
    const list = ([] as HistoryEntry[]).concat(entries);
    if (list.length === 0) return;
    const rows = list.map((e) => ({ sourceId: e.sourceId, at: e.at, state: e.state, routeKind: e.routeKind ?? null, detail: e.detail ?? null }));
    for (const r of rows) this.touched.add(r.sourceId);
    this.ctx.guard.background('status.appendHistory', () => {
      const insert = this.ctx.statement('INSERT INTO status_history (source_id, at, state, route_kind, detail) VALUES (?, ?, ?, ?, ?)');
      this.ctx.transaction(() => {
        for (const r of rows) insert.run(r.sourceId, r.at, r.state, r.routeKind, r.detail);
      });
    });
  }

  /** Newest first. */
  recentHistory(sourceId: string, limit = 50): StoredHistoryEntry[] {
    this.ctx.guard.flush();
    const rows = this.ctx.db
      .select()
      .from(statusHistory)
      .where(eq(statusHistory.sourceId, sourceId))
      .orderBy(desc(statusHistory.id))
      .limit(limit)
      .all();
    return rows.map((row) => ({
      id: row.id,
      sourceId: row.sourceId,
      at: row.at,
      state: row.state,
      routeKind: routeKindSchema.safeParse(row.routeKind).data ?? null,
      detail: row.detail,
    }));
  }

  /**
   * Keeps the newest `keepPerSource` transitions per source and none older than `olderThan`, one
   * batch per step, so maintenance can yield to the event loop between steps. The age rule uses
   * the index on `at`; the per-source cap looks only at sources written since the last prune (all
   * of them when `allSources`, at startup: the previous run may have been killed before pruning),
   * so a periodic run costs what changed, not the size of the table.
   */
  *pruneHistorySteps(keepPerSource: number, olderThan: number, batchSize: number, allSources = false): Generator<void, number> {
    this.ctx.guard.flush();
    let deleted = yield* deleteInBatches(this.ctx, batchSize, (limit) =>
      this.ctx.statement('DELETE FROM status_history WHERE id IN (SELECT id FROM status_history WHERE at < ? LIMIT ?)').run(olderThan, limit).changes,
    );
    const sourceIds = allSources ? (this.ctx.sqlite.prepare('SELECT DISTINCT source_id FROM status_history').pluck().all() as string[]) : [...this.touched];
    this.touched.clear();
    let sinceYield = 0;
    for (const sourceId of sourceIds) {
      if (++sinceYield >= 200) {
        sinceYield = 0;
        yield;
      }
      let cutoff: number | undefined;
      try {
        cutoff = this.ctx.statement('SELECT id FROM status_history WHERE source_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?').pluck().get(sourceId, keepPerSource - 1) as
          | number
          | undefined;
      } catch {
        continue;
      }
      if (cutoff === undefined) continue;
      deleted += yield* deleteInBatches(this.ctx, batchSize, (limit) =>
        this.ctx
          .statement('DELETE FROM status_history WHERE id IN (SELECT id FROM status_history WHERE source_id = ? AND id < ? LIMIT ?)')
          .run(sourceId, cutoff, limit).changes,
      );
    }
    return deleted;
  }

  private toStored(row: typeof sourceStatus.$inferSelect): StoredStatus | null {
    const parsed = parseJsonColumn(sourceStatusSchema, row.status);
    if (!parsed.ok) {
      this.ctx.logger.warn({ table: 'source_status', sourceId: row.sourceId, problem: parsed.problem }, 'skipping unreadable status row');
      return null;
    }
    return { sourceId: row.sourceId, status: parsed.value, updatedAt: row.updatedAt, lastCheckedAt: row.lastCheckedAt, nextCheckAt: row.nextCheckAt };
  }
}

/**
 * Runs `deleteBatch(limit)` until it deletes fewer than `limit` rows, yielding after each batch.
 * Each batch is its own short write transaction, so pruning a large backlog never blocks writers
 * (or, driven asynchronously, the event loop) for long. Maintenance work: a storage fault stops
 * it quietly (the guard reports storage health from the real writes).
 */
export function* deleteInBatches(ctx: StoreContext, batchSize: number, deleteBatch: (limit: number) => number): Generator<void, number> {
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = deleteBatch(batchSize);
    } catch (error) {
      ctx.logger.warn({ op: 'prune', err: error instanceof Error ? error.message : String(error) }, 'pruning stopped');
      return total;
    }
    total += n;
    if (n < batchSize) return total;
    yield;
  }
}

/** Runs a step generator to the end at once. */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
