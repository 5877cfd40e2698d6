import type { ApiHistoryEntry } from '../../api/types';
import { formatClock } from '../lib/format';

const STATE_WORDS: Record<string, string> = {
  connected: 'Connected',
  connecting: 'Connecting',
  reconnecting: 'Reconnecting',
  disconnected: 'Disconnected',
  auth_required: 'Sign-in needed',
  sync_failed: 'Sync failed',
  ok: 'Check OK',
  refused: 'Refused',
  timeout: 'No answer',
  dns: 'Name not found',
  tls: 'Certificate problem',
  http_error: 'HTTP error',
  unauthorized: 'Not signed in',
  wrong_server: 'Different server',
  malformed: 'Garbled answer',
  too_large: 'Answer too large',
};

function words(entry: ApiHistoryEntry): string {
  const base = STATE_WORDS[entry.state] ?? entry.state;
  const route = entry.routeKind ? ` (${entry.routeKind})` : '';
  return `${base}${route}${entry.detail ? ` — ${entry.detail}` : ''}`;
}

function tone(entry: ApiHistoryEntry): string {
  if (entry.state === 'ok') return 'ok';
  if (entry.state === 'connected') return entry.routeKind && entry.routeKind !== 'local' ? 'warn' : 'ok';
  if (entry.state === 'reconnecting' || entry.state === 'connecting') return 'busy';
  if (entry.state === 'auth_required' || entry.state === 'sync_failed' || entry.state === 'unauthorized') return 'warn';
  return 'error';
}

/** Recent checks as ticks (shape + colour: full bar = ok, short bar = failure) and transitions as labelled markers. */
export function HistoryStrip({ sourceId, history }: { sourceId: string; history: ApiHistoryEntry[] }) {
  if (history.length === 0) return <p className="muted">No history yet.</p>;
  // The contract does not fix an order: sort, oldest first, so the strip reads left to right.
  const ordered = [...history].sort((a, b) => a.at - b.at);
  const recent = ordered.slice(-60);
  const transitions = ordered.filter((h) => h.kind === 'transition').slice(-5).reverse();
  return (
    <div className="history" data-testid={`history-${sourceId}`}>
      <ol className="history-strip" aria-label="Recent checks and changes, oldest first">
        {recent.map((entry, i) => (
          <li
            key={`${entry.at}-${i}`}
            className={`history-tick ${entry.kind} tone-${tone(entry)}${entry.state === 'ok' ? ' okay' : ''}`}
            title={`${formatClock(entry.at)} · ${words(entry)}`}
          >
            <span className="visually-hidden">
              {formatClock(entry.at)}: {words(entry)}
            </span>
          </li>
        ))}
      </ol>
      {transitions.length > 0 && (
        <ul className="history-transitions">
          {transitions.map((entry, i) => (
            <li key={`${entry.at}-${i}`}>
              <time className="muted">{formatClock(entry.at)}</time> <span className={`dot tone-${tone(entry)}`} aria-hidden="true" /> {words(entry)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
