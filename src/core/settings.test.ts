// Every monitoring and push knob a user can set is bounded (issue 11: `baseTickMs: 1` made 188
// upstream requests in 5 s, `maxLightChecksPerS: 1e-300` stopped all checks), every default lies
// inside its range, and the engine's own schema still lets code pick fast test cadences.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_SETTINGS, EngineMonitorSettingsSchema, MonitorSettingsSchema, PushSettingsSchema, parseMonitorSettings } from './settings.js';

/** Every numeric knob as a path, e.g. ['backoff', 'capMs']. */
function numericPaths(value: object, prefix: string[] = []): string[][] {
  return Object.entries(value).flatMap(([key, v]) => (typeof v === 'number' ? [[...prefix, key]] : v && typeof v === 'object' ? numericPaths(v as object, [...prefix, key]) : []));
}

function withValue(path: string[], value: number): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

const DEFAULT_PUSH = PushSettingsSchema.parse({});
const schemas = [
  { name: 'monitor', schema: MonitorSettingsSchema, defaults: DEFAULT_MONITOR_SETTINGS },
  { name: 'push', schema: PushSettingsSchema, defaults: DEFAULT_PUSH },
] as const;

describe('settings ranges', () => {
  for (const { name, schema, defaults } of schemas) {
    const paths = numericPaths(defaults);

    it(`${name}: every knob has an upper bound, named in the error`, () => {
      expect(paths.length).toBeGreaterThan(8);
      for (const path of paths) {
        const result = schema.safeParse(withValue(path, 1e12));
        expect(result.success, path.join('.')).toBe(false);
        expect(result.error!.issues.some((i) => i.path.join('.') === path.join('.') && /must be at most/.test(i.message)), path.join('.')).toBe(true);
      }
    });

    it(`${name}: every knob refuses a vanishing value unless 0 is meaningful`, () => {
      for (const path of paths) {
        const key = path.at(-1)!;
        const zeroAllowed = ['graceMs', 'recentWindowMs', 'capJitter', 'returnHoldMs'].includes(key);
        expect(schema.safeParse(withValue(path, 0)).success, `${path.join('.')} = 0`).toBe(zeroAllowed);
        // Only a ratio may be a vanishing fraction; every other knob is a whole number or a rate ≥ 1.
        expect(schema.safeParse(withValue(path, 1e-300)).success, `${path.join('.')} = 1e-300`).toBe(key === 'capJitter');
      }
    });

    it(`${name}: every default lies inside its range`, () => {
      expect(schema.parse(defaults)).toEqual(defaults);
    });
  }

  it('the cases of issue 11 are refused with the range in words', () => {
    expect(() => parseMonitorSettings({ baseTickMs: 1 })).toThrow(/must be at least 1000 ms/);
    expect(() => parseMonitorSettings({ maxLightChecksPerS: 1e-300 })).toThrow(/must be at least 1 per second/);
    expect(() => parseMonitorSettings({ probeTimeoutMs: 10 * 60_000 })).toThrow(/must be at most 60000 ms/);
    expect(() => PushSettingsSchema.parse({ reopenInitialMs: 20_000, reopenCapMs: 10_000 })).toThrow(/reopenCapMs must be >= push.reopenInitialMs/);
  });

  it('the engine schema keeps the same defaults but lets code choose fast test cadences', () => {
    expect(EngineMonitorSettingsSchema.parse({})).toEqual(DEFAULT_MONITOR_SETTINGS);
    const fast = EngineMonitorSettingsSchema.parse({ baseTickMs: 20, reselectMs: { local: 50 }, backoff: { initialMs: 10, capMs: 40, recentCapMs: 40, minDelayMs: 1 } });
    expect(fast).toMatchObject({ baseTickMs: 20, reselectMs: { local: 50 }, backoff: { capMs: 40 } });
    // Types and shape are still checked.
    expect(() => EngineMonitorSettingsSchema.parse({ baseTickMs: -1 })).toThrow();
    expect(() => EngineMonitorSettingsSchema.parse({ baseTick: 5 })).toThrow(/baseTick/);
  });
});
