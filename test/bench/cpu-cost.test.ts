// The CPU model behind the playback bench's "ceiling" and "budget" rows (bench/support/cpu-cost.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuBoundRatio, processCpuMs, proxyBudgetFor } from '../../bench/support/cpu-cost.js';

const cost = fc.double({ min: 0.05, max: 10, noNaN: true });

describe('cpu-cost model', () => {
  it('a proxy that costs nothing keeps the direct rate; one as costly as server + client on 2 cores halves it', () => {
    expect(cpuBoundRatio({ server: 1, client: 1, proxy: 0 }, 2)).toBe(1);
    expect(cpuBoundRatio({ server: 1, client: 1, proxy: 2 }, 2)).toBeCloseTo(0.5);
    // A proxy cheaper than the slowest party, with room left on the cores, costs no throughput.
    expect(cpuBoundRatio({ server: 2, client: 1, proxy: 1 }, 2)).toBe(1);
  });

  it('never above 1, never rising as the proxy costs more', () => {
    fc.assert(
      fc.property(cost, cost, cost, cost, (server, client, proxy, more) => {
        const a = cpuBoundRatio({ server, client, proxy }, 2);
        const b = cpuBoundRatio({ server, client, proxy: proxy + more }, 2);
        return a <= 1 && a > 0 && b <= a + 1e-12;
      }),
    );
  });

  it('a proxy costing exactly the budget for a goal reaches that goal', () => {
    fc.assert(
      fc.property(cost, cost, fc.double({ min: 0.5, max: 0.99, noNaN: true }), (server, client, goal) => {
        const budget = proxyBudgetFor(goal, { server, client }, 2);
        fc.pre(budget > 0);
        expect(cpuBoundRatio({ server, client, proxy: budget }, 2)).toBeCloseTo(goal, 6);
        expect(cpuBoundRatio({ server, client, proxy: budget * 1.01 + 0.01 }, 2)).toBeLessThan(goal);
      }),
    );
  });

  it('reads a live process\'s CPU time from /proc, and it only grows', () => {
    const before = processCpuMs(process.pid);
    let x = 0;
    const until = Date.now() + 60;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = processCpuMs(process.pid);
    expect(after).toBeGreaterThanOrEqual(before);
    expect(after).toBeGreaterThan(0);
  });
});
