import { afterEach, describe, expect, it } from 'vitest';
import type { MediaBackend } from '../backends/types.js';
import type { ProbeResult, Route } from '../core/types.js';
import { realClock } from './clock.js';
import { ConnectionService } from './connection-service.js';
import { FakeClock, flushPromises } from '../../test/support/fake-clock.js';
import { ScriptedBackend } from '../../test/support/scripted-backend.js';

const local: Route = { id: 'local', url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 };
const remote: Route = { id: 'remote', url: 'http://127.0.0.3:32400', kind: 'remote', priority: 0 };
const relay: Route = { id: 'relay', url: 'http://127.0.0.4:32400', kind: 'relay', priority: 0 };
const source = { kind: 'plex' as const, serverId: 'a'.repeat(40), routes: [relay, remote, local] };
const creds = { token: 'secret-token-123456' };
const opts = { timeoutMs: 5000, graceMs: 100 };

function setup() {
  const clock = new FakeClock();
  const backend = new ScriptedBackend(clock);
  const service = new ConnectionService({ clock });
  return { clock, backend, service };
}

/** Start a selection and record when (in fake time) it resolved. */
function track<T>(clock: FakeClock, promise: Promise<T>) {
  const box: { value?: T; at?: number } = {};
  void promise.then((value) => {
    box.value = value;
    box.at = clock.now();
  });
  return box;
}

describe('ConnectionService.select', () => {
  it('decides as soon as the most preferred route answers, without waiting for hung routes', async () => {
    const { clock, backend, service } = setup();
    backend.route('local', { answer: 'ok', delayMs: 8 }).route('remote', { answer: 'hang' }).route('relay', { answer: 'black_hole' });
    const start = clock.now();
    const box = track(clock, service.select(source, backend, creds, opts));
    await clock.advance(10);
    expect(box.value?.chosen?.routeId).toBe('local');
    expect(box.at! - start).toBe(8);
    expect(box.value?.results.map((r) => r.routeId)).toEqual(['local']);

    // The stragglers finish in the background: remote by its own timeout, relay by the hard deadline.
    const settled = track(clock, box.value!.settled);
    await clock.advance(5000);
    expect(settled.value).toBeUndefined();
    await clock.advance(300);
    expect(settled.value?.map((r) => [r.routeId, r.ok ? 'ok' : r.error.code])).toEqual([
      ['relay', 'timeout'],
      ['remote', 'timeout'],
      ['local', 'ok'],
    ]);
    expect(settled.at! - start).toBe(5250);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits the grace period for a better route after a less preferred one answered', async () => {
    const { clock, backend, service } = setup();
    backend.route('relay', { answer: 'ok', delayMs: 5 }).route('remote', { answer: 'ok', delayMs: 10 }).route('local', { answer: 'ok', delayMs: 60 });
    const box = track(clock, service.select(source, backend, creds, opts));
    await clock.advance(200);
    expect(box.value?.chosen?.routeId).toBe('local');
    expect(box.value?.elapsedMs).toBe(60);
  });

  it('after the grace period returns the best answer so far', async () => {
    const { clock, backend, service } = setup();
    backend.route('relay', { answer: 'ok', delayMs: 5 }).route('remote', { answer: 'ok', delayMs: 40 }).route('local', { answer: 'hang' });
    const box = track(clock, service.select(source, backend, creds, opts));
    await clock.advance(1000);
    expect(box.value?.chosen?.routeId).toBe('remote');
    expect(box.value?.elapsedMs).toBe(105); // first good answer at 5 ms + 100 ms grace
    await clock.advance(5000);
  });

  it('answers "no route" when every route fails (never a stale URL)', async () => {
    const { clock, backend, service } = setup();
    backend.route('local', { answer: 'refused' }).route('remote', { answer: 'wrong_server' }).route('relay', { answer: 'hang' });
    const box = track(clock, service.select(source, backend, creds, opts));
    await clock.advance(4999);
    expect(box.value).toBeUndefined();
    await clock.advance(1);
    expect(box.value?.chosen).toBeNull();
    expect(box.value?.results.map((r) => (r.ok ? 'ok' : r.error.code)).sort()).toEqual(['refused', 'timeout', 'wrong_server']);
  });

  it('decides at once for a source without routes', async () => {
    const { clock, backend, service } = setup();
    const box = track(clock, service.select({ ...source, routes: [] }, backend, creds, opts));
    await flushPromises();
    expect(box.value?.chosen).toBeNull();
  });

  it('abort ends every pending probe at once', async () => {
    const { clock, backend, service } = setup();
    backend.route('local', { answer: 'black_hole' }).route('remote', { answer: 'hang' }).route('relay', { answer: 'hang' });
    const controller = new AbortController();
    const box = track(clock, service.select(source, backend, creds, { ...opts, signal: controller.signal }));
    await clock.advance(10);
    controller.abort();
    await flushPromises();
    expect(box.value?.chosen).toBeNull();
    expect(await box.value!.settled).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('turns a throwing or misbehaving backend into per-route errors, with the right route id and no secret', async () => {
    const clock = new FakeClock();
    const service = new ConnectionService({ clock });
    const weird: MediaBackend = {
      kind: 'plex',
      probe: async (_t, route) => {
        if (route.id === 'local') throw new Error(`boom ${creds.token}`);
        if (route.id === 'remote') return { ok: false, routeId: 'other', at: 1, latencyMs: 2, error: { code: 'http_error', message: `GET /identity?X-Plex-Token=${creds.token} -> 500` } };
        return undefined as unknown as ProbeResult;
      },
      libraries: async () => ({ ok: true, libraries: [] }),
    };
    const box = track(clock, service.select(source, weird, creds, opts));
    await clock.advance(1);
    const results = await box.value!.settled;
    expect(results.map((r) => [r.routeId, r.ok ? 'ok' : r.error.code])).toEqual([
      ['relay', 'malformed'],
      ['remote', 'http_error'],
      ['local', 'malformed'],
    ]);
    expect(JSON.stringify(results)).not.toContain(creds.token);
  });

  describe('with the real clock', () => {
    let controller: AbortController | undefined;
    afterEach(() => controller?.abort());

    it('local up and remote/relay hanging: returns in well under the 5 s hang timeout', async () => {
      const backend = new ScriptedBackend(realClock);
      backend.route('local', { answer: 'ok', delayMs: 5 }).route('remote', { answer: 'hang' }).route('relay', { answer: 'black_hole' });
      controller = new AbortController();
      const started = Date.now();
      const selection = await new ConnectionService({ clock: realClock }).select(source, backend, creds, { ...opts, signal: controller.signal });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(selection.chosen?.routeId).toBe('local');
      controller.abort();
      expect(await selection.settled).toHaveLength(3);
    });
  });
});
