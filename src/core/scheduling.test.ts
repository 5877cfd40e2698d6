import { describe, expect, it } from 'vitest';
import { effectiveSettings, planNextCheck, replanPeriodicCheck } from './scheduling.js';
import { DEFAULT_MONITOR_SETTINGS as D, parseMonitorSettings } from './settings.js';
import type { SourceStatus } from './types.js';

const connected: SourceStatus = { state: 'connected', routeId: 'r1', routeKind: 'local', latencyMs: 3, since: 0 };

describe('effectiveSettings (cost at scale)', () => {
  it('leaves a small installation polling exactly as configured (the same object)', () => {
    for (const sources of [1, 10, 100, 200]) expect(effectiveSettings(D, { sources, pushOpen: false })).toBe(D);
  });

  it('an open push channel moves the light check to the push-open tick, re-selections unchanged', () => {
    const s = effectiveSettings(D, { sources: 10, pushOpen: true });
    expect(s.baseTickMs).toBe(D.pushOpenTickMs);
    expect(s.reselectMs).toEqual(D.reselectMs);
    expect(s.backoff).toBe(D.backoff);
  });

  it('stretches cadences so N sources stay within the check budgets', () => {
    const n = 10_000;
    for (const pushOpen of [false, true]) {
      const s = effectiveSettings(D, { sources: n, pushOpen });
      expect(n / (s.baseTickMs / 1000)).toBeLessThanOrEqual(D.maxLightChecksPerS);
      for (const kind of ['local', 'remote', 'relay', 'unknown'] as const) {
        expect(n / (s.reselectMs[kind] / 1000)).toBeLessThanOrEqual(D.maxFullChecksPerS);
        expect(s.reselectMs[kind]).toBeGreaterThanOrEqual(D.reselectMs[kind]);
      }
      // Recovery is not slowed down by the number of sources.
      expect(s.backoff).toEqual(D.backoff);
      expect(s.probeTimeoutMs).toBe(D.probeTimeoutMs);
    }
    // 1,000 polling sources: 1000 / 20 per s = 50 s light tick; relay re-selection 30 s -> 50 s.
    const k = effectiveSettings(D, { sources: 1_000, pushOpen: false });
    expect(k.baseTickMs).toBe(50_000);
    expect(k.reselectMs).toMatchObject({ local: 300_000, remote: 120_000, relay: 50_000, unknown: 60_000 });
  });

  it('retries stretch only when more sources are unreachable at once than the retry budget allows', () => {
    expect(effectiveSettings(D, { sources: 10_000, pushOpen: false, unreachable: 400 }).backoff).toEqual(D.backoff);
    // The host lost its network: 10,000 sources unreachable -> 100 s between retries (100 /s in all).
    const s = effectiveSettings(D, { sources: 10_000, pushOpen: false, unreachable: 10_000 });
    expect(s.backoff.recentCapMs).toBe(100_000);
    expect(s.backoff.capMs).toBe(100_000);
    expect(10_000 / (s.backoff.recentCapMs / 1000)).toBeLessThanOrEqual(D.maxRetryChecksPerS);
    const few = effectiveSettings(D, { sources: 10, pushOpen: false, unreachable: 1_000 });
    expect(few.backoff).toMatchObject({ recentCapMs: 10_000, capMs: 30_000 });
    expect(few.baseTickMs).toBe(D.baseTickMs);
  });

  it('budgets are settings', () => {
    const settings = parseMonitorSettings({ maxLightChecksPerS: 1000, maxFullChecksPerS: 1000 });
    expect(effectiveSettings(settings, { sources: 10_000, pushOpen: false })).toBe(settings);
    expect(() => parseMonitorSettings({ maxLightChecksPerS: 0 })).toThrow();
  });

  it('planNextCheck with stretched settings plans later checks', () => {
    const s = effectiveSettings(D, { sources: 10_000, pushOpen: true });
    expect(planNextCheck(connected, 0, 0, D)).toEqual({ kind: 'light', at: 10_000 });
    expect(planNextCheck(connected, 0, 0, s)).toEqual({ kind: 'full', at: 500_000 });
  });

  it('replanPeriodicCheck: as planned at the configured cadence; spread at a random point as a full check when stretched', () => {
    let draws = 0;
    const draw = () => {
      draws += 1;
      return 0.25;
    };
    expect(replanPeriodicCheck(connected, 0, 0, D, false, draw)).toEqual({ kind: 'light', at: 10_000 });
    expect(draws).toBe(0); // the random source is used only when the check is spread
    const s = effectiveSettings(D, { sources: 10, pushOpen: true });
    expect(replanPeriodicCheck(connected, 0, 0, s, true, draw)).toEqual({ kind: 'full', at: Math.round(s.pushOpenTickMs * 0.25) });
    expect(draws).toBe(1);
    // Never at `now` itself (at least 1 ms later), and nothing to re-plan unless connected.
    expect(replanPeriodicCheck(connected, 0, 0, s, true, () => 0)).toEqual({ kind: 'full', at: 1 });
    expect(replanPeriodicCheck({ state: 'connecting' }, null, 0, s, true, draw)).toBeNull();
    expect(replanPeriodicCheck({ state: 'disconnected', since: 0, attempt: 4, nextRetryAt: 5 }, null, 0, s, true, draw)).toBeNull();
  });
});
