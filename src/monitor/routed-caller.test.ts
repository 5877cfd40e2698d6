// Request failover (issue 14): a call whose route dies makes the engine check at once and is retried
// once on the route that check chose, within the caller's deadline; the server's own errors are not
// retried. Real engine and store, scripted backend, fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import type { BrowseResult } from '../backends/types.js';
import type { ProbeErrorCode } from '../core/types.js';
import type { RoutedOutcome, RouteUse } from './engine-types.js';
import { EngineRoutedCaller, type FailoverOutcome } from './routed-caller.js';
import { startScriptedTwoRouteSource } from '../../test/support/scripted-engine.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function setup() {
  const ctx = await startScriptedTwoRouteSource(cleanups, 'b'.repeat(40));
  const failovers: FailoverOutcome[] = [];
  const caller = new EngineRoutedCaller({ engine: ctx.engine, backends: { plex: ctx.backend, jellyfin: ctx.backend }, clock: ctx.clock, onFailover: (_k, o) => failovers.push(o) });
  /** What each route answers to the request (routes not listed: ok after 20 ms). */
  const answers = new Map<string, { code: ProbeErrorCode; afterMs: number }>();
  const runs: Array<{ routeId: string; token: string }> = [];
  const run = (use: RouteUse, signal: AbortSignal): Promise<BrowseResult<string>> => {
    runs.push({ routeId: use.route.id, token: use.credentials.token });
    const answer = answers.get(use.route.id);
    return new Promise((resolve) => {
      const timer = ctx.clock.setTimeout(
        () => resolve(answer ? { ok: false, error: { code: answer.code, message: `${answer.code} (scripted)` } } : { ok: true, value: `items from ${use.route.kind}` }),
        answer?.afterMs ?? 20,
      );
      signal.addEventListener('abort', () => {
        ctx.clock.clearTimeout(timer);
        resolve({ ok: false, error: { code: 'timeout', message: 'aborted' } });
      });
    });
  };
  const settle = <T>(promise: Promise<T>) => {
    const box: { value?: T; at?: number } = {};
    void promise.then((v) => {
      box.value = v;
      box.at = ctx.clock.now();
    });
    return box;
  };
  return { ...ctx, caller, answers, runs, run, failovers, settle };
}

