// NotificationService on a fake clock with a real store and a recording sender: the hold-down in
// real wiring, the crash marker, quiet hours that hold, per-target filters, and a sender that
// throws, which must never reach the engine's stream.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryResult, NotificationMessage } from '../core/notifications.js';
import { EngineNotificationSettingsSchema } from '../core/settings.js';
import type { EngineEvent } from '../core/types.js';
import { openDatabase, type Store } from '../store/index.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { makeTempDir } from '../../test/support/store.js';
import { NotificationService } from './service.js';
import { FakeEngineStream } from '../../test/support/fake-engine-stream.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const silent = { error() {}, warn() {}, info() {}, debug() {} };
// 2023-11-14 22:13:20 UTC — the tests below pass quiet hours in UTC terms through TZ-independent math.
const START = 1_700_000_000_000;

function setup(options: { send?: (url: string, m: NotificationMessage) => Promise<DeliveryResult>; dir?: { dir: string; remove(): void } } = {}) {
  const dir = options.dir ?? makeTempDir();
  if (!options.dir) cleanups.push(() => dir.remove());
  const clock = new FakeClock(START);
  const store: Store = openDatabase({ dataDir: dir.dir, now: () => clock.now() });
  cleanups.push(() => store.close());
  const stream = new FakeEngineStream();
  const sent: Array<{ url: string; message: NotificationMessage; at: number }> = [];
  const send = options.send ?? (async (url: string, message: NotificationMessage): Promise<DeliveryResult> => {
    sent.push({ url, message, at: clock.now() });
    return { ok: true, detail: 'ok' };
  });
  const service = new NotificationService({
    engine: stream,
    repo: store.notifications,
    settingsRepo: store.settings,
    parts: { send, validateTargetUrl: (url) => (url.startsWith('json://') ? { ok: true } : { ok: false, message: 'json:// only' }), redact: (url) => url.replace(/\/\/[^@]*@/, '//***@'), supportedSchemes: ['json://'] },
    clock,
    settings: EngineNotificationSettingsSchema.parse({ holdDownMs: 30_000 }),
    logger: silent,
    random: () => 0.5,
  });
  return { clock, store, stream, sent, service, dir };
}

const base = { sourceId: 's1', sourceName: 'Living-room Plex', sourceKind: 'plex' as const };
const lost = (at: number): EngineEvent => ({ ...base, type: 'ConnectionLost', at, lastRouteKind: 'local' });
const restored = (at: number, downForMs: number): EngineEvent => ({ ...base, type: 'ConnectionRestored', at, routeId: 'r1', routeKind: 'local', latencyMs: 3, downForMs });

