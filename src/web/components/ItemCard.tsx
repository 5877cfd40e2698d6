import { memo, useState } from 'react';
import type { ApiItem } from '../../api/types';
import { href } from '../lib/hooks';
import { blurhashDataUrl, cardLabel, imageAtWidth, progressOf } from '../lib/library';
import { OfflineIcon } from './Icons';

/** Posters are asked at this width (the server has Plex/Jellyfin resize): sharp on a 2× screen at the card's size. */
const POSTER_WIDTH = 320;

/**
 * A poster: the image loads lazily over its blurhash (when the item has one) or a neutral
 * placeholder; an image that fails to load leaves the placeholder and the title.
 */
export function Poster({ item, width = POSTER_WIDTH, wide = false }: { item: Pick<ApiItem, 'imageUrl' | 'blurhash' | 'title' | 'type'>; width?: number; wide?: boolean }) {
  const [state, setState] = useState<'loading' | 'loaded' | 'failed'>('loading');
  const placeholder = item.blurhash ? blurhashDataUrl(item.blurhash) : null;
  return (
    <div
      className={`poster${wide ? ' wide' : ''}${placeholder ? ' blurhash' : ''}`}
      style={placeholder ? { backgroundImage: `url(${placeholder})` } : undefined}
      data-placeholder={placeholder ? 'blurhash' : 'neutral'}
    >
      {!placeholder && state !== 'loaded' && <span className="poster-initial" aria-hidden="true">{item.title.trim().charAt(0).toUpperCase()}</span>}
      {item.imageUrl && state !== 'failed' && (
        <img
          src={imageAtWidth(item.imageUrl, width)}
          alt=""
          loading="lazy"
          decoding="async"
          className={state === 'loaded' ? 'loaded' : undefined}
          onLoad={() => setState('loaded')}
          onError={() => setState('failed')}
        />
      )}
    </div>
  );
}

/** One item card: a link named "Title (year) — Server" to the item's page. */
export const ItemCard = memo(function ItemCard({ item, showServer = true }: { item: ApiItem; showServer?: boolean }) {
  const progress = progressOf(item);
  return (
    <a
      className={`item-card${item.offline ? ' offline' : ''}`}
      href={href({ page: 'item', sourceId: item.sourceId, itemId: item.id })}
      aria-label={`${cardLabel(item)}${item.offline ? ' (offline)' : ''}${item.watched ? ', watched' : ''}`}
      data-testid={`item-card-${item.sourceId}-${item.id}`}
      data-offline={item.offline ? 'true' : undefined}
    >
      <div className="item-card-art">
        <Poster item={item} />
        {item.watched && <span className="item-badge watched" aria-hidden="true">✓</span>}
        {item.offline && (
          <span className="item-badge offline" aria-hidden="true">
            <OfflineIcon size={12} /> Offline
          </span>
        )}
        {progress !== null && !item.watched && (
          <span className="item-progress" aria-hidden="true">
            <span style={{ width: `${Math.round(progress * 100)}%` }} />
          </span>
        )}
      </div>
      <span className="item-card-title">{item.title}</span>
      <span className="item-card-meta" aria-hidden="true">
        {[item.subtitle ?? (item.year ? String(item.year) : null), showServer ? item.sourceName : null].filter(Boolean).join(' · ')}
      </span>
    </a>
  );
});

/** A loading card of the same size (not announced). */
export function ItemCardSkeleton() {
  return (
    <div className="item-card skeleton-card" aria-hidden="true">
      <div className="item-card-art">
        <div className="poster" />
      </div>
      <span className="item-card-title skeleton short" />
    </div>
  );
}
