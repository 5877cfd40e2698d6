// The one set of waiting helpers for tests, benchmarks and dev scripts. Every wait is bounded in
// time, and a wait that gives up says what it waited for.
import { expect } from 'vitest';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  /** What is awaited, in words: a timeout fails with "timed out after N ms waiting for <what>". */
  what: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Pause between two checks. Default 100 ms. */
  intervalMs?: number;
  /** More words for the failure: the state when it gave up (e.g. the recent events). */
  detail?: () => string;
  /** A check that throws is tried again (e.g. a server not listening yet); the last error is in the failure. */
  retryErrors?: boolean;
}

type Done<T> = Exclude<T, undefined | null | false | 0 | ''>;

/**
 * Checks until `check` returns a truthy value, and returns that.
 * Works in hooks too, unlike vitest's `expect.poll`.
 */
export async function waitUntil<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<Done<T>> {
  const { what, timeoutMs = 10_000, intervalMs = 100, detail, retryErrors = false } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Done<T>;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const because = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${because}${detail ? `\n${detail()}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Checks `condition` for at most `timeoutMs` and resolves with whether it held — never fails: for a
 * measurement that counts what did not happen in time (e.g. undetected faults).
 */
export async function waitAtMost(condition: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await sleep(intervalMs);
  return condition();
}

/** vitest's `expect.poll` with bounds generous enough for a suite sharing two cores (inside tests only). */
export function poll<T>(fn: () => T | Promise<T>, timeout = 10_000) {
  return expect.poll(fn, { timeout, interval: 100 });
}
