import { useState } from 'react';
import { toast } from 'sonner';
import type { ApiSource } from '../../api/types';
import { apiFetch, errorMessage } from '../lib/api';
import { formatClock, formatLatency, formatRelative } from '../lib/format';
import { useServerNow } from '../lib/hooks';
import { describeStatus } from '../lib/status';
import { openSignIn } from '../lib/ui-state';
import { useSourceDetail } from '../lib/use-source-detail';
import { HistoryStrip } from './HistoryStrip';
import { KeyIcon, PencilIcon, RefreshIcon, SourceKindIcon, TrashIcon } from './Icons';
import { RemoveDialog } from './RemoveDialog';
import { RenameDialog } from './RenameDialog';
import { RouteEditor } from './RouteEditor';
import { RouteTable } from './RouteTable';
import { StatusBadge } from './StatusBadge';
import { asyncHandler } from '../lib/async-handler';

const PUSH_WORDS: Record<ApiSource['push'], string> = { open: 'Live', polling: 'Polling', connecting: 'Connecting…', off: 'Off' };
const PUSH_HINTS: Record<ApiSource['push'], string> = {
  open: 'The server pushes changes to Marquee as they happen.',
  polling: 'The server does not push changes; Marquee checks on a schedule.',
  connecting: 'Opening the live channel to the server.',
  off: 'Live updates are turned off for this server; Marquee checks on a schedule.',
};

function Fact({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="fact" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function SourceCard({ source, highlighted }: { source: ApiSource; highlighted: boolean }) {
  const { detail, error } = useSourceDetail(source.id);
  const now = useServerNow();
  const [dialog, setDialog] = useState<'rename' | 'remove' | null>(null);
  const [checking, setChecking] = useState(false);
  const view = describeStatus(source, now);
  const needsSignIn = source.status === 'auth_required';

  const checkNow = async () => {
    setChecking(true);
    try {
      await apiFetch(`sources/${encodeURIComponent(source.id)}/check`, { method: 'POST' });
    } catch (err) {
      toast.error(`Could not check ${source.name}`, { description: errorMessage(err) });
    } finally {
      setChecking(false);
    }
  };

  return (
    <article id={`source-${source.id}`} className={`source-card tone-${view.tone}${highlighted ? ' highlighted' : ''}`} data-testid={`source-card-${source.id}`} aria-labelledby={`source-title-${source.id}`} tabIndex={-1}>
      <header className="source-card-head">
        <SourceKindIcon kind={source.kind} size={36} />
        <div className="source-card-title">
          <h2 id={`source-title-${source.id}`}>{source.name}</h2>
          <span className="muted">{source.kind === 'plex' ? 'Plex Media Server' : 'Jellyfin'}{source.libraries.length ? ` · ${source.libraries.length} ${source.libraries.length === 1 ? 'library' : 'libraries'}` : ''}</span>
        </div>
        <StatusBadge source={source} testId={`card-status-${source.id}`} />
      </header>

      {(source.status !== 'connected' || (source.route && source.route.kind !== 'local')) && (
        <p className={`status-sentence tone-${view.tone}`} data-testid={`status-sentence-${source.id}`}>
          {view.sentence}
        </p>
      )}

      <dl className="facts">
        <Fact label="Current route" testId={`current-route-${source.id}`}>
          {source.route ? (
            <>
              <code className="route-url-inline" title={source.route.url}>{source.route.url}</code>
              <span className={`chip kind-${source.route.kind}`}>{source.route.kind}</span>
              <span className="latency-figure">{formatLatency(source.route.latencyMs)}</span>
            </>
          ) : (
            <span className="muted">None — not connected</span>
          )}
        </Fact>
        <Fact label="Last check">
          <span title={formatClock(source.lastCheckedAt)}>{formatRelative(source.lastCheckedAt, now)}</span>
        </Fact>
        <Fact label="Next check">
          <span title={formatClock(source.nextRetryAt ?? source.nextCheckAt)}>{formatRelative(source.nextRetryAt ?? source.nextCheckAt, now)}</span>
        </Fact>
        <Fact label="Status since">
          <span title={formatClock(source.since)}>{formatRelative(source.since, now)}</span>
        </Fact>
        <Fact label="Updates" testId={`push-${source.id}`}>
          <span title={PUSH_HINTS[source.push]}>{PUSH_WORDS[source.push]}</span>
        </Fact>
      </dl>

      <div className="card-actions">
        <button type="button" className="button" onClick={asyncHandler(checkNow)} disabled={checking} data-testid={`check-now-${source.id}`}>
          <RefreshIcon size={16} className={checking ? 'spin' : undefined} /> {checking ? 'Checking…' : 'Check now'}
        </button>
        <button type="button" className={`button${needsSignIn ? ' warn' : ''}`} onClick={() => openSignIn(source.id)} data-testid={`sign-in-${source.id}`}>
          <KeyIcon size={16} /> Sign in again
        </button>
        <button type="button" className="button ghost" onClick={() => setDialog('rename')} data-testid={`rename-${source.id}`}>
          <PencilIcon size={16} /> Rename
        </button>
        <button type="button" className="button ghost danger-text" onClick={() => setDialog('remove')} data-testid={`remove-${source.id}`}>
          <TrashIcon size={16} /> Remove
        </button>
      </div>

      <section className="card-section" aria-labelledby={`routes-${source.id}`}>
        <h3 id={`routes-${source.id}`}>Routes</h3>
        {detail ? (
          <>
            <RouteTable sourceId={source.id} routes={detail.routes} inUseRouteId={source.route?.id ?? null} editable />
            <RouteEditor sourceId={source.id} serverName={source.name} />
          </>
        ) : error ? (
          <p className="form-error">{error}</p>
        ) : (
          <div className="skeleton" aria-label="Loading routes" />
        )}
      </section>

      <section className="card-section" aria-labelledby={`history-h-${source.id}`}>
        <h3 id={`history-h-${source.id}`}>History</h3>
        {detail ? <HistoryStrip sourceId={source.id} history={detail.history} /> : !error && <div className="skeleton short" />}
      </section>

      {dialog === 'rename' && <RenameDialog source={source} onClose={() => setDialog(null)} />}
      {dialog === 'remove' && <RemoveDialog source={source} onClose={() => setDialog(null)} />}
    </article>
  );
}
