// The outbox and its delivery through the real senders (json:// webhook, docs/NOTIFICATIONS.md) to a
// real loopback HTTP receiver: order, retries, a hung target that delays nobody else, refusals and
// the max age.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationMessage } from '../core/notifications.js';
import { realClock } from '../monitor/clock.js';
import { openDatabase, type Store } from '../store/index.js';
import { makeTempDir } from '../../test/support/store.js';
import { startHttpReceiver, type HttpReceiver } from '../../test/support/notify-receivers.js';
import { waitAtMost } from '../../test/support/wait.js';
import { appriseNotificationParts } from './apprise-parts.js';
import { OutboxWorker, retryDelayMs } from './outbox-worker.js';

const parts = appriseNotificationParts();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const silent = { warn() {}, info() {}, debug() {} };

function openStore(): Store {
  const dir = makeTempDir();
  const store = openDatabase({ dataDir: dir.dir });
  cleanups.push(() => dir.remove());
  cleanups.push(() => store.close());
  return store;
}

async function receiver(): Promise<HttpReceiver> {
  const r = await startHttpReceiver();
  cleanups.push(() => r.close());
  return r;
}

function message(title: string, at = Date.now()): NotificationMessage {
  return { id: randomUUID(), event: 'lost', sourceId: 's1', sourceName: 'Living-room Plex', title, body: `${title}.`, at };
}

function worker(store: Store, options: Partial<ConstructorParameters<typeof OutboxWorker>[0]> = {}): OutboxWorker {
  const w = new OutboxWorker({ repo: store.notifications, send: parts.send, clock: realClock, timeoutMs: 1_000, retryCapMs: 60_000, maxAgeMs: 60_000, logger: silent, random: () => 0, ...options });
  cleanups.push(() => w.stop());
  return w;
}

function addTarget(store: Store, url: string, name = 'Hook'): string {
  const id = randomUUID();
  store.notifications.createTarget({ id, name, url, sources: null, events: null, quietHours: null });
  return id;
}

describe('notifications repo', () => {
  it('stores targets with their filters; enqueue is idempotent per (message, target); deleting a target drops its queue', () => {
    const store = openStore();
    const id = randomUUID();
    const created = store.notifications.createTarget({ id, name: 'Phone', url: 'json://user:secret@127.0.0.1:9/x', sources: ['a'], events: ['lost', 'back'], quietHours: { start: '22:00', end: '07:00' } });
    expect(created).toMatchObject({ id, name: 'Phone', sources: ['a'], events: ['lost', 'back'], quietHours: { start: '22:00', end: '07:00' }, lastSuccessAt: null, lastError: null });
    expect(store.notifications.updateTarget(id, { events: null, name: 'Phone 2' })).toMatchObject({ name: 'Phone 2', events: null, sources: ['a'] });
    const m = message('One');
    store.notifications.enqueue([{ message: m, targetId: id, dueAt: 5 }]);
    store.notifications.enqueue([{ message: m, targetId: id, dueAt: 5 }]);
    expect(store.notifications.pendingCount(id)).toBe(1);
    expect(store.notifications.headFor(id)).toMatchObject({ messageId: m.id, attempts: 0, nextAttemptAt: 5, message: m });
    expect(store.notifications.pendingTargets()).toEqual([{ targetId: id, nextAttemptAt: 5 }]);
    expect(store.notifications.deleteTarget(id)).toBe(true);
    expect(store.notifications.pendingCount()).toBe(0);
  });
});

describe('target URLs through the real parts', () => {
  it('accepts the Apprise schemes, refuses others naming the supported ones, and redacts secrets', () => {
    expect(parts.validateTargetUrl('json://127.0.0.1:8080/hook')).toEqual({ ok: true });
    expect(parts.validateTargetUrl('ntfy://topic')).toEqual({ ok: true });
    const refused = parts.validateTargetUrl('gopher://example.org/x');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toContain('json');
    expect(parts.redact('jsons://bob:hunter2@example.org:8443/hook')).not.toContain('hunter2');
  });
});

