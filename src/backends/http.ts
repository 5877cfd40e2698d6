// The one small HTTP base both backends use. Guarantees, for every request:
// - a hard deadline (AbortSignal) that also bounds a hung peer on a reused keep-alive socket, plus
//   undici's headersTimeout/bodyTimeout set to the same budget;
// - the response body is read to at most 1 MB, then the socket is dropped (`too_large`);
// - redirects are NEVER followed (undici's request() does not follow them; a 3xx is reported as an
//   `http_error` naming only the target's origin) — a redirect to another host must not receive
//   our headers, and a same-host redirect is unexpected for the endpoints we call;
// - every failure is classified into a ProbeError with plain words that never contain a token
//   (tokens travel in headers; any URL printed goes through `redactUrl`).
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request, type Dispatcher } from 'undici';
import type { ProbeError } from '../core/types.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpClientOptions {
  /** Test hook: resolve names without real DNS (e.g. everything to 127.0.0.2). */
  lookup?: LookupFunction;
  /** Test hook / advanced: a ready-made undici dispatcher (then `lookup` and `tls` are ignored). */
  dispatcher?: Dispatcher;
  /** Verify TLS certificates (default true; plex.direct hosts carry valid certificates). */
  rejectUnauthorized?: boolean;
  maxBodyBytes?: number;
  /**
   * Connections per origin (default 1: a light Client per address, what probes of 30,000 routes
   * need). Interactive requests (library pages, posters, play calls) use a client with several, so
   * those of one server overlap as a browser's would.
   */
  connectionsPerOrigin?: number;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** A larger (or smaller) cap for this call only: library pages and images (default: the client's 1 MB). */
  maxBodyBytes?: number;
}

export interface HttpResponse {
  ok: true;
  status: number;
  headers: Record<string, string>;
  body: string;
  latencyMs: number;
}
export interface HttpFailure {
  ok: false;
  error: ProbeError;
  latencyMs: number;
}
export type HttpResult = HttpResponse | HttpFailure;

/** An answer whose body is kept as bytes (images): the same guarantees, no text decoding. */
export interface HttpBytesResponse {
  ok: true;
  status: number;
  headers: Record<string, string>;
  bytes: Buffer;
  latencyMs: number;
}
export type HttpBytesResult = HttpBytesResponse | HttpFailure;

const SECRET_PARAMS = /^(x-plex-token|apikey|api_key|token|access_token|accesstoken|x-emby-token|x-mediabrowser-token)$/i;

/**
 * A server-relative path (`/videos/…/master.m3u8?…&ApiKey=…`) with every token-like query
 * parameter removed, not redacted: what is left is handed on (playlists, the HLS proxy).
 */
export function stripTokenParams(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_PARAMS.test(key)) params.delete(key);
  const rest = params.toString();
  return rest ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
}

/** A URL safe to print: userinfo dropped, token-like query parameters replaced. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(invalid address)';
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) url.searchParams.set(key, 'REDACTED');
  }
  url.hash = '';
  return url.toString();
}

/** host:port of a URL, for messages. */
export function describeHost(raw: string): string {
  try {
    const url = new URL(raw);
    const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
    return `${url.hostname}:${port}`;
  } catch {
    return '(invalid address)';
  }
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    const n = (cur as { name?: unknown }).name;
    if (typeof n === 'string') codes.push(n);
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const e of errors) codes.push(...errorCodes(e));
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * Classify a thrown network error. `timedOut` tells whether our own deadline fired, which wins
 * over whatever error the aborted socket produced.
 */
