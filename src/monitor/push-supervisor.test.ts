import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent, Route, Source } from '../core/types.js';
import type { MonitorSettingsInput } from '../core/settings.js';
import { ConnectionMonitor } from './connection-monitor.js';
import { combineListeners, type MonitorListener } from './monitor-listener.js';
import { PushSupervisor, type PushState } from './push-supervisor.js';
import { FakeClock, flushPromises } from '../../test/support/fake-clock.js';
import { ScriptedBackend, type FakePushChannel } from '../../test/support/scripted-backend.js';

function makeSource(push?: boolean): Source {
  const routes: Route[] = [
    { id: 'local', url: 'http://127.0.0.2:8096', kind: 'local', priority: 0 },
    { id: 'remote', url: 'http://127.0.0.3:8096', kind: 'remote', priority: 0 },
  ];
  return { id: 'jf', name: 'Den Jellyfin', kind: 'jellyfin', serverId: 'b'.repeat(32), routes, credentialRef: 'jf', monitoring: push === undefined ? {} : { push }, createdAt: 0 };
}

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops) await stop();
  stops = [];
});

function setup(source = makeSource(), settings: MonitorSettingsInput = {}) {
  const clock = new FakeClock();
  const backend = new ScriptedBackend(clock, 'jellyfin');
  const events: EngineEvent[] = [];
  const pushStates: PushState[] = [];
  let checks = 0;
  const recorder: MonitorListener = { onEvents: (_id, e) => events.push(...e), onCheckStarted: () => void checks++ };
  const monitor = new ConnectionMonitor({ clock, random: () => 0.5, getBackend: () => backend, getCredentials: () => ({ token: 'jf-token' }), settings });
  const push = new PushSupervisor({
    monitor,
    clock,
    getSource: (id) => (id === source.id ? source : undefined),
    getBackend: () => backend,
    getCredentials: () => ({ token: 'jf-token' }),
    onPushState: (_id, state) => pushStates.push(state),
  });
  monitor.setListener(combineListeners(recorder, push.listener()));
  monitor.addSource(source);
  monitor.start();
  stops.push(async () => {
    push.stop();
    await monitor.stop();
  });
  const open = (): FakePushChannel => {
    const channels = backend.openChannels();
    expect(channels).toHaveLength(1);
    return channels[0]!;
  };
  return { clock, backend, monitor, push, events, pushStates, open, checks: () => checks, source };
}

