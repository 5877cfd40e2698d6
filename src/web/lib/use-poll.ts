import { useEffect, useRef } from 'react';

/** Calls `tick` every `intervalMs` while `active`; stops when tick returns true (done). Never overlaps calls. */
export function usePoll(active: boolean, intervalMs: number, tick: () => Promise<boolean>): void {
  const tickRef = useRef(tick);
  tickRef.current = tick;
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
      if (!stopped && !done) timer = window.setTimeout(loop, intervalMs);
    };
    timer = window.setTimeout(loop, intervalMs);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [active, intervalMs]);
}
