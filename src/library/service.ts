// What the HTTP layer asks of the library layer (issue 14), in domain terms (src/server/library-views.ts
// makes the wire shapes). Library pages come from the cache; an item page is read live when the
// source is online (and written through to the cache), from the cache otherwise; home rows and
// searches ask every online source at once, each under its own deadline, so one hung server
// never holds the others back.
import type { BrowseResult, LibraryBrowser } from '../backends/types.js';
import type { LibraryItem } from '../core/library.js';
import type { LibrarySettings } from '../core/settings.js';
import type { Library } from '../core/types.js';
import type { Clock } from '../monitor/clock.js';
import type { Engine, RoutedCaller, SourceSnapshot } from '../monitor/engine-types.js';
import type { LibraryCacheRepo, LibraryPage, LibraryPageQuery } from '../store/index.js';
import type { LibrarySync, LibrarySyncStatus } from './sync.js';

/** Whether a source can be asked now, and since when it cannot. */
export interface Availability {
  source: SourceSnapshot;
  offline: boolean;
  offlineSince: number | null;
}

export type LibraryLookup = { ok: true; library: Library } & Availability;
export type NotFound = { ok: false; reason: 'unknown_source' | 'unknown_library' | 'unknown_item'; message: string };

export interface LibraryItemsAnswer extends Availability {
  library: Library;
  page: LibraryPage;
  offset: number;
  sync: LibrarySyncStatus;
}

export interface LibraryInfoAnswer extends Availability {
  library: Library;
  total: number;
  genres: string[];
  years: number[];
  sync: LibrarySyncStatus;
}

export interface ItemAnswer extends Availability {
  item: LibraryItem;
  children: LibraryItem[];
  /** When the item page was read from the server (now when live). */
  fetchedAt: number | null;
}

/** One source's part of a merged answer. */
export interface SourcePart {
  source: SourceSnapshot;
  state: 'online' | 'offline' | 'failed' | 'timeout';
  offlineSince: number | null;
  error?: string;
}

export interface SourcedItem {
  source: SourceSnapshot;
  item: LibraryItem;
  offline: boolean;
}

export interface HomeAnswer {
  continueWatching: SourcedItem[];
  recentlyAdded: SourcedItem[];
  sources: SourcePart[];
}

export interface SearchSourcePart {
  source: SourceSnapshot;
  state: 'searching' | 'done' | 'failed' | 'timeout' | 'offline';
  count: number;
  error?: string;
}

export interface SearchAnswer {
  query: string;
  results: SourcedItem[];
  sources: SearchSourcePart[];
  complete: boolean;
}

export interface LibraryServiceOptions {
  engine: Pick<Engine, 'listSources' | 'getSource'>;
  caller: RoutedCaller;
  cache: LibraryCacheRepo;
  sync: LibrarySync;
  settings: LibrarySettings;
  clock: Pick<Clock, 'now'>;
}

/** Items per home row and per source search. */
export const HOME_ROW_SIZE = 24;
export const SEARCH_LIMIT = 50;
const MAX_SEARCHES_KEPT = 200;

const TIMED_OUT = Symbol('timed out');