describe('outbox worker', () => {
  it('delivers queued messages in order with the message id as idempotency key, then deletes them and records success', async () => {
    const store = openStore();
    const r = await receiver();
    const target = addTarget(store, r.webhookUrl());
    const messages = [message('First'), message('Second'), message('Third')];
    store.notifications.enqueue(messages.map((m) => ({ message: m, targetId: target, dueAt: Date.now() })));
    worker(store).start();
    expect(await waitAtMost(() => r.accepted().length === 3, 5_000)).toBe(true);
    expect(r.webhookMessages().map((m) => m.title)).toEqual(['First', 'Second', 'Third']);
    // Each delivery carries its own message's id, in the payload and as the idempotency key.
    expect(r.webhookMessages().map((m) => m.id)).toEqual(messages.map((m) => m.id));
    expect(r.accepted().map((req) => req.headers['idempotency-key'])).toEqual(messages.map((m) => m.id));
    expect(r.accepted()[0]!.path).toBe('/hook');
    expect(r.accepted()[0]!.headers['x-marquee-event']).toBe('lost');
    expect(JSON.parse(r.accepted()[0]!.body)).toEqual({
      id: messages[0]!.id,
      event: 'lost',
      source: { id: 's1', name: 'Living-room Plex' },
      title: 'First',
      body: 'First.',
      url: null,
      at: new Date(messages[0]!.at).toISOString(),
    });
    await waitAtMost(() => store.notifications.pendingCount() === 0, 2_000);
    expect(store.notifications.pendingCount()).toBe(0);
    expect(store.notifications.getTarget(target)!.lastSuccessAt).not.toBeNull();
  });

  it('a target that is down gets the message when it is back; the error is recorded in words meanwhile', async () => {
    const store = openStore();
    const r = await receiver();
    const port = r.port;
    await r.down();
    const target = addTarget(store, r.webhookUrl());
    store.notifications.enqueue([{ message: message('Lost'), targetId: target, dueAt: Date.now() }]);
    worker(store, { retryCapMs: 1_000 }).start();
    expect(await waitAtMost(() => store.notifications.getTarget(target)!.lastError !== null, 3_000)).toBe(true);
    expect(store.notifications.getTarget(target)!.lastError).toBe(`the webhook: connection refused by 127.0.0.1:${port} (attempt 1; retrying)`);
    await r.up();
    expect(await waitAtMost(() => r.accepted().length === 1, 5_000)).toBe(true);
    await waitAtMost(() => store.notifications.pendingCount() === 0, 2_000);
    expect(store.notifications.pendingCount()).toBe(0);
    expect(r.webhookMessages().map((m) => m.title)).toEqual(['Lost']);
  });

  it('a hung target is bounded by the timeout and never delays another target', async () => {
    const store = openStore();
    const hung = await receiver();
    hung.reply(() => ({ hang: true }));
    const ok = await receiver();
    const hungTarget = addTarget(store, hung.webhookUrl(), 'Hung');
    const okTarget = addTarget(store, ok.webhookUrl(), 'Fine');
    const started = Date.now();
    store.notifications.enqueue([
      { message: message('To hung'), targetId: hungTarget, dueAt: started },
      { message: message('To fine'), targetId: okTarget, dueAt: started },
    ]);
    worker(store, { timeoutMs: 800 }).start();
    expect(await waitAtMost(() => ok.accepted().length === 1, 2_000)).toBe(true);
    expect(ok.accepted()[0]!.at - started).toBeLessThan(500);
    expect(await waitAtMost(() => store.notifications.getTarget(hungTarget)!.lastError !== null, 3_000)).toBe(true);
    expect(store.notifications.getTarget(hungTarget)!.lastError).toMatch(/no answer within .*\(attempt 1; retrying\)$/);
    expect(store.notifications.pendingCount(hungTarget)).toBe(1);
  });

  it('a refusal that retrying cannot fix (HTTP 404) and a message past the max age are dropped with the reason recorded', async () => {
    const store = openStore();
    const r = await receiver();
    r.reply(() => ({ status: 404, body: 'no such hook' }));
    const target = addTarget(store, r.webhookUrl());
    store.notifications.enqueue([{ message: message('Refused'), targetId: target, dueAt: Date.now() }]);
    const old = addTarget(store, 'json://127.0.0.1:9/none', 'Old');
    store.notifications.enqueue([{ message: message('Too old'), targetId: old, dueAt: Date.now() - 120_000 }]);
    worker(store).start();
    expect(await waitAtMost(() => store.notifications.pendingCount() === 0, 3_000)).toBe(true);
    expect(store.notifications.getTarget(target)!.lastError).toBe(`Refused: not delivered — the webhook at 127.0.0.1:${r.port} rejected the message (HTTP 404): “no such hook”.`);
    // Tried once, not retried.
    expect(r.requests.map((req) => req.status)).toEqual([404]);
    expect(store.notifications.getTarget(old)!.lastError).toMatch(/"Too old"\) was dropped: not delivered within 1 min \(0 attempts\)/);
  });

  it('retry delays double from 1 s and are capped near a minute', () => {
    expect([0, 1, 2, 3, 10].map((a) => retryDelayMs(a, 60_000, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 60_000]);
    expect(retryDelayMs(10, 60_000, () => 0)).toBe(48_000);
  });
});
