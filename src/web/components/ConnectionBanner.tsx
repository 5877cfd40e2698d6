import { useApp } from '../lib/hooks';
import { SpinnerIcon } from './Icons';

/** Shown while the UI's own link to Marquee is down; the snapshot on reconnect hides it. */
export function ConnectionBanner() {
  const link = useApp((s) => s.link);
  if (link !== 'lost') return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      <SpinnerIcon size={16} />
      <span>Lost connection to Marquee — retrying…</span>
      <span className="banner-detail">What you see may be out of date.</span>
    </div>
  );
}
