// Raw ranged media GETs (issue 15, direct play). Not the HttpClient: media has no body cap, must
// stream, and must not queue behind the probes on that client's one connection per origin. Same
// guarantees otherwise: a deadline on the headers and on every read (a stall), redirects never
// followed, failures classified into ProbeErrors in plain words, tokens only in headers.
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { classifyNetworkError, classifyStatus, describeHost, formatSeconds } from './http.js';
import { MediaReadError, type BrowseResult, type MediaOpenOptions, type MediaRange, type MediaResponse, type MediaStreams, type RouteContext } from './types.js';

export interface MediaFetcherOptions {
  lookup?: LookupFunction;
  rejectUnauthorized?: boolean;
  dispatcher?: Dispatcher;
}

/**
 * Bytes a body may hold that its consumer has not taken yet (bounded: a browser that stops reading
 * costs at most this per stream, plus socket buffers). Larger than undici's 64 KiB default so a
 * short pause of the consumer does not stop the upstream socket at once.
 */
export const MEDIA_BODY_BUFFER_BYTES = 256 * 1024;

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
        // Our own stall watchdog (guardStalls) judges the body; undici's would also count pauses.
        bodyTimeout: 0,
        highWaterMark: MEDIA_BODY_BUFFER_BYTES,
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
          body: guardStalls(res.body, options.stallMs, url, () => options.signal?.removeEventListener('abort', onAbort)),
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
 * Stall detection on the body itself, at no cost per chunk beyond reading the clock: one watchdog
 * timer per body, re-armed about once per `stallMs` while bytes flow (not a timer and a promise per
 * read). A stall is a read the stream asked for (`_read`: its buffer has room) that nothing arrived
 * for within `stallMs`; a consumer that stops reading lets the buffer fill, the stream stops asking,
 * and that pause is never a stall. The stalled body is destroyed with a MediaReadError (timeout),
 * which also drops its connection. Read errors reach the consumer as MediaReadErrors too.
 *
 * undici's body Readable is used as it is (no second stream copying every chunk): its `push`,
 * `_read` and `_destroy` — the producer side of the public Readable contract, called by undici on
 * the instance — are wrapped to see arrivals, asks and failures.
 */
function guardStalls(body: Readable, stallMs: number, url: string, done: () => void): Readable {
  /** Since when a read has been pending; null when none is (buffer full, ended, destroyed). */
  let waitingSince: number | null = null;
  let watchdog: NodeJS.Timeout | null = null;
  const check = () => {
    watchdog = null;
    if (waitingSince === null || body.destroyed) return;
    const idle = Date.now() - waitingSince;
    if (idle >= stallMs) {
      body.destroy(new MediaReadError({ code: 'timeout', message: `${describeHost(url)} sent nothing for ${formatSeconds(stallMs)} mid-stream` }));
      return;
    }
    watchdog = setTimeout(check, stallMs - idle);
  };
  const stopWatching = () => {
    waitingSince = null;
    if (watchdog) clearTimeout(watchdog);
    watchdog = null;
  };
  /** The stream has room and asks for bytes from now on (the clock restarts at every arrival). */
  const wantMore = () => {
    waitingSince = Date.now();
    watchdog ??= setTimeout(check, stallMs);
  };
  const push = body.push.bind(body);
  const read = body._read.bind(body);
  const destroy = body._destroy.bind(body);
  body.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    const more = push(chunk, encoding);
    if (chunk === null) stopWatching();
    else if (more) wantMore();
    else waitingSince = null;
    return more;
  };
  body._read = (size: number): void => {
    if (waitingSince === null && !body.readableEnded) wantMore();
    read(size);
  };
  body._destroy = (error: Error | null, callback: (error?: Error | null) => void): void => {
    stopWatching();
    done();
    const plain = error && !(error instanceof MediaReadError) && errorCode(error) !== 'UND_ERR_ABORTED' ? new MediaReadError(classifyNetworkError(error, url, stallMs, false)) : error;
    destroy(plain, callback);
  };
  body.once('end', () => {
    stopWatching();
    done();
  });
  return body;
}

function errorCode(error: Error): unknown {
  return (error as { code?: unknown }).code;
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
