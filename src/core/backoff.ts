// Retry delays while a source is unreachable. Two phases (see docs/ARCHITECTURE.md, "Retries"):
// - growing: exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture
//   blog): uniform in [floor, ceiling], ceiling = initial * factor^(attempt-1);
// - at the cap: a steady period just under the cap, uniform in [cap * (1 - capJitter), cap]. Full
//   jitter at the cap would retry at half the cap on average with waits up to the whole cap; a
//   near-constant period gives both a known recovery time and a known cost per dead route.
// The cap is `recentCapMs` while the outage is younger than `recentWindowMs` (a server that went
// away a minute ago is likely back soon, and users wait for it), `capMs` after that (a server that
// has been off for an hour costs next to nothing).
// Randomness and the outage's age are passed in, so the policy stays pure and testable.
import type { BackoffSettings } from './settings.js';

/** The cap that applies to an outage that started `outageAgeMs` ago. */
export function phaseCapMs(outageAgeMs: number, settings: BackoffSettings): number {
  const recent = Number.isFinite(outageAgeMs) && outageAgeMs < settings.recentWindowMs;
  return recent ? Math.min(settings.recentCapMs, settings.capMs) : settings.capMs;
}

/** The largest delay attempt `attempt` (1-based) may wait. */
export function backoffCeilingMs(attempt: number, settings: BackoffSettings, outageAgeMs = 0): number {
  const cap = phaseCapMs(outageAgeMs, settings);
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // Computed in log space so huge attempt numbers cannot overflow to Infinity * 0 = NaN.
  const exponent = Math.min(n - 1, 1_000);
  const raw = settings.initialMs * Math.pow(settings.factor, exponent);
  return Math.min(cap, Number.isFinite(raw) ? raw : cap);
}

/** Clamp a caller-supplied random number into [0, 1). */
export function clampJitter(jitter: number): number {
  if (!Number.isFinite(jitter) || jitter < 0) return 0;
  return jitter >= 1 ? 1 - Number.EPSILON : jitter;
}

/**
 * Delay before attempt `attempt` (1-based) of an outage `outageAgeMs` old, given a uniform random
 * `jitter` in [0, 1).
 */
export function backoffDelayMs(attempt: number, jitter: number, settings: BackoffSettings, outageAgeMs = 0): number {
  const ceiling = backoffCeilingMs(attempt, settings, outageAgeMs);
  const atCap = ceiling >= phaseCapMs(outageAgeMs, settings);
  const floor = atCap ? ceiling * (1 - settings.capJitter) : Math.min(settings.minDelayMs, ceiling / 2);
  return Math.floor(floor + clampJitter(jitter) * (ceiling - floor));
}
