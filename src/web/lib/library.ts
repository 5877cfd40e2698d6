// Shared pieces of the library UI (home, library grid, item page, search): fetching with abort,
// the `library` stream's revisions, blurhash placeholders, and the words and numbers on cards.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { decode, isBlurhashValid } from 'blurhash';
import type { ApiItem } from '../../api/types';
import { apiFetch, errorMessage } from './api';
import { createStore } from './state';

// ---------- the `library` event: a library's cache changed, pages showing it refetch in place ----------

/** Bumped per `${sourceId}/${libraryId}` on every SSE `library` message. */
export const libraryRevisions = createStore<Record<string, number>>({});

export function libraryChanged(sourceId: string, libraryId: string): void {
  const key = `${sourceId}/${libraryId}`;
  libraryRevisions.set((s) => ({ ...s, [key]: (s[key] ?? 0) + 1 }));
}

export function useLibraryRevision(sourceId: string | undefined, libraryId: string | undefined): number {
  const key = `${sourceId ?? ''}/${libraryId ?? ''}`;
  return useSyncExternalStore(libraryRevisions.subscribe, () => libraryRevisions.get()[key] ?? 0);
}

// ---------- one GET, aborted when its page goes away ----------

export interface Resource<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/**
 * GET `api/<path>` whenever `path` or `revision` changes (null: nothing). The previous answer stays
 * shown while a refetch runs, so a refresh happens in place instead of flashing a skeleton.
 */
export function useApiGet<T>(path: string | null, revision: string | number = 0): Resource<T> {
  const [state, setState] = useState<Resource<T> & { path: string | null }>({ data: null, error: null, loading: path !== null, path });
  // A different path: forget the old answer at once (it belongs to another page).
  if (state.path !== path) setState({ data: null, error: null, loading: path !== null, path });
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    apiFetch<T>(path, { signal: controller.signal }).then(
      (data) => setState({ data, error: null, loading: false, path }),
      (error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        setState((s) => ({ ...s, error: errorMessage(error), loading: false }));
      },
    );
    return () => controller.abort();
  }, [path, revision]);
  return state;
}

// ---------- blurhash placeholders ----------

const BLURHASH_W = 16;
const BLURHASH_H = 24;
const blurhashCache = new Map<string, string | null>();

/**
 * A tiny data URL painted from a blurhash (Jellyfin `ImageBlurHashes`), cached: decoding a 16×24
 * hash takes well under a millisecond, and a card scrolled back into view reuses it. Null when the
 * hash is malformed (a neutral placeholder shows instead).
 */
export function blurhashDataUrl(hash: string): string | null {
  const cached = blurhashCache.get(hash);
  if (cached !== undefined) return cached;
  let url: string | null = null;
  try {
    if (isBlurhashValid(hash).result) {
      const pixels = decode(hash, BLURHASH_W, BLURHASH_H);
      const canvas = document.createElement('canvas');
      canvas.width = BLURHASH_W;
      canvas.height = BLURHASH_H;
      const context = canvas.getContext('2d');
      if (context) {
        const image = context.createImageData(BLURHASH_W, BLURHASH_H);
        image.data.set(pixels);
        context.putImageData(image, 0, 0);
        url = canvas.toDataURL();
      }
    }
  } catch {
    url = null;
  }
  if (blurhashCache.size > 2000) blurhashCache.delete(blurhashCache.keys().next().value as string);
  blurhashCache.set(hash, url);
  return url;
}

// ---------- words and numbers ----------

/** An image URL from the API with the width the browser needs (the server asks Plex/Jellyfin to resize). */
export function imageAtWidth(url: string, width: number): string {
  const parsed = new URL(url, window.location.href);
  parsed.searchParams.set('w', String(Math.round(width)));
  return parsed.origin === window.location.origin ? `${parsed.pathname}${parsed.search}` : parsed.toString();
}

/** "Title (year) — Server": a card's accessible name. */
export function cardLabel(item: Pick<ApiItem, 'title' | 'year' | 'sourceName'>): string {
  return `${item.title}${item.year ? ` (${item.year})` : ''} — ${item.sourceName}`;
}

/** "1 h 52 min", "48 min", "3 min 20 s". */
export function formatRuntime(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || ms <= 0) return null;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes >= 10 || totalSeconds % 60 === 0) return `${minutes} min`;
  return minutes > 0 ? `${minutes} min ${totalSeconds % 60} s` : `${totalSeconds} s`;
}

/** A player-style position: "1:02:03", "12:34". */
export function formatPosition(ms: number): string {
  const totalSeconds = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = String(totalSeconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** Share of the item watched (0–1) for a progress bar, or null. */
export function progressOf(item: Pick<ApiItem, 'resumeMs' | 'durationMs'>): number | null {
  if (item.resumeMs === null || item.durationMs === null || item.durationMs <= 0) return null;
  return Math.min(1, Math.max(0, item.resumeMs / item.durationMs));
}

/** "offline since 14:02" / "offline since 3 Mar, 14:02". */
export function offlineSince(at: number | null, now = Date.now()): string {
  if (at === null) return 'offline';
  const date = new Date(at);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return sameDay ? `offline since ${time}` : `offline since ${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}, ${time}`;
}
