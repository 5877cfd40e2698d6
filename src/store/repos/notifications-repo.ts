// Notification targets and the durable outbox (issue 16). A target's URL may carry a secret (a
// password, a bot token): it is read server-side only — never logged here, and the API shows the
// redacted form. Outbox rows are written before anything is sent; an acknowledged row is deleted
// in the same transaction that records the target's success, so a kill -9 at any point loses no
// message, and an acknowledged one is never sent again.
import { z } from 'zod';
import { NOTIFICATION_EVENTS, type NotificationEvent, type NotificationMessage } from '../../core/notifications.js';
import type { QuietHours } from '../../core/notification-policy.js';
import type { StoreContext } from '../context.js';

export interface NewTarget {
  id: string;
  name: string;
  /** Secret: server-side only. */
  url: string;
  /** null: every source. */
  sources: string[] | null;
  /** null: every event. */
  events: NotificationEvent[] | null;
  quietHours: QuietHours | null;
}

export interface StoredTarget extends NewTarget {
  createdAt: number;
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
}

export type TargetPatch = Partial<Omit<NewTarget, 'id'>>;

export interface OutboxRow {
  seq: number;
  messageId: string;
  targetId: string;
  message: NotificationMessage;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  dueAt: number;
}

const eventSchema = z.enum(NOTIFICATION_EVENTS);
const messageSchema = z.object({
  id: z.string(),
  event: eventSchema,
  sourceId: z.string().nullable(),
  sourceName: z.string().nullable(),
  title: z.string(),
  body: z.string(),
  url: z.string().optional(),
  at: z.number(),
});
const stringList = z.array(z.string()).nullable();
const quietSchema = z.object({ start: z.string(), end: z.string() }).nullable();

interface TargetRowRaw {
  id: string;
  name: string;
  url: string;
  sources: string | null;
  events: string | null;
  quiet_hours: string | null;
  created_at: number;
  last_success_at: number | null;
  last_error_at: number | null;
  last_error: string | null;
}

interface OutboxRowRaw {
  seq: number;
  message_id: string;
  target_id: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  due_at: number;
}