export function classifyNetworkError(err: unknown, url: string, timeoutMs: number, timedOut: boolean): ProbeError {
  const host = describeHost(url);
  if (timedOut) return { code: 'timeout', message: `no answer within ${formatSeconds(timeoutMs)} from ${host}` };
  const codes = errorCodes(err);
  const has = (...c: string[]) => c.some((x) => codes.includes(x));
  if (has('UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'TimeoutError', 'ETIMEDOUT', 'ECONNABORTED')) {
    return { code: 'timeout', message: `no answer within ${formatSeconds(timeoutMs)} from ${host}` };
  }
  if (has('AbortError', 'UND_ERR_ABORTED', 'ERR_CANCELED')) return { code: 'timeout', message: `request to ${host} was cancelled` };
  if (has('ECONNREFUSED')) return { code: 'refused', message: `connection refused by ${host}` };
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA')) {
    return { code: 'dns', message: `the name ${host.replace(/:\d+$/, '')} could not be resolved` };
  }
  if (codes.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_') || c.startsWith('CERT_'))) {
    return { code: 'tls', message: `secure connection to ${host} failed (certificate or TLS error)` };
  }
  if (has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE')) return { code: 'refused', message: `connection to ${host} was reset` };
  if (has('EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN')) return { code: 'refused', message: `${host} is unreachable` };
  if (has('UND_ERR_INVALID_ARG', 'ERR_INVALID_URL', 'TypeError')) return { code: 'malformed', message: `invalid address ${redactUrl(url)}` };
  return { code: 'http_error', message: `request to ${host} failed` };
}

/** The ProbeError for a non-2xx status, or null for 2xx. */
export function classifyStatus(status: number, url: string, headers: Record<string, string> = {}): ProbeError | null {
  if (status >= 200 && status < 300) return null;
  const host = describeHost(url);
  if (status === 401 || status === 403) {
    return { code: 'unauthorized', status, message: `${host} rejected the sign-in (HTTP ${status}); sign in again` };
  }
  // plex.tv's short-lived JWTs answer 498 once expired: a sign-in to renew, not a broken server.
  if (status === 498) return { code: 'unauthorized', status, message: `${host} says the sign-in token expired (HTTP 498)` };
  if (status >= 300 && status < 400) {
    const location = headers['location'];
    let target = 'another address';
    if (location) {
      try {
        target = new URL(location, url).origin;
      } catch {
        target = 'an invalid address';
      }
    }
    return { code: 'http_error', status, message: `${host} redirected to ${target}; redirects are not followed` };
  }
  if (status === 503) return { code: 'http_error', status, message: `${host} is up but not ready (HTTP 503, server is starting)` };
  return { code: 'http_error', status, message: `${host} answered HTTP ${status}` };
}

export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly maxBodyBytes: number;

  constructor(options: HttpClientOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        // One connection per origin: undici then keeps a light Client instead of a Pool per address,
        // which at 30,000 probed routes was a third of the engine's garbage (bench/scale). Probes of
        // one route never overlap (one check per source at a time), so nothing waits behind it.
        keepAliveTimeout: 15_000,
        connections: Math.max(1, options.connectionsPerOrigin ?? 1),
        connect: {
          ...(options.lookup ? { lookup: options.lookup } : {}),
          rejectUnauthorized: options.rejectUnauthorized ?? true,
        },
      });
      this.ownsDispatcher = true;
    }
  }

  /** Any HTTP answer (any status) is `ok: true`; only network-level and size failures are `ok: false`. */
  async request(req: HttpRequest): Promise<HttpResult> {
    const res = await this.requestBytes(req);
    if (!res.ok) return res;
    return { ok: true, status: res.status, headers: res.headers, body: res.bytes.toString('utf8'), latencyMs: res.latencyMs };
  }

  /** As `request`, the body kept as bytes (images). */
  async requestBytes(req: HttpRequest): Promise<HttpBytesResult> {
    const maxBodyBytes = req.maxBodyBytes !== undefined && req.maxBodyBytes > 0 ? req.maxBodyBytes : this.maxBodyBytes;
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('deadline')), Math.max(1, req.timeoutMs || 0));
    const onCallerAbort = () => deadline.abort(new Error('cancelled'));
    if (req.signal?.aborted) onCallerAbort();
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let timedOut = false;
    deadline.signal.addEventListener('abort', () => {
      timedOut = !req.signal?.aborted;
    });
    try {
      const send = () =>
        request(req.url, {
          dispatcher: this.dispatcher,
          method: req.method ?? 'GET',
          headers: req.headers ?? {},
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: deadline.signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
      let res: Awaited<ReturnType<typeof send>> | undefined;
      for (let attempt = 0; !res; attempt++) {
        try {
          res = await send();
        } catch (err) {
          // A pooled keep-alive socket the server closed while idle fails at once with a reset,
          // before any response. Browsers retry that on another connection; so do we, for GET
          // only, a few times (several idle sockets can be stale together), within the same
          // deadline. A dead server then shows up as refused on the fresh connection.
          if ((req.method ?? 'GET') !== 'GET' || attempt >= 3 || deadline.signal.aborted || !isStaleSocketError(err)) throw err;
        }
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        res.body.destroy();
        return { ok: false, latencyMs: elapsed(), error: tooLarge(req.url, res.statusCode, maxBodyBytes) };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBodyBytes) {
          res.body.destroy();
          return { ok: false, latencyMs: elapsed(), error: tooLarge(req.url, res.statusCode, maxBodyBytes) };
        }
        chunks.push(buf);
      }
      return { ok: true, status: res.statusCode, headers, bytes: Buffer.concat(chunks), latencyMs: elapsed() };
    } catch (err) {
      if (!timedOut && req.signal?.aborted) {
        return { ok: false, latencyMs: elapsed(), error: { code: 'timeout', message: `request to ${describeHost(req.url)} was cancelled` } };
      }
      return { ok: false, latencyMs: elapsed(), error: classifyNetworkError(err, req.url, req.timeoutMs, timedOut) };
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async close(): Promise<void> {
    // destroy, not close: a hung peer must not hold shutdown hostage.
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => undefined);
  }
}

function isStaleSocketError(err: unknown): boolean {
  const codes = errorCodes(err);
  return codes.includes('UND_ERR_SOCKET') || codes.includes('ECONNRESET') || codes.includes('EPIPE');
}

function tooLarge(url: string, status: number, maxBodyBytes: number): ProbeError {
  return { code: 'too_large', status, message: `${describeHost(url)} answered with more than ${formatBytes(maxBodyBytes)}` };
}

/** "1 MB", "8 MB", "512 KB": a cap in words. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
