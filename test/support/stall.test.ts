import { describe, expect, it } from 'vitest';
import { longestStall } from './stall.js';

describe('longestStall', () => {
  it('is the longest run of samples where currentTime did not move', () => {
    expect(longestStall([])).toBe(0);
    expect(longestStall([{ at: 0, t: 1 }, { at: 100, t: 1.1 }, { at: 200, t: 1.2 }])).toBe(0);
    // Stuck from 100 ms to 400 ms (three samples without progress), then a shorter stop.
    const samples = [0, 100, 200, 300, 400, 500, 600, 700].map((at, i) => ({ at, t: [1, 1.1, 1.1, 1.1, 1.1, 1.2, 1.2, 1.3][i]! }));
    expect(longestStall(samples)).toBe(300);
  });
});
