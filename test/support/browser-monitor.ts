// The browser tests' monitor cadences, in a module without DOM types so Node-side code (the
// playback-stall bench) can use the very same settings.
import type { MonitorSettingsInput } from '../../src/core/settings.js';

/** Short but realistic cadences: a cut route is noticed within a second or two, nothing races itself. */
export const BROWSER_MONITOR: MonitorSettingsInput = {
  baseTickMs: 1_000,
  pushOpenTickMs: 2_000,
  probeTimeoutMs: 1_500,
  suspectProbeTimeoutMs: 1_000,
  librariesTimeoutMs: 3_000,
  // minDelayMs keeps each retry >= 300 ms, so "reconnecting" lasts long enough to be seen.
  backoff: { initialMs: 300, factor: 2, capMs: 1_500, minDelayMs: 300 },
  reselectMs: { local: 3_000, remote: 2_000, relay: 2_000, unknown: 2_000 },
  disconnectAfterAttempts: 3,
  // No hold-down: the browser tests show the UI a route that changes often (its toasts are damped);
  // the hold-down itself is tested in src/monitor/return-to-preferred.test.ts and test/net.
  returnCheckMs: 300,
  returnHoldMs: 0,
  returnMinSuccesses: 1,
};
