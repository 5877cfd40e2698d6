// The library cache (issue 14): what Marquee last saw of each library, per (source, item id).
//
// A sync stages its pages in a temporary table as they arrive (one small transaction per page,
// nothing held in memory), then swaps them in with one transaction of set-based SQL: the library
// is replaced atomically (items gone on the server disappear) or, for an incremental sync, only
// the staged items are upserted. After a change every item gets its position in each sort order
// (`rank_*`), so a page is a range read of an index at any offset.
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

/** The sort's natural direction, in which its rank counts (title ascends; the others descend). */
export const NATURAL_ORDER: Record<LibrarySort, 'asc' | 'desc'> = { title: 'asc', added: 'desc', year: 'desc', rating: 'desc' };
const RANK_COLUMN: Record<LibrarySort, string> = { title: 'rank_title', added: 'rank_added', year: 'rank_year', rating: 'rank_rating' };
const FILTER_SQL: Record<LibraryFilter, string> = { unwatched: 'i.watched = 0', watched: 'i.watched = 1', in_progress: 'i.in_progress = 1' };

const STAGING_DDL = `CREATE TEMP TABLE IF NOT EXISTS library_staging (
  source_id TEXT NOT NULL, library_id TEXT NOT NULL, item_id TEXT NOT NULL,
  title_key TEXT NOT NULL, added_at INTEGER, year INTEGER, rating REAL, updated_at INTEGER,
  watched INTEGER NOT NULL, in_progress INTEGER NOT NULL, data TEXT NOT NULL, genres TEXT NOT NULL,
  PRIMARY KEY (source_id, library_id, item_id))`;

/** The order each rank counts in (its sort's natural direction, items without the value last, ties by title then id). */
const RANK_ORDER: Record<LibrarySort, string> = {
  title: 'title_key, item_id',
  added: 'added_at IS NULL, added_at DESC, title_key, item_id',
  year: 'year IS NULL, year DESC, title_key, item_id',
  rating: 'rating IS NULL, rating DESC, title_key, item_id',
};

/** Renumbers one sort's ranks 0..n-1, writing only the rows whose rank moved. */
const ranksSql = (sort: LibrarySort) => `UPDATE library_items SET ${RANK_COLUMN[sort]} = r.rank
FROM (SELECT item_id, row_number() OVER (ORDER BY ${RANK_ORDER[sort]}) - 1 AS rank FROM library_items WHERE source_id = @s AND library_id = @l) AS r
WHERE library_items.source_id = @s AND library_items.item_id = r.item_id AND ${RANK_COLUMN[sort]} != r.rank`;

