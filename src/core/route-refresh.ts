// Routes and tokens that refresh (issue 13 §3): the pure decisions. The monitor's RouteRefresher
// (src/monitor/route-refresher.ts) does the I/O — plex.tv resources, Jellyfin's public info, the
// Plex JWT exchange — and asks these functions what it means. No clock, no I/O: times come in.
import type { ProbeResult, RouteKind, RouteOrigin } from './types.js';
import { normaliseBaseUrl } from './addresses.js';

/** A stored route as the refresh sees it (id, address, kind, order, origin). */
export interface KnownRoute {
  id: string;
  url: string;
  kind: RouteKind;
  priority: number;
  origin: RouteOrigin;
}

/** A route an origin reports now (plex.tv resources, Jellyfin's LocalAddress). */
export interface ReportedRoute {
  url: string;
  kind: RouteKind;
  priority: number;
}

/** The whole new route list (ids kept where the URL is unchanged) and what changed, for the history. */
export interface RouteMerge {
  routes: Array<ReportedRoute & { id?: string; origin: RouteOrigin }>;
  added: ReportedRoute[];
  removed: KnownRoute[];
  /** Anything to write: a route added or removed, or a kept one whose kind or order moved. */
  changed: boolean;
}

/**
 * The routes an origin manages, replaced by what it reports now; every route of another origin
 * (typed by the user, reported by the server) is kept untouched. A reported URL that is already a
 * route of another origin stays that route (the user's own entry wins). A kept URL keeps its id, so
 * its probe history and last result survive the refresh.
 */
export function mergeManagedRoutes(current: readonly KnownRoute[], origin: RouteOrigin, reported: readonly ReportedRoute[]): RouteMerge {
  const others = current.filter((r) => r.origin !== origin);
  const managed = new Map(current.filter((r) => r.origin === origin).map((r) => [r.url, r]));
  const otherUrls = new Set(others.map((r) => r.url));
  const seen = new Set<string>();
  const fresh: RouteMerge['routes'] = [];
  const added: ReportedRoute[] = [];
  let moved = false;
  for (const r of reported) {
    if (otherUrls.has(r.url) || seen.has(r.url)) continue;
    seen.add(r.url);
    const known = managed.get(r.url);
    if (known) {
      if (known.kind !== r.kind || known.priority !== r.priority) moved = true;
      fresh.push({ id: known.id, url: r.url, kind: r.kind, priority: r.priority, origin });
    } else {
      added.push(r);
      fresh.push({ url: r.url, kind: r.kind, priority: r.priority, origin });
    }
  }
  const removed = [...managed.values()].filter((r) => !seen.has(r.url));
  const routes = [...others.map((r) => ({ id: r.id, url: r.url, kind: r.kind, priority: r.priority, origin: r.origin })), ...fresh];
  return { routes, added, removed, changed: moved || added.length > 0 || removed.length > 0 };
}

const ORIGIN_WORDS: Readonly<Record<RouteOrigin, string>> = {
  'plex.tv': 'plex.tv',
  'server-reported': 'the server',
  typed: 'you',
  user: 'you',
};

/** The change in words for the source's history, e.g. "plex.tv lists a new remote route https://…". Null when nothing changed. */
export function describeRouteChange(merge: RouteMerge, origin: RouteOrigin): string | null {
  if (!merge.changed) return null;
  const who = ORIGIN_WORDS[origin];
  const parts: string[] = [];
  if (merge.added.length > 0) parts.push(`${who} reports a new ${merge.added.map((r) => `${r.kind} route ${r.url}`).join(', ')}`);
  if (merge.removed.length > 0) parts.push(`${who} no longer reports ${merge.removed.map((r) => `the ${r.kind} route ${r.url}`).join(', ')}`);
  if (parts.length === 0) parts.push(`${who} reordered its routes`);
  return `Routes updated: ${parts.join('; ')}`.slice(0, 500);
}

// ---- when to re-read plex.tv resources ------------------------------------------------------

export interface RefreshTiming {
  /** Last refresh that got an answer from plex.tv (null: never). */
  lastAnsweredAt: number | null;
  /** Last refresh attempted, answered or not (null: never). */
  lastAttemptAt: number | null;
}

export interface RefreshCadence {
  /** The periodic refresh (default hourly). */
  intervalMs: number;
  /** Refreshes asked for by a failure (every route down, a token rejected) come at most this often. */
  minGapMs: number;
}

export type RefreshTrigger = 'periodic' | 'all_routes_failed' | 'token_rejected';

/**
 * Whether to ask plex.tv now. Periodic: once the interval has passed since the last answer (or
 * the last attempt, so an unreachable plex.tv is asked every `minGapMs`, not in a tight loop).
 * A failure (every route down, a token rejected) asks at once — but never more often than
 * `minGapMs`, whatever the number of retries or sources of the account.
 */
export function resourcesRefreshDue(trigger: RefreshTrigger, timing: RefreshTiming, now: number, cadence: RefreshCadence): boolean {
  const sinceAttempt = timing.lastAttemptAt === null ? Infinity : now - timing.lastAttemptAt;
  if (sinceAttempt < refreshGapMs(trigger, cadence)) return false;
  if (trigger !== 'periodic') return true;
  const sinceAnswer = timing.lastAnsweredAt === null ? Infinity : now - timing.lastAnsweredAt;
  return sinceAnswer >= cadence.intervalMs;
}

/**
 * The least time between two asks for a trigger. A rejected token asks again after a tenth of the
 * gap (6 s by default): its check is waiting for the answer, and the last answer — taken just before
 * the owner rotated the token — may still hand out the rejected one.
 */
