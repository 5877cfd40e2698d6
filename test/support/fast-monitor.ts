/**
 * Monitor cadences for tests of a real `marquee` process (MARQUEE_TEST_MONITOR): every source is
 * re-checked several times a second, so a server's absence and return are seen within a second or
 * two and every run writes. Below the settings file's ranges, so they go to the engine directly.
 */
export const FAST_MONITOR = {
  baseTickMs: 200,
  probeTimeoutMs: 1000,
  suspectProbeTimeoutMs: 500,
  graceMs: 30,
  reselectMs: { local: 1000, remote: 1000, relay: 1000, unknown: 1000 },
  backoff: { initialMs: 100, capMs: 400, minDelayMs: 50 },
  disconnectAfterAttempts: 2,
};
