// Memory policy of a Marquee server process. With the 64-bit default heap limit (~4 GB), V8 lets
// the old generation grow to about 4x the live data before a full collection; a monitor with
// 10,000 sources has ~160 MB live but sat at ~1.1 GB resident, most of it garbage waiting for a GC
// (issue 6: ≤ 1 GB). A smaller growth step keeps the resident size near the live size for a little
// more GC work, and — unlike a hard `--max-old-space-size` — never turns a larger install into an
// out-of-memory crash. V8 reads this flag at every full collection, so setting it at start-up works
// (it is not a heap-layout flag that is fixed when the isolate is created).
import v8 from 'node:v8';

/** Old generation may grow by this percentage of the live size between full collections. */
export const HEAP_GROWING_PERCENT = 50;

export function limitHeapGrowth(percent: number = HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent < 1 || percent > 300) throw new RangeError(`heap growing percent must be an integer in 1..300, got ${percent}`);
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
