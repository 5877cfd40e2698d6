import { describe, expect, it } from 'vitest';
import { guardedCall, type GuardEnd } from './guarded-call.js';
import { FakeClock } from '../../test/support/fake-clock.js';

const fallback = (end: GuardEnd) => `fallback:${end.kind}`;

describe('guardedCall', () => {
  it('a call that throws before returning a promise resolves with the fallback and leaves no timer', async () => {
    const clock = new FakeClock();
    const result = guardedCall<string>(
      () => {
        throw new Error('sync boom');
      },
      fallback,
      { clock, deadlineMs: 1_000 },
    );
    await expect(result).resolves.toBe('fallback:threw');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a call whose promise rejects resolves with the fallback', async () => {
    const clock = new FakeClock();
    await expect(guardedCall<string>(async () => Promise.reject(new Error('async boom')), fallback, { clock, deadlineMs: 1_000 })).resolves.toBe('fallback:threw');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a call that never settles resolves with the deadline fallback', async () => {
    const clock = new FakeClock();
    const result = guardedCall<string>(() => new Promise<string>(() => undefined), fallback, { clock, deadlineMs: 1_000 });
    await clock.advance(1_000);
    await expect(result).resolves.toBe('fallback:deadline');
  });
});
