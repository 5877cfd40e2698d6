import { useState } from 'react';
import { toast } from 'sonner';
import { PROBE_ERROR_LABELS, type RouteOrigin } from '../../core/types';
import type { ApiRouteDetail } from '../../api/types';
import type { PatchRouteBody } from '../../api/requests';
import { apiFetch, errorMessage } from '../lib/api';
import { asyncHandler } from '../lib/async-handler';
import { formatLatency, formatRelative } from '../lib/format';
import { useServerNow } from '../lib/hooks';
import { CheckCircleIcon, OfflineIcon, SpinnerIcon, TrashIcon } from './Icons';
import { Sparkline } from './Sparkline';

const RESULT_LABELS: Readonly<Record<string, string>> = PROBE_ERROR_LABELS;

/** Where a route's address came from: a short label, and a sentence for the tooltip. */
const ORIGIN_WORDS: Record<RouteOrigin, { label: string; title: string }> = {
  typed: { label: 'Entered by you', title: 'The address you entered when adding this server' },
  'server-reported': {
    label: 'Reported by the server',
    title: 'The server’s own local address; Marquee used it only after the same server answered there',
  },
  'plex.tv': { label: 'From plex.tv', title: 'Listed for this server by plex.tv, which keeps it up to date: it can be moved, not removed' },
  user: { label: 'Added by you', title: 'An address you added; Marquee checked that this server answers there before sending it any sign-in' },
};

/** Routes whose address their origin keeps up to date: reorder only (the API answers 409 otherwise). */
const isManaged = (origin: RouteOrigin) => origin === 'plex.tv' || origin === 'server-reported';

function RouteOriginLabel({ route }: { route: ApiRouteDetail }) {
  // An older server (or a value this UI does not know yet) shows no label rather than a wrong one.
  const words = ORIGIN_WORDS[route.origin] as { label: string; title: string } | undefined;
  if (!words) return null;
  return (
    <div className="muted tiny route-origin" data-testid={`route-origin-${route.id}`} data-origin={route.origin} title={words.title}>
      {words.label}
    </div>
  );
}

function RouteState({ route, inUse }: { route: ApiRouteDetail; inUse: boolean }) {
  if (route.pending) {
    return (
      <span className="status-badge tone-warn" title="Kept although this server did not answer there; used once it does" data-testid={`route-pending-${route.id}`}>
        <SpinnerIcon size={14} /> <span className="status-label">Waiting to answer</span>
      </span>
    );
  }
  if (route.lastResult === null) {
    return (
      <span className="status-badge tone-neutral">
        <SpinnerIcon size={14} /> <span className="status-label">Not checked yet</span>
      </span>
    );
  }
  if (route.lastResult === 'ok') {
    return (
      <span className="status-badge tone-ok">
        <CheckCircleIcon size={14} /> <span className="status-label">{inUse ? 'In use' : 'Answering'}</span>
      </span>
    );
  }
  return (
    <span className="status-badge tone-error">
      <OfflineIcon size={14} /> <span className="status-label">{RESULT_LABELS[route.lastResult] ?? 'Failing'}</span>
    </span>
  );
}

/** Move up/down among the routes of its kind, and remove (routes the user owns). */
function RouteActions({ sourceId, route, index, count }: { sourceId: string; route: ApiRouteDetail; index: number; count: number }) {
  const [busy, setBusy] = useState(false);
  const base = `sources/${encodeURIComponent(sourceId)}/routes/${encodeURIComponent(route.id)}`;
  const run = async (what: string, call: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await call();
    } catch (err) {
      toast.error(`Could not ${what}`, { description: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const move = (position: number) => run('move the route', () => apiFetch(base, { method: 'PATCH', body: { position } satisfies PatchRouteBody }));
  const remove = () => run('remove the route', () => apiFetch(base, { method: 'DELETE' }));
  return (
    <div className="route-actions">
      <button type="button" className="button ghost small" disabled={busy || index === 0} onClick={asyncHandler(() => move(index - 1))} aria-label={`Try ${route.url} earlier`} title="Try earlier" data-testid={`route-up-${route.id}`}>
        ↑
      </button>
      <button type="button" className="button ghost small" disabled={busy || index >= count - 1} onClick={asyncHandler(() => move(index + 1))} aria-label={`Try ${route.url} later`} title="Try later" data-testid={`route-down-${route.id}`}>
        ↓
      </button>
      {!isManaged(route.origin) && (
        <button type="button" className="button ghost small danger-text" disabled={busy} onClick={asyncHandler(remove)} aria-label={`Remove ${route.url}`} title="Remove this address" data-testid={`route-remove-${route.id}`}>
          <TrashIcon size={14} />
        </button>
      )}
    </div>
  );
}

export function RouteTable({ sourceId, routes, inUseRouteId, editable = false }: { sourceId: string; routes: ApiRouteDetail[]; inUseRouteId: string | null; editable?: boolean }) {
  const now = useServerNow(5000);
  if (routes.length === 0) return <p className="muted">No routes known for this server.</p>;
  // Preference order, as the monitor sees them: local, remote, relay; then priority.
  const rank = { local: 0, remote: 1, relay: 2 } as const;
  const sorted = [...routes].sort((a, b) => rank[a.kind] - rank[b.kind] || a.priority - b.priority);
  return (
    <div className="table-wrap">
      <table className="route-table" data-testid={`route-table-${sourceId}`}>
        <caption className="visually-hidden">Routes to this server</caption>
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col">Latency</th>
            <th scope="col">Last problem</th>
            {editable && <th scope="col">Order</th>}
          </tr>
        </thead>
        <tbody>
          {sorted.map((route) => (
            <tr key={route.id} data-testid={`route-row-${route.id}`} data-result={route.lastResult ?? 'none'} className={route.id === inUseRouteId ? 'in-use' : undefined}>
              <td className="route-url" data-label="Address">
                <code>{route.url}</code>
                <RouteOriginLabel route={route} />
              </td>
              <td data-label="Kind">
                <span className={`chip kind-${route.kind}`}>{route.kind}</span>
              </td>
              <td data-label="State">
                <RouteState route={route} inUse={route.id === inUseRouteId} />
                {route.checkedAt !== null && <div className="muted tiny">{formatRelative(route.checkedAt, now)}</div>}
              </td>
              <td data-label="Latency" className="route-latency">
                {/* A failed probe's duration is not a latency of the server. */}
                <span className="latency-figure">{route.lastResult === 'ok' ? formatLatency(route.latencyMs) : '—'}</span>
                <Sparkline values={route.recentLatencies} label={`Latency of ${route.url}`} />
              </td>
              <td data-label="Last problem" className="route-error">
                {route.lastError ? <span>{route.lastError}</span> : <span className="muted">None</span>}
              </td>
              {editable && (
                <td data-label="Order">
                  <RouteActions
                    sourceId={sourceId}
                    route={route}
                    index={sorted.filter((r) => r.kind === route.kind).indexOf(route)}
                    count={sorted.filter((r) => r.kind === route.kind).length}
                  />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
