import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, cappedRetryDelayMs } from './backoff.js';
import { parseMonitorSettings } from './settings.js';

const defaults = parseMonitorSettings().backoff;

describe('backoff', () => {
  it('ceilings double from 1 s up to the 30 s cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50, 10_000].map((n) => backoffCeilingMs(n, defaults))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('full jitter spans [floor, ceiling], the default floor being 100 ms', () => {
    expect(backoffDelayMs(3, 0, defaults)).toBe(100);
    expect(backoffDelayMs(3, 0.5, defaults)).toBe(2050);
    expect(backoffDelayMs(3, 0.999999, defaults)).toBeLessThanOrEqual(4000);
    expect(cappedRetryDelayMs(0.5, defaults)).toBe(15_050);
    const pure = { ...defaults, minDelayMs: 0 };
    expect(backoffDelayMs(3, 0, pure)).toBe(0);
    expect(backoffDelayMs(3, 0.5, pure)).toBe(2000);
  });

  it('delays always lie in [0, min(cap, initial * factor^(n-1))] for any settings, attempt and jitter', () => {
    const settingsArb = fc
      .record({ initialMs: fc.integer({ min: 1, max: 10_000 }), factor: fc.double({ min: 1, max: 10, noNaN: true }), capMs: fc.integer({ min: 1, max: 600_000 }), minDelayMs: fc.integer({ min: 0, max: 10_000 }) })
      .filter((s) => s.capMs >= s.initialMs);
    fc.assert(
      fc.property(settingsArb, fc.integer({ min: -5, max: 100_000 }), fc.double({ noNaN: false }), (settings, attempt, jitter) => {
        const ceiling = Math.min(settings.capMs, settings.initialMs * Math.pow(settings.factor, Math.max(0, attempt - 1)));
        const delay = backoffDelayMs(attempt, jitter, settings);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Number.isFinite(ceiling) ? ceiling : settings.capMs);
      }),
    );
  });

  it('minDelayMs keeps a grown backoff at or above the floor, clamped to half the ceiling', () => {
    const floored = { ...defaults, minDelayMs: 4000 };
    expect(backoffDelayMs(1, 0, floored)).toBe(500);
    expect(backoffDelayMs(4, 0, floored)).toBe(4000);
    expect(cappedRetryDelayMs(0, floored)).toBe(4000);
  });

  it('settings are validated', () => {
    expect(() => parseMonitorSettings({ backoff: { initialMs: 5000, capMs: 1000 } })).toThrow(/capMs/);
    expect(() => parseMonitorSettings({ baseTickMs: -1 })).toThrow();
    expect(() => parseMonitorSettings({ baseTick: 5000 } as never)).toThrow(/baseTick/);
    expect(parseMonitorSettings({ reselectMs: { local: 1000 } }).reselectMs).toEqual({ local: 1000, remote: 120_000, relay: 30_000, unknown: 60_000 });
  });
});
