// Issue 16's scenarios that the first notification tests left out, through the real runtime (engine,
// store, NotificationService, outbox, the real Apprise senders) over the simulators, sending to
// real receivers on loopback:
//   - a target that hangs never delays another target nor the monitor;
//   - a target answering with a redirect is not followed; a huge answer is capped and reported;
//   - notification failures (refused, 5xx, hung, a sender that throws) never change a source's status;
//   - every real service's request shape, end to end, for the same crash.
// And on a fake clock with the default settings (so 2 minutes take milliseconds, the same rule):
//   - flapping at 1 Hz for 2 min → at most one message per source;
//   - a receiver down for 60 s → the message is delivered after it returns, once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../sim/index.js';
import { EngineNotificationSettingsSchema, type NotificationSettingsInput } from '../../src/core/settings.js';
import type { EngineEvent, EngineEventType } from '../../src/core/types.js';
import type { EngineStreamMessage } from '../../src/monitor/engine-types.js';
import { appriseNotificationParts } from '../../src/notifications/apprise-parts.js';
import { NotificationService } from '../../src/notifications/service.js';
import type { NotificationParts } from '../../src/notifications/types.js';
import { openDatabase } from '../../src/store/index.js';
import { TEST_PUSH, TEST_SETTINGS } from '../support/engine-harness.js';
import { FakeClock } from '../support/fake-clock.js';
import { startHttpReceiver, type HttpReceiver } from '../support/notify-receivers.js';
import { startTestRuntime, type TestRuntime } from '../support/start.js';
import { sleep, waitUntil } from '../support/wait.js';
import { FakeEngineStream } from '../support/fake-engine-stream.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PLEX_NAME = 'Living-room Plex';

interface Rig {
  sim: Simulation;
  rt: TestRuntime;
  sourceId: string;
  events: Array<{ at: number; event: EngineEvent }>;
  eventsOf(type: EngineEventType, from: number): Array<{ at: number; event: EngineEvent }>;
  waitForEvent(type: EngineEventType, from: number, timeoutMs?: number): Promise<{ at: number; event: EngineEvent }>;
  crash(): Promise<number>;
  restore(): Promise<number>;
}

