import { afterEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../backends/types.js';
import { backoffCeilingMs } from '../core/backoff.js';
import type { CheckKind } from '../core/scheduling.js';
import type { EngineEvent, ProbeResult, Route, Source, SourceStatus } from '../core/types.js';
import { realClock } from './clock.js';
import { ConnectionMonitor, type ConnectionMonitorOptions } from './connection-monitor.js';
import type { MonitorListener } from './monitor-listener.js';
import { FakeClock, flushPromises, seededRandom } from '../../test/support/fake-clock.js';
import { ScriptedBackend } from '../../test/support/scripted-backend.js';

const TOKEN = 'tok-0123456789abcdef';

function makeSource(id = 'living', name = 'Living-room Plex'): Source {
  const routes: Route[] = [
    { id: `${id}-local`, url: 'http://127.0.0.2:32400', kind: 'local', priority: 0 },
    { id: `${id}-remote`, url: 'http://127.0.0.3:32400', kind: 'remote', priority: 0 },
    { id: `${id}-relay`, url: 'http://127.0.0.4:32400', kind: 'relay', priority: 0 },
  ];
  return { id, name, kind: 'plex', serverId: 'a'.repeat(40), routes, credentialRef: id, monitoring: {}, createdAt: 0 };
}

interface Recorder extends MonitorListener {
  events: EngineEvent[];
  checks: Array<{ sourceId: string; kind: CheckKind; at: number }>;
  probes: Array<{ sourceId: string; result: ProbeResult; late: boolean }>;
  libraries: Array<{ sourceId: string; count: number }>;
  errors: unknown[];
  running: Map<string, number>;
  maxPerSource: number;
  maxGlobal: number;
}

function recorder(): Recorder {
  let global = 0;
  const r: Recorder = {
    events: [],
    checks: [],
    probes: [],
    libraries: [],
    errors: [],
    running: new Map(),
    maxPerSource: 0,
    maxGlobal: 0,
    onEvents: (_id, events) => r.events.push(...events),
    onProbe: (sourceId, result, info) => r.probes.push({ sourceId, result, late: info.late }),
    onLibraries: (sourceId, libraries) => r.libraries.push({ sourceId, count: libraries.length }),
    onCheckStarted: (sourceId, info) => {
      r.checks.push({ sourceId, kind: info.kind, at: info.startedAt });
      const n = (r.running.get(sourceId) ?? 0) + 1;
      r.running.set(sourceId, n);
      global++;
      r.maxPerSource = Math.max(r.maxPerSource, n);
      r.maxGlobal = Math.max(r.maxGlobal, global);
    },
    onCheckCompleted: (sourceId) => {
      r.running.set(sourceId, (r.running.get(sourceId) ?? 1) - 1);
      global--;
    },
    onError: (_id, error) => r.errors.push(error),
  };
  return r;
}

function setup(overrides: Partial<ConnectionMonitorOptions> = {}) {
  const clock = new FakeClock();
  const backend = new ScriptedBackend(clock);
  const rec = recorder();
  let credentials: Credentials | null = { token: TOKEN };
  const monitor = new ConnectionMonitor({
    clock,
    random: () => 0.5,
    getBackend: () => backend,
    getCredentials: () => credentials,
    listener: rec,
    ...overrides,
  });
  const setCredentials = (c: Credentials | null) => {
    credentials = c;
  };
  return { clock, backend, rec, monitor, setCredentials, t0: clock.now() };
}

const types = (events: EngineEvent[]) => events.map((e) => e.type);
const statusOf = (m: ConnectionMonitor, id = 'living'): SourceStatus => m.getStatus(id)!;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup) await fn();
  cleanup = [];
});
function started(ctx: ReturnType<typeof setup>, ...sources: Source[]) {
  for (const s of sources) ctx.monitor.addSource(s);
  ctx.monitor.start();
  cleanup.push(() => ctx.monitor.stop());
  return ctx;
}

