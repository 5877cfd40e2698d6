// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture blog):
// the delay is uniform in [floor, ceiling], ceiling = min(cap, initial * factor^(attempt-1)).
// Randomness is passed in, so the policy stays pure and testable.
import type { BackoffSettings } from './settings.js';

/** The largest delay attempt `attempt` (1-based) may wait. */
export function backoffCeilingMs(attempt: number, settings: BackoffSettings): number {
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // Computed in log space so huge attempt numbers cannot overflow to Infinity * 0 = NaN.
  const exponent = Math.min(n - 1, 1_000);
  const raw = settings.initialMs * Math.pow(settings.factor, exponent);
  return Math.min(settings.capMs, Number.isFinite(raw) ? raw : settings.capMs);
}

/** Clamp a caller-supplied random number into [0, 1). */
export function clampJitter(jitter: number): number {
  if (!Number.isFinite(jitter) || jitter < 0) return 0;
  return jitter >= 1 ? 1 - Number.EPSILON : jitter;
}

function delayUnder(ceiling: number, jitter: number, settings: BackoffSettings): number {
  const floor = Math.min(settings.minDelayMs, ceiling / 2);
  return Math.floor(floor + clampJitter(jitter) * (ceiling - floor));
}

/** Delay before attempt `attempt` (1-based), given a uniform random `jitter` in [0, 1). */
export function backoffDelayMs(attempt: number, jitter: number, settings: BackoffSettings): number {
  return delayUnder(backoffCeilingMs(attempt, settings), jitter, settings);
}

/** Delay between retries once disconnected: retries continue at the cap. */
export function cappedRetryDelayMs(jitter: number, settings: BackoffSettings): number {
  return delayUnder(settings.capMs, jitter, settings);
}
