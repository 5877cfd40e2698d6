import { useState } from 'react';
import { FormError } from '../components/FormError';
import { MarqueeLogo } from '../components/Icons';
import { apiFetch, errorMessage } from '../lib/api';
import { asyncHandler } from '../lib/async-handler';

/** Shown when Marquee requires an API key and this browser has no session yet. */
export function ApiKeyLogin({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <main className="login" data-testid="api-key-login">
      <form
        className="login-card form"
        onSubmit={asyncHandler(async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await apiFetch('session', { method: 'POST', body: { apiKey: key } });
            onSignedIn();
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        })}
      >
        <MarqueeLogo size={48} />
        <h1>Marquee</h1>
        <p className="muted">This Marquee is protected. Enter its API key (MARQUEE_API_KEY) to continue.</p>
        <label className="field">
          <span>API key</span>
          <input type="password" value={key} onChange={(e) => setKey(e.target.value)} autoComplete="current-password" autoFocus required data-testid="api-key-input" />
        </label>
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy || !key} data-testid="api-key-submit">
          {busy ? 'Checking…' : 'Continue'}
        </button>
      </form>
    </main>
  );
}