describe('NotificationService', () => {
  it('hold-down on the injected clock: nothing before 30 s, "lost" at 30 s, "back" with the outage length', async () => {
    const { clock, stream, sent, service } = setup();
    service.start();
    cleanups.push(() => service.stop());
    expect(service.addTarget({ name: 'Phone', url: 'json://127.0.0.1:1/x' }).ok).toBe(true);
    stream.emit(lost(clock.now()));
    await clock.advance(29_000);
    expect(sent).toEqual([]);
    await clock.advance(1_000);
    expect(sent.map((s) => [s.message.event, s.at - START])).toEqual([['lost', 30_000]]);
    await clock.advance(222_000);
    stream.emit(restored(clock.now(), 252_000));
    await clock.advance(10);
    expect(sent.map((s) => s.message.body)[1]).toBe('Living-room Plex is back after 4 min 12 s — local route');
  });

  it('two sources lost a few ms apart are both told at their hold-down, even when queuing takes time', async () => {
    const { clock, stream, sent, service, store } = setup();
    // A slow disk: every read of the targets (each queuing) takes 10 ms of the clock.
    const fakeNow = clock.now.bind(clock);
    let drift = 0;
    clock.now = () => fakeNow() + drift;
    const listTargets = store.notifications.listTargets.bind(store.notifications);
    store.notifications.listTargets = () => {
      drift += 10;
      return listTargets();
    };
    service.start();
    cleanups.push(() => service.stop());
    service.addTarget({ name: 'Phone', url: 'json://127.0.0.1:1/x' });
    stream.emit(lost(clock.now()));
    stream.emit({ ...lost(clock.now() + 5), sourceId: 's2', sourceName: 'Home Jellyfin' });
    await clock.advance(30_100);
    expect(sent.map((s) => s.message.sourceId)).toEqual(['s1', 's2']);
  });

  it('a target filtered to other sources or events gets nothing; install-wide messages still reach it', async () => {
    const { clock, stream, sent, service } = setup();
    service.start();
    cleanups.push(() => service.stop());
    service.addTarget({ name: 'Other', url: 'json://127.0.0.1:1/other', sources: ['s2'] });
    service.addTarget({ name: 'Auth only', url: 'json://127.0.0.1:1/auth', events: ['sign_in_needed'] });
    stream.emit(lost(clock.now()));
    await clock.advance(60_000);
    stream.emit({ ...base, type: 'AuthStatusChanged', at: clock.now(), authRequired: true });
    await clock.advance(60_000);
    expect(sent.map((s) => [s.url, s.message.event])).toEqual([['json://127.0.0.1:1/auth', 'sign_in_needed']]);
  });

  it('quiet hours hold a message in the outbox until they end, then deliver it', async () => {
    const { clock, stream, sent, service, store } = setup();
    service.start();
    cleanups.push(() => service.stop());
    // Quiet from "now" for two hours, in the server's local time.
    const local = new Date(clock.now());
    const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    const end = new Date(clock.now() + 2 * 3_600_000);
    const target = service.addTarget({ name: 'Night', url: 'json://127.0.0.1:1/n', quietHours: { start: hhmm(local), end: hhmm(end) } });
    expect(target.ok).toBe(true);
    stream.emit(lost(clock.now()));
    await clock.advance(3_600_000);
    expect(sent).toEqual([]);
    expect(store.notifications.pendingCount()).toBe(1);
    await clock.advance(3_600_000);
    expect(sent.map((s) => s.message.event)).toEqual(['lost']);
    expect(store.notifications.pendingCount()).toBe(0);
  });

  it('a sender that throws never reaches the engine stream; the message is retried and delivered', async () => {
    let calls = 0;
    const delivered: string[] = [];
    const { clock, stream, service, store } = setup({
      send: async (_url, message) => {
        calls++;
        if (calls === 1) throw new Error('boom with token=abc123');
        delivered.push(message.event);
        return { ok: true, detail: 'ok' };
      },
    });
    service.start();
    cleanups.push(() => service.stop());
    const { target } = service.addTarget({ name: 'Phone', url: 'json://127.0.0.1:1/x' }) as { ok: true; target: { id: string } };
    expect(() => stream.emit(lost(clock.now()))).not.toThrow();
    await clock.advance(30_000);
    expect(store.notifications.getTarget(target.id)!.lastError).toBe('sending failed (boom with token=[redacted]) (attempt 1; retrying)');
    await clock.advance(2_000);
    expect(delivered).toEqual(['lost']);
  });

  it('a clean stop sends no "restarted after a crash"; a run that was not stopped does, once', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    {
      const { service, store } = setup({ dir });
      service.addTarget({ name: 'Phone', url: 'json://127.0.0.1:1/x' });
      service.start();
      await service.stop();
      store.close();
    }
    {
      const { service, sent, clock, store } = setup({ dir });
      service.start();
      await clock.advance(10);
      expect(sent).toEqual([]);
      // No stop: as after a kill -9, the marker stays.
      await service.idle();
      store.close();
    }
    {
      const { service, sent, clock } = setup({ dir });
      service.start();
      cleanups.push(() => service.stop());
      await clock.advance(10);
      expect(sent.map((s) => [s.message.event, s.message.title])).toEqual([['crash_restart', 'Marquee restarted after a crash']]);
    }
  });
});