describe('RoutedCaller', () => {
  it('a long-lived caller signal collects no listeners over many calls, and still ends a body streaming after success', async () => {
    const t = await setup();
    const outer = new AbortController();
    // Count the abort listeners left on the caller's signal.
    const listening = new Set<unknown>();
    const add = outer.signal.addEventListener.bind(outer.signal);
    const remove = outer.signal.removeEventListener.bind(outer.signal);
    outer.signal.addEventListener = ((type: string, fn: () => void, opts?: { once?: boolean }) => (listening.add(fn), add(type, fn, opts)));
    outer.signal.removeEventListener = ((type: string, fn: () => void) => (listening.delete(fn), remove(type, fn)));
    for (let i = 0; i < 30; i++) {
      const out = t.settle(t.caller.call(t.id, t.run, { signal: outer.signal }));
      await t.clock.advance(50);
      expect(out.value).toMatchObject({ ok: true });
    }
    // Before: two listeners stayed on the caller's signal per successful call (60 here, and Node's
    // MaxListenersExceededWarning during every library sync).
    expect(listening.size).toBeLessThanOrEqual(1);
    let runSignal: AbortSignal | null = null;
    const streaming = t.settle(t.caller.call(t.id, (_use, signal) => ((runSignal = signal), Promise.resolve({ ok: true as const, value: 'body follows' })), { signal: outer.signal }));
    await t.clock.advance(1);
    expect(streaming.value).toMatchObject({ ok: true });
    expect(runSignal!.aborted).toBe(false);
    outer.abort();
    expect(runSignal!.aborted).toBe(true);
  });

  it('a healthy route: one run on the current route with its token, no check', async () => {
    const t = await setup();
    const probes = t.backend.calls.length;
    const out = t.settle(t.caller.call(t.id, t.run));
    await t.clock.advance(50);
    expect(out.value).toEqual({ ok: true, value: 'items from local', routeId: t.local.id, routeKind: 'local', retried: false });
    expect(t.runs).toEqual([{ routeId: t.local.id, token: 'token-0123456789' }]);
    expect(t.backend.calls.length).toBe(probes);
  });

  it('the route dies (refused): the engine checks at once and the call is retried on the route it chose, in the same call', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'refused', afterMs: 5 });
    t.backend.route(t.local.id, { answer: 'refused' });
    const out = t.settle(t.caller.call(t.id, t.run, { timeoutMs: 5_000 }));
    await t.clock.advance(500);
    expect(out.value).toEqual({ ok: true, value: 'items from remote', routeId: t.remote.id, routeKind: 'remote', retried: true });
    expect(t.runs.map((r) => r.routeId)).toEqual([t.local.id, t.remote.id]);
    expect(t.engine.getSource(t.id)!.status).toMatchObject({ state: 'connected', routeId: t.remote.id });
    expect(t.failovers).toEqual(['retried']);
  });

  it('wrong_server on the route is a dead route too: retried on the next', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'wrong_server', afterMs: 5 });
    t.backend.route(t.local.id, { answer: 'wrong_server' });
    const out = t.settle(t.caller.call(t.id, t.run));
    await t.clock.advance(500);
    expect(out.value).toMatchObject({ ok: true, routeId: t.remote.id, retried: true });
  });

  it('the check finds no route: offline, in words, without a second run', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'refused', afterMs: 5 });
    t.backend.route(t.local.id, { answer: 'refused' });
    t.backend.route(t.remote.id, { answer: 'refused' });
    const out = t.settle(t.caller.call(t.id, t.run));
    await t.clock.advance(500);
    const value = out.value as Extract<RoutedOutcome<string>, { ok: false }>;
    expect(value.ok).toBe(false);
    expect(value.reason).toBe('offline');
    expect(value.message).toMatch(/^Living room is offline.*local route stopped answering.*no other route answers/);
    expect(t.runs).toHaveLength(1);
    expect(t.failovers).toEqual(['offline']);
  });

  it.each(['http_error', 'unauthorized', 'malformed'] as const)('the server answered %s: not the route’s fault — no check, no retry', async (code) => {
    const t = await setup();
    t.answers.set(t.local.id, { code, afterMs: 5 });
    const probes = t.backend.calls.length;
    const out = t.settle(t.caller.call(t.id, t.run));
    await t.clock.advance(500);
    expect(out.value).toMatchObject({ ok: false, reason: 'failed', error: { code } });
    expect(t.runs).toHaveLength(1);
    expect(t.backend.calls.length).toBe(probes);
    expect(t.failovers).toEqual([]);
  });

  it('an offline source answers offline at once: nothing runs, nothing waits', async () => {
    const t = await setup();
    t.backend.route(t.local.id, { answer: 'refused' });
    t.backend.route(t.remote.id, { answer: 'refused' });
    t.engine.checkNow(t.id);
    await t.clock.advance(100);
    expect(t.engine.getSource(t.id)!.status.state).not.toBe('connected');
    const out = await t.caller.call(t.id, t.run);
    expect(out).toMatchObject({ ok: false, reason: 'offline' });
    expect(t.runs).toHaveLength(0);
    expect(await t.caller.call('nope', t.run)).toMatchObject({ ok: false, reason: 'unknown_source' });
  });

  it('the deadline bounds everything: a route that hangs and a check that does not finish end the call at its timeout', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'timeout', afterMs: 600 });
    t.backend.route(t.local.id, { answer: 'hang' });
    t.backend.route(t.remote.id, { answer: 'hang' });
    const started = t.clock.now();
    const out = t.settle(t.caller.call(t.id, t.run, { timeoutMs: 1_000 }));
    await t.clock.advance(999);
    expect(out.value).toBeUndefined();
    await t.clock.advance(1);
    expect(out.at! - started).toBe(1_000);
    expect(out.value).toMatchObject({ ok: false, reason: 'failed' });
    expect((out.value as { message: string }).message).toMatch(/did not finish within the request's 1 s/);
    expect(t.runs).toHaveLength(1);
  });

  it('a run that never answers is cut at the deadline (its signal aborted)', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'timeout', afterMs: 60_000 });
    const out = t.settle(t.caller.call(t.id, t.run, { timeoutMs: 800 }));
    await t.clock.advance(800);
    expect(out.value).toMatchObject({ ok: false, reason: 'failed' });
  });

  it('concurrent calls on a dying route share one check', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'refused', afterMs: 5 });
    t.backend.route(t.local.id, { answer: 'refused', delayMs: 50 });
    t.backend.route(t.remote.id, { answer: 'ok', delayMs: 50 });
    const remoteProbes = () => t.backend.calls.filter((c) => c.routeId === t.remote.id).length;
    const before = remoteProbes();
    const outs = [0, 1, 2, 3].map(() => t.settle(t.caller.call(t.id, t.run)));
    await t.clock.advance(500);
    expect(outs.map((o) => o.value)).toEqual(outs.map(() => expect.objectContaining({ ok: true, routeId: t.remote.id, retried: true })));
    expect(remoteProbes() - before).toBe(1);
  });

  it('the caller’s abort ends the call at once, during the run or the wait', async () => {
    const t = await setup();
    t.answers.set(t.local.id, { code: 'refused', afterMs: 5 });
    t.backend.route(t.local.id, { answer: 'hang' });
    t.backend.route(t.remote.id, { answer: 'hang' });
    const controller = new AbortController();
    const out = t.settle(t.caller.call(t.id, t.run, { timeoutMs: 10_000, signal: controller.signal }));
    await t.clock.advance(100);
    expect(out.value).toBeUndefined();
    controller.abort();
    await t.clock.advance(1);
    expect(out.value).toMatchObject({ ok: false, reason: 'failed', message: 'the request was cancelled' });
  });
});