/** `promise`, or TIMED_OUT after `ms` (real time: a deadline for a server, not a schedule). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface SearchEntry {
  startedAt: number;
  parts: Map<string, { source: SourceSnapshot; state: SearchSourcePart['state']; items: LibraryItem[]; error?: string; arrived: number }>;
  done: Promise<void>;
  arrivals: number;
}

export class LibraryService {
  private readonly searches = new Map<string, SearchEntry>();

  constructor(private readonly options: LibraryServiceOptions) {}

  availability(source: SourceSnapshot): Availability {
    const state = source.status.state;
    const offline = state !== 'connected' && state !== 'sync_failed';
    return { source, offline, offlineSince: offline ? (source.since ?? null) : null };
  }

  private lookup(sourceId: string, libraryId: string): LibraryLookup | NotFound {
    const source = this.options.engine.getSource(sourceId);
    if (!source) return { ok: false, reason: 'unknown_source', message: `There is no source ${sourceId}.` };
    const library = source.libraries.find((l) => l.id === libraryId);
    if (!library) return { ok: false, reason: 'unknown_library', message: `${source.source.name} has no library ${libraryId}.` };
    return { ok: true, library, ...this.availability(source) };
  }

  libraryItems(sourceId: string, libraryId: string, query: LibraryPageQuery): ({ ok: true } & LibraryItemsAnswer) | NotFound {
    const found = this.lookup(sourceId, libraryId);
    if (!found.ok) return found;
    const page = this.options.cache.page(sourceId, libraryId, query);
    return { ...found, page, offset: query.offset, sync: this.options.sync.status(sourceId, libraryId) };
  }

  libraryInfo(sourceId: string, libraryId: string): ({ ok: true } & LibraryInfoAnswer) | NotFound {
    const found = this.lookup(sourceId, libraryId);
    if (!found.ok) return found;
    const { cache, sync } = this.options;
    return { ...found, total: cache.count(sourceId, libraryId), ...cache.facets(sourceId, libraryId), sync: sync.status(sourceId, libraryId) };
  }

  /** Live when the source is online (written through), else — or when the live call fails — from the cache. */
  async item(sourceId: string, itemId: string): Promise<({ ok: true } & ItemAnswer) | NotFound> {
    const source = this.options.engine.getSource(sourceId);
    if (!source) return { ok: false, reason: 'unknown_source', message: `There is no source ${sourceId}.` };
    const availability = this.availability(source);
    const { cache, caller, clock, settings } = this.options;
    let liveError: string | null = null;
    if (!availability.offline) {
      const answer = await caller.call(sourceId, (use, signal) => browse(use.backend.browse, (b) => b.item(use, itemId, { timeoutMs: settings.itemTimeoutMs, signal })), {
        timeoutMs: settings.itemTimeoutMs,
      });
      if (answer.ok) {
        const at = clock.now();
        cache.saveDetail(sourceId, answer.value, at);
        return { ok: true, ...availability, item: answer.value.item, children: answer.value.children, fetchedAt: at };
      }
      liveError = answer.message;
    }
    const cached = cache.detail(sourceId, itemId);
    if (!cached) return { ok: false, reason: 'unknown_item', message: liveError ? `${source.source.name} could not show this item: ${liveError}` : `Nothing is known of item ${itemId} on ${source.source.name}.` };
    // Served from the cache although the source may be online: the page says since when it is from the cache.
    return { ok: true, ...availability, item: cached.item, children: cached.children ?? [], fetchedAt: cached.fetchedAt };
  }

  /** Continue watching and recently added of every source, merged; no row waits longer than `homeDeadlineMs`. */
  async home(): Promise<HomeAnswer> {
    const { cache, caller, clock, settings } = this.options;
    const sources = this.options.engine.listSources();
    const parts = await Promise.all(
      sources.map(async (source): Promise<{ part: SourcePart; cw: LibraryItem[]; ra: LibraryItem[]; offline: boolean }> => {
        const availability = this.availability(source);
        const id = source.source.id;
        const cachedRows = () => ({ cw: cache.homeRow(id, 'continue')?.items ?? [], ra: cache.homeRow(id, 'recent')?.items ?? [] });
        if (availability.offline) return { part: { source, state: 'offline', offlineSince: availability.offlineSince }, ...cachedRows(), offline: true };
        const ask = (row: 'continue' | 'recent') =>
          caller
            .call(id, (use, signal) =>
              browse(use.backend.browse, (b) => {
                const options = { timeoutMs: settings.homeDeadlineMs * 4, signal };
                return row === 'continue' ? b.continueWatching(use, HOME_ROW_SIZE, options) : b.recentlyAdded(use, HOME_ROW_SIZE, options);
              }),
            { timeoutMs: settings.homeDeadlineMs * 4 })
            .then((answer) => {
              // A late answer still refreshes the cache for the next visit.
              if (answer.ok) cache.saveHomeRow(id, row, answer.value, clock.now());
              return answer;
            });
        const both = Promise.all([ask('continue'), ask('recent')]);
        const answer = await within(both, settings.homeDeadlineMs);
        const timedOut = answer === TIMED_OUT || answer.some((a) => !a.ok && a.error?.code === 'timeout');
        if (timedOut) return { part: { source, state: 'timeout', offlineSince: null, error: `no answer within ${settings.homeDeadlineMs} ms` }, ...cachedRows(), offline: false };
        const [cw, ra] = answer;
        if (!cw.ok || !ra.ok) {
          const error = (!cw.ok ? cw.message : !ra.ok ? ra.message : '') || 'the server answered with an error';
          const rows = cachedRows();
          return { part: { source, state: 'failed', offlineSince: null, error }, cw: cw.ok ? cw.value : rows.cw, ra: ra.ok ? ra.value : rows.ra, offline: false };
        }
        return { part: { source, state: 'online', offlineSince: null }, cw: cw.value, ra: ra.value, offline: false };
      }),
    );
    const merge = (pick: (p: (typeof parts)[number]) => LibraryItem[], by: (i: LibraryItem) => number | null) =>
      parts
        .flatMap((p) => pick(p).map((item) => ({ source: p.part.source, item, offline: p.offline })))
        .sort((a, b) => (by(b.item) ?? 0) - (by(a.item) ?? 0) || a.source.source.id.localeCompare(b.source.source.id) || a.item.id.localeCompare(b.item.id))
        .slice(0, HOME_ROW_SIZE);
    return {
      continueWatching: merge((p) => p.cw, (i) => i.lastViewedAt),
      recentlyAdded: merge((p) => p.ra, (i) => i.addedAt),
      sources: parts.map((p) => p.part),
    };
  }

  /**
   * Searches every source at once (online ones live, away ones in the cache). A repeated call with
   * the same words within `searchKeepMs` joins the search in flight and returns what arrived.
   */
  async search(query: string, waitMs: number): Promise<SearchAnswer> {
    const normalised = query.trim().replace(/\s+/g, ' ').toLowerCase();
    const entry = this.searchEntry(normalised);
    if (waitMs > 0) await within(entry.done, waitMs);
    const parts = [...entry.parts.values()];
    const results = parts
      .filter((p) => p.items.length > 0)
      .sort((a, b) => a.arrived - b.arrived)
      .flatMap((p) => p.items.map((item) => ({ source: p.source, item, offline: p.state === 'offline' })));
    return {
      query: query.trim(),
      results,
      sources: parts.map((p) => ({ source: p.source, state: p.state, count: p.items.length, ...(p.error ? { error: p.error } : {}) })),
      complete: parts.every((p) => p.state !== 'searching'),
    };
  }

  private searchEntry(normalised: string): SearchEntry {
    const { cache, caller, clock, settings } = this.options;
    const now = clock.now();
    for (const [q, e] of this.searches) if (now - e.startedAt >= settings.searchKeepMs) this.searches.delete(q);
    const existing = this.searches.get(normalised);
    if (existing) return existing;
    if (this.searches.size >= MAX_SEARCHES_KEPT) this.searches.delete(this.searches.keys().next().value!);
    const entry: SearchEntry = { startedAt: now, parts: new Map(), done: Promise.resolve(), arrivals: 0 };
    const runs: Promise<void>[] = [];
    for (const source of this.options.engine.listSources()) {
      const id = source.source.id;
      if (this.availability(source).offline) {
        entry.parts.set(id, { source, state: 'offline', items: cache.search(id, normalised, SEARCH_LIMIT), arrived: entry.arrivals++ });
        continue;
      }
      const part: SearchEntry['parts'] extends Map<string, infer P> ? P : never = { source, state: 'searching', items: [], arrived: Number.MAX_SAFE_INTEGER };
      entry.parts.set(id, part);
      const live = caller.call(id, (use, signal) => browse(use.backend.browse, (b) => b.search(use, normalised, SEARCH_LIMIT, { timeoutMs: settings.searchDeadlineMs, signal })), {
        timeoutMs: settings.searchDeadlineMs,
      });
      runs.push(
        within(live, settings.searchDeadlineMs).then((answer) => {
          part.arrived = entry.arrivals++;
          if (answer === TIMED_OUT || (!answer.ok && answer.error?.code === 'timeout')) {
            part.state = 'timeout';
            part.error = `no answer within ${Math.round(settings.searchDeadlineMs / 1000)} s`;
          } else if (!answer.ok) {
            part.state = 'failed';
            part.error = answer.message;
          } else {
            part.state = 'done';
            part.items = answer.value;
            cache.saveSeen(id, answer.value, clock.now());
          }
        }),
      );
    }
    entry.done = Promise.all(runs).then(() => undefined);
    this.searches.set(normalised, entry);
    return entry;
  }
}

function browse<T>(browser: LibraryBrowser | undefined, run: (b: LibraryBrowser) => Promise<BrowseResult<T>>): Promise<BrowseResult<T>> {
  if (!browser) return Promise.resolve({ ok: false, error: { code: 'http_error', message: 'this kind of server cannot be browsed' } });
  return run(browser);
}
