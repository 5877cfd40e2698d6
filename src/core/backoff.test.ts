import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, phaseCapMs } from './backoff.js';
import { parseMonitorSettings } from './settings.js';

const defaults = parseMonitorSettings().backoff;

describe('backoff', () => {
  const LONG_AGO = 3_600_000; // an outage older than the recent window

  it('ceilings double from 1 s up to the recent cap (4.5 s), then up to 30 s once the outage is old', () => {
    const attempts = [1, 2, 3, 4, 5, 6, 7, 50, 10_000];
    expect(attempts.map((n) => backoffCeilingMs(n, defaults))).toEqual([1000, 2000, 4000, 4500, 4500, 4500, 4500, 4500, 4500]);
    expect(attempts.map((n) => backoffCeilingMs(n, defaults, LONG_AGO))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    expect(phaseCapMs(defaults.recentWindowMs - 1, defaults)).toBe(4500);
    expect(phaseCapMs(defaults.recentWindowMs, defaults)).toBe(30_000);
    expect(phaseCapMs(Number.NaN, defaults)).toBe(30_000);
  });

  it('full jitter spans [floor, ceiling] while growing, the default floor being 100 ms', () => {
    expect(backoffDelayMs(3, 0, defaults)).toBe(100);
    expect(backoffDelayMs(3, 0.5, defaults)).toBe(2050);
    expect(backoffDelayMs(3, 0.999999, defaults)).toBeLessThanOrEqual(4000);
    const pure = { ...defaults, minDelayMs: 0 };
    expect(backoffDelayMs(3, 0, pure)).toBe(0);
    expect(backoffDelayMs(3, 0.5, pure)).toBe(2000);
  });

  it('at a cap the delay stays within [0.9 cap, cap]: one request per >= 4 s per dead route in a recent outage', () => {
    expect(backoffDelayMs(4, 0, defaults)).toBe(4050);
    expect(backoffDelayMs(40, 0.999999, defaults)).toBeLessThanOrEqual(4500);
    expect(backoffDelayMs(40, 0, defaults, LONG_AGO)).toBe(27_000);
    expect(backoffDelayMs(40, 0.999999, defaults, LONG_AGO)).toBeLessThanOrEqual(30_000);
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: defaults.recentWindowMs - 1 }), (attempt, jitter, age) => {
        const delay = backoffDelayMs(attempt, jitter, defaults, age);
        expect(delay).toBeGreaterThanOrEqual(4000);
        expect(delay).toBeLessThanOrEqual(4500);
      }),
    );
  });

  it('delays always lie in [0, min(phase cap, initial * factor^(n-1))] for any settings, attempt, jitter and age', () => {
    const settingsArb = fc
      .record({
        initialMs: fc.integer({ min: 1, max: 10_000 }),
        factor: fc.double({ min: 1, max: 10, noNaN: true }),
        capMs: fc.integer({ min: 1, max: 600_000 }),
        recentCapMs: fc.integer({ min: 1, max: 600_000 }),
        recentWindowMs: fc.integer({ min: 0, max: 3_600_000 }),
        capJitter: fc.double({ min: 0, max: 1, noNaN: true }),
        minDelayMs: fc.integer({ min: 0, max: 10_000 }),
      })
      .filter((s) => s.capMs >= s.initialMs);
    fc.assert(
      fc.property(settingsArb, fc.integer({ min: -5, max: 100_000 }), fc.double({ noNaN: false }), fc.double({ noNaN: false }), (settings, attempt, jitter, age) => {
        const cap = phaseCapMs(age, settings);
        const ceiling = Math.min(cap, settings.initialMs * Math.pow(settings.factor, Math.max(0, attempt - 1)));
        const delay = backoffDelayMs(attempt, jitter, settings, age);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Number.isFinite(ceiling) ? ceiling : cap);
      }),
    );
  });

  it('minDelayMs keeps a growing backoff at or above the floor, clamped to half the ceiling', () => {
    const floored = { ...defaults, minDelayMs: 4000 };
    expect(backoffDelayMs(1, 0, floored)).toBe(500);
    expect(backoffDelayMs(3, 0, floored)).toBe(2000);
    expect(backoffDelayMs(4, 0, floored, LONG_AGO)).toBe(4000);
  });

  it('settings are validated', () => {
    expect(() => parseMonitorSettings({ backoff: { initialMs: 5000, capMs: 1000 } })).toThrow(/capMs/);
    expect(() => parseMonitorSettings({ baseTickMs: -1 })).toThrow();
    expect(() => parseMonitorSettings({ baseTick: 5000 } as never)).toThrow(/baseTick/);
    expect(parseMonitorSettings({ reselectMs: { local: 1000 } }).reselectMs).toEqual({ local: 1000, remote: 120_000, relay: 30_000, unknown: 60_000 });
  });
});