describe('ConnectionMonitor: a token refused by the libraries call right after the probe', () => {
  it('asks refreshCredentials once and reads the libraries with the new token: connected, never auth_required', async () => {
    const NEW = 'tok-rotated-0123456789';
    const rejectedTokens: string[] = [];
    let refreshed = 0;
    const ctx = setup({
      refreshCredentials: async () => {
        refreshed++;
        return { token: NEW };
      },
    });
    // The probe still passes with the old token; the libraries call right after it is refused.
    const libraries = ctx.backend.libraries.bind(ctx.backend);
    ctx.backend.libraries = (target, route, credentials, options) => {
      if (credentials.token !== NEW) {
        rejectedTokens.push(credentials.token);
        return Promise.resolve({ ok: false, error: { code: 'unauthorized', message: 'the server rejected the token (scripted)' } });
      }
      return libraries(target, route, credentials, options);
    };
    started(ctx, makeSource());
    await ctx.clock.advance(50);
    await flushPromises();
    await ctx.clock.advance(50);
    expect(rejectedTokens).toEqual([TOKEN]);
    expect(refreshed).toBe(1);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(ctx.rec.libraries).toEqual([{ sourceId: 'living', count: 1 }]);
    expect(types(ctx.rec.events)).not.toContain('AuthStatusChanged');
  });

  it('a token refused by an impostor now behind the route re-checks the routes first: wrong_server, remote, never auth_required', async () => {
    const ctx = setup({ refreshCredentials: async () => null });
    let swapped = false;
    const libraries = ctx.backend.libraries.bind(ctx.backend);
    ctx.backend.libraries = (target, route, credentials, options) => {
      if (route.kind === 'local' && !swapped) {
        // Another server took the local address after the probe: it refuses our token, and from
        // now on the probe sees it for what it is.
        swapped = true;
        ctx.backend.route('living-local', { answer: 'wrong_server' });
        return Promise.resolve({ ok: false, error: { code: 'unauthorized', message: 'the server rejected the token (scripted)' } });
      }
      return libraries(target, route, credentials, options);
    };
    started(ctx, makeSource());
    for (let i = 0; i < 5; i++) {
      await ctx.clock.advance(50);
      await flushPromises();
    }
    expect(swapped).toBe(true);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'remote' });
    expect(types(ctx.rec.events)).not.toContain('AuthStatusChanged');
  });

  it('without a new token the sign-in is gone: auth_required, as before', async () => {
    const ctx = setup({ refreshCredentials: async () => null });
    ctx.backend.libraries = () => Promise.resolve({ ok: false, error: { code: 'unauthorized', message: 'the server rejected the token (scripted)' } });
    started(ctx, makeSource());
    await ctx.clock.advance(50);
    await flushPromises();
    await ctx.clock.advance(50);
    expect(statusOf(ctx.monitor).state).toBe('auth_required');
  });
});

