// "Add an address" under a source's route table (issue 13 item 1): POST api/sources/:id/routes.
// Marquee asks the address anonymously who answers there before keeping it; when nothing answers
// the user may keep it anyway (force), and it is used once the server answers there.
import { useState } from 'react';
import type { AddRouteBody } from '../../api/requests';
import { ApiRequestError, apiFetch, errorMessage } from '../lib/api';
import { asyncHandler } from '../lib/async-handler';
import { FormError } from './FormError';

type KindChoice = 'auto' | 'local' | 'remote';

export function RouteEditor({ sourceId, serverName }: { sourceId: string; serverName: string }) {
  const [url, setUrl] = useState('');
  const [kind, setKind] = useState<KindChoice>('auto');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Nothing answered there: offer to keep it anyway. */
  const [canForce, setCanForce] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const add = async (force: boolean) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      const body: AddRouteBody = { url, ...(kind !== 'auto' ? { kind } : {}), ...(force ? { force } : {}) };
      await apiFetch(`sources/${encodeURIComponent(sourceId)}/routes`, { method: 'POST', body });
      setNote(force ? `Kept. It is used once ${serverName} answers there.` : `Added: ${serverName} answered there.`);
      setUrl('');
      setCanForce(false);
    } catch (err) {
      setError(errorMessage(err));
      setCanForce(err instanceof ApiRequestError && err.code === 'unreachable');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="route-editor"
      data-testid={`route-editor-${sourceId}`}
      onSubmit={(e) => {
        e.preventDefault();
        void add(false);
      }}
    >
      <label className="route-editor-url">
        <span>Add an address</span>
        <input
          type="text"
          inputMode="url"
          placeholder="http://192.168.1.20:32400, https://media.example.org, a Tailscale address…"
          value={url}
          onChange={(e) => {
            setUrl(e.target.value);
            setCanForce(false);
          }}
          required
          data-testid={`route-url-${sourceId}`}
        />
      </label>
      <label className="route-editor-kind">
        <span>Kind</span>
        <select value={kind} onChange={(e) => setKind(e.target.value as KindChoice)} data-testid={`route-kind-${sourceId}`}>
          <option value="auto">From the address</option>
          <option value="local">Local</option>
          <option value="remote">Remote</option>
        </select>
      </label>
      <button type="submit" className="button primary small" disabled={busy || url.trim() === ''} data-testid={`route-add-${sourceId}`}>
        {busy ? 'Checking…' : 'Add'}
      </button>
      <div className="route-editor-feedback">
        <FormError message={error} testId={`route-error-${sourceId}`} />
        {canForce && (
          <button type="button" className="button small warn" disabled={busy} onClick={asyncHandler(() => add(true))} data-testid={`route-force-${sourceId}`}>
            Keep it anyway
          </button>
        )}
        {note && (
          <p className="muted tiny" role="status" data-testid={`route-note-${sourceId}`}>
            {note}
          </p>
        )}
      </div>
    </form>
  );
}
