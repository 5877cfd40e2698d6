// Every API URL is built from <meta name="marquee-base">, which the server rewrites when it runs
// under a reverse-proxy sub-path (MARQUEE_BASE_URL), so the UI never assumes it lives at "/".
import type { ApiError } from '../../api/types';

export function basePath(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="marquee-base"]');
  const raw = meta?.content?.trim() || '/';
  return raw.endsWith('/') ? raw : `${raw}/`;
}

/** Absolute URL of an API path such as "sources/abc" (no leading slash). */
export function apiUrl(path: string): string {
  return new URL(`${basePath()}api/${path.replace(/^\/+/, '')}`, window.location.origin).toString();
}

/** A failed API call, carrying the server's plain-words message. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

function isApiError(body: unknown): body is ApiError {
  return typeof body === 'object' && body !== null && typeof (body as ApiError).message === 'string';
}

export async function apiFetch<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path), {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      signal: init.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiRequestError(0, 'network', 'Marquee could not be reached. Check that it is still running.');
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    if (isApiError(body)) throw new ApiRequestError(response.status, body.error ?? 'error', body.message);
    throw new ApiRequestError(response.status, 'http_error', `Marquee answered with HTTP ${response.status}.`);
  }
  return body as T;
}

/** A sentence for people: the server's message, starting with a capital letter. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : '';
  if (!text) return 'Something went wrong.';
  return text.charAt(0).toUpperCase() + text.slice(1);
}
