// The SQLite schema. drizzle-kit reads this file to generate the SQL in ./migrations; the
// repositories use it to build queries. JSON columns hold data validated with zod on every read.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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

// ---- The library cache (issue 14) ---------------------------------------------------------------
// What Marquee last saw of each library, so a server that is away stays browsable. Items are kept
// per (source, item id); the `data` column holds the whole LibraryItem as JSON (validated on read),
// the other columns exist only to filter and order. Pages are read by rank: each sync numbers the
// items 0..n-1 in every sort order, so a page at any offset of an unfiltered library is a range
// read of an index (`rank >= offset LIMIT 100`), and a filtered page skips only index entries.

export const libraryItems = sqliteTable(
  'library_items',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    itemId: text('item_id').notNull(),
    libraryId: text('library_id').notNull(),
    /** Lower-cased sort title: what the title order compares. */
    titleKey: text('title_key').notNull(),
    addedAt: integer('added_at'),
    year: integer('year'),
    rating: real('rating'),
    updatedAt: integer('updated_at'),
    watched: integer('watched').notNull().default(0),
    /** A resume position is set (the "in progress" filter). */
    inProgress: integer('in_progress').notNull().default(0),
    /** The LibraryItem as JSON. */
    data: text('data').notNull(),
    /** Position in each sort's default direction (title A→Z, newest added, newest year, best rating; ties by id, nulls last). */
    rankTitle: integer('rank_title').notNull().default(0),
    rankAdded: integer('rank_added').notNull().default(0),
    rankYear: integer('rank_year').notNull().default(0),
    rankRating: integer('rank_rating').notNull().default(0),
  },
  // The filter columns trail each rank index, so a filtered page's skipped rows are judged from
  // the index alone (SQLite defers the table read until a row is kept).
  (t) => [
    primaryKey({ columns: [t.sourceId, t.itemId] }),
    index('library_items_title_idx').on(t.sourceId, t.libraryId, t.rankTitle, t.watched, t.inProgress, t.year),
    index('library_items_added_idx').on(t.sourceId, t.libraryId, t.rankAdded, t.watched, t.inProgress, t.year),
    index('library_items_year_idx').on(t.sourceId, t.libraryId, t.rankYear, t.watched, t.inProgress, t.year),
    index('library_items_rating_idx').on(t.sourceId, t.libraryId, t.rankRating, t.watched, t.inProgress, t.year),
  ],
);

/** One row per (item, genre), carrying the item's ranks: a genre page is a range of one index. */
export const libraryItemGenres = sqliteTable(
  'library_item_genres',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    libraryId: text('library_id').notNull(),
    genre: text('genre').notNull(),
    itemId: text('item_id').notNull(),
    rankTitle: integer('rank_title').notNull().default(0),
    rankAdded: integer('rank_added').notNull().default(0),
    rankYear: integer('rank_year').notNull().default(0),
    rankRating: integer('rank_rating').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.libraryId, t.genre, t.itemId] }),
    index('library_item_genres_item_idx').on(t.sourceId, t.itemId),
    index('library_item_genres_title_idx').on(t.sourceId, t.libraryId, t.genre, t.rankTitle),
    index('library_item_genres_added_idx').on(t.sourceId, t.libraryId, t.genre, t.rankAdded),
    index('library_item_genres_year_idx').on(t.sourceId, t.libraryId, t.genre, t.rankYear),
    index('library_item_genres_rating_idx').on(t.sourceId, t.libraryId, t.genre, t.rankRating),
  ],
);

/**
 * Items seen outside a library listing (an item page with its children, a home row, a search hit):
 * what an item page shows offline and what the image proxy resolves a poster from.
 */
export const libraryItemDetails = sqliteTable(
  'library_item_details',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    itemId: text('item_id').notNull(),
    /** The LibraryItem as JSON. */
    data: text('data').notNull(),
    /** Child item ids in the server's order (JSON array), once the item page was fetched. */
    children: text('children'),
    /** When the item page (overview, cast, children) was read from the server; null: only seen in a list. */
    fetchedAt: integer('fetched_at'),
    seenAt: integer('seen_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.itemId] }), index('library_item_details_seen_idx').on(t.seenAt)],
);

/** How far each library's cache is. */
export const librarySync = sqliteTable(
  'library_sync',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    libraryId: text('library_id').notNull(),
    /** Last complete (cold) sync. */
    fullSyncAt: integer('full_sync_at'),
    /** Last successful sync of any kind. */
    syncedAt: integer('synced_at'),
    /** Highest updatedAt seen: the next incremental sync asks for changes since then. */
    highWaterMs: integer('high_water_ms'),
    /** The last failure in plain words; null after a success. */
    error: text('error'),
    errorAt: integer('error_at'),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.libraryId] })],
);

/** Continue watching / recently added of each source as last seen (JSON arrays of LibraryItem). */
export const libraryHomeRows = sqliteTable(
  'library_home_rows',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    row: text('row').notNull(),
    items: text('items').notNull(),
    fetchedAt: integer('fetched_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.row] })],
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
