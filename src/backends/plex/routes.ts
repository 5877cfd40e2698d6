// plex.tv resources → route candidates for one server.
//
// Decisions (see PROTOCOLS.md §1.4):
// - Kind: relay if the connection is a relay, else local if plex.tv marks it local, else remote.
// - Local routes of servers the user does not own are KEPT (python-plexapi drops them because a
//   friend's LAN address may collide with one on ours). Marquee verifies the machineIdentifier on
//   every probe, so a colliding address is rejected as `wrong_server` instead of being trusted,
//   and a shared server on the same LAN (family, dorm) gets its fast route.
// - Within a kind, the https `uri` (plex.direct) comes before plain http. A plain
//   `http://address:port` fallback is added only for local, non-relay connections of servers that
//   do not require https: a token must not travel in clear text over the internet.
// - Priorities are dense per kind (0, 1, 2 …) in that order; duplicates are dropped.
// - Link-local addresses (169.254.0.0/16, fe80::/10, in any spelling) are refused: plex.tv lists what
//   the server reports, and the route would receive the token — a cloud metadata service answers there.
import { reportedAddressProblem } from '../../core/addresses.js';
import type { RouteKind } from '../../core/types.js';
import type { RefusedRoute, RouteCandidate } from '../types.js';
import type { PlexConnection, PlexResource } from './parsers.js';

function kindOf(c: PlexConnection): RouteKind {
  if (c.relay) return 'relay';
  return c.local ? 'local' : 'remote';
}

function hostForUrl(address: string, ipv6: boolean): string {
  return ipv6 || address.includes(':') ? `[${address.replace(/^\[|\]$/g, '')}]` : address;
}

function normaliseBase(uri: string): string | null {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}

export interface PlexRoutePlan {
  routes: RouteCandidate[];
  refused: RefusedRoute[];
}

export function planRoutesFromResource(resource: PlexResource): PlexRoutePlan {
  const byKind: Record<RouteKind, { url: string; https: boolean }[]> = { local: [], remote: [], relay: [] };
  const seen = new Set<string>();
  const refused: RefusedRoute[] = [];
  const add = (kind: RouteKind, raw: string) => {
    const url = normaliseBase(raw);
    if (!url || seen.has(url)) return;
    seen.add(url);
    const problem = reportedAddressProblem(url);
    if (problem) {
      refused.push({ url, reason: problem });
      return;
    }
    byKind[kind].push({ url, https: url.startsWith('https:') });
  };
  for (const c of resource.connections) {
    const kind = kindOf(c);
    add(kind, c.uri);
    if (kind === 'local' && !resource.httpsRequired && c.address) {
      add(kind, `http://${hostForUrl(c.address, c.ipv6)}:${c.port}`);
    }
  }
  const out: RouteCandidate[] = [];
  for (const kind of ['local', 'remote', 'relay'] as const) {
    // Stable sort: https first, otherwise plex.tv's order.
    const list = [...byKind[kind]].sort((a, b) => Number(b.https) - Number(a.https));
    list.forEach((r, priority) => out.push({ url: r.url, kind, priority, origin: 'plex.tv' }));
  }
  return { routes: out, refused };
}

export function routesFromResource(resource: PlexResource): RouteCandidate[] {
  return planRoutesFromResource(resource).routes;
}