describe('ConnectionMonitor', () => {
  it('first check: connects through the preferred route, names the source, fetches libraries', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(50);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(types(ctx.rec.events)).toEqual(['ConnectionChanged', 'StatusChanged']);
    expect(ctx.rec.events[0]).toMatchObject({ sourceName: 'Living-room Plex', sourceKind: 'plex', routeKind: 'local', previousRouteKind: null });
    expect(ctx.rec.libraries).toEqual([{ sourceId: 'living', count: 1 }]);
    expect(JSON.stringify(ctx.rec.events)).not.toContain(TOKEN);
  });

  it.each([
    { kind: 'local', failing: [] as string[], cadence: 300_000 },
    { kind: 'remote', failing: ['local'], cadence: 120_000 },
    { kind: 'relay', failing: ['local', 'remote'], cadence: 30_000 },
  ])('cadence on $kind: light checks every 10 s, full re-selection every $cadence ms', async ({ kind, failing, cadence }) => {
    const ctx = setup();
    for (const f of failing) ctx.backend.route(`living-${f}`, { answer: 'refused' });
    started(ctx, makeSource());
    await ctx.clock.advance(cadence * 2 + 1000);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: kind });
    const full = ctx.rec.checks.filter((c) => c.kind === 'full').map((c) => c.at - ctx.t0);
    expect(full).toHaveLength(3);
    for (let i = 1; i < full.length; i++) {
      expect(full[i]! - full[i - 1]!).toBeGreaterThanOrEqual(cadence);
      expect(full[i]! - full[i - 1]!).toBeLessThan(cadence + 1000);
    }
    const lights = ctx.rec.checks.filter((c) => c.kind === 'light').map((c) => c.at - ctx.t0);
    for (let i = 1; i < lights.length; i++) {
      const gap = lights[i]! - lights[i - 1]!;
      if (!full.some((f) => f > lights[i - 1]! && f < lights[i]!)) expect(gap).toBeGreaterThanOrEqual(10_000);
      expect(gap).toBeLessThan(10_000 * 2 + 1000);
    }
    expect(lights.length).toBeGreaterThan(Math.floor((cadence * 2) / 10_000) - 4);
  });

  it('a source on remote returns to local by itself once local has answered for the hold-down window, long before the next re-selection', async () => {
    const ctx = setup();
    ctx.backend.route('living-local', { answer: 'refused' });
    started(ctx, makeSource());
    await ctx.clock.advance(1000);
    expect(statusOf(ctx.monitor)).toMatchObject({ routeKind: 'remote' });
    ctx.backend.route('living-local', { answer: 'ok', delayMs: 3 });
    // The window (8 answers over ≥ 15 s) cannot be complete sooner than 15 s after local came back.
    await ctx.clock.advance(15_000);
    expect(statusOf(ctx.monitor)).toMatchObject({ routeKind: 'remote' });
    // The first answer waits at most one retry (≤ 4.5 s), then ~15 s of answers: well before 120 s.
    await ctx.clock.advance(10_000);
    expect(statusOf(ctx.monitor)).toMatchObject({ routeKind: 'local' });
    const changed = ctx.rec.events.filter((e) => e.type === 'ConnectionChanged');
    expect(changed.at(-1)).toMatchObject({ routeKind: 'local', previousRouteKind: 'remote' });
  });

  it('a failed light check escalates to a full check at once: local lost -> remote, no false "lost"', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(100);
    ctx.backend.route('living-local', { answer: 'refused' });
    await ctx.clock.advance(10_100);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'remote' });
    expect(types(ctx.rec.events)).not.toContain('ConnectionLost');
    const lastTwo = ctx.rec.checks.slice(-2).map((c) => c.kind);
    expect(lastTwo).toEqual(['light', 'full']);
  });

  it('loss: reconnecting with backoff, disconnected after 3 failed attempts, retries at the cap; success resets', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(100);
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'refused' });
    await ctx.clock.advance(10_000); // light check fails -> full check fails
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'reconnecting', attempt: 1, lastRouteKind: 'local' });
    const lost = ctx.rec.events.find((e) => e.type === 'ConnectionLost');
    expect(lost).toMatchObject({ lastRouteKind: 'local', sourceName: 'Living-room Plex', error: { code: 'refused' } });

    const fullStarts = () => ctx.rec.checks.filter((c) => c.kind === 'full').map((c) => c.at);
    const before = fullStarts().length;
    await ctx.clock.advance(40_000);
    const retries = fullStarts().slice(before);
    const lossAt = fullStarts()[before - 1]!;
    // random() = 0.5: delays are 100 ms + half the rest of each ceiling (1 s, 2 s, 4 s), then the
    // middle of [0.9, 1] x the 4.5 s recent cap.
    const gaps = [retries[0]! - lossAt, retries[1]! - retries[0]!, retries[2]! - retries[1]!, retries[3]! - retries[2]!, retries[4]! - retries[3]!];
    gaps.forEach((gap, i) => expect(gap - [550, 1050, 2050, 4275, 4275][i]!).toBeGreaterThanOrEqual(0));
    gaps.forEach((gap, i) => expect(gap - [550, 1050, 2050, 4275, 4275][i]!).toBeLessThan(20));
    const states = ctx.rec.events.filter((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged').map((e) => `${e.status.state}${'attempt' in e.status ? e.status.attempt : ''}`);
    expect(states.slice(0, 6)).toEqual(['connected', 'reconnecting1', 'reconnecting2', 'reconnecting3', 'disconnected4', 'disconnected5']);

    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'ok' });
    await ctx.clock.advance(30_000);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(ctx.rec.events.filter((e) => e.type === 'ConnectionRestored')).toHaveLength(1);

    const seen = ctx.rec.events.length;
    ctx.backend.route('living-local', { answer: 'timeout' }).route('living-remote', { answer: 'timeout' }).route('living-relay', { answer: 'timeout' });
    await ctx.clock.advance(10_100);
    const again = ctx.rec.events.slice(seen);
    expect(types(again).slice(0, 2)).toEqual(['ConnectionLost', 'Reconnecting']);
    expect(again[1]).toMatchObject({ attempt: 1 });
    expect((again[1] as { nextRetryAt: number }).nextRetryAt - again[1]!.at).toBe(550);
  });

  it('backoff with a seeded random stays within the ceilings, and the next check runs exactly at nextRetryAt', async () => {
    const ctx = setup({ random: seededRandom(42) });
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'refused', delayMs: 1 });
    started(ctx, makeSource());
    await ctx.clock.advance(900_000);
    const reconnecting = ctx.rec.events.filter((e): e is Extract<EngineEvent, { type: 'Reconnecting' }> => e.type === 'Reconnecting');
    expect(reconnecting.map((e) => e.attempt)).toEqual([1, 2, 3]);
    const fullStarts = ctx.rec.checks.map((c) => c.at);
    for (const e of reconnecting) {
      expect(e.nextRetryAt - e.at).toBeLessThanOrEqual(backoffCeilingMs(e.attempt, ctx.monitor.settings.backoff));
      expect(fullStarts).toContain(e.nextRetryAt);
    }
    const disconnected = ctx.rec.events.filter((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged' && e.status.state === 'disconnected');
    expect(disconnected.length).toBeGreaterThan(5);
    const firstFailure = reconnecting[0]!.at;
    const { recentWindowMs } = ctx.monitor.settings.backoff;
    let recent = 0;
    let old = 0;
    for (const e of disconnected) {
      const s = e.status as Extract<SourceStatus, { state: 'disconnected' }>;
      // A recent outage: one retry every 4.05–4.5 s; after the window: every 27–30 s.
      const [low, high] = e.at - firstFailure < recentWindowMs ? [4_050, 4_500] : [27_000, 30_000];
      if (low === 4_050) recent++;
      else old++;
      expect(s.nextRetryAt - e.at).toBeGreaterThanOrEqual(low);
      expect(s.nextRetryAt - e.at).toBeLessThanOrEqual(high);
    }
    expect(recent).toBeGreaterThan(100);
    expect(old).toBeGreaterThan(5);
  });

  it('a mass outage stretches retries to the install-wide retry budget, and a single loss is not slowed', async () => {
    const ctx = setup({ settings: { maxRetryChecksPerS: 2 } });
    const sources = Array.from({ length: 20 }, (_, i) => makeSource(`s${i}`, `Server ${i}`));
    for (const s of sources) for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`${s.id}-${r}`, { answer: 'refused', delayMs: 1 });
    started(ctx, ...sources);
    await ctx.clock.advance(60_000);
    const from = ctx.clock.now();
    const before = ctx.rec.checks.length;
    await ctx.clock.advance(60_000);
    // 20 unreachable sources on a budget of 2 retries/s: 120 in a minute at most (plus slack for phase).
    const rate = (ctx.rec.checks.length - before) / 60;
    expect(rate).toBeLessThanOrEqual(2.2);
    expect(rate).toBeGreaterThan(1);
    expect(ctx.clock.now() - from).toBe(60_000);
  });

  it('a first-ever check that fails goes reconnecting -> disconnected (no stale URL, no "lost" toast)', async () => {
    const ctx = setup();
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'refused' });
    started(ctx, makeSource());
    await ctx.clock.advance(20_000);
    expect(statusOf(ctx.monitor).state).toBe('disconnected');
    expect(types(ctx.rec.events)).not.toContain('ConnectionLost');
  });

  it('never runs two checks of one source at once, and bounds global concurrency', async () => {
    const ctx = setup({ settings: { maxConcurrentChecks: 4 } });
    ctx.backend.route('s3-local', { answer: 'hang' });
    const sources = Array.from({ length: 20 }, (_, i) => makeSource(`s${i}`, `Server ${i}`));
    for (const s of sources) if (Number(s.id.slice(1)) % 2) ctx.backend.route(`${s.id}-local`, { answer: 'ok', delayMs: 700 });
    started(ctx, ...sources);
    for (let round = 0; round < 30; round++) {
      for (const s of sources) {
        if (round % 3 === 0) ctx.monitor.checkNow(s.id);
        if (round % 7 === 0) ctx.monitor.pushLost(s.id);
      }
      if (round % 10 === 0) ctx.monitor.networkChanged();
      await ctx.clock.advance(333);
    }
    await ctx.clock.advance(60_000);
    expect(ctx.rec.checks.length).toBeGreaterThan(100);
    expect(ctx.rec.maxPerSource).toBe(1);
    expect(ctx.rec.maxGlobal).toBeLessThanOrEqual(4);
    expect(ctx.rec.maxGlobal).toBe(4);
    expect(ctx.rec.errors).toEqual([]);
  });

  it('checkNow is coalesced: N requests during a check run exactly one more check', async () => {
    const ctx = setup();
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'ok', delayMs: 1000 });
    started(ctx, makeSource());
    await ctx.clock.advance(10);
    expect(ctx.monitor.isChecking('living')).toBe(true);
    for (let i = 0; i < 5; i++) expect(ctx.monitor.checkNow('living')).toBe(true);
    await ctx.clock.advance(5_000);
    expect(ctx.rec.checks.map((c) => c.kind)).toEqual(['full', 'full']);
    expect(ctx.rec.checks[1]!.at - ctx.t0).toBeGreaterThanOrEqual(1000);
    expect(ctx.monitor.checkNow('unknown')).toBe(false);
  });

  it('checkNow when idle starts a full check immediately', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(3_000);
    const n = ctx.rec.checks.length;
    ctx.monitor.checkNow('living');
    await flushPromises();
    expect(ctx.rec.checks.length).toBe(n + 1);
    expect(ctx.rec.checks.at(-1)).toMatchObject({ kind: 'full', at: ctx.clock.now() });
  });

  it('pushLost runs an immediate full check; a dead server enters reconnecting with reason push_lost at once', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(2_000);
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'refused', delayMs: 2 });
    const at = ctx.clock.now();
    ctx.monitor.pushLost('living');
    await ctx.clock.advance(10);
    expect(ctx.rec.checks.at(-1)).toMatchObject({ kind: 'full', at });
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'reconnecting', reason: 'push_lost' });
    expect(ctx.rec.events.find((e) => e.type === 'ConnectionLost')).toMatchObject({ reason: 'push_lost', at: at + 2 });
  });

  it('after a silent push channel, a cut network is confirmed with the shorter suspect timeout', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(2_000);
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'hang' });
    const at = ctx.clock.now();
    ctx.monitor.pushLost('living');
    await ctx.clock.advance(2_000);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'reconnecting', reason: 'push_lost' });
    expect(ctx.rec.events.find((e) => e.type === 'ConnectionLost')?.at).toBe(at + 2_000);
    expect(ctx.rec.probes.filter((p) => p.result.latencyMs === 2_000)).toHaveLength(3);
    // Backoff retries use the normal timeout again (first retry 550 ms later, then 5 s of hanging).
    await ctx.clock.advance(5_600);
    expect(ctx.rec.probes.filter((p) => p.result.latencyMs === 5_000)).toHaveLength(3);
  });

  it('a server going away: reconnecting with its reason at once, then restored', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(2_000);
    ctx.monitor.pushLost('living', 'server_shutting_down');
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'reconnecting', reason: 'server_shutting_down', attempt: 1 });
    expect(ctx.rec.events.find((e) => e.type === 'Reconnecting')).toMatchObject({ reason: 'server_shutting_down' });
    await ctx.clock.advance(2_000);
    expect(statusOf(ctx.monitor).state).toBe('connected');
    expect(ctx.rec.events.at(-2)).toMatchObject({ type: 'ConnectionRestored' });
  });

  it('early decision: local ok with remote/relay hanging connects at once; late results are still reported', async () => {
    const ctx = setup();
    ctx.backend.route('living-remote', { answer: 'hang' }).route('living-relay', { answer: 'black_hole' });
    started(ctx, makeSource());
    await ctx.clock.advance(20);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'local' });
    expect(ctx.rec.probes.filter((p) => p.late)).toEqual([]);
    await ctx.clock.advance(5_300);
    const late = ctx.rec.probes.filter((p) => p.late).map((p) => [p.result.routeId, p.result.ok ? 'ok' : p.result.error.code]);
    expect(late.sort()).toEqual([
      ['living-relay', 'timeout'],
      ['living-remote', 'timeout'],
    ]);
  });

  it('401 -> auth_required (not disconnected); new credentials -> connected again', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(100);
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'unauthorized' });
    ctx.monitor.checkNow('living');
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'auth_required', routeId: 'living-local' });
    expect(types(ctx.rec.events)).not.toContain('ConnectionLost');
    await ctx.clock.advance(120_000);
    expect(statusOf(ctx.monitor).state).toBe('auth_required');

    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'ok' });
    ctx.setCredentials({ token: 'new-token-abcdef' });
    ctx.monitor.credentialsUpdated('living');
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor).state).toBe('connected');
    expect(ctx.rec.events.filter((e) => e.type === 'AuthStatusChanged').map((e) => (e as { authRequired: boolean }).authRequired)).toEqual([true, false]);
    expect(ctx.backend.calls.at(-1)?.token).toBe('new-token-abcdef');
  });

  it('no stored credentials -> auth_required without probing', async () => {
    const ctx = setup();
    ctx.setCredentials(null);
    started(ctx, makeSource());
    await ctx.clock.advance(10);
    expect(statusOf(ctx.monitor).state).toBe('auth_required');
    expect(ctx.backend.calls).toEqual([]);
  });

  it('libraries failing while reachable -> sync_failed; recovered -> SyncRestored', async () => {
    const ctx = setup();
    ctx.backend.setLibraries({ ok: false, code: 'http_error', message: 'HTTP 500 from /library/sections' });
    started(ctx, makeSource());
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'sync_failed', routeKind: 'local', error: 'HTTP 500 from /library/sections' });
    expect(types(ctx.rec.events)).toContain('SyncFailed');
    ctx.backend.setLibraries({ ok: true, libraries: [{ id: '1', name: 'Movies', type: 'movie' }, { id: '2', name: 'Shows', type: 'show' }] });
    await ctx.clock.advance(10_100); // the light check retries libraries while sync_failed
    expect(statusOf(ctx.monitor).state).toBe('connected');
    expect(ctx.rec.events.find((e) => e.type === 'SyncRestored')).toMatchObject({ libraryCount: 2 });
  });

  it('serves a stored status at once, re-verifies it, and emits nothing when it still holds', async () => {
    const ctx = setup();
    const stored: SourceStatus = { state: 'connected', routeId: 'living-local', routeKind: 'local', latencyMs: 4, since: ctx.t0 - 60_000 };
    ctx.monitor.addSource(makeSource(), { status: stored });
    expect(statusOf(ctx.monitor)).toEqual(stored);
    started(ctx);
    await ctx.clock.advance(100);
    expect(ctx.rec.checks[0]).toMatchObject({ kind: 'full', at: ctx.t0 });
    expect(ctx.rec.events).toEqual([]);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', since: ctx.t0 - 60_000 });
  });

  it('a stored "connected" that no longer holds is lost at the first check (the stored-URL case)', async () => {
    const ctx = setup();
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'refused' });
    ctx.monitor.addSource(makeSource(), { status: { state: 'connected', routeId: 'living-local', routeKind: 'local', latencyMs: 4, since: 0 } });
    started(ctx);
    await ctx.clock.advance(100);
    expect(types(ctx.rec.events)).toEqual(['ConnectionLost', 'Reconnecting', 'StatusChanged']);
  });

  it('networkChanged re-checks every source at once', async () => {
    const ctx = started(setup(), makeSource('a'), makeSource('b'), makeSource('c'));
    await ctx.clock.advance(5_000);
    const n = ctx.rec.checks.length;
    ctx.monitor.networkChanged();
    await ctx.clock.advance(1);
    const fresh = ctx.rec.checks.slice(n);
    expect(fresh.map((c) => c.sourceId).sort()).toEqual(['a', 'b', 'c']);
    expect(fresh.every((c) => c.kind === 'full')).toBe(true);
  });

  it('add, rename and remove sources at runtime', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(100);
    ctx.monitor.addSource(makeSource('den', 'Den Jellyfin'));
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor, 'den').state).toBe('connected');

    ctx.monitor.updateSource({ ...makeSource('den', 'Basement Jellyfin') });
    ctx.backend.route('den-local', { answer: 'refused' }).route('den-remote', { answer: 'refused' }).route('den-relay', { answer: 'refused' });
    ctx.monitor.checkNow('den');
    await ctx.clock.advance(100);
    expect(ctx.rec.events.filter((e) => e.sourceId === 'den' && e.type === 'ConnectionLost')[0]?.sourceName).toBe('Basement Jellyfin');

    const checks = ctx.rec.checks.length;
    expect(ctx.monitor.removeSource('den')).toBe(true);
    await ctx.clock.advance(120_000);
    expect(ctx.rec.checks.slice(checks).every((c) => c.sourceId === 'living')).toBe(true);
    expect(ctx.monitor.getState('den')).toBeUndefined();
  });

  it('changed routes are re-checked at once', async () => {
    const ctx = started(setup(), makeSource());
    await ctx.clock.advance(100);
    const source = makeSource();
    source.routes = source.routes.filter((r) => r.kind !== 'local');
    ctx.monitor.updateSource(source);
    await ctx.clock.advance(50);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'connected', routeKind: 'remote' });
  });

  it('honours a per-source probe timeout and a disabled source', async () => {
    const ctx = setup();
    for (const r of ['local', 'remote', 'relay']) ctx.backend.route(`living-${r}`, { answer: 'hang' });
    const quick = { ...makeSource(), monitoring: { probeTimeoutMs: 1_500 } };
    const off = { ...makeSource('off', 'Off Plex'), monitoring: { enabled: false } };
    started(ctx, quick, off);
    await ctx.clock.advance(1_600);
    expect(statusOf(ctx.monitor)).toMatchObject({ state: 'reconnecting', lastError: { code: 'timeout' } });
    expect(ctx.rec.checks.some((c) => c.sourceId === 'off')).toBe(false);
    expect(ctx.monitor.nextCheckAt('off')).toBeNull();
    expect(statusOf(ctx.monitor, 'off').state).toBe('connecting');
    ctx.monitor.updateSource({ ...off, monitoring: { enabled: true } });
    await ctx.clock.advance(1);
    expect(ctx.rec.checks.some((c) => c.sourceId === 'off')).toBe(true);
  });

  it('a listener that throws does not stop the monitor', async () => {
    const ctx = setup();
    const errors: unknown[] = [];
    ctx.monitor.setListener({
      onEvents: () => {
        throw new Error('store is down');
      },
      onError: (_id, e) => errors.push(e),
    });
    started(ctx, makeSource());
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor).state).toBe('connected');
    expect(errors.length).toBeGreaterThan(0);
  });

  it('stop cancels timers, aborts hung probes and waits for in-flight checks', async () => {
    const ctx = setup();
    ctx.backend.route('living-local', { answer: 'black_hole' }).route('living-remote', { answer: 'hang' }).route('living-relay', { answer: 'hang' });
    ctx.monitor.addSource(makeSource());
    ctx.monitor.addSource(makeSource('idle'));
    ctx.monitor.start();
    await ctx.clock.advance(10);
    expect(ctx.monitor.isChecking('living')).toBe(true);
    let stopped = false;
    const stopping = ctx.monitor.stop().then(() => {
      stopped = true;
    });
    await flushPromises();
    expect(stopped).toBe(true); // no fake time passed: the abort ended everything
    await stopping;
    expect(ctx.clock.pendingTimers).toBe(0);
    expect(ctx.monitor.isChecking('living')).toBe(false);
    expect(ctx.monitor.nextCheckAt('living')).toBeNull();
    const n = ctx.rec.checks.length;
    await ctx.clock.advance(600_000);
    expect(ctx.rec.checks.length).toBe(n);

    // and it can start again
    ctx.backend.route('living-local', { answer: 'ok' });
    ctx.monitor.start();
    cleanup.push(() => ctx.monitor.stop());
    await ctx.clock.advance(100);
    expect(statusOf(ctx.monitor).state).toBe('connected');
  });

  it('works with the real clock', async () => {
    const backend = new ScriptedBackend(realClock);
    const events: EngineEvent[] = [];
    const monitor = new ConnectionMonitor({
      getBackend: () => backend,
      getCredentials: () => ({ token: TOKEN }),
      settings: { baseTickMs: 20 },
      listener: { onEvents: (_id, e) => events.push(...e) },
    });
    cleanup.push(() => monitor.stop());
    monitor.addSource(makeSource());
    monitor.start();
    for (let i = 0; i < 100 && backend.calls.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    expect(types(events)).toEqual(['ConnectionChanged', 'StatusChanged']);
    expect(backend.calls.length).toBeGreaterThanOrEqual(5); // 3 for the selection, then light checks
    await monitor.stop();
    expect(monitor.isChecking('living')).toBe(false);
  });

  describe('cost at scale', () => {
    it('an open push channel stands in for light checks: the next one moves to a random point of the push-open tick, and back when it closes', async () => {
      const ctx = started(setup({ settings: { pushOpenTickMs: 60_000 } }), makeSource());
      await ctx.clock.advance(50);
      const now = ctx.clock.now();
      expect(ctx.monitor.getState('living')!.next).toMatchObject({ kind: 'light' });
      expect(ctx.monitor.nextCheckAt('living')! - now).toBeLessThanOrEqual(10_000);
      ctx.monitor.setPushOpen('living', true);
      // random() = 0.5: half of the 60 s push-open tick, as a full check (it sets the re-selection phase).
      expect(ctx.monitor.getState('living')!.next).toEqual({ kind: 'full', at: now + 30_000 });
      const checks = ctx.rec.checks.length;
      await ctx.clock.advance(29_000);
      expect(ctx.rec.checks.length).toBe(checks);
      await ctx.clock.advance(1_100);
      expect(ctx.rec.checks.slice(checks).map((c) => c.kind)).toEqual(['full']);
      const after = ctx.clock.now();
      expect(ctx.monitor.nextCheckAt('living')! - after).toBeGreaterThan(59_000);
      ctx.monitor.setPushOpen('living', false);
      expect(ctx.monitor.getState('living')!.next).toEqual({ kind: 'light', at: ctx.clock.now() + 10_000 });
    });

    it('a large installation polls within the light-check budget, recovery untouched', async () => {
      const sources = Array.from({ length: 1_000 }, (_, i) => makeSource(`s${i}`, `Server ${i}`));
      const ctx = started(setup(), ...sources);
      expect(ctx.monitor.sourceCount).toBe(1_000);
      await ctx.clock.advance(3_000);
      expect(sources.every((s) => statusOf(ctx.monitor, s.id).state === 'connected')).toBe(true);
      const now = ctx.clock.now();
      const delays = sources.map((s) => ctx.monitor.nextCheckAt(s.id)! - now);
      // 1,000 sources / 20 light checks per s = a 50 s tick (not 10 s); with random() = 0.5 spread.
      expect(Math.min(...delays)).toBeGreaterThan(20_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(50_000);
      // A lost source still retries on the configured backoff (about a second), not the stretched tick.
      ctx.backend.route('s0-local', { answer: 'refused' }).route('s0-remote', { answer: 'refused' }).route('s0-relay', { answer: 'refused' });
      ctx.monitor.pushLost('s0');
      await ctx.clock.advance(100);
      const lost = statusOf(ctx.monitor, 's0');
      expect(lost.state).toBe('reconnecting');
      if (lost.state === 'reconnecting') expect(lost.nextRetryAt - ctx.clock.now()).toBeLessThanOrEqual(1_000);
    });
  });
});
