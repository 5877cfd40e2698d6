// engine.checkNowAndWait (issue 14): a caller whose request died with its route asks for a check
// and waits — bounded — for a check that started after it asked, then reads the route it chose.
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckWaitResult } from './engine-types.js';
import { startScriptedTwoRouteSource } from '../../test/support/scripted-engine.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function connectedSource() {
  const ctx = await startScriptedTwoRouteSource(cleanups, 'a'.repeat(40));
  const status = ctx.engine.getSource(ctx.id)!.status;
  expect(status.state === 'connected' && status.routeId).toBe(ctx.local.id);
  return ctx;
}

/** Tracks a pending promise's result without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; value: () => T } {
  let done = false;
  let result: T;
  void promise.then((v) => {
    done = true;
    result = v;
  });
  return { settled: () => done, value: () => result };
}

describe('engine.checkNowAndWait', () => {
  it('resolves once the check it asked for finished, with the snapshot it left — also when nothing changed', async () => {
    const ctx = await connectedSource();
    ctx.backend.route(ctx.local.id, { answer: 'ok', delayMs: 300 });
    ctx.backend.route(ctx.remote.id, { answer: 'ok', delayMs: 300 });
    const before = ctx.backend.calls.length;
    const wait = track(ctx.engine.checkNowAndWait(ctx.id, 5_000));
    await ctx.clock.advance(200);
    expect(wait.settled()).toBe(false);
    await ctx.clock.advance(300);
    expect(wait.settled()).toBe(true);
    const result = wait.value() as CheckWaitResult;
    expect(result.completed).toBe(true);
    expect(result.snapshot.status.state === 'connected' && result.snapshot.status.routeId).toBe(ctx.local.id);
    expect(ctx.backend.calls.length).toBeGreaterThan(before);
  });

  it('a route that died: the snapshot carries the route the check chose instead', async () => {
    const ctx = await connectedSource();
    ctx.backend.route(ctx.local.id, { answer: 'refused' });
    const wait = track(ctx.engine.checkNowAndWait(ctx.id, 5_000));
    await ctx.clock.advance(500);
    const result = wait.value() as CheckWaitResult;
    expect(result.completed).toBe(true);
    expect(result.snapshot.status.state === 'connected' && result.snapshot.status.routeId).toBe(ctx.remote.id);
  });

  it('a check already in flight predates the request: it waits for the re-run the monitor owes', async () => {
    const ctx = await connectedSource();
    ctx.backend.route(ctx.local.id, { answer: 'ok', delayMs: 1_000 });
    ctx.backend.route(ctx.remote.id, { answer: 'ok', delayMs: 1_000 });
    ctx.engine.checkNow(ctx.id);
    await ctx.clock.advance(100);
    // The route died while that check was on its way: its answer cannot be trusted for this caller.
    const wait = track(ctx.engine.checkNowAndWait(ctx.id, 10_000));
    await ctx.clock.advance(1_000); // the first check finished
    expect(wait.settled()).toBe(false);
    await ctx.clock.advance(1_100); // the re-run finished
    expect(wait.settled()).toBe(true);
    expect((wait.value() as CheckWaitResult).completed).toBe(true);
  });

  it('is bounded: a check that outlasts the wait resolves it with completed false at the deadline', async () => {
    const ctx = await connectedSource();
    ctx.backend.route(ctx.local.id, { answer: 'hang' });
    ctx.backend.route(ctx.remote.id, { answer: 'hang' });
    const wait = track(ctx.engine.checkNowAndWait(ctx.id, 400));
    await ctx.clock.advance(399);
    expect(wait.settled()).toBe(false);
    await ctx.clock.advance(1);
    expect(wait.settled()).toBe(true);
    expect((wait.value() as CheckWaitResult).completed).toBe(false);
  });

  it('concurrent waiters share one check', async () => {
    const ctx = await connectedSource();
    ctx.backend.route(ctx.local.id, { answer: 'ok', delayMs: 200 });
    ctx.backend.route(ctx.remote.id, { answer: 'ok', delayMs: 200 });
    const before = ctx.backend.calls.filter((c) => c.routeId === ctx.remote.id).length;
    const waits = [0, 1, 2].map(() => track(ctx.engine.checkNowAndWait(ctx.id, 5_000)));
    await ctx.clock.advance(300);
    expect(waits.every((w) => w.settled() && (w.value() as CheckWaitResult).completed)).toBe(true);
    // One full check probes every route once.
    expect(ctx.backend.calls.filter((c) => c.routeId === ctx.remote.id).length - before).toBe(1);
  });

  it('an unknown source resolves null at once; a removed one resolves null', async () => {
    const ctx = await connectedSource();
    expect(await ctx.engine.checkNowAndWait('nope', 1_000)).toBeNull();
    ctx.backend.route(ctx.local.id, { answer: 'hang' });
    ctx.backend.route(ctx.remote.id, { answer: 'hang' });
    const wait = track(ctx.engine.checkNowAndWait(ctx.id, 10_000));
    await ctx.clock.advance(10);
    ctx.engine.removeSource(ctx.id);
    await ctx.clock.advance(1);
    expect(wait.settled()).toBe(true);
    expect(wait.value()).toBeNull();
  });
});
