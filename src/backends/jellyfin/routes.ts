// Routes for a Jellyfin source (Jellyfin has no account service listing addresses):
// - the URL the user gave (after SDK discovery), kind `local` when its host is a loopback, private
//   (RFC 1918 / ULA) or link-local address, `localhost`, a single-label name or a `.local` /
//   `.lan` / `.home.arpa` name; otherwise `remote`;
// - plus the server's own `LocalAddress` from /System/Info when it differs, as a `local` route —
//   only once the sign-in flow has seen the same server id answer there anonymously (the route will
//   receive the token), and never a link-local address (169.254/16, fe80::/10: cloud metadata).
import { isIP } from 'node:net';
import { normaliseBaseUrl, reportedAddressProblem } from '../../core/addresses.js';
// Re-exported: the Jellyfin sign-in and backend normalise addresses with the core's one rule.
export { normaliseBaseUrl };
import type { RouteKind } from '../../core/types.js';
import type { RouteCandidate } from '../types.js';

export function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(host);
  if (family === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (family === 6) {
    if (host === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped?.[1]) return isLocalHost(mapped[1]);
    return /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
  }
  return host === 'localhost' || !host.includes('.') || /\.(local|lan|home\.arpa|internal)$/.test(host);
}


/**
 * What to do with the LocalAddress a server reports, before anything is sent there: nothing (none,
 * or the address the user gave), refuse it (with the reason in words), or check it (`url`).
 */
export type LocalAddressPlan = { action: 'none' } | { action: 'refuse'; url: string; reason: string } | { action: 'check'; url: string };

export function planLocalAddress(givenUrl: string, localAddress: string | undefined): LocalAddressPlan {
  if (!localAddress) return { action: 'none' };
  const local = normaliseBaseUrl(localAddress);
  if (!local) return { action: 'refuse', url: localAddress.slice(0, 200), reason: 'it is not a valid http(s) address' };
  if (local === normaliseBaseUrl(givenUrl)) return { action: 'none' };
  const problem = reportedAddressProblem(local);
  return problem ? { action: 'refuse', url: local, reason: problem } : { action: 'check', url: local };
}

/**
 * The typed URL as a route, plus `verifiedLocalAddress` — which the caller has seen answer with the
 * same server id — as a second, `server-reported` local route.
 */
export function jellyfinRoutes(givenUrl: string, verifiedLocalAddress?: string): RouteCandidate[] {
  const routes: RouteCandidate[] = [];
  const given = normaliseBaseUrl(givenUrl);
  if (!given) return routes;
  const kindOf = (u: string): RouteKind => (isLocalHost(new URL(u).hostname) ? 'local' : 'remote');
  routes.push({ url: given, kind: kindOf(given), priority: 0, origin: 'typed' });
  const plan = planLocalAddress(given, verifiedLocalAddress);
  if (plan.action === 'check') {
    routes.push({ url: plan.url, kind: 'local', priority: routes.some((r) => r.kind === 'local') ? 1 : 0, origin: 'server-reported' });
  }
  return routes;
}
