// Every backend call runs under a hard deadline and the caller's abort signal, whatever the backend
// does: a backend that ignores its own timeout or its signal can never hang a check or `stop()`.
import type { Clock, TimerHandle } from './clock.js';

export interface GuardOptions {
  clock: Clock;
  /** Hard deadline; the backend is also told `timeoutMs` and normally reports its own timeout first. */
  deadlineMs: number;
  signal?: AbortSignal;
}

export type GuardEnd = { kind: 'deadline' } | { kind: 'aborted' } | { kind: 'threw'; error: unknown };

/**
 * Runs `call` with a child abort signal. Resolves with the call's value, or with `fallback(end)` when
 * the deadline passes, the outer signal aborts, or the call throws. Never rejects.
 */
export function guardedCall<T>(call: (signal: AbortSignal) => Promise<T>, fallback: (end: GuardEnd) => T, options: GuardOptions): Promise<T> {
  const { clock, deadlineMs, signal } = options;
  const child = new AbortController();
  return new Promise<T>((resolve) => {
    let done = false;
    let timer: TimerHandle | null = null;
    const onAbort = () => finish(fallback({ kind: 'aborted' }));
    function finish(value: T): void {
      if (done) return;
      done = true;
      if (timer !== null) clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      child.abort(); // frees the backend's socket if it is still busy
      resolve(value);
    }
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = clock.setTimeout(() => {
      timer = null;
      finish(fallback({ kind: 'deadline' }));
    }, deadlineMs);
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(call(child.signal));
    } catch (error) {
      // A call that throws before returning its promise ends like one whose promise rejects.
      finish(fallback({ kind: 'threw', error }));
      return;
    }
    promise.then(
      (value) => finish(value),
      (error: unknown) => finish(fallback({ kind: 'threw', error })),
    );
  });
}
