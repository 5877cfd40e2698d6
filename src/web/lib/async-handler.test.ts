import { afterEach, describe, expect, it, vi } from 'vitest';
import { asyncHandler } from './async-handler';

afterEach(() => vi.restoreAllMocks());

describe('asyncHandler', () => {
  it('passes the event through and returns nothing', async () => {
    const seen: string[] = [];
    const handler = asyncHandler(async (event: string) => {
      seen.push(event);
    });
    expect(handler('click')).toBeUndefined();
    await Promise.resolve();
    expect(seen).toEqual(['click']);
  });

  it('logs an escaped rejection in words instead of leaving it unhandled', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failure = new Error('boom');
    asyncHandler(async () => {
      throw failure;
    })();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(logged).toHaveBeenCalledWith('Marquee UI: an action failed unexpectedly', failure);
  });
});
