import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import type { ApiItem, ApiLibraryInfo, ApiLibraryItems } from '../../api/types';
import { ItemCard, ItemCardSkeleton } from '../components/ItemCard';
import { LibraryIcon, OfflineIcon } from '../components/Icons';
import { apiFetch, errorMessage } from '../lib/api';
import { navigate, useApp } from '../lib/hooks';
import { offlineSince, useApiGet, useLibraryRevision } from '../lib/library';
import { parseLibraryQuery, libraryQueryString, type LibraryQuery } from '../lib/library-query';

/** Items per request: a screenful or two of posters. */
export const LIBRARY_PAGE_SIZE = 100;
/** A page is asked for once the visible range has stayed put this long: a fast scroll past thousands asks for nothing. */
const SETTLE_MS = 120;
/** Requests in flight at most, page-wide. */
const MAX_IN_FLIGHT = 4;
const CARD_MIN_WIDTH = 150;
const GAP = 18;
/** Title and meta lines below the poster. */
const CARD_TEXT_HEIGHT = 50;

/**
 * The pages of one list (library + sort + filters) fetched so far: a mutable cache outside React's
 * state (answers arrive out of order and are merged here; a re-render is asked when one lands).
 */
class PageCache {
  key = '';
  /** Pages of this generation (answers after the last `library` event). */
  pages = new Map<number, ApiItem[]>();
  /** Pages of the previous generation, shown until their fresh copy arrives (a refresh in place). */
  previous = new Map<number, ApiItem[]>();
  inFlight = new Map<number, AbortController>();

  /** A new list or a new generation of it; the same list keeps its old pages to show meanwhile. */
  reset(generation: string): void {
    if (this.key === generation) return;
    const sameList = this.key.split('#')[0] === generation.split('#')[0];
    for (const controller of this.inFlight.values()) controller.abort();
    this.previous = sameList ? new Map([...this.previous, ...this.pages]) : new Map<number, ApiItem[]>();
    this.pages = new Map();
    this.inFlight = new Map();
    this.key = generation;
  }

  itemAt(index: number): ApiItem | undefined {
    const pageIndex = Math.floor(index / LIBRARY_PAGE_SIZE);
    const page = this.pages.get(pageIndex) ?? this.previous.get(pageIndex);
    return page?.[index - pageIndex * LIBRARY_PAGE_SIZE];
  }
}

