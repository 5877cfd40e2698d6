// Benchmark — back to the best route (issue 13 item 2), with real packet faults in a private network
// namespace (test/net/scenarios/return-to-local.ts): Plex (local dropped: a pulled cable) and Jellyfin
// (local reset: a dead host) in one engine with the default settings. Local goes down (both sources
// move to remote) and stays dead for a while, then flaps at 1 Hz (down 500 ms / up 500 ms) for 2 min
// (--quick: 20 s), then stays up. Figures, beside a baseline measured in the same run — today's rule
// before issue 13, the source returns at its next full re-selection (engine-only `returnCheckMs: 0`):
//   - local up for good → back on local (ConnectionChanged), p50/p95 over sources × trials. Goal p95 ≤ 30 s;
//   - returns to local while it flaps. Goal 0;
//   - requests per second to the dead local route (second half of the dead period, per source).
//     Goal: within the retry budget of a dead route (≤ 0.25 /s once grown).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MonitorSettingsInput } from '../src/core/settings.js';
import { runInNetns } from '../test/support/net/netns.js';
import type { ReturnArgs, ReturnResult } from '../test/net/scenarios/return-to-local.js';
import { summarize } from './stats.js';
import type { Benchmark, BenchRow } from './types.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'net', 'scenarios', 'return-to-local.ts');
const BACK_GOAL_MS = 30_000;
const RATE_GOAL = 0.25;

interface Variant {
  label: string;
  settings: MonitorSettingsInput;
  trials: (quick: boolean) => number;
  limitMs: number;
}

const VARIANTS: Variant[] = [
  { label: 'probation + hold-down (default: check ~1.5 s, 8 answers over ≥ 15 s)', settings: {}, trials: (q) => (q ? 2 : 5), limitMs: 60_000 },
  // Today's rule before issue 13: back at the next full re-selection (remote: 120 s, phase set when push opened).
  { label: 'baseline: next full re-selection', settings: { returnCheckMs: 0 }, trials: (q) => (q ? 1 : 2), limitMs: 150_000 },
];

export const returnToBest: Benchmark = {
  name: 'return',
  description: 'local dead, then flapping at 1 Hz, then stable (nft, Plex + Jellyfin): back on local, returns while flapping, requests to the dead route',
  async run(options) {
    const flapMs = options.quick ? 20_000 : 120_000;
    const deadMs = options.quick ? 30_000 : 120_000;
    const rows: BenchRow[] = [];
    for (const variant of VARIANTS) {
      const back: number[] = [];
      const rates: number[] = [];
      let returnsWhileFlapping = 0;
      let notBack = 0;
      const trials = variant.trials(options.quick);
      for (let trial = 0; trial < trials; trial++) {
        options.log(`${variant.label}: trial ${trial + 1}/${trials} (dead ${deadMs / 1000} s, flap ${flapMs / 1000} s)`);
        const args: ReturnArgs = { deadMs, flapMs, limitMs: variant.limitMs, settings: variant.settings };
        const r = await runInNetns<ReturnResult>(scenario, args, { timeoutMs: 90_000 + deadMs + flapMs + variant.limitMs });
        for (const s of r.sources) {
          if (s.backAfterMs === null) notBack++;
          else back.push(s.backAfterMs);
          if (s.deadRatePerS !== null) rates.push(s.deadRatePerS);
          returnsWhileFlapping += s.returnsWhileFlapping;
        }
        options.log(`back after ${JSON.stringify(r.sources.map((s) => s.backAfterMs))} ms, returns while flapping ${JSON.stringify(r.sources.map((s) => s.returnsWhileFlapping))}, dead-route rate ${JSON.stringify(r.sources.map((s) => s.deadRatePerS?.toFixed(3)))} /s`);
      }
      const isDefault = Object.keys(variant.settings).length === 0;
      const b = summarize(back);
      rows.push({
        case: `local up for good → back on local — ${variant.label}`,
        n: b.n,
        unit: 'ms',
        p50: b.p50,
        p95: b.p95,
        min: b.min,
        max: b.max,
        ...(isDefault ? { goal: `p95 ≤ ${BACK_GOAL_MS / 1000} s`, met: notBack === 0 && b.p95 !== null && b.p95 <= BACK_GOAL_MS } : {}),
        ...(notBack > 0 ? { note: `${notBack} not back within ${variant.limitMs / 1000} s` } : {}),
      });
      rows.push({
        case: `returns to local while it flaps at 1 Hz for ${flapMs / 1000} s — ${variant.label}`,
        n: trials * 2,
        unit: 'count',
        p50: returnsWhileFlapping,
        p95: null,
        ...(isDefault ? { goal: '0', met: returnsWhileFlapping === 0 } : {}),
        note: `total over ${trials * 2} source-runs${options.quick ? ' (quick: 20 s flap; the full run flaps 2 min)' : ''}`,
      });
      // Every source's window has the same length, so the mean of the rates is the pooled rate; a
      // per-source count over a few seconds is too coarse to judge alone (4 requests in 15 s = 0.27).
      const rate = summarize(rates);
      const pooled = rates.length === 0 ? null : rates.reduce((sum, r) => sum + r, 0) / rates.length;
      rows.push({
        case: `requests/s to the dead local route, second half of ${deadMs / 1000} s — ${variant.label}`,
        n: rate.n,
        unit: '/s',
        p50: pooled,
        p95: rate.p95,
        min: rate.min,
        max: rate.max,
        ...(isDefault ? { goal: `≤ ${RATE_GOAL} /s, the retry budget of a dead route (p50 column: pooled mean)`, met: pooled !== null && pooled <= RATE_GOAL } : {}),
        note: 'return checks plus full re-selections; p50 column pooled over sources and trials, p95 per source',
      });
    }
    return rows;
  },
};
