import { useUi } from '../lib/hooks';

/** Polite live region: status changes in words, for screen readers. */
export function LiveRegion() {
  const announcement = useUi((s) => s.announcement);
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true" role="status" data-testid="live-region">
      {/* A fresh node per message, so the same words said twice are announced twice. */}
      <span key={announcement.id}>{announcement.text}</span>
    </div>
  );
}
