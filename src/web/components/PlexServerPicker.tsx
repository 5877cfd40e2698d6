import { useState } from 'react';
import type { ApiPlexServer } from '../../api/types';
import { FormError } from './FormError';
import { asyncHandler } from '../lib/async-handler';

export function PlexServerPicker({ servers, existingServerIds, onPick }: { servers: ApiPlexServer[]; existingServerIds: Set<string>; onPick: (server: ApiPlexServer) => Promise<void> }) {
  const firstFree = servers.find((s) => !existingServerIds.has(s.serverId));
  const [selected, setSelected] = useState<string | null>(firstFree?.serverId ?? null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (servers.length === 0) {
    return <p className="form-error" role="alert">This Plex account cannot reach any server. Check that your server is signed in to the same account.</p>;
  }
  return (
    <form
      className="form"
      onSubmit={asyncHandler(async (e) => {
        e.preventDefault();
        const server = servers.find((s) => s.serverId === selected);
        if (!server) return setError('Choose a server.');
        setBusy(true);
        setError(null);
        try {
          await onPick(server);
        } catch (err) {
          setError((err as Error).message);
          setBusy(false);
        }
      })}
    >
      <fieldset className="server-options">
        <legend>Choose the server to add</legend>
        {servers.map((server) => {
          const already = existingServerIds.has(server.serverId);
          const kinds = [...new Set(server.routes.map((r) => r.kind))];
          return (
            <label key={server.serverId} className={`server-option${selected === server.serverId ? ' selected' : ''}${already ? ' disabled' : ''}`} data-testid={`plex-server-option-${server.serverId}`}>
              <input type="radio" name="plex-server" value={server.serverId} checked={selected === server.serverId} disabled={already} onChange={() => setSelected(server.serverId)} />
              <span className="server-option-main">
                <strong>{server.name}</strong>
                <span className="muted">
                  {server.owned ? 'Your server' : 'Shared with you'} · {server.routes.length} {server.routes.length === 1 ? 'address' : 'addresses'}
                  {kinds.length ? ` (${kinds.join(', ')})` : ''}
                  {already ? ' · already added' : ''}
                </span>
              </span>
              <span className={`chip ${server.presence ? 'tone-ok' : 'tone-neutral'}`}>{server.presence ? 'Online' : 'Offline at plex.tv'}</span>
            </label>
          );
        })}
      </fieldset>
      <FormError message={error} />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy || !selected} data-testid="plex-add-server">
          {busy ? 'Adding…' : 'Add server'}
        </button>
      </div>
    </form>
  );
}
