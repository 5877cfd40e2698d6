import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import type { ApiSource } from '../../api/types';
import { href, useApp, useRoute, useUi } from '../lib/hooks';
import { setNavOpen } from '../lib/ui-state';
import { BellIcon, FlaskIcon, HomeIcon, PlusIcon, ServerIcon } from './Icons';
import { SidebarSource } from './SidebarSource';

/**
 * Up to this many sources the sidebar renders every entry, in normal flow, as it always did: that
 * costs a few milliseconds, and a complete list keeps what only it gives — the browser's find in
 * page over every name, Tab through every entry, no entry placed from an estimate. Above it (an
 * install with hundreds or thousands of servers) only the entries in view are rendered.
 */
export const SIDEBAR_RENDER_ALL_UP_TO = 50;

export function Sidebar() {
  const sources = useApp((s) => s.sources);
  const demo = useApp((s) => s.demo);
  const loaded = useApp((s) => s.loaded);
  const navOpen = useUi((s) => s.navOpen);
  const route = useRoute();
  const close = () => setNavOpen(false);
  // The sidebar is its own scroll container (styles.css `.sidebar`): the virtualized list follows it.
  // State, not a ref: the list's virtualizer must see the element once it exists.
  const [scroller, setScroller] = useState<HTMLElement | null>(null);
  const activeId = route.page === 'sources' ? route.sourceId : undefined;
  const activeLibrary = route.page === 'library' ? `${route.sourceId}/${route.libraryId}` : undefined;

  // Esc closes the phone menu and returns focus to its button.
  useEffect(() => {
    if (!navOpen) return;
    document.querySelector<HTMLElement>('#sidebar a')?.focus({ preventScroll: true });
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setNavOpen(false);
      document.querySelector<HTMLElement>('[data-testid="nav-toggle"]')?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navOpen]);
  return (
    <>
      <div className={`nav-scrim${navOpen ? ' open' : ''}`} onClick={close} aria-hidden="true" />
      <nav ref={setScroller} id="sidebar" className={`sidebar${navOpen ? ' open' : ''}`} aria-label="Servers and libraries" data-testid="sidebar">
        <div className="sidebar-nav">
          <a className={`sidebar-nav-link${route.page === 'home' ? ' active' : ''}`} href={href({ page: 'home' })} onClick={close} aria-current={route.page === 'home' ? 'page' : undefined} data-testid="nav-home">
            <HomeIcon /> Home
          </a>
          <a className={`sidebar-nav-link${route.page === 'sources' && !route.sourceId ? ' active' : ''}`} href={href({ page: 'sources' })} onClick={close} data-testid="nav-sources">
            <ServerIcon /> Servers
          </a>
          <a className={`sidebar-nav-link${route.page === 'notifications' ? ' active' : ''}`} href={href({ page: 'notifications' })} onClick={close} data-testid="nav-notifications">
            <BellIcon /> Notifications
          </a>
          {demo && (
            <a className={`sidebar-nav-link${route.page === 'demo' ? ' active' : ''}`} href={href({ page: 'demo' })} onClick={close} data-testid="nav-demo">
              <FlaskIcon /> Demo controls
            </a>
          )}
        </div>
        <h2 className="sidebar-heading">Sources</h2>
        {loaded && sources.length === 0 && <p className="sidebar-empty">No servers yet.</p>}
        {sources.length > SIDEBAR_RENDER_ALL_UP_TO && scroller ? (
          <VirtualSourceList sources={sources} activeId={activeId} activeLibrary={activeLibrary} scroller={scroller} demo={demo} />
        ) : (
          <ul className="sidebar-sources" data-testid="sidebar-sources" data-count={sources.length}>
            {sources.map((source) => (
              <SidebarSource key={source.id} source={source} active={activeId === source.id} activeLibraryId={activeLibrary?.startsWith(`${source.id}/`) ? route.libraryId : undefined} />
            ))}
          </ul>
        )}
        <a className="button ghost add-source" href={href({ page: 'add' })} onClick={close} data-testid="add-source-button">
          <PlusIcon /> Add a server
        </a>
      </nav>
    </>
  );
}

/** Gap between entries (the plain list's CSS gap; the virtualizer places the entries itself). */
const ENTRY_GAP = 4;

