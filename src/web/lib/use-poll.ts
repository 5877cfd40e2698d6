import { useEffect, useRef } from 'react';

/** Calls `tick` every `intervalMs` while `active`; stops when tick returns true (done). Never overlaps calls. */
export function usePoll(active: boolean, intervalMs: number, tick: () => Promise<boolean>): void {
  const tickRef = useRef(tick);
  // The latest `tick`, updated after each render (a ref is not written during render).
  useEffect(() => {
    tickRef.current = tick;
  });
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: number | undefined;
    const loop = async () => {
      if (stopped) return;
      let done = false;
      try {
        done = await tickRef.current();
      } catch {
        done = false;
      }
      if (!stopped && !done) timer = window.setTimeout(() => void loop(), intervalMs);
    };
    // `loop` cannot reject: tick's failure is caught inside it.
    timer = window.setTimeout(() => void loop(), intervalMs);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [active, intervalMs]);
}
