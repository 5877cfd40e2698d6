// The SQLite schema. drizzle-kit reads this file to generate the SQL in ./migrations; the
// repositories use it to build queries. JSON columns hold data validated with zod on every read.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
 * Progress reports on their way to a server (issue 15): written before sending, deleted once the
 * server acknowledged, so a report made while the server is away — or before a kill -9 — is sent
 * when it is back. Collapsed on write to the latest per (source, item); `kept` rows (a stop or a
 * scrobble) are never collapsed away. Delivered in `id` order per source.
 */
export const playOutbox = sqliteTable(
  'play_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    itemId: text('item_id').notNull(),
    /** The play session that made it: the furthest position wins only within one playback. */
    playbackId: text('playback_id').notNull(),
    /** 'start' | 'progress' | 'stop'. */
    event: text('event').notNull(),
    positionMs: integer('position_ms').notNull(),
    /** 1: a stop or a scrobble, delivered even when later reports follow. */
    kept: integer('kept').notNull().default(0),
    /** The ProgressReport as JSON (no secrets: ids, positions, state). */
    report: text('report').notNull(),
    createdAt: integer('created_at').notNull(),
    /** Failed deliveries that count toward the bound (5xx, timeouts); the server being away does not. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull().default(0),
    /** 1: the server was away at least once while this waited (Plex gets offline=1&updated=). */
    offline: integer('offline').notNull().default(0),
  },
  (t) => [index('play_outbox_source_idx').on(t.sourceId, t.id), index('play_outbox_item_idx').on(t.sourceId, t.itemId)],
);
