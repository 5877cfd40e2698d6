import { useEffect, useState, useSyncExternalStore } from 'react';
import { appStore } from './live';
import type { AppState } from './state';
import { uiStore, type UiState } from './ui-state';

export function useApp<T>(select: (state: AppState) => T): T {
  return useSyncExternalStore(appStore.subscribe, () => select(appStore.get()));
}

export function useUi<T>(select: (state: UiState) => T): T {
  return useSyncExternalStore(uiStore.subscribe, () => select(uiStore.get()));
}

/**
 * The server's clock, ticking every `intervalMs` (countdowns use server-provided epochs) while
 * `ticking`: a component that shows no countdown passes false and is not re-rendered every second
 * (10,000 sidebar badges each re-rendering once a second kept the page busy all the time).
 */
export function useServerNow(intervalMs = 1000, ticking = true): number {
  const offset = useApp((s) => s.clockOffsetMs);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    // Catch up at once when a countdown starts (the last tick may be long ago), then every interval.
    const first = window.setTimeout(() => setNow(Date.now()), 0);
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => {
      window.clearTimeout(first);
      window.clearInterval(timer);
    };
  }, [intervalMs, ticking]);
  return now + offset;
}

export { href, navigate, parseHash, useRoute, type Route } from './router';