describe('PushSupervisor', () => {
  it('opens one channel on the current route once connected, with the ping/pong settings', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const channel = ctx.open();
    expect(channel).toMatchObject({ routeId: 'local', options: { pingIntervalMs: 1000, pongTimeoutMs: 2000 } });
    expect(ctx.push.getPushState('jf')).toBe('connecting');
    channel.handlers.onOpen();
    expect(ctx.push.getPushState('jf')).toBe('open');
    await ctx.clock.advance(60_000);
    expect(ctx.backend.pushChannels).toHaveLength(1); // checks do not churn the channel
  });

  it('a silent channel runs an immediate full check; a crashed server is reconnecting at once', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    ctx.open().handlers.onOpen();
    const before = ctx.checks();
    ctx.backend.route('local', { answer: 'refused', delayMs: 1 }).route('remote', { answer: 'refused', delayMs: 1 });
    ctx.open().handlers.onLost({ code: 'pong_timeout', message: 'no pong within 2 s' });
    await ctx.clock.advance(5);
    expect(ctx.checks()).toBe(before + 1);
    expect(ctx.monitor.getStatus('jf')).toMatchObject({ state: 'reconnecting', reason: 'push_lost' });
    expect(ctx.push.getPushState('jf')).toBe('off');
    expect(ctx.backend.openChannels()).toHaveLength(0);
  });

  it('a lost channel on a healthy server is reopened after the check', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    ctx.open().handlers.onOpen();
    await ctx.clock.advance(20_000); // lived long enough to count as stable
    ctx.open().handlers.onLost({ code: 'closed', message: 'closed' });
    await ctx.clock.advance(50);
    expect(ctx.monitor.getStatus('jf')?.state).toBe('connected');
    expect(ctx.backend.pushChannels).toHaveLength(2);
    expect(ctx.open().routeId).toBe('local');
  });

  it('a channel that keeps dying young is reopened with a growing delay', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const opens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const channel = ctx.backend.openChannels()[0];
      if (!channel) {
        await ctx.clock.advance(100);
        i--;
        continue;
      }
      opens.push(ctx.clock.now());
      channel.handlers.onOpen();
      channel.handlers.onLost({ code: 'closed', message: 'closed' });
      await ctx.clock.advance(1);
    }
    await ctx.clock.advance(20_000);
    const gaps = opens.slice(1).map((t, i) => t - opens[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeGreaterThanOrEqual(4000);
  });

  it('a server going away: reconnecting with the reason at once, channel closed, reopened after restore', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const channel = ctx.open();
    channel.handlers.onOpen();
    channel.handlers.onServerGoingAway('server_restarting');
    expect(ctx.monitor.getStatus('jf')).toMatchObject({ state: 'reconnecting', reason: 'server_restarting' });
    expect(ctx.events.find((e) => e.type === 'ConnectionLost')).toMatchObject({ reason: 'server_restarting', sourceName: 'Den Jellyfin' });
    expect(channel.closed).toBe(true);
    await ctx.clock.advance(2_000);
    expect(ctx.monitor.getStatus('jf')?.state).toBe('connected');
    expect(ctx.open().routeId).toBe('local');
  });

  it('a refused channel falls back to polling on that route, and tries again on another route', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    ctx.open().handlers.onLost({ code: 'refused', message: 'HTTP 404 on upgrade' });
    expect(ctx.push.getPushState('jf')).toBe('polling');
    await ctx.clock.advance(60_000);
    expect(ctx.backend.pushChannels).toHaveLength(1);

    ctx.backend.route('local', { answer: 'refused' });
    await ctx.clock.advance(10_100); // light check fails -> full check -> remote
    expect(ctx.monitor.getStatus('jf')).toMatchObject({ state: 'connected', routeKind: 'remote' });
    expect(ctx.open().routeId).toBe('remote');
  });

  it('a channel that never opens (upgrades reset) falls back to polling after 3 tries; the source stays connected', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    for (let i = 0; i < 3; i++) {
      let channel = ctx.backend.openChannels()[0];
      for (let waited = 0; !channel && waited < 60_000; waited += 100) {
        await ctx.clock.advance(100);
        channel = ctx.backend.openChannels()[0];
      }
      expect(channel).toBeDefined();
      expect(ctx.push.getPushState('jf')).toBe('connecting');
      channel!.handlers.onLost({ code: 'error', message: 'connection to 127.0.0.2:8096 was reset' });
      await ctx.clock.advance(1);
    }
    expect(ctx.push.getPushState('jf')).toBe('polling');
    const opened = ctx.backend.pushChannels.length;
    expect(opened).toBe(3);
    await ctx.clock.advance(120_000);
    expect(ctx.backend.pushChannels).toHaveLength(opened); // no more attempts on this route
    expect(ctx.monitor.getStatus('jf')).toMatchObject({ state: 'connected', routeKind: 'local' });
  });

  it('failures of a channel that had opened never count towards the polling fallback', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    for (let i = 0; i < 5; i++) {
      let channel = ctx.backend.openChannels()[0];
      for (let waited = 0; !channel && waited < 60_000; waited += 100) {
        await ctx.clock.advance(100);
        channel = ctx.backend.openChannels()[0];
      }
      channel!.handlers.onOpen();
      channel!.handlers.onLost({ code: 'closed', message: 'closed' });
      await ctx.clock.advance(1);
    }
    expect(ctx.push.getPushState('jf')).toBe('connecting');
  });

  it('moves the channel when the route changes', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const first = ctx.open();
    ctx.backend.route('local', { answer: 'refused' });
    await ctx.clock.advance(10_100);
    expect(first.closed).toBe(true);
    expect(ctx.open().routeId).toBe('remote');
  });

  it('"library changed" notifications re-fetch libraries, debounced', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const channel = ctx.open();
    channel.handlers.onOpen();
    const fetches = () => ctx.backend.libraryCalls.length;
    const before = fetches();
    for (let i = 0; i < 20; i++) channel.handlers.onActivity?.('library_changed');
    await ctx.clock.advance(50);
    expect(fetches()).toBe(before + 1);
    await ctx.clock.advance(10_000);
    expect(fetches()).toBe(before + 2); // one debounced follow-up for the other 19
  });

  it('push disabled for the source: polling, never opened', async () => {
    const ctx = setup(makeSource(false));
    await ctx.clock.advance(100);
    expect(ctx.push.getPushState('jf')).toBe('polling');
    expect(ctx.backend.pushChannels).toHaveLength(0);
  });

  it('stop closes every channel and leaves no timer behind', async () => {
    const ctx = setup();
    await ctx.clock.advance(50);
    const channel = ctx.open();
    channel.handlers.onLost({ code: 'closed', message: 'x' }); // dies young: a reopen timer is pending
    await flushPromises();
    ctx.push.stop();
    await ctx.monitor.stop();
    expect(ctx.backend.openChannels()).toHaveLength(0);
    expect(ctx.clock.pendingTimers).toBe(0);
  });

  it('an open channel tells the monitor, which stops light-checking every 10 s; losing it brings them back', async () => {
    const ctx = setup(makeSource(), { pushOpenTickMs: 60_000 });
    await ctx.clock.advance(50);
    const channel = ctx.open();
    const before = ctx.checks();
    channel.handlers.onOpen();
    await ctx.clock.advance(25_000);
    expect(ctx.checks()).toBe(before); // polling alone would have run two light checks by now
    expect(ctx.monitor.nextCheckAt('jf')! - ctx.clock.now()).toBeGreaterThan(0);
    ctx.push.remove('jf');
    expect(ctx.monitor.nextCheckAt('jf')! - ctx.clock.now()).toBeLessThanOrEqual(10_000);
  });

  it('stretches the ping cadence with the number of sources to stay within the ping budget', () => {
    const make = (sourceCount: number, settings = {}) =>
      new PushSupervisor({
        monitor: { pushLost: () => true, checkNow: () => true, getState: () => undefined, sourceCount },
        getSource: () => undefined,
        getBackend: () => undefined,
        getCredentials: () => null,
        settings,
      });
    expect(make(1).pingIntervalMs()).toBe(1_000);
    expect(make(500).pingIntervalMs()).toBe(1_000); // 500 pings/s by default
    expect(make(1_000).pingIntervalMs()).toBe(2_000);
    expect(make(10_000).pingIntervalMs()).toBe(20_000);
    expect(make(10_000, { maxPingsPerS: 10_000 }).pingIntervalMs()).toBe(1_000);
  });
});