export function LibraryPage({ sourceId, libraryId, search }: { sourceId: string; libraryId: string; search: string }) {
  const query = useMemo(() => parseLibraryQuery(search), [search]);
  const revision = useLibraryRevision(sourceId, libraryId);
  // A change of this source's status (away, back) refreshes the header and banner too.
  const sourceStatus = useApp((s) => s.sources.find((source) => source.id === sourceId)?.status ?? 'unknown');
  const knownLibrary = useApp((s) => s.sources.find((source) => source.id === sourceId)?.libraries.find((l) => l.id === libraryId));
  const sourceName = useApp((s) => s.sources.find((source) => source.id === sourceId)?.name);
  const base = `sources/${encodeURIComponent(sourceId)}/libraries/${encodeURIComponent(libraryId)}`;
  const info = useApiGet<ApiLibraryInfo>(base, `${revision}/${sourceStatus}`);

  const setQuery = (next: Partial<LibraryQuery>) => {
    const merged = { ...query, ...next };
    navigate({ page: 'library', sourceId, libraryId, search: libraryQueryString(merged) }, { replace: true });
  };

  // ---------- pages of items by visible range ----------
  const key = `${base}?${libraryQueryString(query)}`;
  const [cache] = useState(() => new PageCache());
  const [answer, setAnswer] = useState<{ key: string; total: number; offline: boolean; offlineSince: number | null } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const rerender = useCallback(() => setTick((n) => n + 1), []);
  const generation = `${key}#${revision}`;
  cache.reset(generation);

  const fetchPage = useCallback(
    (pageIndex: number) => {
      const current = cache.key;
      if (cache.pages.has(pageIndex) || cache.inFlight.has(pageIndex)) return;
      const controller = new AbortController();
      cache.inFlight.set(pageIndex, controller);
      const params = new URLSearchParams(libraryQueryString(query));
      params.set('offset', String(pageIndex * LIBRARY_PAGE_SIZE));
      params.set('limit', String(LIBRARY_PAGE_SIZE));
      apiFetch<ApiLibraryItems>(`${base}/items?${params.toString()}`, { signal: controller.signal }).then(
        (page) => {
          if (cache.key !== current) return;
          cache.inFlight.delete(pageIndex);
          cache.pages.set(pageIndex, page.items);
          cache.previous.delete(pageIndex);
          setLoadError(null);
          setAnswer((a) =>
            a && a.key === key && a.total === page.total && a.offline === page.offline && a.offlineSince === page.offlineSince
              ? a
              : { key, total: page.total, offline: page.offline, offlineSince: page.offlineSince },
          );
          rerender();
        },
        (error: unknown) => {
          if (cache.key !== current) return;
          cache.inFlight.delete(pageIndex);
          if ((error as Error).name === 'AbortError') return;
          setLoadError(errorMessage(error));
        },
      );
    },
    [base, cache, key, query, rerender],
  );

  // The first page at once: it carries the total the grid is sized by.
  useEffect(() => {
    fetchPage(0);
  }, [fetchPage, generation]);

  const total = answer && answer.key === key ? answer.total : null;

  // ---------- grid geometry ----------
  const gridRef = useRef<HTMLDivElement>(null);
  const loadingTotal = total === null;
  const [geometry, setGeometry] = useState({ width: 0, top: 0 });
  useLayoutEffect(() => {
    const grid = gridRef.current;
    if (!grid) return;
    const update = () => {
      const rect = grid.getBoundingClientRect();
      setGeometry((g) => (g.width === rect.width && g.top === rect.top + window.scrollY ? g : { width: rect.width, top: rect.top + window.scrollY }));
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(grid);
    return () => observer.disconnect();
  }, [loadingTotal]);
  const columns = Math.max(1, Math.floor((geometry.width + GAP) / (CARD_MIN_WIDTH + GAP)));
  const cardWidth = geometry.width > 0 ? (geometry.width - GAP * (columns - 1)) / columns : CARD_MIN_WIDTH;
  const rowHeight = Math.round(cardWidth * 1.5 + CARD_TEXT_HEIGHT);
  const rowCount = total === null ? 0 : Math.ceil(total / columns);
  const headerHeight = typeof document === 'undefined' ? 0 : (document.querySelector('.app-header')?.getBoundingClientRect().height ?? 0);

  const virtualizer = useWindowVirtualizer({
    count: rowCount,
    estimateSize: () => rowHeight,
    overscan: 2,
    gap: GAP,
    scrollMargin: geometry.top,
    scrollPaddingStart: headerHeight + GAP,
  });
  useEffect(() => virtualizer.measure(), [rowHeight, virtualizer]);
  const rows = virtualizer.getVirtualItems();
  const firstIndex = rows.length > 0 ? rows[0]!.index * columns : 0;
  const lastIndex = rows.length > 0 ? Math.min((total ?? 0) - 1, (rows[rows.length - 1]!.index + 1) * columns - 1) : -1;

  // Pages for the rows on screen, once the range settles; pages no longer near the view are cancelled.
  useEffect(() => {
    if (total === null || lastIndex < firstIndex) return;
    const firstPage = Math.floor(firstIndex / LIBRARY_PAGE_SIZE);
    const lastPage = Math.floor(lastIndex / LIBRARY_PAGE_SIZE);
    const timer = window.setTimeout(() => {
      for (const [pageIndex, controller] of cache.inFlight) {
        if (pageIndex < firstPage - 1 || pageIndex > lastPage + 1) {
          controller.abort();
          cache.inFlight.delete(pageIndex);
        }
      }
      for (let pageIndex = firstPage; pageIndex <= lastPage && cache.inFlight.size < MAX_IN_FLIGHT; pageIndex++) fetchPage(pageIndex);
    }, SETTLE_MS);
    return () => window.clearTimeout(timer);
  }, [firstIndex, lastIndex, total, fetchPage, cache, generation]);

  // Arrow keys move between cards (Tab still walks them in order).
  const onGridKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined || total === null) return;
    const from = Number((event.target as HTMLElement).closest<HTMLElement>('[data-index]')?.dataset.index);
    if (!Number.isFinite(from)) return;
    const to = Math.max(0, Math.min(total - 1, step === -Infinity ? 0 : step === Infinity ? total - 1 : from + step));
    event.preventDefault();
    virtualizer.scrollToIndex(Math.floor(to / columns), { align: 'auto' });
    const focus = (attempt: number) => {
      const target = gridRef.current?.querySelector<HTMLElement>(`[data-index="${to}"] a`);
      if (target) target.focus();
      else if (attempt < 10) requestAnimationFrame(() => focus(attempt + 1));
    };
    requestAnimationFrame(() => focus(0));
  };

  const libraryInfo = info.data;
  const name = libraryInfo?.name ?? knownLibrary?.name ?? 'Library';
  const serverName = libraryInfo?.sourceName ?? sourceName ?? '';
  const offline = (answer?.key === key && answer.offline) || libraryInfo?.offline === true;
  const since = (answer?.key === key ? answer.offlineSince : null) ?? libraryInfo?.offlineSince ?? null;
  const countText = total === null ? 'Loading…' : `${total.toLocaleString()} ${total === 1 ? 'item' : 'items'}`;

  return (
    <div className="page wide" data-testid="library-page" data-source-id={sourceId} data-library-id={libraryId}>
      <div className="page-head">
        <div>
          <p className="eyebrow">
            {(libraryInfo?.type ?? knownLibrary?.type) && <LibraryIcon type={(libraryInfo?.type ?? knownLibrary?.type)!} size={14} />} {serverName}
          </p>
          <h1>{name}</h1>
          <p className="muted" aria-live="polite" data-testid="library-total" data-total={total ?? ''}>
            {countText}
            {libraryInfo && total !== null && total !== libraryInfo.total ? ` of ${libraryInfo.total.toLocaleString()}` : ''}
          </p>
        </div>
      </div>
      {offline && (
        <div className="offline-banner" role="status" data-testid="offline-banner">
          <OfflineIcon size={18} />
          <span>
            <strong>{serverName || 'This server'} is {offlineSince(since)}.</strong> You are browsing what Marquee last saw; playing is not possible until it is back.
          </span>
        </div>
      )}
      {libraryInfo?.sync.state === 'failed' && !offline && (
        <p className="inline-error" role="alert">
          The last read of this library failed{libraryInfo.sync.error ? `: ${libraryInfo.sync.error}` : '.'}
        </p>
      )}
      <LibraryControls query={query} info={libraryInfo} onChange={setQuery} />
      {loadError && total === null && (
        <p className="inline-error" role="alert" data-testid="library-error">
          {loadError}
        </p>
      )}
      {total === 0 && (
        <div className="empty-state" data-testid="library-empty">
          <h2>{libraryInfo?.sync.state === 'syncing' || libraryInfo?.sync.state === 'never' ? 'Marquee is reading this library…' : 'Nothing here'}</h2>
          <p className="muted">{query.filter || query.genre || query.year ? 'No item matches these filters.' : 'This library holds no items yet.'}</p>
        </div>
      )}
      <div
        ref={gridRef}
        className="poster-grid"
        role="list"
        aria-label={`${name} — ${countText}`}
        aria-busy={total === null}
        data-testid="library-grid"
        data-columns={columns}
        style={{ height: total === null ? undefined : virtualizer.getTotalSize() }}
        onKeyDown={onGridKey}
      >
        {total === null
          ? Array.from({ length: 12 }, (_, i) => <ItemCardSkeleton key={i} />)
          : rows.map((row) => (
              <div
                key={row.key}
                role="none"
                className="poster-row"
                style={{ transform: `translateY(${row.start - geometry.top}px)`, gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`, height: rowHeight }}
              >
                {Array.from({ length: columns }, (_, column) => {
                  const index = row.index * columns + column;
                  if (index >= total) return null;
                  const item = cache.itemAt(index);
                  return (
                    <div key={index} role="listitem" data-index={index} aria-posinset={index + 1} aria-setsize={total}>
                      {item ? <ItemCard item={item} showServer={false} /> : <ItemCardSkeleton />}
                    </div>
                  );
                })}
              </div>
            ))}
      </div>
    </div>
  );
}

const SORT_LABELS: Record<LibraryQuery['sort'], string> = { title: 'Title', added: 'Date added', year: 'Year', rating: 'Rating' };
const FILTER_LABELS: Record<NonNullable<LibraryQuery['filter']>, string> = { unwatched: 'Unwatched', watched: 'Watched', in_progress: 'In progress' };

function LibraryControls({ query, info, onChange }: { query: LibraryQuery; info: ApiLibraryInfo | null; onChange: (next: Partial<LibraryQuery>) => void }) {
  return (
    <div className="library-controls" data-testid="library-controls">
      <label>
        <span>Sort by</span>
        <select value={query.sort} onChange={(e) => onChange({ sort: e.target.value as LibraryQuery['sort'], order: undefined })} data-testid="library-sort">
          {Object.entries(SORT_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        className="button small"
        onClick={() => onChange({ order: query.order === 'asc' ? 'desc' : 'asc' })}
        aria-label={`Order: ${query.order === 'asc' ? 'ascending' : 'descending'} (change)`}
        data-testid="library-order"
        data-order={query.order}
      >
        {query.order === 'asc' ? '↑ Ascending' : '↓ Descending'}
      </button>
      <label>
        <span>Show</span>
        <select value={query.filter ?? ''} onChange={(e) => onChange({ filter: (e.target.value || undefined) as LibraryQuery['filter'] })} data-testid="library-filter">
          <option value="">All</option>
          {Object.entries(FILTER_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Genre</span>
        <select value={query.genre ?? ''} onChange={(e) => onChange({ genre: e.target.value || undefined })} data-testid="library-genre" disabled={!info || info.genres.length === 0}>
          <option value="">All genres</option>
          {info?.genres.map((genre) => (
            <option key={genre} value={genre}>
              {genre}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Year</span>
        <select value={query.year ?? ''} onChange={(e) => onChange({ year: e.target.value ? Number(e.target.value) : undefined })} data-testid="library-year" disabled={!info || info.years.length === 0}>
          <option value="">All years</option>
          {info?.years.map((year) => (
            <option key={year} value={year}>
              {year}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
