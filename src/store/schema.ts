// The SQLite schema. drizzle-kit reads this file to generate the SQL in ./migrations; the
// repositories use it to build queries. JSON columns hold data validated with zod on every read.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const sources = sqliteTable('sources', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').notNull(),
  serverId: text('server_id').notNull(),
  credentialRef: text('credential_ref').notNull(),
  /** SourceMonitoringSettings as JSON. */
  monitoring: text('monitoring').notNull().default('{}'),
  createdAt: integer('created_at').notNull(),
});

export const routes = sqliteTable(
  'routes',
  {
    id: text('id').primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    kind: text('kind').notNull(),
    priority: integer('priority').notNull().default(0),
    /** RouteOrigin: 'typed' | 'server-reported' | 'plex.tv' | 'user' (migration 0001 fills older rows). */
    origin: text('origin').notNull().default('typed'),
    /**
     * A route the user kept with `force` although it did not answer as this server: stored, shown,
     * never probed with the token until an anonymous identity check finds the right server there.
     */
    pending: integer('pending', { mode: 'boolean' }).notNull().default(false),
    /** 'ok' or a ProbeErrorCode; null until first checked. */
    lastResult: text('last_result'),
    lastError: text('last_error'),
    latencyMs: integer('latency_ms'),
    checkedAt: integer('checked_at'),
  },
  (t) => [index('routes_source_idx').on(t.sourceId)],
);

/** Secrets, keyed by Source.credentialRef. The payload is never logged nor returned by listings. */
export const credentials = sqliteTable('credentials', {
  ref: text('ref').primaryKey(),
  /** Credentials as JSON. */
  payload: text('payload').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const sourceStatus = sqliteTable('source_status', {
  sourceId: text('source_id')
    .primaryKey()
    .references(() => sources.id, { onDelete: 'cascade' }),
  /** SourceStatus as JSON. */
  status: text('status').notNull(),
  updatedAt: integer('updated_at').notNull(),
  lastCheckedAt: integer('last_checked_at'),
  nextCheckAt: integer('next_check_at'),
});

export const statusHistory = sqliteTable(
  'status_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    state: text('state').notNull(),
    routeKind: text('route_kind'),
    detail: text('detail'),
  },
  // `at` indexed so the age rule of retention finds old rows without scanning the table.
  (t) => [index('status_history_source_idx').on(t.sourceId, t.id), index('status_history_at_idx').on(t.at)],
);

export const probeHistory = sqliteTable(
  'probe_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    // No source_id column: rows go with their route (cascade through the indexed route_id), and
    // a second unindexed foreign key would make deleting a source scan the whole table.
    routeId: text('route_id')
      .notNull()
      .references(() => routes.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    /** null when ok, else the ProbeErrorCode. */
    code: text('code'),
    latencyMs: integer('latency_ms'),
  },
  (t) => [index('probe_history_route_idx').on(t.routeId, t.id), index('probe_history_at_idx').on(t.at)],
);

export const libraries = sqliteTable(
  'libraries',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    /** Keeps the server's order. */
    position: integer('position').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.id] })],
);

/**
 * The engine event log: `seq` is the SSE id, so a browser can resume with Last-Event-ID across
 * restarts. AUTOINCREMENT so a seq is never reused after pruning. No foreign key: events about a
 * removed source must stay resumable.
 */
export const events = sqliteTable(
  'events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    sourceId: text('source_id'),
    type: text('type').notNull(),
    /** The EngineEvent as JSON. */
    json: text('json').notNull(),
  },
  (t) => [index('events_at_idx').on(t.at)],
);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at')
    .notNull()
    .default(sql`(unixepoch() * 1000)`),
});

/**
 * Sign-ins in progress (a Plex PIN, a Jellyfin Quick Connect request), so a restart in the middle
 * of one does not lose it. `state` holds what may be shown (codes, server names, routes); `secret`
 * holds what is a secret like a token (the Quick Connect secret, the account token, per-server
 * credentials once authorized): never logged, never returned by the API. Expired rows are pruned.
 */
export const signInSessions = sqliteTable(
  'sign_in_sessions',
  {
    /** 'plex_pin' | 'quick_connect'. */
    kind: text('kind').notNull(),
    /** The PIN id, or the Quick Connect handle. */
    key: text('key').notNull(),
    expiresAt: integer('expires_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** The non-secret part as JSON. */
    state: text('state').notNull(),
    /** The secret part as JSON. */
    secret: text('secret').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.key] }), index('sign_in_sessions_expires_idx').on(t.expiresAt)],
);

/**
 * Notification targets (issue 16). `url` may hold a password or token (a webhook secret, a bot
 * token): it is a secret like a credential — never logged, never in an API answer (the API shows
 * the target parser's redacted form). `sources`/`events`: JSON arrays, null = all.
 */
export const notificationTargets = sqliteTable('notification_targets', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  url: text('url').notNull(),
  sources: text('sources'),
  events: text('events'),
  /** QuietHours as JSON ({start, end} "HH:MM"), null = none. */
  quietHours: text('quiet_hours'),
  createdAt: integer('created_at').notNull(),
  lastSuccessAt: integer('last_success_at'),
  lastErrorAt: integer('last_error_at'),
  /** Plain words, never a secret. */
  lastError: text('last_error'),
});

/**
 * The durable outbox: a row per (message, target) is written BEFORE anything is sent and deleted
 * in the same transaction that records the target's acknowledgement, so a kill -9 loses nothing
 * and an acknowledged message is never sent again. `message_id` is the idempotency key receivers
 * see. Rows of one target are delivered one at a time in `seq` order.
 */
export const notificationOutbox = sqliteTable(
  'notification_outbox',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    messageId: text('message_id').notNull(),
    targetId: text('target_id')
      .notNull()
      .references(() => notificationTargets.id, { onDelete: 'cascade' }),
    /** NotificationMessage as JSON. */
    payload: text('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    createdAt: integer('created_at').notNull(),
    /** When the message became due (quiet hours hold it): its max age counts from here. */
    dueAt: integer('due_at').notNull(),
  },
  (t) => [uniqueIndex('notification_outbox_message_target_idx').on(t.messageId, t.targetId), index('notification_outbox_target_idx').on(t.targetId, t.seq)],
);
