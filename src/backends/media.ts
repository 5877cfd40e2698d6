// Raw ranged media GETs (issue 15, direct play). Not the HttpClient: media has no body cap, must
// stream, and must not queue behind the probes on that client's one connection per origin. Same
// guarantees otherwise: a deadline on the headers and on every read (a stall), redirects never
// followed, failures classified into ProbeErrors in plain words, tokens only in headers.
import type { LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { classifyNetworkError, classifyStatus, describeHost, formatSeconds } from './http.js';
import { MediaReadError, type BrowseResult, type MediaOpenOptions, type MediaRange, type MediaResponse, type MediaStreams, type RouteContext } from './types.js';

export interface MediaFetcherOptions {
  lookup?: LookupFunction;
  rejectUnauthorized?: boolean;
  dispatcher?: Dispatcher;
}

/** `bytes=<start>-<end>` of a 206 answer. */
const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

export class MediaFetcher {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(options: MediaFetcherOptions = {}) {
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        keepAliveTimeout: 10_000,
        connect: { ...(options.lookup ? { lookup: options.lookup } : {}), rejectUnauthorized: options.rejectUnauthorized ?? true },
      });
  }

  /** GET `url` with `headers` (the token is in them, never in the URL). Never throws. */
  async open(url: string, headers: Record<string, string>, range: MediaRange | null, options: MediaOpenOptions): Promise<BrowseResult<MediaResponse>> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('deadline'));
    }, Math.max(1, options.timeoutMs));
    const onAbort = () => controller.abort(new Error('cancelled'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const host = describeHost(url);
    try {
      const res = await request(url, {
        dispatcher: this.dispatcher,
        method: 'GET',
        headers: { ...headers, ...(range ? { range: `bytes=${range.start}-${range.end ?? ''}` } : {}) },
        signal: controller.signal,
        headersTimeout: options.timeoutMs,
        // Our own per-read stall timer below judges the body; undici's would also count pauses.
        bodyTimeout: 0,
      });
      clearTimeout(timer);
      // Errors reach the reader through the iterator; a body cancelled before any read must not throw unheard.
      res.body.on('error', () => undefined);
      const header = (name: string): string | undefined => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.body.destroy();
        const plain: Record<string, string> = {};
        const location = header('location');
        if (location) plain['location'] = location;
        return { ok: false, error: classifyStatus(res.statusCode, url, plain) ?? { code: 'http_error', status: res.statusCode, message: `${host} answered HTTP ${res.statusCode}` } };
      }
      let parsedRange: MediaResponse['range'];
      if (res.statusCode === 206) {
        const m = CONTENT_RANGE.exec(header('content-range') ?? '');
        if (!m) {
          res.body.destroy();
          return { ok: false, error: { code: 'malformed', message: `${host} answered a range without a valid Content-Range` } };
        }
        parsedRange = { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) };
      }
      const declared = Number(header('content-length'));
      const etag = header('etag');
      const lastModified = header('last-modified');
      const cancel = () => {
        options.signal?.removeEventListener('abort', onAbort);
        res.body.destroy();
      };
      return {
        ok: true,
        value: {
          status: res.statusCode,
          contentType: header('content-type') ?? 'application/octet-stream',
          contentLength: Number.isFinite(declared) && header('content-length') !== undefined ? declared : null,
          ...(parsedRange ? { range: parsedRange } : {}),
          ...(etag ? { etag } : {}),
          ...(lastModified ? { lastModified } : {}),
          body: stallGuarded(res.body, options.stallMs, url, () => options.signal?.removeEventListener('abort', onAbort)),
          cancel,
        },
      };
    } catch (err) {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      return { ok: false, error: classifyNetworkError(err, url, options.timeoutMs, timedOut) };
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => undefined);
  }
}

/**
 * The body, read chunk by chunk; a read that yields nothing within `stallMs` destroys the socket
 * and throws a MediaReadError (timeout). Only a pending read is timed: a consumer that pauses
 * (backpressure from a slow browser) is not a stall.
 */
async function* stallGuarded(body: AsyncIterable<unknown> & { destroy(error?: Error): unknown }, stallMs: number, url: string, done: () => void): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => {
        timer = setTimeout(() => resolve('stalled'), stallMs);
      });
      let next: IteratorResult<unknown> | 'stalled';
      const read = iterator.next();
      // A read that loses the race to the stall timer rejects once the socket is destroyed: seen here.
      read.catch(() => undefined);
      try {
        next = await Promise.race([read, stalled]);
      } catch (err) {
        throw new MediaReadError(classifyNetworkError(err, url, stallMs, false));
      } finally {
        clearTimeout(timer);
      }
      if (next === 'stalled') {
        body.destroy();
        throw new MediaReadError({ code: 'timeout', message: `${describeHost(url)} sent nothing for ${formatSeconds(stallMs)} mid-stream` });
      }
      if (next.done) return;
      yield next.value as Uint8Array;
    }
  } finally {
    done();
    body.destroy();
  }
}

/**
 * A server-relative media path (`/library/parts/…`, `/Videos/{id}/stream?…`) joined to a route:
 * only a path, never a URL of its own (no client-chosen host can be fetched).
 */
export function mediaUrl(routeUrl: string, mediaPath: string): string | null {
  if (!mediaPath.startsWith('/') || mediaPath.startsWith('//') || /[\s\\]/.test(mediaPath)) return null;
  const base = new URL(routeUrl);
  const url = new URL(routeUrl.replace(/\/+$/, '') + mediaPath);
  return url.origin === base.origin ? url.toString() : null;
}

/** Media streams of one server kind: the fetcher with that kind's auth headers. */
export function mediaStreams(fetcher: MediaFetcher, headersFor: (call: RouteContext) => Record<string, string>): MediaStreams {
  return {
    open(call, mediaPath, range, options) {
      const url = mediaUrl(call.route.url, mediaPath);
      if (!url) return Promise.resolve({ ok: false, error: { code: 'malformed', message: 'not a server-relative media path' } });
      return fetcher.open(url, headersFor(call), range, options);
    },
  };
}
