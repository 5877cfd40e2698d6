// The durable outbox of progress reports (issue 15). A report is written here BEFORE it is sent and
// deleted only after the server acknowledged it, so neither an outage nor a kill -9 loses watch
// state. Writes are immediate transactions (WAL + NORMAL: a commit survives the process dying).
import { z } from 'zod';
import type { ProgressReport } from '../../backends/types.js';
import type { StoreContext } from '../context.js';
import { parseJsonColumn } from '../validation.js';

export interface OutboxEntry {
  id: number;
  sourceId: string;
  itemId: string;
  playbackId: string;
  report: ProgressReport;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  /** The server was away at least once while this waited. */
  offline: boolean;
}

const reportSchema = z.object({
  itemId: z.string().min(1),
  decision: z.object({
    playSessionId: z.string(),
    mediaSourceId: z.string(),
    method: z.enum(['direct', 'transcode']),
    durationMs: z.number().nullable(),
  }),
  positionMs: z.number().min(0),
  state: z.enum(['playing', 'paused', 'stopped']),
  event: z.enum(['start', 'progress', 'stop']),
  offlineAt: z.number().optional(),
  scrobble: z.boolean().optional(),
}) satisfies z.ZodType<ProgressReport>;

interface Row {
  id: number;
  sourceId: string;
  itemId: string;
  playbackId: string;
  event: string;
  positionMs: number;
  report: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  offline: number;
}

const COLUMNS = `id, source_id AS sourceId, item_id AS itemId, playback_id AS playbackId, event, position_ms AS positionMs, report,
  created_at AS createdAt, attempts, next_attempt_at AS nextAttemptAt, offline`;

/** At most this many reports wait per source (oldest progress dropped first): a bound against a flood. */
export const MAX_OUTBOX_PER_SOURCE = 10_000;

export class PlayOutboxRepo {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * Stores a report, collapsed: earlier plain reports (start/progress) of the same (source, item)
   * go; within the same playback the furthest position among them wins (a start stays a start).
   * Stops and scrobbles already waiting are kept. Returns the new row's id. Throws
   * StoreUnavailableError when storage is unusable (the caller then still tries to send it).
   */
  enqueue(sourceId: string, playbackId: string, report: ProgressReport): number {
    const now = this.ctx.now();
    return this.ctx.guard.foreground('playOutbox.enqueue', () =>
      this.ctx.transaction(() => {
        const earlier = this.ctx
          .statement('SELECT id, playback_id AS playbackId, event, position_ms AS positionMs FROM play_outbox WHERE source_id = ? AND item_id = ? AND kept = 0')
          .all(sourceId, report.itemId) as Pick<Row, 'id' | 'playbackId' | 'event' | 'positionMs'>[];
        let merged = report;
        if (report.event !== 'stop') {
          for (const row of earlier) {
            if (row.playbackId !== playbackId) continue;
            if (row.positionMs > merged.positionMs) merged = { ...merged, positionMs: row.positionMs };
            if (row.event === 'start') merged = { ...merged, event: 'start' };
          }
        }
        if (earlier.length > 0) this.ctx.statement(`DELETE FROM play_outbox WHERE source_id = ? AND item_id = ? AND kept = 0`).run(sourceId, report.itemId);
        const kept = merged.event === 'stop' || merged.scrobble === true ? 1 : 0;
        const result = this.ctx
          .statement(
            `INSERT INTO play_outbox (source_id, item_id, playback_id, event, position_ms, kept, report, created_at, attempts, next_attempt_at, offline)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0)`,
          )
          .run(sourceId, report.itemId, playbackId, merged.event, Math.round(merged.positionMs), kept, JSON.stringify(merged), now);
        this.ctx
          .statement(
            `DELETE FROM play_outbox WHERE source_id = ? AND id IN
               (SELECT id FROM play_outbox WHERE source_id = ? ORDER BY kept ASC, id ASC
                LIMIT max(0, (SELECT count(*) FROM play_outbox WHERE source_id = ?) - ?))`,
          )
          .run(sourceId, sourceId, sourceId, MAX_OUTBOX_PER_SOURCE);
        return Number(result.lastInsertRowid);
      }),
    );
  }

  /** Waiting reports of a source, oldest first (unreadable rows skipped with a warning, and removed). */
  pending(sourceId: string, limit = 100): OutboxEntry[] {
    const rows = this.ctx.statement(`SELECT ${COLUMNS} FROM play_outbox WHERE source_id = ? ORDER BY id ASC LIMIT ?`).all(sourceId, limit) as Row[];
    const out: OutboxEntry[] = [];
    for (const row of rows) {
      const parsed = parseJsonColumn(reportSchema, row.report);
      if (!parsed.ok) {
        this.ctx.logger.warn({ table: 'play_outbox', id: row.id, problem: parsed.problem }, 'dropping an unreadable progress report');
        this.remove(row.id);
        continue;
      }
      out.push({
        id: row.id,
        sourceId: row.sourceId,
        itemId: row.itemId,
        playbackId: row.playbackId,
        report: parsed.value,
        createdAt: row.createdAt,
        attempts: row.attempts,
        nextAttemptAt: row.nextAttemptAt,
        offline: row.offline === 1,
      });
    }
    return out;
  }

  /** Sources with reports waiting (after a restart: what to deliver). */
  sourcesWithPending(): string[] {
    return (this.ctx.statement('SELECT DISTINCT source_id AS sourceId FROM play_outbox').all() as { sourceId: string }[]).map((r) => r.sourceId);
  }

  count(sourceId?: string): number {
    const row = (sourceId === undefined
      ? this.ctx.statement('SELECT count(*) AS n FROM play_outbox').get()
      : this.ctx.statement('SELECT count(*) AS n FROM play_outbox WHERE source_id = ?').get(sourceId)) as { n: number };
    return row.n;
  }

  /** The server acknowledged it (2xx), or it can never be delivered: gone. */
  remove(id: number): void {
    this.ctx.guard.foreground('playOutbox.remove', () => this.ctx.transaction(() => this.ctx.statement('DELETE FROM play_outbox WHERE id = ?').run(id)));
  }

  /** A failed delivery: counted (`attempts`) or not (the server was away), and when to try again. */
  deferred(id: number, change: { attempts: number; nextAttemptAt: number; offline: boolean }): void {
    this.ctx.guard.foreground('playOutbox.deferred', () =>
      this.ctx.statement('UPDATE play_outbox SET attempts = ?, next_attempt_at = ?, offline = max(offline, ?) WHERE id = ?').run(change.attempts, change.nextAttemptAt, change.offline ? 1 : 0, id),
    );
  }

  /** Marks every waiting report of a source as made while it was away. */
  markOffline(sourceId: string): void {
    this.ctx.guard.foreground('playOutbox.markOffline', () => this.ctx.statement('UPDATE play_outbox SET offline = 1 WHERE source_id = ? AND offline = 0').run(sourceId));
  }
}