/** One simulated Plex server (local + remote route) watched by the real runtime with the harness's short monitor settings. */
async function startRig(notifications: NotificationSettingsInput, notificationParts?: NotificationParts): Promise<Rig> {
  const sim = await createSimulation({
    servers: [
      {
        id: 'living-room',
        kind: 'plex',
        name: PLEX_NAME,
        routes: [
          { id: 'living-room-local', kind: 'local', host: '127.0.0.2', port: 0 },
          { id: 'living-room-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
        ],
      },
    ],
  });
  cleanups.push(() => sim.close());
  const events: Rig['events'] = [];
  const rt = await startTestRuntime({
    plexTvUrl: sim.plexTvUrl,
    monitor: TEST_SETTINGS,
    push: TEST_PUSH,
    notifications,
    ...(notificationParts ? { notificationParts } : {}),
    onMessage: (m: EngineStreamMessage) => {
      if (m.type === 'engine') events.push({ at: performance.now(), event: m.message.event });
    },
  });
  cleanups.push(() => rt.close());
  const server = sim.servers[0]!;
  const added = rt.engine.addSource({
    name: PLEX_NAME,
    kind: 'plex',
    serverId: server.machineId,
    routes: server.routes.map((r, priority) => ({ url: r.url, kind: r.kind, priority })),
    credentials: { token: sim.plexTv.serverToken(server.id) },
  });
  const sourceId = added.source.id;
  await waitUntil(() => rt.engine.getSource(sourceId)?.status.state === 'connected', { what: 'the source connected', timeoutMs: 15_000 });
  const eventsOf = (type: EngineEventType, from: number) => events.filter((e) => e.at >= from && e.event.type === type && e.event.sourceId === sourceId);
  return {
    sim,
    rt,
    sourceId,
    events,
    eventsOf,
    waitForEvent: (type, from, timeoutMs = 10_000) => waitUntil(() => eventsOf(type, from)[0], { what: `${type}`, timeoutMs, intervalMs: 10 }),
    async crash() {
      const at = performance.now();
      await sim.server('living-room').fault({ mode: 'crash' });
      return at;
    },
    async restore() {
      const at = performance.now();
      await sim.server('living-room').fault({ mode: 'up' });
      return at;
    },
  };
}

async function receiver(): Promise<HttpReceiver & { arrivals: number[] }> {
  const r = await startHttpReceiver();
  cleanups.push(() => r.close());
  const arrivals: number[] = [];
  r.reply(() => {
    arrivals.push(performance.now());
    return { status: 200, body: '{"ok":true,"status":1}', headers: { 'content-type': 'application/json' } };
  });
  return Object.assign(r, { arrivals });
}

const webhookUrl = (r: { port: number }, path = '/hook') => `json://127.0.0.1:${r.port}${path}`;
const bodyOf = (r: HttpReceiver, i: number) => JSON.parse(r.requests[i]!.body) as { event: string; title: string; source: { id: string } | null; id: string };

describe('notification scenarios through the runtime (issue 16)', () => {
  it('a target that hangs never delays another target nor the monitor', async () => {
    const hung = await startHttpReceiver();
    cleanups.push(() => hung.close());
    hung.reply(() => ({ hang: true }));
    const ok = await receiver();
    // The default 10 s attempt timeout: the hung target holds its attempt that long.
    const rig = await startRig({ holdDownMs: 1_000, windowMs: 2_000, timeoutMs: 10_000 });
    expect(rig.rt.notifications.addTarget({ name: 'Hung', url: webhookUrl(hung) }).ok).toBe(true);
    expect(rig.rt.notifications.addTarget({ name: 'Phone', url: webhookUrl(ok) }).ok).toBe(true);

    const crashed = await rig.crash();
    const lost = await rig.waitForEvent('ConnectionLost', crashed);
    await waitUntil(() => ok.requests.length >= 1 && hung.requests.length >= 1, { what: 'both targets asked', timeoutMs: 5_000 });
    // The working target got its "lost" at the hold-down, not after the hung one's timeout.
    expect(bodyOf(ok, 0).event).toBe('lost');
    expect(ok.arrivals[0]! - lost.at).toBeGreaterThanOrEqual(1_000 - 5);
    expect(ok.arrivals[0]! - lost.at).toBeLessThan(2_000);

    // The monitor is not held either: the restore is seen at once while the hung attempt is in flight.
    const restored = await rig.restore();
    const back = await rig.waitForEvent('ConnectionRestored', restored, 5_000);
    expect(back.at - restored).toBeLessThan(4_000);
    await waitUntil(() => ok.requests.length >= 2, { what: 'the "back" at the working target', timeoutMs: 5_000 });
    expect(bodyOf(ok, 1).event).toBe('back');
    // Still within the hung attempt's 10 s: it had one request and no answer; the others went on.
    expect(performance.now() - lost.at).toBeLessThan(10_000);
    expect(hung.requests).toHaveLength(1);
    const [hungView] = rig.rt.notifications.listTargets().filter((t) => t.name === 'Hung');
    expect(hungView!.pending).toBeGreaterThanOrEqual(1);
    expect(rig.rt.engine.getSource(rig.sourceId)!.status.state).toBe('connected');
  });

  it('a redirect is not followed (one request, dropped with the reason); a huge answer is capped and reported', async () => {
    const elsewhere = await receiver();
    const redirecting = await startHttpReceiver();
    cleanups.push(() => redirecting.close());
    redirecting.reply(() => ({ status: 302, headers: { location: `http://127.0.0.1:${elsewhere.port}/stolen` } }));
    const huge = await startHttpReceiver();
    cleanups.push(() => huge.close());
    huge.reply(() => ({ hugeBody: 20 * 1024 * 1024, status: 502, fill: 'e' }));
    const rig = await startRig({ holdDownMs: 500, windowMs: 2_000, retryCapMs: 1_000 });
    expect(rig.rt.notifications.addTarget({ name: 'Redirecting', url: webhookUrl(redirecting) }).ok).toBe(true);
    expect(rig.rt.notifications.addTarget({ name: 'Huge', url: webhookUrl(huge) }).ok).toBe(true);
    const view = (name: string) => rig.rt.notifications.listTargets().find((t) => t.name === name)!;

    await rig.crash();
    await waitUntil(() => view('Redirecting').lastError !== null && view('Huge').lastError !== null, { what: 'both deliveries failed', timeoutMs: 10_000 });
    await sleep(2_500); // longer than a retry: a redirect is never retried
    expect(redirecting.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
    expect(view('Redirecting').lastError).toMatch(/redirect/i);
    expect(view('Redirecting').lastError).not.toContain('/stolen');
    expect(view('Redirecting').pending).toBe(0);

    // The 20 MB answer is read to 64 KB, reported in a few words, and retried (a 502 may pass).
    const hugeError = view('Huge').lastError!;
    expect(hugeError).toMatch(/HTTP 502/);
    expect(hugeError).toMatch(/longer than 64 KB, cut/);
    expect(hugeError.length).toBeLessThan(500);
    expect(huge.requests.length).toBeGreaterThanOrEqual(2);
    expect(view('Huge').pending).toBe(1);
    // The runtime's heap did not take in the 20 MB answers (each attempt read at most 64 KB).
    expect(process.memoryUsage().heapUsed).toBeLessThan(1024 * 2 ** 20);
  });

  it('notification failures never change a source\'s status', async () => {
    const failing = await startHttpReceiver();
    cleanups.push(() => failing.close());
    failing.reply(() => ({ status: 500, body: 'broken' }));
    const hung = await startHttpReceiver();
    cleanups.push(() => hung.close());
    hung.reply(() => ({ hang: true }));
    const real = appriseNotificationParts();
    let thrown = 0;
    // A sender that throws (a bug in a sender) must be contained like any failed delivery.
    const parts: NotificationParts = {
      ...real,
      send: (url, message, options) => {
        if (url.includes('/throws')) {
          thrown++;
          throw new Error('sender exploded');
        }
        return real.send(url, message, options);
      },
    };
    const rig = await startRig({ holdDownMs: 300, windowMs: 1_000, retryCapMs: 1_000, timeoutMs: 1_000 }, parts);
    for (const [name, url] of [
      ['Refused', 'json://127.0.0.1:1/hook'],
      ['Failing', webhookUrl(failing)],
      ['Hung', webhookUrl(hung)],
      ['Throws', webhookUrl(failing, '/throws')],
    ] as const) {
      expect(rig.rt.notifications.addTarget({ name, url }).ok).toBe(true);
    }
    const from = performance.now();
    const crashed = await rig.crash();
    await rig.waitForEvent('ConnectionLost', crashed);
    await waitUntil(() => rig.rt.notifications.listTargets().every((t) => t.lastError !== null) && thrown >= 1, { what: 'every target failed', timeoutMs: 10_000 });
    const restored = await rig.restore();
    await rig.waitForEvent('ConnectionRestored', restored, 5_000);
    // Deliveries keep failing and retrying for a while; the source stays connected throughout.
    const states: string[] = [];
    for (let i = 0; i < 20; i++) {
      states.push(rig.rt.engine.getSource(rig.sourceId)!.status.state);
      await sleep(100);
    }
    expect(new Set(states)).toEqual(new Set(['connected']));
    expect(rig.rt.notifications.listTargets().every((t) => t.pending >= 1)).toBe(true);
    // The engine's own story is exactly the fault's: one loss, one restore, nothing from the failures.
    const story = rig.events.filter((e) => e.at >= from && e.event.sourceId === rig.sourceId && (e.event.type === 'ConnectionLost' || e.event.type === 'ConnectionRestored'));
    expect(story.map((e) => e.event.type)).toEqual(['ConnectionLost', 'ConnectionRestored']);
  });

  it('every real service receives its documented request for the same crash', async () => {
    const r = await receiver();
    const base = `http://127.0.0.1:${r.port}`;
    const parts = appriseNotificationParts({ serviceBaseUrls: { ntfy: base, discord: base, slack: base, telegram: base, pushover: base } });
    const rig = await startRig({ holdDownMs: 500, windowMs: 2_000 }, parts);
    const targets = {
      webhook: webhookUrl(r, '/hook'),
      ntfy: 'ntfy://plex-alerts?priority=high&tags=warning',
      gotify: `gotify://127.0.0.1:${r.port}/AzyoeNS.D4iJLVa`,
      discord: 'discord://Marquee@123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz',
      slack: 'slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ',
      telegram: 'tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567',
      pushover: 'pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi',
    };
    for (const [name, url] of Object.entries(targets)) {
      const added = rig.rt.notifications.addTarget({ name, url });
      expect(added.ok, `${name}: ${added.ok ? '' : added.message}`).toBe(true);
    }
    await rig.crash();
    await waitUntil(() => r.requests.length >= 7, { what: 'a request at every service', timeoutMs: 10_000, detail: () => r.requests.map((q) => q.path).join(', ') });
    await sleep(300);
    expect(r.requests).toHaveLength(7);
    const title = `${PLEX_NAME} lost its connection`;
    const at = (path: string) => {
      const found = r.requests.filter((q) => q.path === path);
      expect(found, path).toHaveLength(1);
      return found[0]!;
    };
    const webhook = at('/hook');
    expect(webhook.method).toBe('POST');
    expect(webhook.headers['content-type']).toMatch(/^application\/json/);
    expect(webhook.headers['x-marquee-event']).toBe('lost');
    const webhookBody = JSON.parse(webhook.body) as { id: string; event: string; source: { id: string; name: string }; title: string };
    expect(webhookBody).toMatchObject({ event: 'lost', source: { id: rig.sourceId, name: PLEX_NAME }, title });
    expect(webhook.headers['idempotency-key']).toBe(webhookBody.id);

    expect(JSON.parse(at('/').body)).toMatchObject({ topic: 'plex-alerts', title, priority: 4, tags: ['warning'] });
    const gotify = at('/message');
    expect(gotify.headers['x-gotify-key']).toBe('AzyoeNS.D4iJLVa');
    expect(JSON.parse(gotify.body)).toMatchObject({ title, priority: 5 });
    expect(JSON.parse(at('/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz').body)).toMatchObject({
      content: expect.stringContaining(title),
      username: 'Marquee',
      allowed_mentions: { parse: [] },
    });
    expect(JSON.parse(at('/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ').body)).toMatchObject({ text: expect.stringContaining(title) });
    expect(JSON.parse(at('/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage').body)).toMatchObject({
      chat_id: '-1001234567',
      text: expect.stringContaining(title),
      disable_web_page_preview: true,
    });
    const pushover = at('/1/messages.json');
    expect(pushover.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(pushover.body);
    expect({ token: form.get('token'), user: form.get('user'), title: form.get('title') }).toEqual({ token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi', user: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG', title });
    // Every target recorded its success; nothing is left queued.
    await waitUntil(() => rig.rt.notifications.listTargets().every((t) => t.pending === 0 && t.lastSuccessAt !== null && t.lastError === null), { what: 'every delivery recorded', timeoutMs: 5_000 });
  });
});

// ---- the same rules on a fake clock, with the default settings ----------------------------------

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function fakeClockService(settings: NotificationSettingsInput = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-notify-scenarios-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock();
  const store = openDatabase({ dataDir: dir, now: () => clock.now() });
  cleanups.push(() => store.close());
  const stream = new FakeEngineStream();
  const service = new NotificationService({
    engine: stream,
    repo: store.notifications,
    settingsRepo: store.settings,
    parts: appriseNotificationParts(),
    clock,
    settings: EngineNotificationSettingsSchema.parse(settings),
    logger: silent,
    random: () => 0.5,
  });
  service.start();
  cleanups.push(() => service.stop());
  /** Advances the fake time in steps, letting each real delivery finish before time moves on. */
  const advance = async (ms: number, stepMs = 250) => {
    for (let left = ms; left > 0; left -= stepMs) {
      await clock.advance(Math.min(stepMs, left));
      await service.idle();
    }
  };
  const lost = (sourceId: string, sourceName: string): EngineEvent => ({ type: 'ConnectionLost', sourceId, sourceName, sourceKind: 'plex', at: clock.now(), lastRouteKind: 'local' });
  const restored = (sourceId: string, sourceName: string, downForMs: number): EngineEvent => ({
    type: 'ConnectionRestored',
    sourceId,
    sourceName,
    sourceKind: 'plex',
    at: clock.now(),
    routeId: `${sourceId}-local`,
    routeKind: 'local',
    latencyMs: 3,
    downForMs,
  });
  return { clock, store, stream, service, advance, lost, restored };
}

describe('the same rules on a fake clock, default settings (issue 16)', () => {
  it('flapping at 1 Hz for 2 min: at most one message per source; one ending up says nothing more, one ending down is told "lost" once stable', async () => {
    const r = await receiver();
    const { stream, service, advance, lost, restored } = fakeClockService();
    expect(service.addTarget({ name: 'Phone', url: webhookUrl(r) }).ok).toBe(true);
    const sources = [
      { id: 'ends-up', name: 'Living-room Plex' },
      { id: 'ends-down', name: 'Home Jellyfin' },
    ];
    let changes = 0;
    // 120 cycles of 1 s: down for 500 ms, up for 500 ms (the last one stays down for "ends-down").
    for (let cycle = 0; cycle < 120; cycle++) {
      for (const s of sources) stream.emit(lost(s.id, s.name));
      changes += sources.length;
      await advance(500);
      for (const s of sources) if (cycle < 119 || s.id === 'ends-up') stream.emit(restored(s.id, s.name, 500));
      changes += cycle < 119 ? 2 : 1;
      await advance(500);
    }
    const during = (sourceId: string) => r.requests.map((_, i) => bodyOf(r, i)).filter((b) => b.source?.id === sourceId);
    expect(changes).toBe(479); // an undamped notifier would have sent this many
    for (const s of sources) {
      expect(during(s.id).length, s.id).toBeLessThanOrEqual(1);
      expect(during(s.id).map((b) => b.event)).toEqual(['unstable']);
    }
    // Stable afterwards for two windows: the one that ended up owes nothing (no "lost" was sent);
    // the one that ended down is now told the truth, once.
    await advance(130_000, 1_000);
    expect(during('ends-up').map((b) => b.event)).toEqual(['unstable']);
    expect(during('ends-down').map((b) => b.event)).toEqual(['unstable', 'lost']);
  });

  it('a receiver down for 60 s gets the message after it returns, once (default retries, capped near a minute)', async () => {
    const r = await startHttpReceiver();
    cleanups.push(() => r.close());
    const { stream, service, advance, lost } = fakeClockService();
    expect(service.addTarget({ name: 'Phone', url: r.webhookUrl() }).ok).toBe(true);
    await r.down();
    stream.emit(lost('s1', 'Living-room Plex'));
    await advance(30_000, 1_000); // the hold-down: the "lost" is due and its first attempt fails
    const view = () => service.listTargets()[0]!;
    expect(view().lastError).toMatch(/refused/);
    await advance(60_000, 1_000); // down for 60 s: retried, never delivered
    expect(view().pending).toBe(1);
    expect(view().lastError).toMatch(/attempt [5-9]/);
    await r.up();
    const returnedAt = Date.now();
    let waitedMs = 0;
    while (r.webhookMessages().length === 0 && waitedMs <= 70_000) {
      await advance(1_000, 1_000);
      waitedMs += 1_000;
    }
    // Delivered within one capped retry (≤ 60 s) of the receiver's return.
    expect(r.webhookMessages().map((m) => m.event)).toEqual(['lost']);
    expect(waitedMs).toBeLessThanOrEqual(60_000);
    // The last error stays on record (in words); the success is newer.
    expect(view().pending).toBe(0);
    expect(view().lastSuccessAt!).toBeGreaterThan(view().lastErrorAt!);
    // And never again: five more minutes pass, nothing is sent twice.
    await advance(300_000, 5_000);
    expect(r.webhookMessages()).toHaveLength(1);
    expect(r.accepted()[0]!.headers['idempotency-key']).toBe(r.webhookMessages()[0]!.id);
    expect(Date.now() - returnedAt).toBeLessThan(60_000); // it really ran in (wall-clock) seconds
  });
});
