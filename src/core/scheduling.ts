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

/**
 * A connected, idle source's next periodic check, planned afresh with its current cadence (its push
 * channel opened or closed). When the cadence is stretched beyond the configured one (push open, or
 * scale budgets), the check lands at a random point of the interval and is a full one: sources
 * connected together (a restart with thousands of them) then come due spread over the interval
 * instead of in one burst, and the full check sets the phase of the re-selections that follow.
 * `draw` (uniform in [0, 1)) is called only when the check is spread. Null: not connected, nothing
 * to re-plan.
 */
export function replanPeriodicCheck(
  status: SourceStatus,
  lastFullCheckAt: number | null,
  now: number,
  settings: MonitorSettings,
  stretched: boolean,
  draw: () => number,
): PlannedCheck | null {
  if (status.state !== 'connected' && status.state !== 'sync_failed') return null;
  const next = planNextCheck(status, lastFullCheckAt, now, settings);
  if (!stretched || next.at <= now) return next;
  return { kind: 'full', at: now + Math.max(1, Math.round((next.at - now) * draw())) };
}

export interface ScheduleContext {
  /** Sources the monitor watches (the budgets are shared by all of them). */
  sources: number;
  /** The source's push channel is open (its pongs prove liveness between checks). */
  pushOpen: boolean;
  /** Sources currently reconnecting or disconnected (they share `maxRetryChecksPerS`). */
  unreachable?: number;
}

/**
 * The settings a source is planned with: the light tick is `pushOpenTickMs` while its push channel
 * is open, and every cadence stretches with the number of sources so the whole installation stays
 * within `maxLightChecksPerS` / `maxFullChecksPerS` (N sources on an interval T make N / T checks
 * per second). Retries are stretched only by the number of sources that are unreachable at once
 * (`maxRetryChecksPerS`): one lost source is retried as fast at 10,000 sources as at 1.
 */
export function effectiveSettings(settings: MonitorSettings, context: ScheduleContext): MonitorSettings {
  const lightFloor = Math.ceil((context.sources / settings.maxLightChecksPerS) * 1000);
  const fullFloor = Math.ceil((context.sources / settings.maxFullChecksPerS) * 1000);
  const retryFloor = Math.ceil(((context.unreachable ?? 0) / settings.maxRetryChecksPerS) * 1000);
  const tick = Math.max(context.pushOpen ? Math.max(settings.baseTickMs, settings.pushOpenTickMs) : settings.baseTickMs, lightFloor);
  const r = settings.reselectMs;
  const b = settings.backoff;
  const retriesStretched = retryFloor > Math.min(b.recentCapMs, b.capMs);
  if (tick === settings.baseTickMs && fullFloor <= Math.min(r.local, r.remote, r.relay, r.unknown) && !retriesStretched) return settings;
  return {
    ...settings,
    baseTickMs: tick,
    reselectMs: { local: Math.max(r.local, fullFloor), remote: Math.max(r.remote, fullFloor), relay: Math.max(r.relay, fullFloor), unknown: Math.max(r.unknown, fullFloor) },
    backoff: retriesStretched ? { ...b, recentCapMs: Math.max(b.recentCapMs, retryFloor), capMs: Math.max(b.capMs, retryFloor) } : b,
  };
}
