// The library cache (issue 14): what Marquee last saw of each library, per (source, item id).
//
// A sync stages its pages in a temporary table as they arrive (one small transaction per page,
// nothing held in memory), then merges them in, in short steps of set-based SQL that yield to the
// event loop between them: a full sync makes the library exactly the staged set (items gone on the
// server disappear), an incremental one upserts only the staged items. Every row carries its own
// sort keys (`sort_*`, the title key) and each order is an index over them, so a page walks one
// index at any offset and a new or changed item never renumbers the others.
import type { ItemDetail } from '../../backends/types.js';
import type { LibraryItem } from '../../core/library.js';
import type { StoreContext } from '../context.js';
import { libraryItemSchema } from '../validation.js';

export type LibrarySort = 'title' | 'added' | 'year' | 'rating';
export type LibraryFilter = 'unwatched' | 'watched' | 'in_progress';

export interface LibraryPageQuery {
  offset: number;
  limit: number;
  sort: LibrarySort;
  /** Default: each sort's natural direction (title A→Z, the newest/best first for the others). */
  order?: 'asc' | 'desc';
  filter?: LibraryFilter;
  genre?: string;
  year?: number;
}

export interface LibraryPage {
  items: LibraryItem[];
  /** Items matching the filters. */
  total: number;
}

export interface LibrarySyncRecord {
  fullSyncAt: number | null;
  syncedAt: number | null;
  highWaterMs: number | null;
  error: string | null;
  errorAt: number | null;
}

export interface CachedDetail {
  item: LibraryItem;
  /** null: the item page was never fetched (only seen in a list). */
  children: LibraryItem[] | null;
  fetchedAt: number | null;
}

export type HomeRow = 'continue' | 'recent';

export interface CommitResult {
  changed: number;
  highWaterMs: number | null;
}

/** The sort's natural direction (title ascends; the others descend). */
export const NATURAL_ORDER: Record<LibrarySort, 'asc' | 'desc'> = { title: 'asc', added: 'desc', year: 'desc', rating: 'desc' };
/** The columns each order sorts by, ascending in its natural direction (ties by title then id). */
const ORDER_COLUMNS: Record<LibrarySort, readonly string[]> = {
  title: ['title_key', 'item_id'],
  added: ['sort_added', 'title_key', 'item_id'],
  year: ['sort_year', 'title_key', 'item_id'],
  rating: ['sort_rating', 'title_key', 'item_id'],
};
const orderBy = (sort: LibrarySort, table: string, reverse: boolean) => ORDER_COLUMNS[sort].map((c) => `${table}.${c} ${reverse ? 'DESC' : 'ASC'}`).join(', ');
const FILTER_SQL: Record<LibraryFilter, string> = { unwatched: 'i.watched = 0', watched: 'i.watched = 1', in_progress: 'i.in_progress = 1' };
/** The sort key of a missing value: after every real one in the natural direction. */
const MISSING_LAST = Number.MAX_SAFE_INTEGER;
/**
 * Staged items merged per transaction: each commit step holds the event loop (and SQLite's write
 * lock) for a few milliseconds, and the sync yields between steps. Measured in bench/library.ts.
 */
export const COMMIT_CHUNK = 500;

const STAGING_DDL = `CREATE TEMP TABLE IF NOT EXISTS library_staging_v2 (
  source_id TEXT NOT NULL, library_id TEXT NOT NULL, item_id TEXT NOT NULL,
  title_key TEXT NOT NULL, added_at INTEGER, year INTEGER, rating REAL, updated_at INTEGER,
  sort_added INTEGER NOT NULL, sort_year INTEGER NOT NULL, sort_rating REAL NOT NULL,
  watched INTEGER NOT NULL, in_progress INTEGER NOT NULL, data TEXT NOT NULL, genres TEXT NOT NULL,
  PRIMARY KEY (source_id, library_id, item_id))`;