/** Copies the items' ranks of these sorts to their genre rows, writing only rows that differ. */
const genreRanksSql = (sorts: readonly LibrarySort[], onlyStaged: boolean) => {
  const set = sorts.map((sort) => `${RANK_COLUMN[sort]} = i.${RANK_COLUMN[sort]}`).join(', ');
  const differ = sorts.map((sort) => `library_item_genres.${RANK_COLUMN[sort]} != i.${RANK_COLUMN[sort]}`).join(' OR ');
  return `UPDATE library_item_genres SET ${set} FROM library_items AS i
WHERE library_item_genres.source_id = @s AND library_item_genres.library_id = @l
  AND i.source_id = @s AND i.item_id = library_item_genres.item_id AND (${differ})${
    onlyStaged ? ' AND library_item_genres.item_id IN (SELECT item_id FROM temp.library_staging WHERE source_id = @s AND library_id = @l)' : ''
  }`;
};
const ALL_SORTS: readonly LibrarySort[] = ['title', 'added', 'year', 'rating'];

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
      this.ctx.statement('DELETE FROM temp.library_staging WHERE source_id = ? AND library_id = ?').run(sourceId, libraryId);
    });
  }

  /** Adds one page; an id staged twice (a server repeating itself) keeps the latest copy. */
  stagePage(sourceId: string, libraryId: string, items: readonly LibraryItem[]): void {
    if (items.length === 0) return;
    this.ctx.guard.foreground('library.stage', () => {
      this.ctx.sqlite.exec(STAGING_DDL);
      const insert = this.ctx.statement(
        `INSERT OR REPLACE INTO temp.library_staging (source_id, library_id, item_id, title_key, added_at, year, rating, updated_at, watched, in_progress, data, genres)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.ctx.transaction(() => {
        for (const item of items) {
          const c = columns(item);
          insert.run(sourceId, libraryId, item.id, c.titleKey, c.addedAt, c.year, c.rating, c.updatedAt, c.watched, c.inProgress, JSON.stringify(item), JSON.stringify([...new Set(item.genres)]));
        }
      });
    });
  }

  /** Distinct items staged so far. */
  stagedCount(sourceId: string, libraryId: string): number {
    this.ctx.sqlite.exec(STAGING_DDL);
    return this.ctx.statement('SELECT count(*) FROM temp.library_staging WHERE source_id = ? AND library_id = ?').pluck().get(sourceId, libraryId) as number;
  }

  stageDiscard(sourceId: string, libraryId: string): void {
    try {
      this.ctx.sqlite.exec(STAGING_DDL);
      this.ctx.statement('DELETE FROM temp.library_staging WHERE source_id = ? AND library_id = ?').run(sourceId, libraryId);
    } catch {
      // The staging rows are temporary: they go with the connection anyway.
    }
  }

  /**
   * Swaps the staged items in, in one transaction. `full`: the library becomes exactly the staged
   * set (items no longer on the server are removed); `incremental`: staged items are upserted.
   * Returns how many items were added, changed or removed. Throws StoreUnavailableError on a
   * storage fault (the old cache then stays as it was).
   */
  commitStaged(sourceId: string, libraryId: string, mode: 'full' | 'incremental', at: number): { changed: number; highWaterMs: number | null } {
    return this.ctx.guard.foreground('library.commit', () =>
      this.ctx.transaction(() => {
        const s = (sql: string) => this.ctx.statement(sql);
        const staged = 'FROM temp.library_staging WHERE source_id = @s AND library_id = @l';
        // Which orders the change can move: an item added or removed moves all of them; a changed
        // watched state none (renumbering 50,000 items costs ~0.3 s per order, so only what moved).
        const moved = s(
          `SELECT max(i.item_id IS NULL OR i.library_id != st.library_id) AS added, max(i.title_key IS NOT st.title_key) AS title,
             max(i.added_at IS NOT st.added_at) AS addedAt, max(i.year IS NOT st.year) AS year, max(i.rating IS NOT st.rating) AS rating
           FROM temp.library_staging AS st LEFT JOIN library_items AS i ON i.source_id = st.source_id AND i.item_id = st.item_id
           WHERE st.source_id = @s AND st.library_id = @l`,
        ).get({ s: sourceId, l: libraryId }) as { added: number | null; title: number | null; addedAt: number | null; year: number | null; rating: number | null };
        // Items that moved here from another library take their genres along: drop their old rows.
        s(`DELETE FROM library_item_genres WHERE source_id = @s AND library_id != @l AND item_id IN (SELECT item_id ${staged})`).run({ s: sourceId, l: libraryId });
        let changed = s(
          `INSERT INTO library_items (source_id, item_id, library_id, title_key, added_at, year, rating, updated_at, watched, in_progress, data)
           SELECT source_id, item_id, library_id, title_key, added_at, year, rating, updated_at, watched, in_progress, data ${staged}
           ON CONFLICT (source_id, item_id) DO UPDATE SET library_id = excluded.library_id, title_key = excluded.title_key, added_at = excluded.added_at,
             year = excluded.year, rating = excluded.rating, updated_at = excluded.updated_at, watched = excluded.watched,
             in_progress = excluded.in_progress, data = excluded.data
           WHERE library_items.data != excluded.data OR library_items.library_id != excluded.library_id`,
        ).run({ s: sourceId, l: libraryId }).changes;
        const changedBeforeRemoval = changed;
        if (mode === 'full') {
          const removed = s(`DELETE FROM library_items WHERE source_id = @s AND library_id = @l AND item_id NOT IN (SELECT item_id ${staged})`).run({ s: sourceId, l: libraryId }).changes;
          changed += removed;
          s('DELETE FROM library_item_genres WHERE source_id = @s AND library_id = @l').run({ s: sourceId, l: libraryId });
        } else {
          s(`DELETE FROM library_item_genres WHERE source_id = @s AND library_id = @l AND item_id IN (SELECT item_id ${staged})`).run({ s: sourceId, l: libraryId });
        }
        s(
          `INSERT OR IGNORE INTO library_item_genres (source_id, library_id, genre, item_id)
           SELECT st.source_id, st.library_id, g.value, st.item_id FROM temp.library_staging AS st, json_each(st.genres) AS g
           WHERE st.source_id = @s AND st.library_id = @l AND typeof(g.value) = 'text'`,
        ).run({ s: sourceId, l: libraryId });
        const removed = mode === 'full' && changed > 0 && changedBeforeRemoval !== changed;
        const resort: LibrarySort[] =
          moved.added || removed
            ? [...ALL_SORTS]
            : moved.title
              ? [...ALL_SORTS] // the title breaks ties in every order
              : ALL_SORTS.filter((sort) => (sort === 'added' ? moved.addedAt : sort === 'year' ? moved.year : sort === 'rating' ? moved.rating : 0));
        for (const sort of resort) s(ranksSql(sort)).run({ s: sourceId, l: libraryId });
        // Genre rows follow their items' ranks; new rows (rank 0) always, all rows when an order moved.
        s(genreRanksSql(ALL_SORTS, resort.length === 0)).run({ s: sourceId, l: libraryId });
        const stagedHigh = s(`SELECT max(updated_at) ${staged}`).pluck().get({ s: sourceId, l: libraryId }) as number | null;
        const previous = this.syncState(sourceId, libraryId);
        const highWaterMs = mode === 'full' ? stagedHigh : maxOrNull(previous?.highWaterMs ?? null, stagedHigh);
        s(
          `INSERT INTO library_sync (source_id, library_id, full_sync_at, synced_at, high_water_ms, error, error_at) VALUES (@s, @l, @n, @at, @hw, NULL, NULL)
           ON CONFLICT (source_id, library_id) DO UPDATE SET full_sync_at = coalesce(excluded.full_sync_at, library_sync.full_sync_at),
             synced_at = excluded.synced_at, high_water_ms = excluded.high_water_ms, error = NULL, error_at = NULL`,
        ).run({ s: sourceId, l: libraryId, n: mode === 'full' ? at : null, at, hw: highWaterMs });
        s(`DELETE ${staged}`).run({ s: sourceId, l: libraryId });
        return { changed, highWaterMs };
      }),
    );
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
    const rank = RANK_COLUMN[query.sort];
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
      // The genre table carries the ranks: a genre page walks one index in order.
      const from = `FROM library_item_genres AS g JOIN library_items AS i ON i.source_id = g.source_id AND i.item_id = g.item_id
        WHERE g.source_id = ? AND g.library_id = ? AND g.genre = ?${extra}`;
      const args = [sourceId, libraryId, query.genre, ...params];
      total = this.ctx.statement(`SELECT count(*) ${from}`).pluck().get(...args) as number;
      rows = this.ctx.statement(`SELECT i.data AS data ${from} ORDER BY g.${rank} ${reverse ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`).all(...args, query.limit, query.offset) as Array<{ data: string }>;
    } else if (conditions.length === 0) {
      // Unfiltered: ranks are 0..n-1, so the page is a keyset range however deep the offset.
      total = this.count(sourceId, libraryId);
      const range = reverse ? `i.${rank} <= ? ORDER BY i.${rank} DESC` : `i.${rank} >= ? ORDER BY i.${rank} ASC`;
      const start = reverse ? total - 1 - query.offset : query.offset;
      rows = this.ctx.statement(`SELECT i.data AS data FROM library_items AS i WHERE i.source_id = ? AND i.library_id = ? AND ${range} LIMIT ?`).all(sourceId, libraryId, start, query.limit) as Array<{ data: string }>;
    } else {
      const from = `FROM library_items AS i INDEXED BY library_items_${query.sort}_idx WHERE i.source_id = ? AND i.library_id = ?${extra}`;
      const args = [sourceId, libraryId, ...params];
      total = this.ctx.statement(`SELECT count(*) ${from}`).pluck().get(...args) as number;
      rows = this.ctx.statement(`SELECT i.data AS data ${from} ORDER BY i.${rank} ${reverse ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`).all(...args, query.limit, query.offset) as Array<{ data: string }>;
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
        `SELECT data FROM (SELECT data, rank_title FROM library_items WHERE source_id = @s AND (title_key LIKE @l ESCAPE '\\' OR lower(data ->> '$.title') LIKE @l ESCAPE '\\')
          UNION SELECT data, NULL FROM library_item_details WHERE source_id = @s AND lower(data ->> '$.title') LIKE @l ESCAPE '\\'
            AND item_id NOT IN (SELECT item_id FROM library_items WHERE source_id = @s))
         ORDER BY rank_title IS NULL, rank_title LIMIT @n`,
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
