// The library layer's answers as the wire view (src/api/types.ts): the one place library domain
// values become Api* shapes. Pure. Image URLs are Marquee URLs under the base path — never a
// server URL, never a token; `v` changes when the image does, so browsers may cache them.
import type { ApiHome, ApiItem, ApiItemDetail, ApiLibraryInfo, ApiLibraryItems, ApiLibrarySync, ApiLibraryUpdate, ApiSearch } from '../api/types.js';
import { PLAYABLE_ITEM_TYPES, type ImageKind, type LibraryItem } from '../core/library.js';
import type { HomeAnswer, ItemAnswer, LibraryInfoAnswer, LibraryItemsAnswer, LibrarySyncStatus, LibraryUpdate, SearchAnswer } from '../library/index.js';
import type { SourceSnapshot } from '../monitor/engine-types.js';

/** Widths asked of the server (it resizes): a grid poster, a page backdrop. */
export const IMAGE_WIDTHS: Record<ImageKind, number> = { poster: 300, backdrop: 1280 };

export function imageUrl(basePath: string, sourceId: string, item: LibraryItem, kind: ImageKind): string | null {
  const ref = kind === 'poster' ? item.poster : item.backdrop;
  if (!ref) return null;
  const version = (ref.tag ?? String(item.updatedAt ?? '')).slice(0, 64);
  const query = new URLSearchParams({ kind, w: String(IMAGE_WIDTHS[kind]), ...(version ? { v: version } : {}) });
  return `${basePath}api/sources/${encodeURIComponent(sourceId)}/items/${encodeURIComponent(item.id)}/image?${query.toString()}`;
}

/** "S1 · E3 — Show", an album's artist, a track's album. */
export function subtitleOf(item: LibraryItem): string | null {
  switch (item.type) {
    case 'episode': {
      const numbers = [item.parentIndex !== null ? `S${item.parentIndex}` : null, item.index !== null ? `E${item.index}` : null].filter(Boolean).join(' · ');
      return [numbers || null, item.grandparentTitle].filter(Boolean).join(' — ') || null;
    }
    case 'season':
      return item.parentTitle ?? item.grandparentTitle;
    case 'album':
      return item.parentTitle ?? item.grandparentTitle;
    case 'track':
      return [item.grandparentTitle, item.parentTitle].filter(Boolean).join(' — ') || null;
    case 'movie':
    case 'show':
    case 'artist':
    case 'photo':
    case 'video':
    case 'folder':
    case 'other':
      return null;
  }
}

export function toApiItem(basePath: string, source: SourceSnapshot, item: LibraryItem, offline: boolean): ApiItem {
  return {
    id: item.id,
    sourceId: source.source.id,
    sourceName: source.source.name,
    libraryId: item.libraryId,
    type: item.type,
    title: item.title,
    subtitle: subtitleOf(item),
    year: item.year,
    imageUrl: imageUrl(basePath, source.source.id, item, 'poster'),
    blurhash: item.blurhash,
    watched: item.watched,
    resumeMs: item.resumeMs,
    durationMs: item.durationMs,
    addedAt: item.addedAt,
    rating: item.rating,
    // The kind of item (the contract in src/api/types.ts): an away source's movie keeps its Play
    // button, disabled with the reason, because `offline` says so — the page must know it is playable.
    playable: PLAYABLE_ITEM_TYPES.has(item.type),
    offline,
  };
}

export function toApiLibrarySync(status: LibrarySyncStatus): ApiLibrarySync {
  return { state: status.state, syncedAt: status.syncedAt, ...(status.error ? { error: status.error } : {}) };
}

export function toApiLibraryItems(basePath: string, answer: LibraryItemsAnswer): ApiLibraryItems {
  return {
    items: answer.page.items.map((item) => toApiItem(basePath, answer.source, item, answer.offline)),
    total: answer.page.total,
    offset: answer.offset,
    offline: answer.offline,
    offlineSince: answer.offlineSince,
    sync: toApiLibrarySync(answer.sync),
  };
}

export function toApiLibraryInfo(answer: LibraryInfoAnswer): ApiLibraryInfo {
  return {
    id: answer.library.id,
    sourceId: answer.source.source.id,
    sourceName: answer.source.source.name,
    name: answer.library.name,
    type: answer.library.type,
    total: answer.total,
    genres: answer.genres,
    years: answer.years,
    offline: answer.offline,
    offlineSince: answer.offlineSince,
    sync: toApiLibrarySync(answer.sync),
  };
}

export function toApiItemDetail(basePath: string, answer: ItemAnswer): ApiItemDetail {
  const { item, source, offline } = answer;
  return {
    ...toApiItem(basePath, source, item, offline),
    overview: item.overview,
    genres: item.genres,
    cast: item.cast.map((c) => ({ name: c.name, ...(c.role ? { role: c.role } : {}) })),
    index: item.index,
    parentIndex: item.parentIndex,
    parentId: item.parentId,
    parentTitle: item.parentTitle,
    grandparentTitle: item.grandparentTitle,
    childCount: item.childCount,
    children: answer.children.map((child) => toApiItem(basePath, source, child, offline)),
    backdropUrl: imageUrl(basePath, source.source.id, item, 'backdrop'),
    fetchedAt: answer.fetchedAt,
    offlineSince: answer.offlineSince,
  };
}

export function toApiHome(basePath: string, home: HomeAnswer): ApiHome {
  return {
    continueWatching: home.continueWatching.map((s) => toApiItem(basePath, s.source, s.item, s.offline)),
    recentlyAdded: home.recentlyAdded.map((s) => toApiItem(basePath, s.source, s.item, s.offline)),
    sources: home.sources.map((p) => ({ id: p.source.source.id, name: p.source.source.name, state: p.state, offlineSince: p.offlineSince, ...(p.error ? { error: p.error } : {}) })),
  };
}

export function toApiSearch(basePath: string, search: SearchAnswer): ApiSearch {
  return {
    query: search.query,
    results: search.results.map((s) => toApiItem(basePath, s.source, s.item, s.offline)),
    sources: search.sources.map((p) => ({ id: p.source.source.id, name: p.source.source.name, state: p.state, count: p.count, ...(p.error ? { error: p.error } : {}) })),
    complete: search.complete,
  };
}

export function toApiLibraryUpdate(update: LibraryUpdate): ApiLibraryUpdate {
  return { sourceId: update.sourceId, libraryId: update.libraryId, sync: toApiLibrarySync(update.status), changed: update.changed };
}
