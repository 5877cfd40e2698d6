// Time as a dependency: the monitor never reads the wall clock or sets a timer directly, so tests
// drive it with a fake clock and production passes `realClock`.
// Node's timer object for `realClock`, a plain id for the fake clock in tests.
export type TimerHandle = NodeJS.Timeout | number;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's setTimeout overflows above 2^31-1 ms (~24.8 days) and would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export function clampDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), MAX_TIMER_MS);
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, clampDelay(ms));
    // Monitoring timers alone must not keep a process alive (the server's socket does that).
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle);
  },
};
