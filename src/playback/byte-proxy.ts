// The direct-play byte proxy (issue 15): the browser's <video> talks only to Marquee; Marquee
// fetches the bytes over the route the engine chose. When the upstream read fails or stalls, or the
// engine moves the source to another route, the remaining range (`bytes=<next>-<end>`) is asked
// for over the current route, checked to be the same file (total length, ETag / Last-Modified when
// given), and written into the SAME browser response: the player never sees the route change.
// A different file ends the response short (never spliced bytes); a vanished browser aborts the
// upstream at once; backpressure end to end (the upstream is paused while the browser has not taken
// the last chunk), with events rather than a promise per chunk.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { MediaRange, MediaResponse } from '../backends/types.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { PlaySession } from './sessions.js';
import { drained } from './drained.js';

/** A browser Range header, parsed strictly. Multi-range: the first range is served (one body, no multipart). */
export type ParsedRange =
  | { kind: 'all' }
  | { kind: 'from'; start: number; end?: number }
  | { kind: 'suffix'; length: number }
  | { kind: 'invalid' };

const RANGE_PART = /^(\d*)-(\d*)$/;

export function parseRange(header: string | undefined): ParsedRange {
  if (header === undefined) return { kind: 'all' };
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (!m) return { kind: 'invalid' };
  const parts = m[1]!.split(',').map((p) => p.trim());
  if (parts.some((p) => !RANGE_PART.test(p))) return { kind: 'invalid' };
  const [, a, b] = RANGE_PART.exec(parts[0]!)!;
  if (a === '' && b === '') return { kind: 'invalid' };
  if (a === '') {
    const length = Number(b);
    return Number.isSafeInteger(length) && length > 0 ? { kind: 'suffix', length } : { kind: 'invalid' };
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start)) return { kind: 'invalid' };
  if (b === '') return { kind: 'from', start };
  const end = Number(b);
  if (!Number.isSafeInteger(end) || end < start) return { kind: 'invalid' };
  return { kind: 'from', start, end };
}

/** The inclusive byte range to send for a parsed range of a file of `total` bytes; null: unsatisfiable. */
export function resolveRange(range: ParsedRange, total: number): { start: number; end: number } | null {
  switch (range.kind) {
    case 'all':
      return total > 0 ? { start: 0, end: total - 1 } : null;
    case 'suffix':
      return total > 0 ? { start: Math.max(0, total - range.length), end: total - 1 } : null;
    case 'from':
      if (range.start >= total) return null;
      return { start: range.start, end: Math.min(range.end ?? total - 1, total - 1) };
    case 'invalid':
      return null;
  }
}

