// Scheduling policy: when the next check of a source runs and whether it is a light check of the
// current route or a full re-selection of all routes. Pure: `now` is passed in.
import type { RouteKind, SourceStatus } from './types.js';
import type { MonitorSettings } from './settings.js';

export type CheckKind = 'full' | 'light';

export interface PlannedCheck {
  kind: CheckKind;
  at: number;
}

/** Full re-selection cadence for the current route kind (null: no route known). */
export function reselectIntervalMs(kind: RouteKind | null, settings: MonitorSettings): number {
  return settings.reselectMs[kind ?? 'unknown'];
}

/**
 * The next check after a status has been reached.
 * - connected / sync_failed: a light check on the base tick, or the full re-selection when it is due
 *   first (so a source on remote or relay returns to local when local comes back);
 * - reconnecting / disconnected: a full check at the retry time the status shows;
 * - auth_required: try the token again at the "unknown" cadence;
 * - connecting: a full check now.
 */
export function planNextCheck(
  status: SourceStatus,
  lastFullCheckAt: number | null,
  now: number,
  settings: MonitorSettings,
): PlannedCheck {
  switch (status.state) {
    case 'connected':
    case 'sync_failed': {
      const fullAt = (lastFullCheckAt ?? now) + reselectIntervalMs(status.routeKind, settings);
      const lightAt = now + settings.baseTickMs;
      return fullAt <= lightAt ? { kind: 'full', at: Math.max(now, fullAt) } : { kind: 'light', at: lightAt };
    }
    case 'reconnecting':
    case 'disconnected':
      return { kind: 'full', at: Math.max(now, status.nextRetryAt) };
    case 'auth_required':
      return { kind: 'full', at: now + reselectIntervalMs(null, settings) };
    case 'connecting':
      return { kind: 'full', at: now };
  }
}