/** Columns of an item row besides its keys. */
function columns(item: LibraryItem) {
  return {
    titleKey: (item.sortTitle || item.title).toLowerCase(),
    addedAt: item.addedAt,
    year: item.year,
    rating: item.rating,
    updatedAt: item.updatedAt,
    watched: item.watched ? 1 : 0,
    inProgress: inProgress(item),
    sortAdded: item.addedAt === null ? MISSING_LAST : -item.addedAt,
    sortYear: item.year === null ? MISSING_LAST : -item.year,
    sortRating: item.rating === null ? MISSING_LAST : -item.rating,
  };
}

/** A resume position set on an item not watched to the end: the "in progress" filter. */
function inProgress(item: Pick<LibraryItem, 'resumeMs' | 'watched'>): number {
  return item.resumeMs !== null && item.resumeMs > 0 && !item.watched ? 1 : 0;
}

export class LibraryCacheRepo {
  constructor(private readonly ctx: StoreContext) {}

  // ---- staging and swapping (sync) ----

  /** Starts (or restarts) staging a sync of one library. Throws StoreUnavailableError on a storage fault. */
  stageBegin(sourceId: string, libraryId: string): void {
    this.ctx.guard.foreground('library.stage', () => {
      this.ctx.sqlite.exec(STAGING_DDL);
      this.ctx.statement('DELETE FROM temp.library_staging_v2 WHERE source_id = ? AND library_id = ?').run(sourceId, libraryId);
    });
  }

