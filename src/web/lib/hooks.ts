import { useEffect, useState, useSyncExternalStore } from 'react';
import { appStore } from './live';
import type { AppState } from './state';
import { uiStore, type UiState } from './ui-state';

export function useApp<T>(select: (state: AppState) => T): T {
  return useSyncExternalStore(appStore.subscribe, () => select(appStore.get()));
}

export function useUi<T>(select: (state: UiState) => T): T {
  return useSyncExternalStore(uiStore.subscribe, () => select(uiStore.get()));
}

/**
 * The server's clock, ticking every `intervalMs` (countdowns use server-provided epochs) while
 * `ticking`: a component that shows no countdown passes false and is not re-rendered every second
 * (10,000 sidebar badges each re-rendering once a second kept the page busy all the time).
 */
export function useServerNow(intervalMs = 1000, ticking = true): number {
  const offset = useApp((s) => s.clockOffsetMs);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    // Catch up at once when a countdown starts (the last tick may be long ago), then every interval.
    const first = window.setTimeout(() => setNow(Date.now()), 0);
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => {
      window.clearTimeout(first);
      window.clearInterval(timer);
    };
  }, [intervalMs, ticking]);
  return now + offset;
}

export interface Route {
  page: 'sources' | 'add' | 'demo' | 'notifications';
  sourceId?: string;
  addKind?: 'plex' | 'jellyfin';
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'add') return { page: 'add', addKind: parts[1] === 'plex' || parts[1] === 'jellyfin' ? parts[1] : undefined };
  if (parts[0] === 'demo') return { page: 'demo' };
  if (parts[0] === 'notifications') return { page: 'notifications' };
  if (parts[0] === 'sources' && parts[1]) return { page: 'sources', sourceId: parts[1] };
  return { page: 'sources' };
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(
    (onChange) => {
      window.addEventListener('hashchange', onChange);
      return () => window.removeEventListener('hashchange', onChange);
    },
    () => window.location.hash,
  );
  return parseHash(hash);
}

export function href(route: Route): string {
  if (route.page === 'add') return route.addKind ? `#/add/${route.addKind}` : '#/add';
  if (route.page === 'demo') return '#/demo';
  if (route.page === 'notifications') return '#/notifications';
  return route.sourceId ? `#/sources/${encodeURIComponent(route.sourceId)}` : '#/';
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}
