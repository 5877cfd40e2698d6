// What a toast says for an engine event. Pure, so the wording is tested without a browser.
import type { EngineEvent, RouteKind } from '../../core/types';
import type { ToastKind } from '../toast-policy';
import { formatLatency } from './format';
import { REASON_WORDS } from './status';

export interface ToastContent {
  kind: ToastKind;
  tone: 'error' | 'success' | 'warning';
  title: string;
  description?: string;
  /** Offer a "Sign in" action. */
  signIn?: boolean;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * `preferredRouteKind`: the best route kind the source has at all (ApiSource). A server that is
 * back on its best route — a remote-only server on its remote route — is plainly back, no warning.
 */
export function toastForEvent(event: EngineEvent, preferredRouteKind?: RouteKind | null): ToastContent | null {
  const name = event.sourceName;
  switch (event.type) {
    case 'ConnectionLost': {
      const why = event.reason ? REASON_WORDS[event.reason] : event.error?.message;
      return { kind: 'lost', tone: 'error', title: `${name} lost its connection`, description: why ? `${capitalise(why)}. Marquee keeps retrying.` : 'Marquee keeps retrying.' };
    }
    case 'ConnectionRestored': {
      const best = event.routeKind === 'local' || (event.routeKind === 'remote' && preferredRouteKind === 'remote');
      return {
        kind: 'restored',
        tone: best ? 'success' : 'warning',
        title: `${name} is back`,
        description: best
          ? `Connected on its ${event.routeKind} route (${formatLatency(event.latencyMs)}).`
          : `Connected on a ${event.routeKind} route: more latency and limited bandwidth.`,
      };
    }
    case 'ConnectionChanged':
      if (event.previousRouteKind === null || event.previousRouteKind === event.routeKind) return null;
      if (event.routeKind === 'local') {
        return { kind: 'local', tone: 'success', title: `${name} is back on its local route`, description: `Latency ${formatLatency(event.latencyMs)}.` };
      }
      return {
        kind: event.routeKind,
        tone: 'warning',
        title: `${name} is now on a ${event.routeKind} route`,
        description: 'More latency and limited bandwidth until the local route answers again.',
      };
    case 'AuthStatusChanged':
      if (!event.authRequired) return null;
      return { kind: 'auth', tone: 'warning', title: `Sign in to ${name} again`, description: 'Its sign-in has expired or was revoked.', signIn: true };
    case 'SyncFailed':
      return { kind: 'sync_failed', tone: 'warning', title: `Couldn't refresh the libraries of ${name}`, description: event.error };
    case 'Reconnecting':
    case 'StatusChanged':
    case 'SyncRestored':
      return null;
    default: // an event type a newer server may send
      return null;
  }
}
