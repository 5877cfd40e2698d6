import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import type { ApiDemoRoute } from '../../api/types';
import { SourceKindIcon } from '../components/Icons';
import { StatusBadge } from '../components/StatusBadge';
import { apiFetch, errorMessage } from '../lib/api';
import { useApp } from '../lib/hooks';
import { asyncHandler } from '../lib/async-handler';

const ROUTE_FAULTS: { mode: string; label: string; hint: string }[] = [
  { mode: 'refuse', label: 'Cut', hint: 'Connections are refused, like a dead host' },
  { mode: 'hang', label: 'Hang', hint: 'Accepts, never answers: a pulled cable' },
  { mode: 'slow', label: 'Slow', hint: 'Answers, but slowly' },
  { mode: 'cut', label: 'Cut mid-transfer', hint: 'Every response dies after 64 KB of its body: a stream in flight breaks' },
  { mode: 'throttle', label: 'Throttle', hint: 'Capped at 1 Mbit/s per connection, like a relay' },
  { mode: 'up', label: 'Restore', hint: 'Back to normal' },
];

const SERVER_FAULTS: { mode: string; label: string; hint: string }[] = [
  { mode: 'bad-token', label: 'Revoke token', hint: 'The server rejects Marquee’s sign-in' },
  { mode: 'stop', label: 'Stop server', hint: 'Every route stops answering' },
  { mode: 'up', label: 'Restore server', hint: 'Back to normal' },
];

export function DemoPage() {
  const sources = useApp((s) => s.sources);
  const demo = useApp((s) => s.demo);
  const [routes, setRoutes] = useState<ApiDemoRoute[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [modes, setModes] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    if (!demo) return;
    apiFetch<ApiDemoRoute[]>('demo/routes').then(setRoutes, (e: unknown) => setError(errorMessage(e)));
  }, [demo, sources.length]);

  const apply = async (key: string, path: string, mode: string, what: string) => {
    setBusy(`${key}:${mode}`);
    try {
      await apiFetch(path, { method: 'POST', body: { mode } });
      setModes((m) => ({ ...m, [key]: mode }));
    } catch (err) {
      toast.error(`Could not change ${what}`, { description: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

  if (!demo) {
    return (
      <div className="page">
        <h1>Demo controls</h1>
        <p className="muted">Demo controls exist only when Marquee runs in demo mode (<code>npm run demo</code>).</p>
      </div>
    );
  }

  const bySource = new Map<string, ApiDemoRoute[]>();
  const order = { local: 0, remote: 1, relay: 2 } as const;
  const sorted = [...(routes ?? [])].sort((a, b) => order[a.kind] - order[b.kind]);
  for (const route of sorted) bySource.set(route.sourceId, [...(bySource.get(route.sourceId) ?? []), route]);

  return (
    <div className="page" data-testid="demo-page">
      <div className="page-head">
        <div>
          <h1>Demo controls</h1>
          <p className="muted">Break the simulated servers and watch Marquee notice, switch routes, reconnect and tell you — in the sidebar, the header and the toasts.</p>
        </div>
      </div>
      {error && <p className="form-error">{error}</p>}
      {!routes && !error && <div className="skeleton card" />}
      <div className="card-list">
        {[...bySource.entries()].map(([sourceId, sourceRoutes]) => {
          const source = sources.find((s) => s.id === sourceId);
          const name = source?.name ?? sourceRoutes[0]!.serverName;
          return (
            <section key={sourceId} className="source-card demo-card" data-testid={`demo-source-${sourceId}`} aria-label={`Demo controls for ${name}`}>
              <header className="source-card-head">
                {source && <SourceKindIcon kind={source.kind} size={32} />}
                <div className="source-card-title">
                  <h2>{name}</h2>
                  <span className="muted">Server: {modes[`server:${sourceId}`] ?? 'up'}</span>
                </div>
                {source && <StatusBadge source={source} />}
              </header>
              <div className="demo-actions" role="group" aria-label={`${name}: whole server`}>
                {SERVER_FAULTS.map((fault) => (
                  <button
                    key={fault.mode}
                    type="button"
                    className={`button small${fault.mode === 'up' ? '' : ' warn'}`}
                    title={fault.hint}
                    disabled={busy !== null}
                    data-testid={`demo-server-fault-${sourceId}-${fault.mode}`}
                    onClick={asyncHandler(() => apply(`server:${sourceId}`, `demo/servers/${encodeURIComponent(sourceId)}/fault`, fault.mode, name))}
                  >
                    {fault.label}
                  </button>
                ))}
              </div>
              <ul className="demo-routes">
                {sourceRoutes.map((route) => (
                  <li key={route.id} className="demo-route" data-testid={`demo-route-${route.id}`}>
                    <div className="demo-route-info">
                      <span className={`chip kind-${route.kind}`}>{route.kind}</span>
                      <code>{route.url}</code>
                      <span className="muted tiny">now: {modes[route.id] ?? 'up'}</span>
                    </div>
                    <div className="demo-actions" role="group" aria-label={`${route.kind} route ${route.url}`}>
                      {ROUTE_FAULTS.map((fault) => (
                        <button
                          key={fault.mode}
                          type="button"
                          className={`button small${modes[route.id] === fault.mode ? ' selected' : ''}`}
                          aria-pressed={(modes[route.id] ?? 'up') === fault.mode}
                          title={fault.hint}
                          disabled={busy !== null}
                          data-testid={`demo-fault-${route.id}-${fault.mode}`}
                          onClick={asyncHandler(() => apply(route.id, `demo/routes/${encodeURIComponent(route.id)}/fault`, fault.mode, `the ${route.kind} route of ${name}`))}
                        >
                          {fault.label}
                        </button>
                      ))}
                    </div>
                  </li>
                ))}
              </ul>
            </section>
          );
        })}
      </div>
    </div>
  );
}
