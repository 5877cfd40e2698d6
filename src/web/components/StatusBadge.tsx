// A source's status: icon shape + short visible label + full sentence for screen readers.
// `compact` hides the visible label (the sentence stays available to assistive tech).
import type { ApiSource } from '../../api/types';
import { useServerNow } from '../lib/hooks';
import { describeStatus } from '../lib/status';
import { StatusGlyph } from './Icons';

export function StatusBadge({ source, compact = false, testId }: { source: ApiSource; compact?: boolean; testId?: string }) {
  // Only the retry countdown depends on the time: without one the badge need not tick.
  const now = useServerNow(1000, source.nextRetryAt != null);
  const view = describeStatus(source, now);
  return (
    <span
      className={`status-badge tone-${view.tone}${compact ? ' compact' : ''}`}
      data-testid={testId}
      data-state={source.status}
      data-route-kind={source.route?.kind ?? ''}
      title={view.hint}
      // Keyboard users get the hint too: focusable only when there is one, shown by CSS on focus.
      data-tooltip={view.hint}
      tabIndex={view.hint && !compact ? 0 : undefined}
    >
      <StatusGlyph icon={view.icon} size={compact ? 16 : 15} />
      <span className={compact ? 'visually-hidden' : 'status-label'}>{view.label}</span>
      <span className="visually-hidden">. {view.sentence}</span>
    </span>
  );
}
