// Jellyfin credentials: username/password, or a Quick Connect code approved from another device.
import { useState } from 'react';
import { apiFetch, errorMessage } from '../lib/api';
import { usePoll } from '../lib/use-poll';
import type { SignInAgainBody } from '../../api/requests';
import type { ApiQuickConnectStart, ApiQuickConnectState } from '../../api/types';

/** What the form produces: the Jellyfin part of POST /api/sources or /signin (the caller adds url/kind). */
export type JellyfinCredentialsBody = Exclude<SignInAgainBody, { pinId: number }>;
import { FormError } from './FormError';
import { SpinnerIcon } from './Icons';
import { asyncHandler } from '../lib/async-handler';

/** `sourceId`: signing in again to that source (the server then accepts a Quick Connect code for a server already added). */
export function JellyfinCredentials({ url, submitLabel, onSubmit, sourceId }: { url: string; submitLabel: string; onSubmit: (body: JellyfinCredentialsBody) => Promise<void>; sourceId?: string }) {
  const [method, setMethod] = useState<'password' | 'quickconnect'>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [quick, setQuick] = useState<ApiQuickConnectStart | null>(null);
  const [quickExpired, setQuickExpired] = useState(false);

  const submit = async (body: JellyfinCredentialsBody) => {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(body);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  usePoll(method === 'quickconnect' && !!quick && !quickExpired && !busy, 2000, async () => {
    if (!quick) return true;
    const result = await apiFetch<ApiQuickConnectState>(`jellyfin/quickconnect/${encodeURIComponent(quick.handle)}`);
    if (result.state === 'expired') {
      setQuickExpired(true);
      return true;
    }
    if (result.state === 'authorized') {
      setBusy(true);
      try {
        await onSubmit({ quickConnectHandle: quick.handle });
      } catch (err) {
        // The approval is used up: show why and offer a new code rather than retrying in a loop.
        setError(errorMessage(err));
        setQuick(null);
      } finally {
        setBusy(false);
      }
      return true;
    }
    return false;
  });

  const startQuickConnect = async () => {
    setBusy(true);
    setError(null);
    setQuickExpired(false);
    try {
      setQuick(await apiFetch<ApiQuickConnectStart>('jellyfin/quickconnect', { method: 'POST', body: sourceId ? { url, sourceId } : { url } }));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="wizard-step">
      <div className="segmented" role="group" aria-label="How to sign in">
        <button type="button" aria-pressed={method === 'password'} className={method === 'password' ? 'selected' : ''} onClick={() => setMethod('password')} data-testid="jellyfin-method-password">
          Username and password
        </button>
        <button type="button" aria-pressed={method === 'quickconnect'} className={method === 'quickconnect' ? 'selected' : ''} onClick={() => { setMethod('quickconnect'); setError(null); }} data-testid="jellyfin-method-quickconnect">
          Quick Connect
        </button>
      </div>
      {method === 'password' ? (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!username.trim()) return setError('Enter your Jellyfin username.');
            void submit({ username: username.trim(), password });
          }}
        >
          <label className="field">
            <span>Username</span>
            <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" autoCapitalize="none" spellCheck={false} required data-autofocus data-testid="jellyfin-username" />
          </label>
          <label className="field">
            <span>Password</span>
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" data-testid="jellyfin-password" />
          </label>
          <FormError message={error} />
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={busy} data-testid="jellyfin-submit">
              {busy ? 'Signing in…' : submitLabel}
            </button>
          </div>
        </form>
      ) : quick && !quickExpired ? (
        <div className="pin-step">
          <p>On a device already signed in to Jellyfin, open <strong>Settings → Quick Connect</strong> and enter:</p>
          <div className="pin-code" data-testid="jellyfin-qc-code">
            {quick.code}
          </div>
          <FormError message={error} />
          <p className="waiting" role="status">
            <SpinnerIcon size={16} /> {busy ? 'Signing in…' : 'Waiting for approval…'}
          </p>
        </div>
      ) : (
        <div className="form">
          <p className="muted">{quickExpired ? 'The code expired. Get a new one.' : 'Sign in without typing a password: approve a short code from a device where you are already signed in.'}</p>
          <FormError message={error} />
          <div className="form-actions">
            <button type="button" className="button primary" onClick={asyncHandler(startQuickConnect)} disabled={busy} data-testid="jellyfin-qc-start">
              {busy ? 'Asking the server…' : 'Get a code'}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
