import { useEffect, useRef, useState } from 'react';
import type { ApiSourceDetail } from '../../api/types';
import { apiFetch, errorMessage } from './api';
import { useApp } from './hooks';

const THROTTLE_MS = 1500;

/** GET /api/sources/:id, refetched (throttled, trailing) whenever the live stream touches the source. */
export function useSourceDetail(sourceId: string): { detail: ApiSourceDetail | null; error: string | null } {
  const revision = useApp((s) => s.revisions[sourceId] ?? 0);
  const [detail, setDetail] = useState<ApiSourceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const lastFetch = useRef(0);

  useEffect(() => {
    const controller = new AbortController();
    const wait = Math.max(0, lastFetch.current + THROTTLE_MS - Date.now());
    let fired = false;
    const timer = window.setTimeout(() => {
      fired = true;
      lastFetch.current = Date.now();
      apiFetch<ApiSourceDetail>(`sources/${encodeURIComponent(sourceId)}`, { signal: controller.signal })
        .then((d) => {
          setDetail(d);
          setError(null);
        })
        .catch((e: unknown) => {
          if ((e as Error).name !== 'AbortError') setError(errorMessage(e));
        });
    }, wait);
    // A newer revision cancels a fetch that has not started yet (only the latest is fetched), but
    // never one in flight: under a steady stream of changes every fetch would be aborted by the next
    // change and the detail would never update (stale routes while the status moved on).
    return () => {
      window.clearTimeout(timer);
      if (!fired) controller.abort();
    };
  }, [sourceId, revision]);

  return { detail, error };
}
