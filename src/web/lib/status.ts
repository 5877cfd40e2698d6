// How a source's status is presented: one place decides the words, the icon shape and the
// tone, so the sidebar, the header, the cards and the live region always agree. Never colour
// alone: every tone comes with its own icon shape and text.
import { REASON_WORDS, type RouteKind } from '../../core/types';
import type { ApiSource } from '../../api/types';
import { secondsUntil } from './format';

export type Tone = 'ok' | 'warn' | 'error' | 'busy' | 'neutral';
export type StatusIcon = 'ok' | 'warn' | 'spinner' | 'offline' | 'key' | 'sync';

export interface StatusView {
  tone: Tone;
  icon: StatusIcon;
  /** Short visible label, e.g. "Remote", "Retry in 4 s". */
  label: string;
  /** A full sentence for screen readers and the live region. */
  sentence: string;
  /** Extra explanation shown as a tooltip. */
  hint?: string;
}

export { REASON_WORDS };

/** The error says more than the reason already does (the API falls back to the reason's words). */
function problemBeyondReason(source: ApiSource): boolean {
  return !!source.error && !(source.reason && source.error === REASON_WORDS[source.reason]);
}

export function remoteHint(kind: RouteKind): string {
  return `Using a ${kind} route: more latency and limited bandwidth`;
}

const ROUTE_RANK: Record<RouteKind, number> = { local: 0, remote: 1, relay: 2 };

/**
 * A connected source runs on a worse route than it has: it fell back from local to remote, or it
 * is on a relay (bandwidth-capped, always worth knowing). A remote-only server on its remote route
 * is not. Servers that do not send `preferredRouteKind` are judged as if they had a local route.
 */
export function isOnWorseRoute(source: ApiSource): boolean {
  const kind = source.route?.kind;
  if (!kind || kind === 'local') return false;
  if (kind === 'relay') return true;
  const preferred = source.preferredRouteKind ?? 'local';
  return ROUTE_RANK[kind] > ROUTE_RANK[preferred];
}

export function describeStatus(source: ApiSource, now: number): StatusView {
  const name = source.name;
  switch (source.status) {
    case 'connected': {
      const kind = source.route?.kind ?? 'local';
      if (kind === 'local') return { tone: 'ok', icon: 'ok', label: 'Connected', sentence: `${name} is connected.` };
      if (!isOnWorseRoute(source)) {
        // A remote-only server on its remote route is as good as it gets: say so, do not warn.
        return {
          tone: 'ok',
          icon: 'ok',
          label: 'Remote',
          sentence: `${name} is connected through its ${kind} route.`,
          hint: `${remoteHint(kind)} (this server has no local route)`,
        };
      }
      return {
        tone: 'warn',
        icon: 'warn',
        label: kind === 'relay' ? 'Relay' : 'Remote',
        sentence: `${name} is connected through a ${kind} route, with more latency and limited bandwidth.`,
        hint: remoteHint(kind),
      };
    }
    case 'connecting':
      return { tone: 'busy', icon: 'spinner', label: 'Connecting…', sentence: `${name} is connecting.` };
    case 'reconnecting': {
      const seconds = secondsUntil(source.nextRetryAt, now);
      const why = source.reason ? ` because ${REASON_WORDS[source.reason]}` : '';
      return {
        tone: 'busy',
        icon: 'spinner',
        label: seconds > 0 ? `Retry in ${seconds} s` : 'Reconnecting…',
        sentence: `${name} is reconnecting${why}${source.attempt ? `, attempt ${source.attempt}` : ''}.${problemBeyondReason(source) ? ` Last problem: ${source.error}.` : ''}`,
        hint: source.error,
      };
    }
    case 'disconnected': {
      const seconds = secondsUntil(source.nextRetryAt, now);
      const why = source.reason ? ` (${REASON_WORDS[source.reason]})` : '';
      return {
        tone: 'error',
        icon: 'offline',
        label: 'Disconnected',
        sentence: `${name} is disconnected${why}${problemBeyondReason(source) ? `: ${source.error}` : ''}.${seconds > 0 ? ` Next try in ${seconds} seconds.` : ''}`,
        hint: source.error ?? (seconds > 0 ? `Next try in ${seconds} s` : undefined),
      };
    }
    case 'auth_required':
      return {
        tone: 'warn',
        icon: 'key',
        label: 'Sign in needed',
        sentence: `${name} needs you to sign in again.`,
        hint: source.error ?? 'The sign-in has expired or was revoked.',
      };
    case 'sync_failed':
      return {
        tone: 'warn',
        icon: 'sync',
        label: 'Sync failed',
        sentence: `${name} is reachable, but its libraries could not be refreshed${source.error ? `: ${source.error}` : ''}.`,
        hint: source.error,
      };
  }
}

export type OverallState = 'ok' | 'degraded' | 'offline' | 'connecting' | 'empty';

export interface OverallView {
  state: OverallState;
  label: string;
  sentence: string;
}

/** Degraded = on a worse route than the source has, or reconnecting/disconnected/auth_required/sync_failed. */
export function isHealthy(source: ApiSource): boolean {
  return source.status === 'connected' && !isOnWorseRoute(source);
}

function isUsable(source: ApiSource): boolean {
  return source.status === 'connected' || source.status === 'sync_failed';
}

export function overallStatus(sources: readonly ApiSource[]): OverallView {
  if (sources.length === 0) return { state: 'empty', label: 'No servers', sentence: 'No servers have been added yet.' };
  if (sources.every(isHealthy)) {
    return { state: 'ok', label: 'All connected', sentence: sources.length === 1 ? 'Your server is connected.' : `All ${sources.length} servers are connected.` };
  }
  if (sources.every((s) => s.status === 'connecting')) return { state: 'connecting', label: 'Connecting…', sentence: 'Connecting to your servers.' };
  const offline = sources.filter((s) => s.status === 'disconnected');
  if (!sources.some(isUsable) && offline.length > 0 && sources.every((s) => s.status === 'disconnected' || s.status === 'reconnecting')) {
    return {
      state: 'offline',
      label: 'Offline',
      sentence: sources.length === 1 ? 'Your server is offline.' : 'None of your servers can be reached.',
    };
  }
  const attention = sources.filter((s) => !isHealthy(s));
  const label = attention.length === 1 ? `${attention[0]!.name}: ${describeStatus(attention[0]!, 0).label.replace(/^Retry in .*/, 'Reconnecting')}` : `${attention.length} need attention`;
  return {
    state: 'degraded',
    label,
    sentence: `${attention.length} of ${sources.length} servers need attention: ${namesInBrief(attention.map((s) => s.name))}.`,
  };
}

/** Names for a sentence: at most five, then how many more (a big install would fill the screen). */
function namesInBrief(names: readonly string[], shown = 5): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}
