import { useState } from 'react';
import { toast } from 'sonner';
import type { ApiSource } from '../../api/types';
import { FormError } from '../components/FormError';
import { JellyfinIcon } from '../components/Icons';
import { JellyfinCredentials } from '../components/JellyfinCredentials';
import { apiFetch, errorMessage } from '../lib/api';
import { navigate } from '../lib/hooks';
import type { ApiJellyfinProbe } from '../../api/types';

export function JellyfinWizard() {
  const [input, setInput] = useState('');
  const [preview, setPreview] = useState<ApiJellyfinProbe | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const probe = async () => {
    const url = input.trim();
    if (!url) return setError('Enter the address of your Jellyfin server, for example http://192.168.1.20:8096.');
    setBusy(true);
    setError(null);
    try {
      setPreview(await apiFetch<ApiJellyfinProbe>('jellyfin/probe', { method: 'POST', body: { url } }));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="wizard" data-testid="jellyfin-wizard">
      <ol className="steps" aria-label="Steps">
        <li className={!preview ? 'current' : 'done'} aria-current={!preview ? 'step' : undefined}>Find the server</li>
        <li className={preview ? 'current' : ''} aria-current={preview ? 'step' : undefined}>Sign in</li>
      </ol>
      {!preview ? (
        <form
          className="form wizard-step"
          onSubmit={(e) => {
            e.preventDefault();
            void probe();
          }}
        >
          <label className="field">
            <span>Server address</span>
            <input
              value={input}
              onChange={(e) => setInput(e.target.value)}
              placeholder="http://192.168.1.20:8096"
              inputMode="url"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              data-testid="jellyfin-url-input"
            />
            <small className="muted">The address you use in your browser to open Jellyfin. A host name alone works too.</small>
          </label>
          <FormError message={error} />
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={busy} data-testid="jellyfin-probe-submit">
              {busy ? 'Looking for the server…' : 'Continue'}
            </button>
          </div>
        </form>
      ) : (
        <>
          <div className="server-preview" data-testid="jellyfin-preview">
            <JellyfinIcon size={40} />
            <div>
              <strong data-testid="jellyfin-preview-name">{preview.name}</strong>
              <span className="muted">
                Jellyfin {preview.version} · <code>{preview.url}</code>
              </span>
            </div>
            <button type="button" className="button ghost small" onClick={() => setPreview(null)}>
              Change
            </button>
          </div>
          {preview.alreadyAdded && (
            <p className="form-error" role="alert" data-testid="jellyfin-already-added">
              <span>This server is already in Marquee. To refresh its sign-in, use “Sign in again” on its card instead.</span>
            </p>
          )}
          <JellyfinCredentials
            url={preview.url}
            submitLabel="Sign in and add"
            onSubmit={async (credentials) => {
              const source = await apiFetch<ApiSource>('sources', { method: 'POST', body: { kind: 'jellyfin', url: preview.url, ...credentials } });
              toast.success(`${source.name} added`, { description: 'Marquee is testing its routes now.' });
              navigate({ page: 'sources', sourceId: source.id });
            }}
          />
        </>
      )}
    </div>
  );
}
