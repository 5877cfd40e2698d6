// Routes the user adds, removes and reorders (issue 13 item 1): the pure decisions — what a valid
// address is and how it is written, which kind it gets, who may change which route, and the new
// order after a move. The engine does the I/O (the anonymous identity check, the store).
import { urlScope } from './addresses.js';
import { ROUTE_KIND_PREFERENCE, type RouteKind, type RouteOrigin } from './types.js';

/** Kinds a user-added route may have: relays are Plex's own (plex.tv lists them). */
export const USER_ROUTE_KINDS = ['local', 'remote'] as const satisfies readonly RouteKind[];
export type UserRouteKind = (typeof USER_ROUTE_KINDS)[number];

/** Longest address accepted (as typed). */
export const MAX_ROUTE_URL_LENGTH = 2048;

export type NormalisedUrl = { ok: true; url: string } | { ok: false; reason: string };

/**
 * An address as typed → the canonical base URL Marquee stores (`scheme://host[:port][/path]`,
 * lower-case host, default port dropped, IP literals in their usual spelling, no trailing slash),
 * the same form as the routes from plex.tv and the Jellyfin wizard, so a duplicate is found by
 * plain comparison. Without a scheme, `http://` is assumed (as in the Jellyfin wizard).
 *
 * Refused, with the reason in words: anything but http/https; a user name or password; a query or
 * fragment (nothing may ride along in a URL a token is later sent to); and path tricks — `.`/`..`
 * segments, empty segments, backslashes, percent-encoded slashes, backslashes, dots or NUL — that
 * would make the address mean something other than what it shows. A path itself is fine: a reverse
 * proxy may serve the server under `/plex`.
 */
export function normaliseRouteUrl(input: string): NormalisedUrl {
  const raw = input.trim();
  if (raw === '') return { ok: false, reason: 'give the server’s address, e.g. http://192.168.1.20:32400' };
  if (raw.length > MAX_ROUTE_URL_LENGTH) return { ok: false, reason: `the address is too long (at most ${MAX_ROUTE_URL_LENGTH} characters)` };
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: 'the address must not contain spaces or control characters' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (scheme && !/^https?$/i.test(scheme[1]!)) return { ok: false, reason: 'only http:// and https:// addresses can be routes' };
  if (!scheme && /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(raw) && !/^[^:/]+:\d+(\/|$)/.test(raw)) {
    return { ok: false, reason: 'only http:// and https:// addresses can be routes' };
  }
  const withScheme = scheme ? raw : `http://${raw}`;
  if (withScheme.includes('\\')) return { ok: false, reason: 'the address must not contain backslashes' };
  if (/%(2f|5c|2e|00)/i.test(withScheme)) return { ok: false, reason: 'the address must not contain encoded slashes, dots or NUL (%2F, %5C, %2E, %00)' };
  if (withScheme.includes('?')) return { ok: false, reason: 'the address must not carry a query (?…): nothing may ride along in a URL the token is sent to' };
  if (withScheme.includes('#')) return { ok: false, reason: 'the address must not carry a fragment (#…)' };
  const afterScheme = withScheme.slice(withScheme.indexOf('//') + 2);
  const slash = afterScheme.indexOf('/');
  const authority = slash < 0 ? afterScheme : afterScheme.slice(0, slash);
  const path = slash < 0 ? '' : afterScheme.slice(slash);
  if (authority.includes('@')) return { ok: false, reason: 'the address must not carry a user name or password' };
  const segments = path.replace(/\/+$/, '').split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return { ok: false, reason: 'the address must not contain . or .. path segments' };
  if (segments.some((s) => s === '')) return { ok: false, reason: 'the address must not contain empty path segments (//)' };
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { ok: false, reason: 'that is not a valid address (e.g. http://192.168.1.20:32400 or https://media.example.org)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http:// and https:// addresses can be routes' };
  if (!url.hostname) return { ok: false, reason: 'the address has no host' };
  if (url.username || url.password) return { ok: false, reason: 'the address must not carry a user name or password' };
  return { ok: true, url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
}

/** The kind a route gets when the user does not choose: local for this network's addresses, else remote. */
export function inferRouteKind(url: string): UserRouteKind {
  return urlScope(url);
}

/**
 * Routes whose address another party keeps up to date: plex.tv's list and the server's own
 * LocalAddress. The user may reorder them but not change or remove them (their origin would only
 * bring them back, or keep a stale copy).
 */
export function isManagedOrigin(origin: RouteOrigin): boolean {
  return origin === 'plex.tv' || origin === 'server-reported';
}

export interface OrderedRoute {
  id: string;
  kind: RouteKind;
  priority: number;
}

export interface RouteMove {
  /** A new kind for the route (it moves to the end of that kind unless `position` says otherwise). */
  kind?: RouteKind;
  /**
   * 0-based place among the source's routes of the route's (new) kind, 0 = tried first; clamped
   * to the routes there are. Preference between kinds stays local > remote > relay.
   */
  position?: number;
}

/**
 * The source's routes after moving one: dense priorities (0, 1, 2 …) within every kind touched, in
 * the current order (kind, priority, id — the store's). Returns only the routes whose kind or
 * priority changed; null when the route is unknown.
 */
export function planRouteMove(routes: readonly OrderedRoute[], routeId: string, move: RouteMove): OrderedRoute[] | null {
  const moved = routes.find((r) => r.id === routeId);
  if (!moved) return null;
  const kind = move.kind ?? moved.kind;
  const byOrder = (a: OrderedRoute, b: OrderedRoute) => a.priority - b.priority || a.id.localeCompare(b.id);
  const group = (k: RouteKind) => routes.filter((r) => r.kind === k && r.id !== routeId).sort(byOrder);
  const target = group(kind);
  const currentIndex = moved.kind === kind ? routes.filter((r) => r.kind === kind).sort(byOrder).findIndex((r) => r.id === routeId) : target.length;
  const position = Math.max(0, Math.min(target.length, Math.trunc(move.position ?? currentIndex)));
  target.splice(position, 0, { ...moved, kind });
  const next = new Map<string, OrderedRoute>();
  target.forEach((r, priority) => next.set(r.id, { id: r.id, kind, priority }));
  if (kind !== moved.kind) group(moved.kind).forEach((r, priority) => next.set(r.id, { id: r.id, kind: moved.kind, priority }));
  const changed: OrderedRoute[] = [];
  for (const r of routes) {
    const after = next.get(r.id);
    if (after && (after.kind !== r.kind || after.priority !== r.priority)) changed.push(after);
  }
  return changed.sort((a, b) => ROUTE_KIND_PREFERENCE.indexOf(a.kind) - ROUTE_KIND_PREFERENCE.indexOf(b.kind) || a.priority - b.priority);
}

/** The priority a new route of `kind` gets: after every route of that kind (tried last among them). */
export function nextPriority(routes: readonly OrderedRoute[], kind: RouteKind): number {
  return routes.filter((r) => r.kind === kind).reduce((max, r) => Math.max(max, r.priority + 1), 0);
}

/** Server ids compared as servers write them: Jellyfin Ids with or without dashes, any case. */
export function sameServerId(a: string, b: string): boolean {
  return a.replace(/-/g, '').toLowerCase() === b.replace(/-/g, '').toLowerCase();
}
