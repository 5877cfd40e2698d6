import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HELD_BUFFER_START, HOLD_TWO_SECONDS, holdBufferStep, type HeldBufferState } from './held-buffer.js';

const S = HOLD_TWO_SECONDS;

describe('holdBufferStep (the playback-stall bench holding the buffer at 2 s ahead)', () => {
  it('drains above the band, refills under it, holds near the bitrate inside it', () => {
    expect(holdBufferStep(S, HELD_BUFFER_START, 4.3, 0)).toMatchObject({ rate: 0.5, cut: false });
    expect(holdBufferStep(S, HELD_BUFFER_START, 0.9, 0)).toMatchObject({ rate: 1.5, cut: false });
    expect(holdBufferStep(S, HELD_BUFFER_START, 2.0, 0)).toMatchObject({ rate: 1.05, cut: false, inBandMs: 0 });
  });

  it('cuts only after the dwell spent in the band without leaving it', () => {
    let state: HeldBufferState = HELD_BUFFER_START;
    const at = (ahead: number, now: number) => {
      const step = holdBufferStep(S, state, ahead, now);
      state = step.state;
      return step;
    };
    expect(at(2.1, 0).cut).toBe(false);
    expect(at(2.0, 900).cut).toBe(false);
    // Leaving the band (even for one sample) starts the dwell again.
    expect(at(2.3, 1_000).cut).toBe(false);
    expect(at(2.1, 1_100).cut).toBe(false);
    expect(at(1.9, 2_000).cut).toBe(false);
    expect(at(1.95, 2_100)).toMatchObject({ cut: true, inBandMs: 1_000 });
  });

  it('never cuts outside the band, and every rate it asks for is one of the three', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.integer({ min: 0, max: 500 })), { maxLength: 60 }), (samples) => {
        let state: HeldBufferState = HELD_BUFFER_START;
        let now = 0;
        for (const [ahead, gap] of samples) {
          now += gap;
          const step = holdBufferStep(S, state, ahead, now);
          state = step.state;
          expect([S.drainRate, S.holdRate, S.refillRate]).toContain(step.rate);
          if (step.cut) expect(ahead >= S.lowSec && ahead <= S.highSec && step.inBandMs >= S.dwellMs).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('with no dwell, cuts on entering the band (HLS: its buffer grows in whole segments)', () => {
    expect(holdBufferStep({ ...S, dwellMs: 0 }, HELD_BUFFER_START, 2.2, 5)).toMatchObject({ cut: true, rate: 1.05 });
  });
});
