import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { SourceCard } from '../components/SourceCard';
import { PlusIcon, ServerIcon } from '../components/Icons';
import { href, useApp } from '../lib/hooks';
import { overallStatus } from '../lib/status';

/** A card with two routes and its history, before it is measured. */
const ESTIMATED_CARD_HEIGHT = 430;
/** The gap between cards (was the list's CSS gap; the virtualizer places the cards itself). */
const CARD_GAP = 18;

export function SourcesPage({ focusId }: { focusId?: string }) {
  const sources = useApp((s) => s.sources);
  const loaded = useApp((s) => s.loaded);
  const overall = overallStatus(sources);

  // Only the cards on screen (plus a few either side) are in the DOM, so only they fetch their
  // detail: at 10,000 sources the page reads a handful of details, not 10,000. Cards differ in
  // height (routes, history, status sentence), so each is measured once rendered.
  const listRef = useRef<HTMLDivElement>(null);
  const [layout, setLayout] = useState({ listTop: 0, headerHeight: 0 });
  const empty = sources.length === 0;
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    // The header is sticky: a card brought into view goes below it, not under it.
    const headerHeight = document.querySelector('.app-header')?.getBoundingClientRect().height ?? 0;
    setLayout({ listTop: list.getBoundingClientRect().top + window.scrollY, headerHeight });
  }, [loaded, empty]);
  const virtualizer = useWindowVirtualizer({
    count: sources.length,
    estimateSize: () => ESTIMATED_CARD_HEIGHT,
    overscan: 2,
    gap: CARD_GAP,
    scrollMargin: layout.listTop,
    scrollPaddingStart: layout.headerHeight + CARD_GAP,
    getItemKey: (index) => sources[index]?.id ?? index,
  });

  // "#/sources/<id>" (the sidebar's links): bring that card into view, then focus it once rendered.
  const focusIndex = focusId ? sources.findIndex((s) => s.id === focusId) : -1;
  const scrolledTo = useRef<string | null>(null);
  useEffect(() => {
    // Once per link followed: a source added later must not yank the page back to this card.
    if (!focusId) scrolledTo.current = null;
    if (!focusId || focusIndex < 0 || scrolledTo.current === focusId) return;
    scrolledTo.current = focusId;
    virtualizer.scrollToIndex(focusIndex, { align: 'start' });
  }, [focusId, focusIndex, virtualizer]);
  const focusedCardShown = focusIndex >= 0 && virtualizer.getVirtualItems().some((item) => item.index === focusIndex);
  useEffect(() => {
    if (!focusId || !focusedCardShown) return;
    document.getElementById(`source-${focusId}`)?.focus({ preventScroll: true });
  }, [focusId, focusedCardShown]);

  return (
    <div className="page" data-testid="sources-page">
      <div className="page-head">
        <div>
          <h1>Servers</h1>
          <p className="muted">{loaded ? overall.sentence : 'Loading…'}</p>
        </div>
        <a className="button primary" href={href({ page: 'add' })} data-testid="add-source-page-button">
          <PlusIcon size={16} /> Add a server
        </a>
      </div>
      {loaded && sources.length === 0 && (
        <div className="empty-state">
          <ServerIcon size={40} />
          <h2>No servers yet</h2>
          <p className="muted">Add your Plex or Jellyfin server: Marquee finds every way to reach it and keeps watching.</p>
          <a className="button primary" href={href({ page: 'add' })}>
            <PlusIcon size={16} /> Add a server
          </a>
        </div>
      )}
      {!loaded && (
        <div className="card-list">
          <div className="skeleton card" />
          <div className="skeleton card" />
        </div>
      )}
      <div ref={listRef} className="card-list virtual" style={{ height: virtualizer.getTotalSize() }} data-testid="source-card-list" data-count={sources.length}>
        {virtualizer.getVirtualItems().map((item) => {
          const source = sources[item.index];
          if (!source) return null;
          return (
            <div
              key={item.key}
              ref={virtualizer.measureElement}
              data-index={item.index}
              className="virtual-row"
              style={{ transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
            >
              <SourceCard source={source} highlighted={focusId === source.id} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
