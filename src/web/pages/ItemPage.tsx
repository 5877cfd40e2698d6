import { useEffect } from 'react';
import type { ApiItem, ApiItemDetail } from '../../api/types';
import { Poster } from '../components/ItemCard';
import { ArrowLeftIcon, OfflineIcon, PlayIcon } from '../components/Icons';
import { href, useApp } from '../lib/hooks';
import { formatPosition, formatRuntime, imageAtWidth, offlineSince, progressOf, useApiGet } from '../lib/library';

const CHILD_NOUN: Partial<Record<ApiItem['type'], string>> = { show: 'Seasons', season: 'Episodes', album: 'Tracks', artist: 'Albums', folder: 'Items' };

/** Item page: poster and backdrop, facts, overview, cast, Play/Resume, and its children (seasons, episodes, tracks). */
export function ItemPage({ sourceId, itemId }: { sourceId: string; itemId: string }) {
  const sourceStatus = useApp((s) => s.sources.find((source) => source.id === sourceId)?.status ?? 'unknown');
  const detail = useApiGet<ApiItemDetail>(`sources/${encodeURIComponent(sourceId)}/items/${encodeURIComponent(itemId)}`, sourceStatus);
  const item = detail.data;
  // The heading focused on navigation was the "Loading…" one, gone now: focus the real heading,
  // unless the user has already moved focus elsewhere.
  const loadedId = item?.id;
  useEffect(() => {
    if (!loadedId) return;
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const heading = document.querySelector<HTMLElement>('[data-testid="item-page"] h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }, [loadedId]);
  if (!item) {
    return (
      <div className="page" data-testid="item-page" aria-busy={!detail.error}>
        <h1>{detail.error ? 'This item could not be shown' : 'Loading…'}</h1>
        {detail.error ? (
          <p className="inline-error" role="alert" data-testid="item-error">
            {detail.error}
          </p>
        ) : (
          <div className="skeleton card" />
        )}
      </div>
    );
  }
  const offline = item.offline || item.offlineSince !== null;
  const runtime = formatRuntime(item.durationMs);
  const progress = progressOf(item);
  const parentLink = item.parentId ? href({ page: 'item', sourceId: item.sourceId, itemId: item.parentId }) : item.libraryId ? href({ page: 'library', sourceId: item.sourceId, libraryId: item.libraryId }) : null;
  const parentName = item.parentId ? (item.parentTitle ?? 'Up') : 'Library';
  const facts = [
    item.year ? String(item.year) : null,
    runtime,
    item.rating !== null ? `★ ${item.rating.toFixed(1)}` : null,
    item.childCount !== null && CHILD_NOUN[item.type] ? `${item.childCount} ${CHILD_NOUN[item.type]!.toLowerCase()}` : null,
  ].filter((fact, i, all): fact is string => Boolean(fact) && fact !== item.subtitle && all.indexOf(fact) === i);
  const playLabel = item.resumeMs !== null && !item.watched ? `Resume from ${formatPosition(item.resumeMs)}` : 'Play';
  return (
    <div className="item-page" data-testid="item-page" data-item-id={item.id} data-offline={offline ? 'true' : undefined}>
      <div className="item-hero" style={item.backdropUrl ? { backgroundImage: `url("${imageAtWidth(item.backdropUrl, 1280)}")` } : undefined}>
        <div className="item-hero-shade" />
        <div className="item-hero-content page wide">
          {parentLink && (
            <a className="back-link" href={parentLink}>
              <ArrowLeftIcon size={16} /> {parentName}
            </a>
          )}
          <div className="item-head">
            <div className="item-poster">
              <Poster item={item} width={480} wide={item.type === 'episode' || item.type === 'video'} />
            </div>
            <div className="item-main">
              <p className="eyebrow">
                {item.grandparentTitle ? `${item.grandparentTitle} · ` : ''}
                {item.sourceName}
              </p>
              <h1>{item.title}</h1>
              {item.subtitle && <p className="item-subtitle">{item.subtitle}</p>}
              {facts.length > 0 && (
                <p className="item-facts" data-testid="item-facts">
                  {facts.join(' · ')}
                </p>
              )}
              <p className="item-state" data-testid="item-state">
                {item.watched ? 'Watched' : item.resumeMs !== null ? `In progress — stopped at ${formatPosition(item.resumeMs)}${item.durationMs ? ` of ${formatPosition(item.durationMs)}` : ''}` : item.playable ? 'Not watched yet' : ''}
              </p>
              {progress !== null && !item.watched && (
                <div className="item-progress large" role="progressbar" aria-label="Watched so far" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(progress * 100)}>
                  <span style={{ width: `${Math.round(progress * 100)}%` }} />
                </div>
              )}
              {item.playable && (
                <div className="item-actions">
                  {offline ? (
                    <>
                      <button type="button" className="button primary large" disabled aria-describedby="play-disabled-reason" data-testid="play-button">
                        <PlayIcon size={16} /> {playLabel}
                      </button>
                      <span id="play-disabled-reason" className="muted" data-testid="play-disabled-reason">
                        <OfflineIcon size={14} /> {item.sourceName} is {offlineSince(item.offlineSince)}: playing needs the server.
                      </span>
                    </>
                  ) : (
                    <a className="button primary large" href={href({ page: 'play', sourceId: item.sourceId, itemId: item.id })} data-testid="play-button">
                      <PlayIcon size={16} /> {playLabel}
                    </a>
                  )}
                </div>
              )}
              {item.genres.length > 0 && (
                <ul className="genre-list" aria-label="Genres" data-testid="item-genres">
                  {item.genres.map((genre) => (
                    <li key={genre} className="chip tone-neutral">
                      {genre}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        </div>
      </div>
      <div className="page wide item-body">
        {offline && (
          <div className="offline-banner" role="status" data-testid="offline-banner">
            <OfflineIcon size={18} />
            <span>
              <strong>
                {item.sourceName} is {offlineSince(item.offlineSince)}.
              </strong>{' '}
              This page shows what Marquee last saw.
            </span>
          </div>
        )}
        {item.overview && (
          <section aria-labelledby="overview-heading">
            <h2 id="overview-heading" className="row-heading">
              Overview
            </h2>
            <p className="item-overview" data-testid="item-overview">
              {item.overview}
            </p>
          </section>
        )}
        {item.cast.length > 0 && (
          <section aria-labelledby="cast-heading">
            <h2 id="cast-heading" className="row-heading">
              Cast
            </h2>
            <ul className="cast-list" data-testid="item-cast">
              {item.cast.map((member, i) => (
                <li key={`${member.name}-${i}`}>
                  <strong>{member.name}</strong>
                  {member.role && <span className="muted"> {member.role}</span>}
                </li>
              ))}
            </ul>
          </section>
        )}
        {item.children.length > 0 && <ChildList parent={item} />}
      </div>
    </div>
  );
}

/** Seasons of a show, episodes of a season, tracks of an album: each a link to its own page. */
function ChildList({ parent }: { parent: ApiItemDetail }) {
  const noun = CHILD_NOUN[parent.type] ?? 'Items';
  return (
    <section aria-labelledby="children-heading">
      <h2 id="children-heading" className="row-heading">
        {noun} <span className="muted">({parent.children.length})</span>
      </h2>
      <ol className="child-list" data-testid="item-children">
        {parent.children.map((child) => {
          const runtime = formatRuntime(child.durationMs);
          const progress = progressOf(child);
          return (
            <li key={child.id}>
              <a className="child-link" href={href({ page: 'item', sourceId: child.sourceId, itemId: child.id })} data-testid={`child-${child.id}`}>
                {parent.type !== 'album' && parent.type !== 'show' ? (
                  <span className="child-thumb">
                    <Poster item={child} width={240} wide={child.type === 'episode'} />
                  </span>
                ) : parent.type === 'show' ? (
                  <span className="child-thumb narrow">
                    <Poster item={child} width={160} />
                  </span>
                ) : null}
                <span className="child-text">
                  <span className="child-title">{child.title}</span>
                  <span className="muted child-meta">{[child.subtitle, runtime].filter(Boolean).join(' · ')}</span>
                </span>
                <span className="child-state">
                  {child.watched ? (
                    <span className="chip tone-ok">Watched</span>
                  ) : progress !== null ? (
                    <span className="chip tone-busy">{Math.round(progress * 100)}%</span>
                  ) : null}
                </span>
              </a>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
