import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from './heap.js';

describe('limitHeapGrowth', () => {
  it('accepts the default and refuses values V8 would misread', () => {
    expect(HEAP_GROWING_PERCENT).toBeGreaterThan(0);
    expect(() => limitHeapGrowth()).not.toThrow();
    for (const bad of [0, -1, 1.5, 301, Number.NaN]) expect(() => limitHeapGrowth(bad)).toThrow(RangeError);
  });
});
