// Issue 16, never lost: a Marquee process with a notification queued (its target answering 503) is
// killed with SIGKILL; the message is delivered after the restart, and no message reaches the
// target twice — not after another restart either. The queued message is the "restarted after a
// crash" one: the clean-stop marker a kill -9 leaves behind is what produces it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type AppProcess } from '../support/app-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/notify-receivers.js';
import { sleep, waitUntil } from '../support/wait.js';

const LAUNCHER = join(import.meta.dirname, 'launch-app.ts');
const apps: AppProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'marquee-notify-kill9-'));
let receiver: HttpReceiver | undefined;

afterAll(async () => {
  for (const app of apps) await app.kill9();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const launch = () => startApp({ dataDir: join(dir, 'data'), script: LAUNCHER, name: 'marquee' }, (a) => apps.push(a));

interface Targets {
  targets: Array<{ id: string; pending: number; lastError: string | null; lastSuccessAt: number | null }>;
}

describe('notifications survive kill -9 (issue 16)', () => {
  it('a queued message is delivered after a restart, and none twice', { timeout: 90_000 }, async () => {
    receiver = await startHttpReceiver();
    receiver.reply(() => ({ status: 503 }));

    // 1. A target, then a crash: the clean-stop marker stays behind.
    const first = await launch();
    const created = await first.request<{ id: string }>('POST', 'api/notifications/targets', { name: 'Phone', url: receiver.webhookUrl() });
    expect(created.status).toBe(201);
    await first.kill9();

    // 2. The restart queues "restarted after a crash"; the target answers 503, so it stays queued.
    const second = await launch();
    const queued = await waitUntil(async () => {
      const { body } = await second.request<Targets>('GET', 'api/notifications/targets');
      return body.targets[0]?.lastError ? body.targets[0] : undefined;
    }, { timeoutMs: 10_000, what: 'a failed delivery attempt' });
    expect(queued.pending).toBe(1);
    expect(queued.lastError).toMatch(/HTTP 503/);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(1);
    expect(receiver.accepted()).toEqual([]);
    await second.kill9();

    // 3. The target works again; the next run delivers the queued message (and its own crash message).
    receiver.reply(() => ({ status: 200, body: '{}' }));
    const third = await launch();
    await waitUntil(() => (receiver!.accepted().length >= 2 ? true : undefined), { timeoutMs: 15_000, what: 'both messages delivered' });
    const delivered = await waitUntil(async () => {
      const { body } = await third.request<Targets>('GET', 'api/notifications/targets');
      return body.targets[0]?.pending === 0 ? body.targets[0] : undefined;
    }, { timeoutMs: 5_000, what: 'the outbox empty' });
    expect(delivered.lastSuccessAt).not.toBeNull();
    await third.stop();

    // 4. A clean restart sends nothing more: no crash message, no message twice.
    const fourth = await launch();
    await sleep(2_000);
    await fourth.stop();
    const messages = receiver.webhookMessages();
    expect(messages.map((m) => m.event)).toEqual(['crash_restart', 'crash_restart']);
    expect(new Set(messages.map((m) => m.id)).size).toBe(2);
  });
});