/**
 * An entry's height before it is measured: name and status lines, then one line per library (or
 * "No libraries"), plus the "Sign in again" button when signed out. Entries are measured once
 * rendered; a close estimate only keeps the scrollbar from jumping.
 */
function estimateEntryHeight(source: ApiSource | undefined): number {
  if (!source) return 64;
  const libraries = source.libraries.length > 0 ? 2 + 28 * source.libraries.length : 20;
  return 62 + libraries + (source.status === 'auth_required' ? 40 : 0);
}

/**
 * The sources of a large install: only the entries in view of the sidebar's scroll (plus a few
 * either side) are in the DOM, each measured once rendered since the libraries make heights differ.
 * The active source and the entry holding keyboard focus stay rendered even when scrolled away, so
 * the highlight is there to scroll back to and focus is never dropped by an unmounted link.
 */
function VirtualSourceList({
  sources,
  activeId,
  activeLibrary,
  scroller,
  demo,
}: {
  sources: ApiSource[];
  activeId: string | undefined;
  /** `sourceId/libraryId` of the library page shown, if any. */
  activeLibrary: string | undefined;
  scroller: HTMLElement;
  demo: boolean;
}) {
  const listRef = useRef<HTMLUListElement>(null);
  // The list starts below the nav links (one more in demo mode) and the heading, inside the same
  // scroll container.
  const [listTop, setListTop] = useState(0);
  useLayoutEffect(() => setListTop(listRef.current?.offsetTop ?? 0), [demo]);

  const [focusedId, setFocusedId] = useState<string | null>(null);
  const onFocus = (e: FocusEvent<HTMLUListElement>) => {
    const index = Number(e.target.closest<HTMLElement>('[data-index]')?.dataset.index);
    setFocusedId(sources[index]?.id ?? null);
  };
  const onBlur = (e: FocusEvent<HTMLUListElement>) => {
    if (!(e.relatedTarget instanceof Node) || !e.currentTarget.contains(e.relatedTarget)) setFocusedId(null);
  };

  const activeIndex = activeId ? sources.findIndex((s) => s.id === activeId) : -1;
  const focusedIndex = focusedId ? sources.findIndex((s) => s.id === focusedId) : -1;
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      for (const keep of [activeIndex, focusedIndex]) if (keep >= 0 && !indexes.includes(keep)) indexes.push(keep);
      // In index order, so the DOM (and Tab) follows the list.
      return indexes.sort((a, b) => a - b);
    },
    [activeIndex, focusedIndex],
  );
  // Not memoizable by the React compiler (it says so); the list re-renders as it scrolls anyway.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: sources.length,
    getScrollElement: () => scroller,
    estimateSize: (index) => estimateEntryHeight(sources[index]),
    overscan: 4,
    gap: ENTRY_GAP,
    scrollMargin: listTop,
    getItemKey: (index) => sources[index]?.id ?? index,
    rangeExtractor,
  });

  // A source opened elsewhere (a card, a link, the address bar): bring its entry into view, once
  // per source opened — 'auto' leaves the sidebar alone when the entry is already in view.
  const scrolledTo = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!activeId) scrolledTo.current = undefined;
    if (!activeId || activeIndex < 0 || scrolledTo.current === activeId) return;
    scrolledTo.current = activeId;
    virtualizer.scrollToIndex(activeIndex, { align: 'auto' });
  }, [activeId, activeIndex, virtualizer]);

  return (
    <ul
      ref={listRef}
      className="sidebar-sources virtual"
      style={{ height: virtualizer.getTotalSize() }}
      data-testid="sidebar-sources"
      data-count={sources.length}
      onFocus={onFocus}
      onBlur={onBlur}
    >
      {virtualizer.getVirtualItems().map((item) => {
        const source = sources[item.index];
        if (!source) return null;
        return (
          <SidebarSource
            key={item.key}
            ref={virtualizer.measureElement}
            source={source}
            active={activeId === source.id}
            activeLibraryId={activeLibrary?.startsWith(`${source.id}/`) ? activeLibrary.slice(source.id.length + 1) : undefined}
            rowIndex={item.index}
            rowOffset={item.start - listTop}
          />
        );
      })}
    </ul>
  );
}
