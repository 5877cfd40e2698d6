// The view of one source the API serves: status, current route, retry times and words for people.
// Pure: everything it shows is passed in.
import { REASON_WORDS, ROUTE_KIND_PREFERENCE, type Library, type LossReason, type RouteKind, type Source, type SourceStatus } from '../core/types.js';
import type { ApiSource } from '../server/api-types.js';
import type { PushState } from './push-supervisor.js';

export interface SourceTimes {
  lastCheckedAt: number | null;
  /** Since when the current status holds. */
  since: number | null;
}

export interface SourceViewInput {
  source: Source;
  status: SourceStatus;
  times: SourceTimes;
  nextCheckAt: number | null;
  libraries: readonly Library[];
  push: PushState;
}

export function reasonInWords(reason: LossReason): string {
  return REASON_WORDS[reason];
}

/** The best kind of route this source has at all. */
export function preferredKind(source: Source): RouteKind | null {
  return ROUTE_KIND_PREFERENCE.find((kind) => source.routes.some((r) => r.kind === kind)) ?? null;
}

export function toApiSource(input: SourceViewInput): ApiSource {
  const { source, status, times } = input;
  const base: ApiSource = {
    id: source.id,
    name: source.name,
    kind: source.kind,
    status: status.state,
    route: null,
    lastCheckedAt: times.lastCheckedAt,
    nextCheckAt: input.nextCheckAt,
    since: 'since' in status ? status.since : times.since,
    push: input.push,
    preferredRouteKind: preferredKind(source),
    libraries: input.libraries.map((l) => ({ id: l.id, name: l.name, type: l.type })),
  };
  switch (status.state) {
    case 'connected':
    case 'sync_failed': {
      const route = source.routes.find((r) => r.id === status.routeId);
      base.route = { id: status.routeId, url: route?.url ?? '', kind: status.routeKind, latencyMs: status.latencyMs };
      if (status.state === 'sync_failed') base.error = `the libraries could not be loaded: ${status.error}`;
      break;
    }
    case 'reconnecting':
    case 'disconnected':
      base.attempt = status.attempt;
      base.nextRetryAt = status.nextRetryAt;
      if (status.reason) base.reason = status.reason;
      // `reason` says why it went away; `error` the latest concrete problem (clients show both, so
      // repeating the reason here would say the same thing twice and hide e.g. "connection refused").
      if (status.lastError) base.error = status.lastError.message;
      else if (status.reason) base.error = reasonInWords(status.reason);
      break;
    case 'auth_required':
      base.error = source.kind === 'plex' ? 'Plex no longer accepts the saved sign-in' : 'Jellyfin no longer accepts the saved sign-in';
      break;
    case 'connecting':
      break;
  }
  return base;
}
