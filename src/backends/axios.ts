// An axios instance for @jellyfin/sdk whose transport is our HttpClient, so Jellyfin requests get
// exactly the same guarantees as Plex ones (deadline on keep-alive sockets, 1 MB cap, no
// redirects, classified errors). Failures reject with an AxiosError carrying `probeError`.
// Per call: `maxContentLength` raises (or lowers) the body cap (library pages, images), and
// `responseType: 'arraybuffer'` keeps the body as bytes (a Buffer) instead of text.
import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosInstance, type AxiosResponse } from 'axios';
import type { ProbeError } from '../core/types.js';
import { classifyStatus, type HttpClient } from './http.js';

export const DEFAULT_AXIOS_TIMEOUT_MS = 10_000;

export interface ClassifiedAxiosError extends AxiosError {
  probeError: ProbeError;
  latencyMs: number;
}

export function createSafeAxios(client: HttpClient, defaultTimeoutMs = DEFAULT_AXIOS_TIMEOUT_MS): AxiosInstance {
  const instance = axios.create({ maxRedirects: 0 });
  const adapter: AxiosAdapter = async (config) => {
    const url = instance.getUri(config);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(AxiosHeaders.from(config.headers).toJSON())) {
      if (v !== undefined && v !== null && (v as unknown) !== false) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const method = (config.method ?? 'get').toUpperCase() as 'GET' | 'POST' | 'DELETE';
    const body = config.data === undefined || config.data === null ? undefined : typeof config.data === 'string' ? config.data : JSON.stringify(config.data);
    const request = {
      url,
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: config.timeout && config.timeout > 0 ? config.timeout : defaultTimeoutMs,
      ...(config.signal ? { signal: config.signal as AbortSignal } : {}),
      ...(config.maxContentLength !== undefined && config.maxContentLength > 0 ? { maxBodyBytes: config.maxContentLength } : {}),
    };
    const result =
      config.responseType === 'arraybuffer'
        ? await client.requestBytes(request).then((r) => (r.ok ? { ...r, body: r.bytes } : r))
        : await client.request(request);
    if (!result.ok) {
      const err = new AxiosError(result.error.message, result.error.code === 'timeout' ? 'ECONNABORTED' : 'ERR_NETWORK', config) as ClassifiedAxiosError;
      err.probeError = result.error;
      err.latencyMs = result.latencyMs;
      throw err;
    }
    const response: AxiosResponse = {
      data: result.body,
      status: result.status,
      statusText: '',
      headers: AxiosHeaders.from(result.headers),
      config,
      request: { latencyMs: result.latencyMs },
    };
    const statusError = classifyStatus(result.status, url, result.headers);
    if (statusError) {
      const err = new AxiosError(statusError.message, 'ERR_BAD_RESPONSE', config, null, response) as ClassifiedAxiosError;
      err.probeError = statusError;
      err.latencyMs = result.latencyMs;
      throw err;
    }
    return response;
  };
  instance.defaults.adapter = adapter;
  return instance;
}

/** Turn anything thrown by an SDK call into a ProbeError (never exposes headers or tokens). */
export function probeErrorFromAxios(err: unknown): ProbeError {
  const pe = (err as Partial<ClassifiedAxiosError> | null)?.probeError;
  if (pe) return pe;
  return { code: 'malformed', message: 'unexpected failure while talking to the server' };
}