  /** Adds one page; an id staged twice (a server repeating itself) keeps the latest copy. */
  stagePage(sourceId: string, libraryId: string, items: readonly LibraryItem[]): void {
    if (items.length === 0) return;
    this.ctx.guard.foreground('library.stage', () => {
      this.ctx.sqlite.exec(STAGING_DDL);
      const insert = this.ctx.statement(
        `INSERT OR REPLACE INTO temp.library_staging_v2 (source_id, library_id, item_id, title_key, added_at, year, rating, updated_at, sort_added, sort_year, sort_rating, watched, in_progress, data, genres)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.ctx.transaction(() => {
        for (const item of items) {
          const c = columns(item);
          insert.run(sourceId, libraryId, item.id, c.titleKey, c.addedAt, c.year, c.rating, c.updatedAt, c.sortAdded, c.sortYear, c.sortRating, c.watched, c.inProgress, JSON.stringify(item), JSON.stringify([...new Set(item.genres)]));
        }
      });
    });
  }

  /** Distinct items staged so far. */
  stagedCount(sourceId: string, libraryId: string): number {
    this.ctx.sqlite.exec(STAGING_DDL);
    return this.ctx.statement('SELECT count(*) FROM temp.library_staging_v2 WHERE source_id = ? AND library_id = ?').pluck().get(sourceId, libraryId) as number;
  }

  stageDiscard(sourceId: string, libraryId: string): void {
    try {
      this.ctx.sqlite.exec(STAGING_DDL);
      this.ctx.statement('DELETE FROM temp.library_staging_v2 WHERE source_id = ? AND library_id = ?').run(sourceId, libraryId);
    } catch {
      // The staging rows are temporary: they go with the connection anyway.
    }
  }

  /**
   * Merges the staged items in, all at once (no yielding): `full` makes the library exactly the
   * staged set (items no longer on the server are removed), `incremental` upserts. Returns how many
   * items were added, changed or removed. Throws StoreUnavailableError on a storage fault.
   * The sync uses `commitStagedStepwise`, which yields to the event loop between steps.
   */
  commitStaged(sourceId: string, libraryId: string, mode: 'full' | 'incremental', at: number): CommitResult {
    const steps = this.commitSteps(sourceId, libraryId, mode, at);
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
    }
  }

  /**
   * The same merge in steps of at most `COMMIT_CHUNK` items, each its own short transaction, with
   * `pause()` (e.g. a setImmediate) between them so the event loop never waits long. Readers between
   * two steps see every item either as before or as after the sync — each row carries its own sort
   * keys, so every order is consistent at every step; nothing is renumbered. The sync record (and
   * with it the high-water mark) is written last: a sync interrupted mid-way is simply done again.
   */
  async commitStagedStepwise(sourceId: string, libraryId: string, mode: 'full' | 'incremental', at: number, pause: () => Promise<void>): Promise<CommitResult> {
    const steps = this.commitSteps(sourceId, libraryId, mode, at);
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
      await pause();
    }
  }

  private *commitSteps(sourceId: string, libraryId: string, mode: 'full' | 'incremental', at: number): Generator<void, CommitResult, void> {
    const s = (sql: string) => this.ctx.statement(sql);
    const p = { s: sourceId, l: libraryId };
    const step = <T>(label: string, run: () => T): T => this.ctx.guard.foreground(label, () => this.ctx.transaction(run));
    this.ctx.sqlite.exec(STAGING_DDL);
    const staged = 'FROM temp.library_staging_v2 WHERE source_id = @s AND library_id = @l';
    let changed = 0;
    let stagedHigh: number | null = null;
    // 1. Upsert the staged items, COMMIT_CHUNK at a time in item-id order.
    let after = '';
    for (;;) {
      const range = { ...p, after, n: COMMIT_CHUNK };
      const upto = s(`SELECT max(item_id) FROM (SELECT item_id ${staged} AND item_id > @after ORDER BY item_id LIMIT @n)`).pluck().get(range) as string | null;
      if (upto === null) break;
      const chunk = { ...p, after, upto };
      const inChunk = `${staged} AND item_id > @after AND item_id <= @upto`;
      changed += step('library.commit', () => {
        // Genre rows of an item that is new, changed or moved here from another library are rewritten.
        s(
          `DELETE FROM library_item_genres WHERE source_id = @s AND item_id IN (
             SELECT st.item_id FROM temp.library_staging_v2 AS st LEFT JOIN library_items AS i ON i.source_id = st.source_id AND i.item_id = st.item_id
             WHERE st.source_id = @s AND st.library_id = @l AND st.item_id > @after AND st.item_id <= @upto
               AND (i.item_id IS NULL OR i.data != st.data OR i.library_id != st.library_id))`,
        ).run(chunk);
        const written = s(
          `INSERT INTO library_items (source_id, item_id, library_id, title_key, added_at, year, rating, updated_at, sort_added, sort_year, sort_rating, watched, in_progress, data)
           SELECT source_id, item_id, library_id, title_key, added_at, year, rating, updated_at, sort_added, sort_year, sort_rating, watched, in_progress, data ${inChunk}
           ON CONFLICT (source_id, item_id) DO UPDATE SET library_id = excluded.library_id, title_key = excluded.title_key, added_at = excluded.added_at,
             year = excluded.year, rating = excluded.rating, updated_at = excluded.updated_at, sort_added = excluded.sort_added, sort_year = excluded.sort_year,
             sort_rating = excluded.sort_rating, watched = excluded.watched, in_progress = excluded.in_progress, data = excluded.data
           WHERE library_items.data != excluded.data OR library_items.library_id != excluded.library_id`,
        ).run(chunk).changes;
        s(
          `INSERT OR IGNORE INTO library_item_genres (source_id, library_id, genre, item_id, title_key, sort_added, sort_year, sort_rating)
           SELECT st.source_id, st.library_id, g.value, st.item_id, st.title_key, st.sort_added, st.sort_year, st.sort_rating
           FROM temp.library_staging_v2 AS st, json_each(st.genres) AS g
           WHERE st.source_id = @s AND st.library_id = @l AND st.item_id > @after AND st.item_id <= @upto AND typeof(g.value) = 'text'`,
        ).run(chunk);
        return written;
      });
      stagedHigh = maxOrNull(stagedHigh, s(`SELECT max(updated_at) ${inChunk}`).pluck().get(chunk) as number | null);
      after = upto;
      yield;
    }
    // 2. A full sync removes what the server no longer lists: the source's items walked in id order,
    //    COMMIT_CHUNK at a time (each step a bounded range of the primary key).
    if (mode === 'full') {
      const notStaged = (table: string) => `NOT EXISTS (SELECT 1 FROM temp.library_staging_v2 AS st WHERE st.source_id = @s AND st.library_id = @l AND st.item_id = ${table}.item_id)`;
      after = '';
      for (;;) {
        const upto = s('SELECT max(item_id) FROM (SELECT item_id FROM library_items WHERE source_id = @s AND item_id > @after ORDER BY item_id LIMIT @n)').pluck().get({ s: sourceId, after, n: COMMIT_CHUNK }) as string | null;
        if (upto === null) break;
        const range = { ...p, after, upto };
        changed += step('library.commit', () => {
          s(`DELETE FROM library_item_genres WHERE source_id = @s AND library_id = @l AND item_id > @after AND item_id <= @upto AND ${notStaged('library_item_genres')}`).run(range);
          return s(`DELETE FROM library_items WHERE source_id = @s AND library_id = @l AND item_id > @after AND item_id <= @upto AND ${notStaged('library_items')}`).run(range).changes;
        });
        after = upto;
        yield;
      }
    }
    // 3. The staging rows go, a few thousand at a time (deleting 50,000 at once held the loop ~0.5 s).
    while (step('library.commit', () => s(`DELETE FROM temp.library_staging_v2 WHERE rowid IN (SELECT rowid ${staged} LIMIT @n)`).run({ ...p, n: COMMIT_CHUNK * 10 }).changes) > 0) yield;
    // 4. The sync record, last: until it is written the next sync asks for the same changes again.
    return step('library.commit', () => {
      const previous = this.syncState(sourceId, libraryId);
      const highWaterMs = mode === 'full' ? stagedHigh : maxOrNull(previous?.highWaterMs ?? null, stagedHigh);
      s(
        `INSERT INTO library_sync (source_id, library_id, full_sync_at, synced_at, high_water_ms, error, error_at) VALUES (@s, @l, @n, @at, @hw, NULL, NULL)
         ON CONFLICT (source_id, library_id) DO UPDATE SET full_sync_at = coalesce(excluded.full_sync_at, library_sync.full_sync_at),
           synced_at = excluded.synced_at, high_water_ms = excluded.high_water_ms, error = NULL, error_at = NULL`,
      ).run({ ...p, n: mode === 'full' ? at : null, at, hw: highWaterMs });
      return { changed, highWaterMs };
    });
  }

  /** A failed sync: the cache stays, the words are kept for the library page. Never throws. */
  recordSyncError(sourceId: string, libraryId: string, error: string, at: number): void {
    this.ctx.guard.background(
      'library.syncError',
      () =>
        this.ctx
          .statement(
            `INSERT INTO library_sync (source_id, library_id, error, error_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (source_id, library_id) DO UPDATE SET error = excluded.error, error_at = excluded.error_at`,
          )
          .run(sourceId, libraryId, error.slice(0, 500), at),
      `library.syncError:${sourceId}:${libraryId}`,
    );
  }

  syncState(sourceId: string, libraryId: string): LibrarySyncRecord | null {
    this.ctx.guard.flush();
    const row = this.ctx
      .statement('SELECT full_sync_at AS fullSyncAt, synced_at AS syncedAt, high_water_ms AS highWaterMs, error, error_at AS errorAt FROM library_sync WHERE source_id = ? AND library_id = ?')
      .get(sourceId, libraryId) as LibrarySyncRecord | undefined;
    return row ?? null;
  }

  // ---- reading pages ----

  page(sourceId: string, libraryId: string, query: LibraryPageQuery): LibraryPage {
    this.ctx.guard.flush();
    const reverse = (query.order ?? NATURAL_ORDER[query.sort]) !== NATURAL_ORDER[query.sort];
    const conditions: string[] = [];
    const params: Array<string | number> = [];
    if (query.filter) conditions.push(FILTER_SQL[query.filter]);
    if (query.year !== undefined) {
      conditions.push('i.year = ?');
      params.push(query.year);
    }
    const extra = conditions.map((c) => ` AND ${c}`).join('');
    let total: number;
    let rows: Array<{ data: string }>;
    if (query.genre !== undefined) {
      // The genre table carries the sort keys: a genre page walks one index in order.
      const from = `FROM library_item_genres AS g JOIN library_items AS i ON i.source_id = g.source_id AND i.item_id = g.item_id
        WHERE g.source_id = ? AND g.library_id = ? AND g.genre = ?${extra}`;
      const args = [sourceId, libraryId, query.genre, ...params];
      total = this.ctx.statement(`SELECT count(*) ${from}`).pluck().get(...args) as number;
      rows = this.ctx.statement(`SELECT i.data AS data ${from} ORDER BY ${orderBy(query.sort, 'g', reverse)} LIMIT ? OFFSET ?`).all(...args, query.limit, query.offset) as Array<{ data: string }>;
    } else {
      // The order's index, walked from either end: skipped rows cost an index entry each (the
      // filter columns trail the index), the table is read only for the page itself.
      const from = `FROM library_items AS i INDEXED BY library_items_${query.sort}_idx WHERE i.source_id = ? AND i.library_id = ?${extra}`;
      const args = [sourceId, libraryId, ...params];
      total = conditions.length === 0 ? this.count(sourceId, libraryId) : (this.ctx.statement(`SELECT count(*) ${from}`).pluck().get(...args) as number);
      rows = this.ctx.statement(`SELECT i.data AS data ${from} ORDER BY ${orderBy(query.sort, 'i', reverse)} LIMIT ? OFFSET ?`).all(...args, query.limit, query.offset) as Array<{ data: string }>;
    }
    return { items: this.parseItems(rows.map((r) => r.data), sourceId), total };
  }

  /** Items of a library in the cache. */
  count(sourceId: string, libraryId: string): number {
    return this.ctx.statement('SELECT count(*) FROM library_items WHERE source_id = ? AND library_id = ?').pluck().get(sourceId, libraryId) as number;
  }

  /** The filter choices of a library page. */
  facets(sourceId: string, libraryId: string): { genres: string[]; years: number[] } {
    this.ctx.guard.flush();
    const genres = this.ctx.statement('SELECT DISTINCT genre FROM library_item_genres WHERE source_id = ? AND library_id = ? ORDER BY genre').pluck().all(sourceId, libraryId) as string[];
    const years = this.ctx.statement('SELECT DISTINCT year FROM library_items WHERE source_id = ? AND library_id = ? AND year IS NOT NULL ORDER BY year DESC').pluck().all(sourceId, libraryId) as number[];
    return { genres, years: years.filter((y) => Number.isInteger(y)) };
  }

  /** Titles containing `text` (case-insensitive), for searching a source that is away. */
  search(sourceId: string, text: string, limit: number): LibraryItem[] {
    this.ctx.guard.flush();
    const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = this.ctx
      .statement(
        `SELECT data FROM (SELECT data, title_key, item_id FROM library_items WHERE source_id = @s AND (title_key LIKE @l ESCAPE '\\' OR lower(data ->> '$.title') LIKE @l ESCAPE '\\')
          UNION SELECT data, NULL, NULL FROM library_item_details WHERE source_id = @s AND lower(data ->> '$.title') LIKE @l ESCAPE '\\'
            AND item_id NOT IN (SELECT item_id FROM library_items WHERE source_id = @s))
         ORDER BY title_key IS NULL, title_key, item_id LIMIT @n`,
      )
      .pluck()
      .all({ s: sourceId, l: pattern, n: limit }) as string[];
    return this.parseItems(rows, sourceId);
  }

  // ---- single items, details, home rows ----

  /** An item known to the cache (a library listing, an item page, a home row or a search hit). */
  findItem(sourceId: string, itemId: string): LibraryItem | null {
    this.ctx.guard.flush();
    const data =
      (this.ctx.statement('SELECT data FROM library_items WHERE source_id = ? AND item_id = ?').pluck().get(sourceId, itemId) as string | undefined) ??
      (this.ctx.statement('SELECT data FROM library_item_details WHERE source_id = ? AND item_id = ?').pluck().get(sourceId, itemId) as string | undefined);
    return data === undefined ? null : (this.parseItems([data], sourceId)[0] ?? null);
  }

  detail(sourceId: string, itemId: string): CachedDetail | null {
    this.ctx.guard.flush();
    const row = this.ctx.statement('SELECT data, children, fetched_at AS fetchedAt FROM library_item_details WHERE source_id = ? AND item_id = ?').get(sourceId, itemId) as
      | { data: string; children: string | null; fetchedAt: number | null }
      | undefined;
    const item = row ? this.parseItems([row.data], sourceId)[0] : this.findItem(sourceId, itemId);
    if (!item) return null;
    let children: LibraryItem[] | null = null;
    if (row?.children) {
      const ids = safeJsonArray(row.children);
      children = ids.map((id) => this.findItem(sourceId, id)).filter((c): c is LibraryItem => c !== null);
    }
    return { item, children, fetchedAt: row?.fetchedAt ?? null };
  }

  /** Write-through of an item page read live. Never throws (a cache write must not fail the answer). */
  saveDetail(sourceId: string, detail: ItemDetail, at: number): void {
    this.ctx.guard.background(
      'library.detail',
      () => {
        this.upsertSeen(sourceId, detail.children, at);
        this.ctx
          .statement(
            `INSERT INTO library_item_details (source_id, item_id, data, children, fetched_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (source_id, item_id) DO UPDATE SET data = excluded.data, children = excluded.children, fetched_at = excluded.fetched_at, seen_at = excluded.seen_at`,
          )
          .run(sourceId, detail.item.id, JSON.stringify(detail.item), JSON.stringify(detail.children.map((c) => c.id)), at, at);
        this.writeThroughWatchState(sourceId, [detail.item, ...detail.children]);
      },
      `library.detail:${sourceId}:${detail.item.id}`,
    );
  }

  /**
   * The watched state and resume position an item page just read, copied into the item's listing
   * row and the cached home rows, so the grid shows no stale badge until the next sync. Only these
   * fields: they move no sort order (a changed title or date waits for the sync, which renumbers).
   */
  private writeThroughWatchState(sourceId: string, items: readonly LibraryItem[]): void {
    const fresh = new Map(items.map((i) => [i.id, { watched: i.watched, resumeMs: i.resumeMs, lastViewedAt: i.lastViewedAt }]));
    const update = this.ctx.statement(
      `UPDATE library_items SET data = json_set(data, '$.watched', json(@watched), '$.resumeMs', @resumeMs, '$.lastViewedAt', @lastViewedAt),
         watched = @w, in_progress = @p
       WHERE source_id = @s AND item_id = @id
         AND (watched != @w OR in_progress != @p OR data ->> '$.resumeMs' IS NOT @resumeMs OR data ->> '$.lastViewedAt' IS NOT @lastViewedAt)`,
    );
    for (const [id, state] of fresh) {
      update.run({ s: sourceId, id, watched: state.watched ? 'true' : 'false', resumeMs: state.resumeMs, lastViewedAt: state.lastViewedAt, w: state.watched ? 1 : 0, p: inProgress(state) });
    }
    const rows = this.ctx.statement('SELECT row, items FROM library_home_rows WHERE source_id = ?').all(sourceId) as Array<{ row: string; items: string }>;
    const save = this.ctx.statement('UPDATE library_home_rows SET items = ? WHERE source_id = ? AND row = ?');
    for (const row of rows) {
      let changed = false;
      const next = (safeJsonArray(row.items) as unknown[]).map((value) => {
        const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
        const state = typeof id === 'string' ? fresh.get(id) : undefined;
        if (!state) return value;
        changed = true;
        return { ...(value as Record<string, unknown>), ...state };
      });
      if (changed) save.run(JSON.stringify(next), sourceId, row.row);
    }
  }

  /** Items seen in a home row or a search (their posters must resolve). Never throws. */
  saveSeen(sourceId: string, items: readonly LibraryItem[], at: number): void {
    if (items.length === 0) return;
    this.ctx.guard.background('library.seen', () => this.upsertSeen(sourceId, items, at));
  }

  private upsertSeen(sourceId: string, items: readonly LibraryItem[], at: number): void {
    // An item page already fetched keeps its richer copy (overview, cast).
    const upsert = this.ctx.statement(
      `INSERT INTO library_item_details (source_id, item_id, data, children, fetched_at, seen_at) VALUES (?, ?, ?, NULL, NULL, ?)
       ON CONFLICT (source_id, item_id) DO UPDATE SET seen_at = excluded.seen_at,
         data = CASE WHEN library_item_details.fetched_at IS NULL THEN excluded.data ELSE library_item_details.data END`,
    );
    for (const item of items) upsert.run(sourceId, item.id, JSON.stringify(item), at);
  }

  homeRow(sourceId: string, row: HomeRow): { items: LibraryItem[]; fetchedAt: number } | null {
    this.ctx.guard.flush();
    const found = this.ctx.statement('SELECT items, fetched_at AS fetchedAt FROM library_home_rows WHERE source_id = ? AND row = ?').get(sourceId, row) as
      | { items: string; fetchedAt: number }
      | undefined;
    if (!found) return null;
    const items = safeJsonArray(found.items).map((v) => libraryItemSchema.safeParse(v)).filter((r) => r.success).map((r) => r.data);
    return { items, fetchedAt: found.fetchedAt };
  }

  /** Never throws; latest wins while storage is degraded. */
  saveHomeRow(sourceId: string, row: HomeRow, items: readonly LibraryItem[], at: number): void {
    this.ctx.guard.background(
      'library.home',
      () => {
        this.upsertSeen(sourceId, items, at);
        this.ctx
          .statement(
            `INSERT INTO library_home_rows (source_id, row, items, fetched_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (source_id, row) DO UPDATE SET items = excluded.items, fetched_at = excluded.fetched_at`,
          )
          .run(sourceId, row, JSON.stringify(items), at);
      },
      `library.home:${sourceId}:${row}`,
    );
  }

  /** Items seen only in lists (not in a library, no item page) and not seen since `olderThan`. */
  pruneSeen(olderThan: number): number {
    return this.ctx.guard.foreground('library.prune', () => this.ctx.statement('DELETE FROM library_item_details WHERE fetched_at IS NULL AND seen_at < ?').run(olderThan).changes);
  }

  private parseItems(rows: readonly string[], sourceId: string): LibraryItem[] {
    const out: LibraryItem[] = [];
    for (const text of rows) {
      const parsed = libraryItemSchema.safeParse(safeJson(text));
      if (parsed.success) out.push(parsed.data);
      else this.ctx.logger.warn({ table: 'library_items', sourceId, problem: parsed.error.issues[0]?.message ?? 'invalid' }, 'skipping unreadable library item');
    }
    return out;
  }
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function safeJsonArray(text: string): string[] & unknown[] {
  const value = safeJson(text);
  return Array.isArray(value) ? (value as string[]) : [];
}
