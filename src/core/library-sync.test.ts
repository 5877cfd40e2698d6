import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterPage, planSync, startPaging, type PagingStep } from './library-sync.js';

const DAY = 86_400_000;

describe('planSync', () => {
  it('full when never synced, without a high-water mark, or when the last full sync is a day old; else incremental since the mark', () => {
    expect(planSync(null, 0, DAY)).toEqual({ mode: 'full' });
    expect(planSync({ fullSyncAt: 0, highWaterMs: null }, 10, DAY)).toEqual({ mode: 'full' });
    expect(planSync({ fullSyncAt: 0, highWaterMs: 5 }, DAY - 1, DAY)).toEqual({ mode: 'incremental', sinceMs: 5 });
    expect(planSync({ fullSyncAt: 0, highWaterMs: 5 }, DAY, DAY)).toEqual({ mode: 'full' });
  });
});

describe('paging', () => {
  it('an honest server: pages until a short page', () => {
    let step: PagingStep = { action: 'fetch', state: startPaging(100) };
    const starts: number[] = [];
    while (step.action === 'fetch') {
      starts.push(step.state.next);
      const count = Math.max(0, Math.min(100, 250 - step.state.next));
      step = afterPage(step.state, { count, fresh: count, total: 250 });
    }
    expect(step.action).toBe('done');
    expect(starts).toEqual([0, 100, 200]);
  });

  it('a page with nothing new is a loop; more than the claimed total plus slack is a lie', () => {
    const s = startPaging(100);
    expect(afterPage(s, { count: 100, fresh: 0, total: 1000 })).toMatchObject({ action: 'fail', reason: expect.stringContaining('loops') });
    let step: PagingStep = { action: 'fetch', state: s };
    while (step.action === 'fetch') step = afterPage(step.state, { count: 100, fresh: 100, total: 150 });
    expect(step).toMatchObject({ action: 'fail', reason: expect.stringContaining('more items') });
  });

  it('whatever the server answers, the loop ends within (claimed total + slack) / page size + 2 pages (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.array(fc.record({ count: fc.integer({ min: 0, max: 600 }), freshShare: fc.double({ min: 0, max: 1, noNaN: true }), total: fc.integer({ min: 0, max: 100_000 }) }), { minLength: 1, maxLength: 5 }), (pageSize, script) => {
        let step: PagingStep = { action: 'fetch', state: startPaging(pageSize) };
        let pages = 0;
        let claimed: number | null = null;
        while (step.action === 'fetch') {
          const answer = script[pages % script.length]!;
          claimed ??= answer.total;
          step = afterPage(step.state, { count: answer.count, fresh: Math.round(answer.count * answer.freshShare), total: answer.total });
          pages++;
          expect(pages).toBeLessThanOrEqual(Math.ceil((claimed + Math.max(pageSize, Math.ceil(claimed * 0.1))) / 1) + 2);
        }
      }),
    );
  });
});
