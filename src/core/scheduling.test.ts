import { describe, expect, it } from 'vitest';
import { effectiveSettings, planNextCheck } from './scheduling.js';
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
      // Recovery is never slowed down by scale.
      expect(s.backoff).toEqual(D.backoff);
      expect(s.probeTimeoutMs).toBe(D.probeTimeoutMs);
    }
    // 1,000 polling sources: 1000 / 20 per s = 50 s light tick; relay re-selection 30 s -> 50 s.
    const k = effectiveSettings(D, { sources: 1_000, pushOpen: false });
    expect(k.baseTickMs).toBe(50_000);
    expect(k.reselectMs).toMatchObject({ local: 300_000, remote: 120_000, relay: 50_000, unknown: 60_000 });
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
});
