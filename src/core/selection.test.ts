import { describe, expect, it } from 'vitest';
import { decideEarly, pickBest, rankResults, type Arrival } from './selection.js';
import type { ProbeResult, Route } from './types.js';

const local0: Route = { id: 'l0', url: 'https://127.0.0.2:1', kind: 'local', priority: 0 };
const local1: Route = { id: 'l1', url: 'http://127.0.0.2:2', kind: 'local', priority: 1 };
const remote: Route = { id: 'r', url: 'http://127.0.0.3:1', kind: 'remote', priority: 0 };
const relay: Route = { id: 'y', url: 'http://127.0.0.4:1', kind: 'relay', priority: 0 };
const routes = [relay, remote, local1, local0];

const ok = (routeId: string, latencyMs: number): ProbeResult => ({ ok: true, routeId, at: 0, latencyMs });
const bad = (routeId: string): ProbeResult => ({ ok: false, routeId, at: 0, latencyMs: 1, error: { code: 'refused', message: 'refused' } });
const at = (result: ProbeResult, elapsedMs: number): Arrival => ({ result, elapsedMs });

describe('rankResults / pickBest', () => {
  it.each([
    { name: 'local beats faster remote', results: [ok('r', 1), ok('l1', 50)], best: 'l1' },
    { name: 'remote beats relay', results: [ok('y', 1), ok('r', 90)], best: 'r' },
    { name: 'priority before latency within a kind', results: [ok('l1', 1), ok('l0', 40)], best: 'l0' },
    { name: 'latency breaks ties of equal rank', results: [ok('l0', 40), { ...ok('l0', 10) }], best: 'l0' },
    { name: 'never a failed route', results: [bad('l0'), bad('l1'), ok('y', 300)], best: 'y' },
    { name: 'all failed: no route', results: [bad('l0'), bad('r')], best: null },
    { name: 'results for unknown routes are ignored', results: [ok('stale', 1)], best: null },
  ])('$name', ({ results, best }) => {
    expect(pickBest(routes, results)?.routeId ?? null).toBe(best);
  });

  it('orders all good answers', () => {
    expect(rankResults(routes, [ok('y', 1), ok('r', 2), ok('l1', 3), ok('l0', 4), bad('x')]).map((r) => r.routeId)).toEqual(['l0', 'l1', 'r', 'y']);
  });
});

describe('decideEarly', () => {
  const three = [local0, remote, relay];
  it.each([
    { name: 'nothing yet', arrivals: [], elapsed: 10, expected: { decided: false } },
    { name: 'the most preferred answered: decide at once', arrivals: [at(ok('l0', 5), 5)], elapsed: 5, expected: { decided: true, chosen: 'l0' } },
    { name: 'a less preferred answered: wait for the grace period', arrivals: [at(ok('r', 20), 20)], elapsed: 20, expected: { decided: false, recheckInMs: 100 } },
    { name: 'grace counted from the first good answer', arrivals: [at(ok('y', 10), 10), at(ok('r', 60), 60)], elapsed: 70, expected: { decided: false, recheckInMs: 40 } },
    { name: 'grace passed: the best so far', arrivals: [at(ok('y', 10), 10), at(ok('r', 60), 60)], elapsed: 110, expected: { decided: true, chosen: 'r' } },
    { name: 'the better route failed: decide now', arrivals: [at(ok('r', 20), 20), at(bad('l0'), 25)], elapsed: 25, expected: { decided: true, chosen: 'r' } },
    { name: 'failures alone never decide while routes are pending', arrivals: [at(bad('l0'), 1), at(bad('r'), 2)], elapsed: 4000, expected: { decided: false } },
    { name: 'all failed: no route', arrivals: [at(bad('l0'), 1), at(bad('r'), 2), at(bad('y'), 3)], elapsed: 3, expected: { decided: true, chosen: null } },
  ])('$name', ({ arrivals, elapsed, expected }) => {
    const decision = decideEarly({ routes: three, arrivals, elapsedMs: elapsed, graceMs: 100 });
    if (expected.decided) {
      expect(decision).toEqual({ decided: true, chosen: expected.chosen === null ? null : expect.objectContaining({ routeId: expected.chosen }) });
    } else {
      expect(decision).toEqual(expected);
    }
  });

  it('an equal-rank route still pending cannot beat an answer already in', () => {
    const twoLocal = [local0, { ...local0, id: 'l0b' }];
    expect(decideEarly({ routes: twoLocal, arrivals: [at(ok('l0', 3), 3)], elapsedMs: 3, graceMs: 100 })).toMatchObject({ decided: true });
  });

  it('no routes at all: decided, no route', () => {
    expect(decideEarly({ routes: [], arrivals: [], elapsedMs: 0, graceMs: 100 })).toEqual({ decided: true, chosen: null });
  });
});
