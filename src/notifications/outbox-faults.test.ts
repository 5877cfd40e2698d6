// The outbox worker under faults that are not a target's answer: a storage fault while delivering
// and a sender that throws at once. Neither may turn into a retry loop of promise callbacks that
// never yields — that would starve the event loop, and with it the monitor (issue 16: notification
// failures never change a source's status).
import { describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../core/notifications.js';
import type { NotificationsRepo } from '../store/index.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { OutboxWorker } from './outbox-worker.js';

const silent = { warn() {}, info() {}, debug() {} };

/** Resolves on a macrotask: only if the event loop still turns. */
const eventLoopTurns = (ms: number) => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms));

describe('OutboxWorker faults', () => {
  it('a storage fault while delivering waits for its retry timer instead of retrying at once', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const repo = {
      pendingTargets: () => [{ targetId: 't1', nextAttemptAt: 0 }],
      headFor: () => {
        reads++;
        throw new Error('SQLITE_IOERR: disk I/O error');
      },
    } as unknown as NotificationsRepo;
    const send = async (): Promise<DeliveryResult> => ({ ok: true, detail: 'ok' });
    const worker = new OutboxWorker({ repo, send, clock, timeoutMs: 1_000, retryCapMs: 60_000, maxAgeMs: 86_400_000, logger: silent });
    worker.start();
    expect(await eventLoopTurns(50)).toBe(true);
    expect(reads).toBe(1);
    await clock.advance(5_000); // the storage retry
    expect(reads).toBe(2);
    await worker.stop();
  });
});
