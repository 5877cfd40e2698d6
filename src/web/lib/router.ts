// Routing: path-based deep links under the base path (`/`, `/library/…`, `/item/…`, `/search?q=`,
// `/play/…`) through the History API, beside the older hash routes (`#/`, `#/sources/<id>`,
// `#/add/…`, `#/demo`), which keep working: a `#/…` hash wins over the path. The server answers
// index.html for any unknown path (SPA fallback, src/server/web.ts), so deep links survive reloads.
import { useSyncExternalStore } from 'react';
import { basePath } from './api';

export type Page = 'home' | 'sources' | 'add' | 'demo' | 'notifications' | 'library' | 'item' | 'search' | 'play' | 'not-found';

export interface Route {
  page: Page;
  sourceId?: string;
  addKind?: 'plex' | 'jellyfin';
  libraryId?: string;
  itemId?: string;
  /** The search words (`/search?q=`). */
  query?: string;
  /** The path's query string without `?` (a library page keeps its sort and filters there). */
  search?: string;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The hash routes of the first UI (`#/…`). */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decode);
  if (parts[0] === 'add') return { page: 'add', addKind: parts[1] === 'plex' || parts[1] === 'jellyfin' ? parts[1] : undefined };
  if (parts[0] === 'demo') return { page: 'demo' };
  if (parts[0] === 'notifications') return { page: 'notifications' };
  if (parts[0] === 'sources' && parts[1]) return { page: 'sources', sourceId: parts[1] };
  return { page: 'sources' };
}

/** Pure: the route a location means, with `base` the app's base path ("/" or "/marquee/"). */
export function parseLocation(pathname: string, search: string, hash: string, base: string): Route {
  if (hash.startsWith('#/')) return parseHash(hash);
  const baseNoSlash = base.replace(/\/$/, '');
  let rest = pathname;
  if (pathname === baseNoSlash) rest = '';
  else if (pathname.startsWith(base)) rest = pathname.slice(base.length);
  else rest = pathname.replace(/^\/+/, '');
  const parts = rest.split('/').filter(Boolean).map(decode);
  const query = search.replace(/^\?/, '');
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'index.html')) return { page: 'home' };
  const [head, a, b] = parts;
  if (parts.length === 3 && head === 'library' && a && b) return { page: 'library', sourceId: a, libraryId: b, search: query };
  if (parts.length === 3 && head === 'item' && a && b) return { page: 'item', sourceId: a, itemId: b };
  if (parts.length === 3 && head === 'play' && a && b) return { page: 'play', sourceId: a, itemId: b };
  if (parts.length === 1 && head === 'search') return { page: 'search', query: new URLSearchParams(query).get('q') ?? '' };
  if (head === 'sources' && parts.length <= 2) return a ? { page: 'sources', sourceId: a } : { page: 'sources' };
  return { page: 'not-found' };
}

/** Pure: the URL (absolute path under `base`) of a route. */
export function routeUrl(route: Route, base: string): string {
  const enc = encodeURIComponent;
  switch (route.page) {
    case 'home':
      return base;
    case 'add':
      return route.addKind ? `${base}#/add/${route.addKind}` : `${base}#/add`;
    case 'demo':
      return `${base}#/demo`;
    case 'notifications':
      return `${base}#/notifications`;
    case 'sources':
      return route.sourceId ? `${base}#/sources/${enc(route.sourceId)}` : `${base}#/sources`;
    case 'library':
      return `${base}library/${enc(route.sourceId ?? '')}/${enc(route.libraryId ?? '')}${route.search ? `?${route.search}` : ''}`;
    case 'item':
      return `${base}item/${enc(route.sourceId ?? '')}/${enc(route.itemId ?? '')}`;
    case 'play':
      return `${base}play/${enc(route.sourceId ?? '')}/${enc(route.itemId ?? '')}`;
    case 'search':
      return route.query ? `${base}search?q=${enc(route.query)}` : `${base}search`;
    case 'not-found':
      return base;
  }
}

// ---------- the location as an external store ----------

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of [...listeners]) listener();
};

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    window.addEventListener('popstate', notify);
    window.addEventListener('hashchange', notify);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      window.removeEventListener('popstate', notify);
      window.removeEventListener('hashchange', notify);
    }
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}${window.location.hash}`;

let cachedKey = '';
let cachedRoute: Route = { page: 'home' };

export function currentRoute(): Route {
  const key = snapshot();
  if (key !== cachedKey) {
    cachedKey = key;
    cachedRoute = parseLocation(window.location.pathname, window.location.search, window.location.hash, basePath());
  }
  return cachedRoute;
}

export function useRoute(): Route {
  useSyncExternalStore(subscribe, snapshot);
  return currentRoute();
}

export function href(route: Route): string {
  return routeUrl(route, basePath());
}

type NavigationStart = (target: URL) => void;
const navigationStarts = new Set<NavigationStart>();

/**
 * Called with the target of every in-app navigation to another address, before the page changes:
 * work the next page will need can start a render earlier (the player asks for its play session
 * while the page switches, lib/play-early.ts). Returns a function that removes the listener.
 */
export function onNavigationStart(listener: NavigationStart): () => void {
  navigationStarts.add(listener);
  return () => navigationStarts.delete(listener);
}

/** Goes to a route (or a URL under the base) without reloading; `replace` rewrites the current history entry. */
export function navigate(to: Route | string, options: { replace?: boolean } = {}): void {
  const url = typeof to === 'string' ? to : href(to);
  const before = snapshot();
  const target = new URL(url, window.location.href);
  if (`${target.pathname}${target.search}${target.hash}` !== before) for (const listener of navigationStarts) listener(target);
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  if (snapshot() === before) return;
  notify();
}

/**
 * Turns clicks on plain links under the base path into History API navigations (no reload), so
 * every `<a href>` in the UI is a real link (open in a new tab, copy address) and still fast.
 * Returns a function that removes the handler.
 */
export function interceptLinkClicks(): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.('a[href]');
    if (!(anchor instanceof HTMLAnchorElement)) return;
    if ((anchor.target && anchor.target !== '_self') || anchor.hasAttribute('download') || anchor.dataset.reload !== undefined) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    const base = basePath();
    if (!(url.pathname.startsWith(base) || `${url.pathname}/` === base)) return;
    // Links into the API (an image, a download) are not pages.
    if (url.pathname.startsWith(`${base}api/`)) return;
    // An in-page anchor that is not a route (e.g. "#main") keeps the browser's behaviour.
    if (url.hash && !url.hash.startsWith('#/') && url.pathname === window.location.pathname) return;
    event.preventDefault();
    const target = `${url.pathname}${url.search}${url.hash}`;
    if (target === snapshot()) return;
    navigate(target);
    window.scrollTo(0, 0);
  };
  document.addEventListener('click', onClick);
  return () => document.removeEventListener('click', onClick);
}
