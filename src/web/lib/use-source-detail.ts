import { useEffect, useRef, useState } from 'react';
import type { ApiSourceDetail } from '../../api/types';
import { apiFetch, errorMessage } from './api';
import { useApp } from './hooks';

const THROTTLE_MS = 1500;
/**
 * A card must stay mounted this long before its first detail request: the sources page mounts
 * only the cards on screen, so a card scrolled past quickly asks for nothing.
 */
export const DETAIL_SETTLE_MS = 150;
/** Detail requests in flight at once, across every card (a fast scroll queues, never floods). */
export const MAX_DETAIL_REQUESTS = 4;
/** Details remembered for cards scrolled out of view, so scrolling back shows them at once. */
const CACHE_SIZE = 500;

/** The last detail fetched per source with the stream revision it answered; bounded, oldest out. */
const cache = new Map<string, { revision: number; detail: ApiSourceDetail }>();

function remember(sourceId: string, revision: number, detail: ApiSourceDetail): void {
  cache.delete(sourceId);
  cache.set(sourceId, { revision, detail });
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
}

/** At most `max` tasks run at once; a queued task whose signal aborts leaves the queue unstarted. */
function createLimiter(max: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  const pump = () => {
    while (active < max && queue.length > 0) queue.shift()!();
  };
  return function run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        signal.removeEventListener('abort', onAbort);
        active++;
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            pump();
          });
      };
      const onAbort = () => {
        const index = queue.indexOf(start);
        if (index >= 0) queue.splice(index, 1);
        reject(new DOMException('The card left the screen before its turn.', 'AbortError'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(start);
      pump();
    });
  };
}

const limit = createLimiter(MAX_DETAIL_REQUESTS);

/**
 * GET /api/sources/:id for a card on screen: fetched after the card settled, refetched
 * (throttled, trailing) whenever the live stream touches the source, with at most
 * MAX_DETAIL_REQUESTS in flight page-wide. A card that leaves the screen cancels what it asked.
 */
export function useSourceDetail(sourceId: string): { detail: ApiSourceDetail | null; error: string | null } {
  const revision = useApp((s) => s.revisions[sourceId] ?? 0);
  const [detail, setDetail] = useState<ApiSourceDetail | null>(() => cache.get(sourceId)?.detail ?? null);
  const [error, setError] = useState<string | null>(null);
  const lastFetch = useRef(0);
  /** Every request this card started or queued: aborted when the card unmounts. */
  const mine = useRef(new Set<AbortController>());

  useEffect(() => {
    const requests = mine.current;
    return () => {
      for (const controller of requests) controller.abort();
      requests.clear();
    };
  }, []);

  useEffect(() => {
    // Scrolled back into view with nothing new since: the remembered detail (the initial state) stands.
    if (cache.get(sourceId)?.revision === revision) return;
    const requests = mine.current;
    const controller = new AbortController();
    requests.add(controller);
    const settle = lastFetch.current === 0 ? DETAIL_SETTLE_MS : 0;
    const wait = Math.max(settle, lastFetch.current + THROTTLE_MS - Date.now());
    let started = false;
    const timer = window.setTimeout(() => {
      limit(() => {
        started = true;
        lastFetch.current = Date.now();
        return apiFetch<ApiSourceDetail>(`sources/${encodeURIComponent(sourceId)}`, { signal: controller.signal });
      }, controller.signal)
        .then((d) => {
          remember(sourceId, revision, d);
          setDetail(d);
          setError(null);
        })
        .catch((e: unknown) => {
          if ((e as Error).name !== 'AbortError') setError(errorMessage(e));
        })
        .finally(() => requests.delete(controller));
    }, wait);
    // A newer revision cancels a fetch that has not started yet (only the latest is fetched), but
    // never one in flight: under a steady stream of changes every fetch would be aborted by the next
    // change and the detail would never update (stale routes while the status moved on).
    return () => {
      window.clearTimeout(timer);
      if (!started) {
        controller.abort();
        requests.delete(controller);
      }
    };
  }, [sourceId, revision]);

  return { detail, error };
}