export interface ByteProxyOptions {
  caller: RoutedCaller;
  engine: Pick<Engine, 'subscribe' | 'getSource'>;
  /** A read that yields nothing this long while the browser is reading is a stall (default 1.5 s). */
  stallMs?: number;
  /** Budget of one upstream open, failover included (default 8 s). */
  openTimeoutMs?: number;
  /** Resumes allowed per response (default 6) and the time they may span (default 60 s). */
  maxResumes?: number;
  resumeWindowMs?: number;
  /** Messages in words (never a token or a server URL). */
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

interface Upstream {
  response: MediaResponse;
  routeId: string;
  total: number;
}

/**
 * Serves GET /api/play/:session/stream for one browser request. Never throws: failures before the
 * first byte are an HTTP status with a message in words; failures after it end the response short.
 */
export async function serveMedia(req: IncomingMessage, res: ServerResponse, session: PlaySession, options: ByteProxyOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const stallMs = options.stallMs ?? 1_500;
  const browserGone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) browserGone.abort();
  };
  res.on('close', onClose);
  let current: Upstream | null = null;
  let unsubscribe: (() => void) | null = null;
  try {
    const requested = parseRange(req.headers.range);
    if (requested.kind === 'invalid') return await unsatisfiable(res, session, options, browserGone.signal);
    // The first open asks for what we can express without knowing the total; a suffix needs the total first.
    let firstRange: MediaRange;
    if (requested.kind === 'from') firstRange = { start: requested.start, ...(requested.end !== undefined ? { end: requested.end } : {}) };
    else if (requested.kind === 'suffix' && session.length !== null) firstRange = resolveRange(requested, session.length) ?? { start: 0 };
    else if (requested.kind === 'suffix') {
      const total = await learnTotal(session, options, browserGone.signal);
      if (total === null) return failBeforeBytes(res, 502, `${sourceName(options, session)} did not say how long the file is`);
      const resolved = resolveRange(requested, total);
      if (!resolved) return await unsatisfiable(res, session, options, browserGone.signal);
      firstRange = resolved;
    } else firstRange = { start: 0 };

    const opened = await openUpstream(session, firstRange, options, stallMs, browserGone.signal);
    if (!opened.ok) {
      if (opened.status === 416) return await unsatisfiable(res, session, options, browserGone.signal);
      return failBeforeBytes(res, opened.status, opened.message);
    }
    current = opened.upstream;
    const sameFile = checkSameFile(session, current);
    if (sameFile) return failBeforeBytes(res, 502, sameFile);
    rememberFile(session, current);
    const span = resolveRange(requested.kind === 'suffix' ? { kind: 'from', start: firstRange.start } : requested, current.total);
    const start = current.response.range?.start ?? 0;
    if (!span || span.start !== start) {
      current.response.cancel();
      return failBeforeBytes(res, 502, `${sourceName(options, session)} answered another range than asked for`);
    }
    const end = span.end;

    res.statusCode = requested.kind === 'all' ? 200 : 206;
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('content-type', safeContentType(current.response.contentType));
    res.setHeader('content-length', String(end - start + 1));
    if (requested.kind !== 'all') res.setHeader('content-range', `bytes ${start}-${end}/${current.total}`);
    if (current.response.etag) res.setHeader('etag', current.response.etag);
    if (current.response.lastModified) res.setHeader('last-modified', current.response.lastModified);
    res.setHeader('cache-control', 'no-store');

    // The engine moved the source to another route: leave the old one now, before it stalls.
    unsubscribe = options.engine.subscribe((message) => {
      if (!current) return;
      const sourceId = message.type === 'source' ? message.source.source.id : message.type === 'engine' ? message.message.event.sourceId : null;
      if (sourceId !== session.sourceId) return;
      const status = options.engine.getSource(session.sourceId)?.status;
      const routeId = status && (status.state === 'connected' || status.state === 'sync_failed') ? status.routeId : null;
      if (routeId !== null && routeId !== current.routeId) {
        log('info', { sessionId: session.id.slice(0, 6) }, 'the source moved to another route: the stream follows it');
        current.response.cancel();
      }
    });

    let next = start;
    let resumes = 0;
    const firstResumeAt: number[] = [];
    for (;;) {
      const copied = await copyRange(current.response, res, next, end, browserGone.signal);
      next = copied.next;
      const why = copied.why;
      if (browserGone.signal.aborted) return;
      if (next > end) break;
      // Resume the rest over the route that is current now (the routed caller fails over).
      current.response.cancel();
      resumes++;
      firstResumeAt.push(Date.now());
      if (resumes > (options.maxResumes ?? 6) || Date.now() - firstResumeAt[0]! > (options.resumeWindowMs ?? 60_000)) {
        log('warn', { sessionId: session.id.slice(0, 6), at: next }, `playback stream given up after ${resumes - 1} resumes: ${why}`);
        return endShort(res);
      }
      const again = await openUpstream(session, { start: next, end }, options, stallMs, browserGone.signal);
      if (browserGone.signal.aborted) {
        if (again.ok) again.upstream.response.cancel();
        return;
      }
      if (!again.ok) {
        log('warn', { sessionId: session.id.slice(0, 6), at: next }, `playback stream could not resume at byte ${next}: ${again.message}`);
        return endShort(res);
      }
      current = again.upstream;
      const other = checkSameFile(session, current) ?? (current.response.range?.start !== next ? 'the server answered another range than asked for' : null);
      if (other) {
        current.response.cancel();
        log('warn', { sessionId: session.id.slice(0, 6), at: next }, `playback stream ended: ${other} — no bytes of it were sent`);
        return endShort(res);
      }
      log('info', { sessionId: session.id.slice(0, 6), at: next, resumes }, `playback stream resumed at byte ${next} (${why})`);
    }
    res.end();
  } catch (error) {
    log('warn', { sessionId: session.id.slice(0, 6) }, `playback stream failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    endShort(res);
  } finally {
    unsubscribe?.();
    current?.response.cancel();
    res.off('close', onClose);
  }
}

type Opened = { ok: true; upstream: Upstream } | { ok: false; status: number; message: string };

async function openUpstream(session: PlaySession, range: MediaRange, options: ByteProxyOptions, stallMs: number, signal: AbortSignal): Promise<Opened> {
  const outcome = await options.caller.call(
    session.sourceId,
    async (use, callSignal) => {
      if (!use.backend.media) return { ok: false, error: { code: 'malformed', message: `a ${use.source.kind} server cannot stream media here` } };
      return use.backend.media.open(use, session.mediaPath, range, { timeoutMs: options.openTimeoutMs ?? 8_000, stallMs, signal: callSignal });
    },
    { timeoutMs: options.openTimeoutMs ?? 8_000, signal },
  );
  if (!outcome.ok) {
    const status = outcome.error?.status === 416 ? 416 : outcome.reason === 'offline' ? 503 : outcome.reason === 'unknown_source' ? 404 : 502;
    return { ok: false, status, message: outcome.message };
  }
  const response = outcome.value;
  const total = response.range?.total ?? (response.status === 200 && range.start === 0 ? response.contentLength : null);
  if (total === null) {
    response.cancel();
    return { ok: false, status: 502, message: 'the server did not say how long the file is' };
  }
  if (!response.range) response.range = { start: 0, end: total - 1, total };
  return { ok: true, upstream: { response, routeId: outcome.routeId, total } };
}

/** Null when the answer is of the session's file; else why not, in words. */
function checkSameFile(session: PlaySession, upstream: Upstream): string | null {
  if (session.length !== null && upstream.total !== session.length) return `the server now has a file of ${upstream.total} bytes where it had ${session.length}: a different file`;
  if (session.etag !== null && upstream.response.etag !== undefined && upstream.response.etag !== session.etag) return 'the file changed on the server (another ETag)';
  if (session.lastModified !== null && upstream.response.lastModified !== undefined && upstream.response.lastModified !== session.lastModified) return 'the file changed on the server (another Last-Modified)';
  return null;
}

function rememberFile(session: PlaySession, upstream: Upstream): void {
  session.length ??= upstream.total;
  session.etag ??= upstream.response.etag ?? null;
  session.lastModified ??= upstream.response.lastModified ?? null;
}

async function learnTotal(session: PlaySession, options: ByteProxyOptions, signal: AbortSignal): Promise<number | null> {
  if (session.length !== null) return session.length;
  const probe = await openUpstream(session, { start: 0, end: 0 }, options, options.stallMs ?? 1_500, signal);
  if (!probe.ok) return null;
  probe.upstream.response.cancel();
  if (checkSameFile(session, probe.upstream)) return null;
  rememberFile(session, probe.upstream);
  return probe.upstream.total;
}

async function unsatisfiable(res: ServerResponse, session: PlaySession, options: ByteProxyOptions, signal: AbortSignal): Promise<void> {
  const total = await learnTotal(session, options, signal);
  res.statusCode = 416;
  res.setHeader('content-range', `bytes */${total ?? '*'}`);
  res.setHeader('accept-ranges', 'bytes');
  res.end();
}

function failBeforeBytes(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return endShort(res);
  const body = JSON.stringify({ error: status === 503 ? 'offline' : status === 404 ? 'not_found' : 'upstream_failed', message });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', String(Buffer.byteLength(body)));
  res.end(body);
}

/** The browser sees a short read (Content-Length not reached), never wrong bytes. */
function endShort(res: ServerResponse): void {
  res.destroy();
}

/**
 * Writes the upstream body into the browser response from byte `from` up to `end` (inclusive) and
 * says where it stopped and why. Backpressure end to end: a Node stream is paused while the browser
 * has not taken the last chunk and resumed on 'drain' (events, no promise or timer per chunk —
 * what `pipe` does, but bounded to the range and without ending the response, which the next
 * upstream may continue); any other iterable is read one chunk after the browser took the last.
 */
function copyRange(upstream: MediaResponse, res: ServerResponse, from: number, end: number, browserGone: AbortSignal): Promise<{ next: number; why: string }> {
  const body = upstream.body;
  // An upstream body that ends where the browser's range ends is read to its end, not cancelled
  // after its last byte: its connection stays in the keep-alive pool for the next request.
  if (body instanceof Readable) return copyStream(body, res, from, end, upstream.range?.end === end, browserGone);
  return copyIterable(body, res, from, end, browserGone);
}

function copyStream(body: Readable, res: ServerResponse, from: number, end: number, endsWithRange: boolean, browserGone: AbortSignal): Promise<{ next: number; why: string }> {
  return new Promise((resolve) => {
    let next = from;
    let settled = false;
    const finish = (why: string) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      res.off('drain', onDrain);
      res.off('close', onBrowserGone);
      resolve({ next, why });
    };
    const onData = (chunk: Uint8Array) => {
      const room = end - next + 1;
      if (room <= 0) return;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      next += piece.length;
      if (!res.write(piece)) body.pause();
      if (next > end && !(endsWithRange && body.readableLength === 0)) finish('done');
    };
    const onDrain = () => body.resume();
    const onEnd = () => finish(next > end ? 'done' : 'the upstream ended early');
    const onError = (error: Error) => finish(error.message || 'the upstream read failed');
    const onClose = () => finish('the upstream connection closed');
    const onBrowserGone = () => finish('the browser left');
    if (browserGone.aborted || body.destroyed) return finish(browserGone.aborted ? 'the browser left' : 'the upstream connection closed');
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    res.on('drain', onDrain);
    res.on('close', onBrowserGone);
  });
}

async function copyIterable(body: AsyncIterable<Uint8Array>, res: ServerResponse, from: number, end: number, browserGone: AbortSignal): Promise<{ next: number; why: string }> {
  let next = from;
  try {
    for await (const chunk of body) {
      if (browserGone.aborted) break;
      const room = end - next + 1;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      next += piece.length;
      if (!res.write(piece)) await drained(res);
      if (next > end) break;
    }
  } catch (error) {
    return { next, why: error instanceof Error ? error.message : 'the upstream read failed' };
  }
  return { next, why: 'the upstream ended early' };
}

/** Only a plain media type goes to the browser (no parameters smuggled from upstream). */
function safeContentType(value: string): string {
  const type = value.split(';')[0]!.trim().toLowerCase();
  return /^(video|audio|application)\/[a-z0-9.+-]+$/.test(type) ? type : 'application/octet-stream';
}

function sourceName(options: ByteProxyOptions, session: PlaySession): string {
  return options.engine.getSource(session.sourceId)?.source.name ?? 'the server';
}