export function refreshGapMs(trigger: RefreshTrigger, cadence: RefreshCadence): number {
  return trigger === 'token_rejected' ? cadence.minGapMs / 10 : cadence.minGapMs;
}

/** When a refresh for `trigger` may ask plex.tv next (now or later). */
export function refreshAllowedAt(trigger: RefreshTrigger, timing: RefreshTiming, now: number, cadence: RefreshCadence): number {
  return timing.lastAttemptAt === null ? now : Math.max(now, timing.lastAttemptAt + refreshGapMs(trigger, cadence));
}

/** When the next periodic refresh is due. */
export function nextPeriodicRefreshAt(timing: RefreshTiming, now: number, cadence: RefreshCadence): number {
  const byAnswer = timing.lastAnsweredAt === null ? now : timing.lastAnsweredAt + cadence.intervalMs;
  const byAttempt = timing.lastAttemptAt === null ? now : timing.lastAttemptAt + cadence.minGapMs;
  return Math.max(now, byAnswer, byAttempt);
}

// ---- a rejected per-server token ------------------------------------------------------------

/** A full check that found no route and at least one route rejecting the token (Plex 401, JWT 498). */
export function tokenRejected(results: readonly ProbeResult[]): boolean {
  return !results.some((r) => r.ok) && results.some((r) => !r.ok && r.error.code === 'unauthorized');
}

/** What plex.tv said when asked for the account's resources after the server rejected the token. */
export type AccountAnswer =
  /** plex.tv answered with the account's servers; `serverToken` is this server's accessToken (null: no longer listed). */
  | { kind: 'listed'; serverToken: string | null }
  /** plex.tv rejected the account token itself (401): the sign-in is gone. */
  | { kind: 'account_rejected' }
  /** plex.tv could not be asked (unreachable, 5xx, no account token stored). */
  | { kind: 'unknown' };

export type TokenDecision =
  /** plex.tv hands out a different token for the server: use it silently, check again. */
  | { action: 'retry_with'; token: string }
  /** The sign-in is gone or the server refuses what plex.tv gives: auth_required stands. */
  | { action: 'auth_required'; why: string };

/**
 * A Plex server rejected the per-server token. Only a new token from plex.tv (the account still
 * signed in) is retried; an account plex.tv rejects, a server no longer shared, or the same token
 * again leave the rejection standing (`auth_required`). An unknown answer leaves it standing too —
 * the status is retried at the auth_required cadence, which asks plex.tv again.
 */
export function decideRejectedToken(currentToken: string, answer: AccountAnswer): TokenDecision {
  switch (answer.kind) {
    case 'listed':
      if (answer.serverToken === null) return { action: 'auth_required', why: 'plex.tv no longer lists this server for the account' };
      if (answer.serverToken !== currentToken) return { action: 'retry_with', token: answer.serverToken };
      return { action: 'auth_required', why: 'the server rejects the token plex.tv hands out' };
    case 'account_rejected':
      return { action: 'auth_required', why: 'plex.tv no longer accepts the account sign-in' };
    case 'unknown':
      return { action: 'auth_required', why: 'plex.tv could not be asked for a new token' };
  }
}

// ---- Plex JWT renewal -----------------------------------------------------------------------

export interface JwtLifetime {
  /** When the token was issued (JWT `iat`, ms). */
  issuedAt: number;
  /** When it expires (JWT `exp`, ms). */
  expiresAt: number;
}

/**
 * When to renew a short-lived plex.tv JWT: `renewBeforeMs` ahead of its expiry (default one day of
 * seven), but never later than half its lifetime, so a short-lived token is not renewed at the last
 * moment.
 */
export function jwtRenewAt(token: JwtLifetime, renewBeforeMs: number): number {
  const lifetime = Math.max(0, token.expiresAt - token.issuedAt);
  return token.expiresAt - Math.min(renewBeforeMs, lifetime / 2);
}

export function jwtRenewalDue(token: JwtLifetime, now: number, renewBeforeMs: number): boolean {
  return now >= jwtRenewAt(token, renewBeforeMs);
}

// ---- Jellyfin's LocalAddress ----------------------------------------------------------------

export type LocalAddressRefresh =
  /** Nothing to do: none reported, already the managed route, or an address the user typed. */
  | { action: 'none' }
  /** Never asked: not an http(s) address, or link-local / metadata space (it would receive the token). */
  | { action: 'refuse'; url: string; reason: string }
  /** A new address: ask anonymously who answers there; only the same server id makes it the route. */
  | { action: 'verify'; url: string };

/**
 * A Jellyfin server reports its `LocalAddress` (in /System/Info/Public): what to do with it, given
 * the source's routes. The check itself (an anonymous `/System/Info/Public` at the address, no token)
 * is I/O; `mergeManagedRoutes(routes, 'server-reported', [{ url, kind: 'local', priority }])` then
 * replaces the old managed route.
 */
export function planLocalAddressRefresh(routes: readonly KnownRoute[], reported: string | undefined, problemOf: (url: string) => string | null): LocalAddressRefresh {
  if (!reported) return { action: 'none' };
  const url = normaliseBaseUrl(reported);
  if (!url) return { action: 'refuse', url: reported.slice(0, 200), reason: 'it is not a valid http(s) address' };
  if (routes.some((r) => r.url === url)) return { action: 'none' };
  const problem = problemOf(url);
  return problem ? { action: 'refuse', url, reason: problem } : { action: 'verify', url };
}

