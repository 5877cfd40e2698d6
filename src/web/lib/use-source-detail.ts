import { useEffect, useRef, useState } from 'react';
import type { ApiSourceDetail } from '../../server/api-types';
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
    const timer = window.setTimeout(() => {
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
    // A newer revision within the throttle window cancels this one: only the latest is fetched.
    return () => {
      window.clearTimeout(timer);
      if (wait === 0) return; // let an in-flight request finish; its result is still the newest we have
      controller.abort();
    };
  }, [sourceId, revision]);

  return { detail, error };
}
