// Plex sign-in by PIN: create a PIN, show its code, open plex.tv in a new tab, poll every 2 s.
import { useState } from 'react';
import { apiFetch, errorMessage } from '../lib/api';
import { usePoll } from '../lib/use-poll';
import type { ApiPlexPin, ApiPlexPinState, ApiPlexServer } from '../../api/types';
import { FormError } from './FormError';
import { ExternalIcon, PlexIcon, SpinnerIcon } from './Icons';
import { asyncHandler } from '../lib/async-handler';

export function PlexPinFlow({ onAuthorized, intro }: { onAuthorized: (pinId: number, servers: ApiPlexServer[]) => void | Promise<void>; intro: string }) {
  const [pin, setPin] = useState<ApiPlexPin | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [tabOpened, setTabOpened] = useState(false);

  usePoll(!!pin && !expired, 2000, async () => {
    if (!pin) return true;
    const result = await apiFetch<ApiPlexPinState>(`plex/pins/${encodeURIComponent(String(pin.id))}`);
    if (result.state === 'expired') {
      setExpired(true);
      return true;
    }
    if (result.state === 'authorized') {
      try {
        await onAuthorized(pin.id, result.servers);
      } catch (err) {
        // Back to the start button with the reason, instead of waiting forever.
        setError(errorMessage(err));
        setPin(null);
      }
      return true;
    }
    return false;
  });

  const start = async () => {
    setBusy(true);
    setError(null);
    setExpired(false);
    // Open the tab within the click so popup blockers allow it, then point it at plex.tv.
    const tab = window.open('', '_blank');
    try {
      const created = await apiFetch<ApiPlexPin>('plex/pins', { method: 'POST' });
      setPin(created);
      setTabOpened(!!tab);
      if (tab) {
        tab.opener = null;
        tab.location.href = created.authUrl;
      }
    } catch (err) {
      tab?.close();
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (!pin || expired) {
    return (
      <div className="wizard-step">
        <p>{expired ? 'The code expired before it was approved. Start again to get a new one.' : intro}</p>
        <FormError message={error} />
        <button type="button" className="button primary large plex" onClick={asyncHandler(start)} disabled={busy} data-testid="plex-start">
          <PlexIcon size={20} /> {busy ? 'Contacting plex.tv…' : expired ? 'Get a new code' : 'Sign in with Plex'}
        </button>
      </div>
    );
  }

  return (
    <div className="wizard-step pin-step">
      <p>
        {tabOpened
          ? 'A plex.tv tab has opened. Sign in there and approve Marquee; if asked for a code, enter:'
          : 'Open plex.tv with the button below, sign in and approve Marquee; if asked for a code, enter:'}
      </p>
      {/* Strong PINs (long codes) are carried by the auth link itself; show them smaller, wrapping. */}
      <div className={`pin-code${pin.code.length > 8 ? ' long' : ''}`} data-testid="plex-pin-code" aria-label={`Code ${pin.code.split('').join(' ')}`}>
        {pin.code}
      </div>
      <a className="button" href={pin.authUrl} target="_blank" rel="noopener noreferrer" data-testid="plex-auth-link">
        <ExternalIcon size={16} /> {tabOpened ? 'Open plex.tv again' : 'Open plex.tv'}
      </a>
      <p className="waiting" role="status">
        <SpinnerIcon size={16} /> Waiting for your approval…
      </p>
    </div>
  );
}