function parseJson<T>(schema: z.ZodType<T>, text: string | null): T | null {
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export class NotificationsRepo {
  constructor(private readonly ctx: StoreContext) {}

  // ---- targets ----

  listTargets(): StoredTarget[] {
    this.ctx.guard.flush();
    return (this.ctx.statement('SELECT * FROM notification_targets ORDER BY created_at, id').all() as TargetRowRaw[]).map((r) => this.toTarget(r));
  }

  getTarget(id: string): StoredTarget | null {
    const row = this.ctx.statement('SELECT * FROM notification_targets WHERE id = ?').get(id) as TargetRowRaw | undefined;
    return row ? this.toTarget(row) : null;
  }

  /** Throws StoreUnavailableError when storage is unusable. */
  createTarget(target: NewTarget): StoredTarget {
    const at = this.ctx.now();
    this.ctx.guard.foreground('notifications.createTarget', () =>
      this.ctx.durably(() =>
        this.ctx
          .statement('INSERT INTO notification_targets (id, name, url, sources, events, quiet_hours, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(target.id, target.name, target.url, json(target.sources), json(target.events), json(target.quietHours), at),
      ),
    );
    return this.getTarget(target.id)!;
  }

  updateTarget(id: string, patch: TargetPatch): StoredTarget | null {
    const current = this.getTarget(id);
    if (!current) return null;
    const next = { ...current, ...patch };
    this.ctx.guard.foreground('notifications.updateTarget', () =>
      this.ctx.durably(() =>
        this.ctx
          .statement('UPDATE notification_targets SET name = ?, url = ?, sources = ?, events = ?, quiet_hours = ? WHERE id = ?')
          .run(next.name, next.url, json(next.sources), json(next.events), json(next.quietHours), id),
      ),
    );
    return this.getTarget(id);
  }

  /** Also drops the target's queued messages (cascade). */
  deleteTarget(id: string): boolean {
    return this.ctx.guard.foreground('notifications.deleteTarget', () => this.ctx.statement('DELETE FROM notification_targets WHERE id = ?').run(id).changes > 0);
  }

  /** `error` in plain words, never a secret. */
  recordResult(id: string, at: number, result: { ok: true } | { ok: false; error: string }): void {
    this.ctx.guard.foreground('notifications.recordResult', () => {
      if (result.ok) this.ctx.statement('UPDATE notification_targets SET last_success_at = ? WHERE id = ?').run(at, id);
      else this.ctx.statement('UPDATE notification_targets SET last_error_at = ?, last_error = ? WHERE id = ?').run(at, result.error.slice(0, 500), id);
    });
  }

  // ---- outbox ----

  /** Queues messages durably before anything is sent; a (message, target) already queued is kept as is. */
  enqueue(rows: Array<{ message: NotificationMessage; targetId: string; dueAt: number }>): void {
    if (rows.length === 0) return;
    const at = this.ctx.now();
    this.ctx.guard.foreground('notifications.enqueue', () =>
      this.ctx.transaction(() => {
        const insert = this.ctx.statement(
          'INSERT OR IGNORE INTO notification_outbox (message_id, target_id, payload, attempts, next_attempt_at, created_at, due_at) VALUES (?, ?, ?, 0, ?, ?, ?)',
        );
        for (const row of rows) insert.run(row.message.id, row.targetId, JSON.stringify(row.message), row.dueAt, at, row.dueAt);
      }),
    );
  }

  /** The target's next message in order (the oldest queued), or null. */
  headFor(targetId: string): OutboxRow | null {
    for (;;) {
      const row = this.ctx.statement('SELECT * FROM notification_outbox WHERE target_id = ? ORDER BY seq LIMIT 1').get(targetId) as OutboxRowRaw | undefined;
      if (!row) return null;
      const message = parseJson(messageSchema, row.payload);
      if (message) return { seq: row.seq, messageId: row.message_id, targetId: row.target_id, message, attempts: row.attempts, nextAttemptAt: row.next_attempt_at, createdAt: row.created_at, dueAt: row.due_at };
      // An unreadable row can never be sent: drop it rather than block the target forever.
      this.ctx.logger.warn({ seq: row.seq, targetId }, 'dropping an unreadable notification outbox row');
      this.ctx.statement('DELETE FROM notification_outbox WHERE seq = ?').run(row.seq);
    }
  }

  /** Every target with queued messages, with when its head message is due. */
  pendingTargets(): Array<{ targetId: string; nextAttemptAt: number }> {
    return (
      this.ctx
        .statement('SELECT o.target_id AS targetId, o.next_attempt_at AS nextAttemptAt FROM notification_outbox o WHERE o.seq = (SELECT MIN(seq) FROM notification_outbox WHERE target_id = o.target_id)')
        .all() as Array<{ targetId: string; nextAttemptAt: number }>
    );
  }

  pendingCount(targetId?: string): number {
    const row = (targetId === undefined
      ? this.ctx.statement('SELECT COUNT(*) AS n FROM notification_outbox').get()
      : this.ctx.statement('SELECT COUNT(*) AS n FROM notification_outbox WHERE target_id = ?').get(targetId)) as { n: number };
    return row.n;
  }

  /** The target acknowledged the message: delete it and record the success, in one transaction. */
  acknowledge(row: OutboxRow, at: number): void {
    this.ctx.guard.foreground('notifications.acknowledge', () =>
      this.ctx.transaction(() => {
        this.ctx.statement('DELETE FROM notification_outbox WHERE seq = ?').run(row.seq);
        this.ctx.statement('UPDATE notification_targets SET last_success_at = ? WHERE id = ?').run(at, row.targetId);
      }),
    );
  }

  /** A failed attempt that may succeed later: count it, set the next attempt, record the error. */
  retryLater(row: OutboxRow, at: number, nextAttemptAt: number, error: string): void {
    this.ctx.guard.foreground('notifications.retryLater', () =>
      this.ctx.transaction(() => {
        this.ctx.statement('UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE seq = ?').run(nextAttemptAt, row.seq);
        this.ctx.statement('UPDATE notification_targets SET last_error_at = ?, last_error = ? WHERE id = ?').run(at, error.slice(0, 500), row.targetId);
      }),
    );
  }

  /** Give a message up (too old, refused for good): delete it and say why on its target. */
  drop(row: OutboxRow, at: number, reason: string): void {
    this.ctx.guard.foreground('notifications.drop', () =>
      this.ctx.transaction(() => {
        this.ctx.statement('DELETE FROM notification_outbox WHERE seq = ?').run(row.seq);
        this.ctx.statement('UPDATE notification_targets SET last_error_at = ?, last_error = ? WHERE id = ?').run(at, reason.slice(0, 500), row.targetId);
      }),
    );
  }

  private toTarget(r: TargetRowRaw): StoredTarget {
    return {
      id: r.id,
      name: r.name,
      url: r.url,
      sources: parseJson(stringList, r.sources),
      events: parseJson(z.array(eventSchema).nullable(), r.events),
      quietHours: parseJson(quietSchema, r.quiet_hours),
      createdAt: r.created_at,
      lastSuccessAt: r.last_success_at,
      lastErrorAt: r.last_error_at,
      lastError: r.last_error,
    };
  }
}
