// The transcode path over HLS through Marquee (issue 15). The browser's hls.js loads
// `/api/play/{session}/hls/master.m3u8` and the names it lists; Marquee fetches the server's
// playlists and segments over the route the engine chose NOW (the routed caller: a request that
// dies with its route is retried on the next one), rewrites the playlists (hls-playlist.ts: no
// token, no host, only names Marquee handed out), and keeps the transcode alive. The play service
// (play-service.ts) attaches every transcode decision here and ends the stream when its session
// ends: this is the one keep-alive, restart and stop of a transcode in Marquee.
// - keep-alive pings while the session lives (Jellyfin /Sessions/Playing/Ping, Plex …/ping);
//   during an outage they simply fail and are tried again — nothing is restarted for that alone;
// - when the server forgot the transcode (a playlist, segment or ping answered 404 once the source
//   answers again) it is restarted at the position the player is at (a new decision with startMs)
//   and mapped under the SAME Marquee names: segment names are the media sequence numbers, and a
//   server that numbers segments by their place in the whole item (Jellyfin, the simulators)
//   lists the same numbers again — the player never notices. When the new playlist does not list
//   the name the player asks for (a server that numbers from 0 after a restart), `generation` is
//   bumped: the player reloads the master at its position.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaRange, MediaResponse, PlaybackDecision, PlaybackRequest } from '../backends/types.js';
import { MediaReadError } from '../backends/types.js';
import type { Engine, RoutedCaller, RoutedOutcome } from '../monitor/engine-types.js';
import { PLAYLIST_LIMITS, rewritePlaylist, type HlsEntry } from './hls-playlist.js';
import { drained } from './drained.js';

export type TranscodeDecision = Extract<PlaybackDecision, { method: 'transcode' }>;

/** What the decision helper hands over when POST /api/play chose a transcode. */
export interface HlsAttachInput {
  sessionId: string;
  sourceId: string;
  /** The request that produced `decision` (a restart asks again with another startMs). */
  request: PlaybackRequest;
  decision: TranscodeDecision;
}

/** What changed about a stream, for the play session's answer (connection line, generation). */
export interface HlsChange {
  sessionId: string;
  decision: TranscodeDecision;
  generation: number;
  /** The new transcode does not list the player's next name: it must reload the master. */
  reload: boolean;
  why: string;
}

export interface HlsServiceOptions {
  caller: RoutedCaller;
  engine: Pick<Engine, 'getSource'>;
  /** Keep-alive cadence (default 20 s: Jellyfin kills an unpinged HLS transcode after ~60 s, Plex after 90 s). */
  pingIntervalMs?: number;
  /** Budget of one playlist or segment open, failover included (default 8 s). */
  openTimeoutMs?: number;
  /** A read that yields nothing this long is a stall (default 1.5 s). */
  stallMs?: number;
  /** Resumes of one segment body (default 8). */
  maxResumes?: number;
  onChange?(change: HlsChange): void;
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

interface VariantInfo {
  mediaSequence: number;
  durations: number[];
  /** Where this playlist's first segment sits in the item (ms): the startMs of the decision that made it. */
  baseMs: number;
}

export interface HlsStream {
  readonly sessionId: string;
  readonly sourceId: string;
  request: PlaybackRequest;
  decision: TranscodeDecision;
  generation: number;
  /** The allow-list: Marquee name → server-relative path, from the session's own playlists. */
  entries: Map<string, HlsEntry>;
  variants: Map<string, VariantInfo>;
  /** The player's position as Marquee last learned it (a segment served, a progress report). */
  positionMs: number;
  restarts: number;
  restarting: Promise<RestartOutcome> | null;
  /** The server answered a ping with 404: the next request restarts first. */
  serverForgot: boolean;
  pingTimer: NodeJS.Timeout | null;
  ended: boolean;
}

export type RestartOutcome = { ok: true; reload: boolean } | { ok: false; message: string };

/** Names the browser may ask for under `hls/`: `master.m3u8`, `p3.m3u8`, `p3-1234.ts`, `p3-key0.key`, `p3-map0.mp4`. */
export const HLS_NAME = /^(master\.m3u8|p\d{1,4}\.m3u8|p\d{1,4}-(?:\d{1,9}|key\d{1,4}|map\d{1,4})\.[a-z0-9]{1,6})$/;

const MAX_RESTARTS = 20;

export class HlsService {
  private readonly streams = new Map<string, HlsStream>();
  private readonly log: NonNullable<HlsServiceOptions['log']>;

  constructor(private readonly options: HlsServiceOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** Starts serving a transcode decision for a play session (and its keep-alive). */
  attach(input: HlsAttachInput): HlsStream {
    this.detach(input.sessionId);
    const stream: HlsStream = {
      sessionId: input.sessionId,
      sourceId: input.sourceId,
      request: input.request,
      decision: input.decision,
      generation: 0,
      entries: new Map([['master.m3u8', { name: 'master.m3u8', upstreamPath: input.decision.masterPath, kind: 'playlist' }]]),
      variants: new Map(),
      positionMs: input.request.startMs,
      restarts: 0,
      restarting: null,
      serverForgot: false,
      pingTimer: null,
      ended: false,
    };
    this.streams.set(stream.sessionId, stream);
    stream.pingTimer = setInterval(() => void this.ping(stream), this.options.pingIntervalMs ?? 20_000);
    stream.pingTimer.unref();
    return stream;
  }

  get(sessionId: string): HlsStream | null {
    return this.streams.get(sessionId) ?? null;
  }

  /** The player said where it is (progress report): a restart starts there. */
  notePosition(sessionId: string, positionMs: number): void {
    const stream = this.streams.get(sessionId);
    if (stream) stream.positionMs = positionMs;
  }

  /** Stops the keep-alive only (the session goes on with another decision: direct play). */
  detach(sessionId: string): HlsStream | null {
    const stream = this.streams.get(sessionId);
    if (!stream) return null;
    stream.ended = true;
    if (stream.pingTimer) clearInterval(stream.pingTimer);
    this.streams.delete(sessionId);
    return stream;
  }

  /** The session ended: keep-alive stopped, and the transcode Marquee runs NOW stopped on the server. */
  async end(sessionId: string): Promise<void> {
    const stream = this.detach(sessionId);
    if (stream) await this.stopTranscode(stream.sourceId, stream.decision);
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams.keys()].map((id) => this.end(id)));
  }

  /**
   * Another quality (the route changed): a new transcode at the player's position, mapped under the
   * same names when the numbering allows, else a reload (`generation`). The old one is stopped.
   */
  async switchDecision(sessionId: string, decision: TranscodeDecision, request: PlaybackRequest, why: string): Promise<RestartOutcome> {
    const stream = this.streams.get(sessionId);
    if (!stream) return { ok: false, message: 'no such HLS stream' };
    return this.adopt(stream, decision, request, why, null);
  }

  /** GET /api/play/:session/hls/{name}. Never throws. */
  async serve(req: IncomingMessage, res: ServerResponse, stream: HlsStream, name: string): Promise<void> {
    try {
      if (!HLS_NAME.test(name)) return fail(res, 404, 'not_found', 'no such HLS file in this play session');
      if (stream.serverForgot) await this.restart(stream, stream.positionMs, 'the server forgot the transcode (keep-alive answered 404)', null);
      if (name.endsWith('.m3u8')) return await this.servePlaylist(res, stream, name);
      return await this.serveResource(req, res, stream, name);
    } catch (error) {
      this.log('warn', { sessionId: stream.sessionId.slice(0, 6) }, `HLS request failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      if (!res.headersSent) fail(res, 502, 'upstream_failed', 'the HLS request failed');
      else res.destroy();
    }
  }

  private async servePlaylist(res: ServerResponse, stream: HlsStream, name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const entry = stream.entries.get(name);
      if (!entry || entry.kind !== 'playlist') return fail(res, 404, 'not_found', 'no such playlist in this play session');
      const fetched = await this.fetchPlaylist(stream, entry);
      if (fetched.ok) {
        res.statusCode = 200;
        res.setHeader('content-type', 'application/vnd.apple.mpegurl');
        res.setHeader('cache-control', 'no-store');
        res.setHeader('content-length', String(Buffer.byteLength(fetched.text)));
        res.end(fetched.text);
        return;
      }
      if (fetched.status === 404 && attempt === 0) {
        const restarted = await this.restart(stream, stream.positionMs, `the server forgot the transcode (${name} answered 404)`, null);
        if (restarted.ok) continue;
      }
      return fail(res, fetched.status, fetched.status === 503 ? 'offline' : fetched.status === 404 ? 'not_found' : 'upstream_failed', fetched.message);
    }
  }

  /** Fetches, rewrites and registers one playlist (and what it lists). */
  private async fetchPlaylist(stream: HlsStream, entry: HlsEntry): Promise<{ ok: true; text: string } | { ok: false; status: number; message: string }> {
    const got = await this.fetchText(stream.sourceId, entry.upstreamPath);
    if (!got.ok) return got;
    const rewritten = rewritePlaylist({ text: got.text, upstreamPath: entry.upstreamPath, name: entry.name, serverOrigins: this.serverOrigins(stream.sourceId) });
    if (!rewritten.ok) return { ok: false, status: 502, message: `the server's playlist was refused: ${rewritten.message}` };
    if (rewritten.dropped > 0) this.log('warn', { sessionId: stream.sessionId.slice(0, 6), dropped: rewritten.dropped }, 'HLS playlist listed URIs on other hosts: dropped');
    this.register(stream, entry.name, rewritten.entries);
    if (rewritten.kind === 'media') stream.variants.set(entry.name, { mediaSequence: rewritten.mediaSequence, durations: rewritten.segmentDurations, baseMs: stream.request.startMs });
    return { ok: true, text: rewritten.text };
  }

  /** A playlist's entries replace what it listed before (a master replaces every playlist name). */
  private register(stream: HlsStream, playlistName: string, entries: HlsEntry[]): void {
    const prefix = `${playlistName.replace(/\.m3u8$/, '')}-`;
    for (const name of [...stream.entries.keys()]) if (name.startsWith(prefix)) stream.entries.delete(name);
    for (const e of entries) stream.entries.set(e.name, e);
    // Bounded: a hostile server cannot grow the allow-list without end (the newest names win).
    while (stream.entries.size > PLAYLIST_LIMITS.maxEntries * 2) {
      const oldest = stream.entries.keys().next().value;
      if (oldest === undefined || oldest === 'master.m3u8') break;
      stream.entries.delete(oldest);
    }
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, stream: HlsStream, name: string): Promise<void> {
    const browserGone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) browserGone.abort();
    };
    res.on('close', onClose);
    let current: MediaResponse | null = null;
    try {
      let entry = stream.entries.get(name);
      if (!entry || entry.kind !== 'resource') return fail(res, 404, 'not_found', 'no such segment in this play session');
      const position = this.positionOf(stream, name);
      let next = 0;
      let total: number | null = null;
      let etag: string | null = null;
      let resumes = 0;
      let restarted = false;
      for (;;) {
        const opened = await this.open(stream.sourceId, entry.upstreamPath, next > 0 ? { start: next } : null, browserGone.signal);
        if (browserGone.signal.aborted) {
          if (opened.ok) opened.value.cancel();
          return;
        }
        if (!opened.ok) {
          if (opened.status === 404 && !restarted && next === 0) {
            restarted = true;
            const outcome = await this.restart(stream, position ?? stream.positionMs, `the server forgot the transcode (a segment answered 404)`, name);
            const again = stream.entries.get(name);
            if (outcome.ok && again) {
              entry = again;
              continue;
            }
          }
          if (next === 0) return fail(res, opened.status, opened.status === 503 ? 'offline' : opened.status === 404 ? 'not_found' : 'upstream_failed', opened.message);
          this.log('warn', { sessionId: stream.sessionId.slice(0, 6), at: next }, `HLS segment could not resume: ${opened.message}`);
          return void res.destroy();
        }
        current = opened.value;
        const answerTotal = current.range?.total ?? (next === 0 ? current.contentLength : null);
        const answerStart = current.range?.start ?? 0;
        if (next === 0) {
          total = answerTotal;
          etag = current.etag ?? null;
          res.statusCode = 200;
          res.setHeader('content-type', safeSegmentType(current.contentType, name));
          res.setHeader('cache-control', 'no-store');
          if (total !== null) res.setHeader('content-length', String(total));
        } else if (answerStart !== next || answerTotal !== total || (etag !== null && current.etag !== undefined && current.etag !== etag)) {
          current.cancel();
          this.log('warn', { sessionId: stream.sessionId.slice(0, 6), at: next }, 'HLS segment changed on the server mid-transfer: ended short, no bytes of it sent');
          return void res.destroy();
        }
        let why = 'the upstream ended early';
        try {
          for await (const chunk of current.body) {
            if (browserGone.signal.aborted) return;
            next += chunk.length;
            if (!res.write(chunk)) await drained(res);
          }
        } catch (error) {
          why = error instanceof MediaReadError || error instanceof Error ? error.message : 'the read failed';
        }
        if (browserGone.signal.aborted) return;
        if (total === null || next >= total) {
          if (position !== null) stream.positionMs = Math.max(0, position);
          return void res.end();
        }
        current.cancel();
        // Resume the rest over the route that is current now: a new connection, and failover in the caller.
        if (++resumes > (this.options.maxResumes ?? 8)) {
          this.log('warn', { sessionId: stream.sessionId.slice(0, 6), at: next }, `HLS segment given up after ${resumes - 1} resumes: ${why}`);
          return void res.destroy();
        }
        this.log('info', { sessionId: stream.sessionId.slice(0, 6), at: next, resumes }, `HLS segment resumes at byte ${next} (${why})`);
      }
    } finally {
      current?.cancel();
      res.off('close', onClose);
    }
  }

  /** Where a segment name sits in the item (ms), from the playlist that listed it. */
  private positionOf(stream: HlsStream, name: string): number | null {
    const m = /^(p\d+)-(\d+)\./.exec(name);
    if (!m) return null;
    const variant = stream.variants.get(`${m[1]}.m3u8`);
    if (!variant) return null;
    const index = Number(m[2]) - variant.mediaSequence;
    if (index < 0 || index >= variant.durations.length) return null;
    let ms = variant.baseMs;
    for (let i = 0; i < index; i++) ms += variant.durations[i]! * 1000;
    return Math.round(ms);
  }

  /** One restart at a time per stream; concurrent requests that saw the 404 share it. */
  private restart(stream: HlsStream, positionMs: number, why: string, wantedName: string | null): Promise<RestartOutcome> {
    if (stream.restarting) return stream.restarting;
    stream.restarting = (async (): Promise<RestartOutcome> => {
      try {
        if (stream.restarts >= MAX_RESTARTS) return { ok: false, message: `the transcode was restarted ${MAX_RESTARTS} times already` };
        const request: PlaybackRequest = { ...stream.request, startMs: Math.max(0, Math.round(positionMs)) };
        const decided = await this.options.caller.call(
          stream.sourceId,
          async (use, signal) => (use.backend.playback ? use.backend.playback.decide(use, request, { timeoutMs: this.options.openTimeoutMs ?? 8_000, signal }) : { ok: false, error: { code: 'malformed', message: 'this server kind cannot transcode here' } }),
          { timeoutMs: (this.options.openTimeoutMs ?? 8_000) * 2 },
        );
        if (!decided.ok) return { ok: false, message: decided.message };
        if (decided.value.method !== 'transcode') return { ok: false, message: 'the server now offers direct play for this item: the player reloads' };
        stream.restarts++;
        return await this.adopt(stream, decided.value, request, why, wantedName, true);
      } finally {
        stream.restarting = null;
      }
    })();
    return stream.restarting;
  }

  /**
   * Puts a new upstream transcode under the stream's names: fetches its master and variants now
   * (a VOD player does not reload them), then checks the player's next name is still listed.
   */
  private async adopt(stream: HlsStream, decision: TranscodeDecision, request: PlaybackRequest, why: string, wantedName: string | null, oldIsDead = false): Promise<RestartOutcome> {
    const old = stream.decision;
    const oldEntries = stream.entries;
    const oldVariants = stream.variants;
    const wanted = wantedName ?? this.nameAt(stream, stream.positionMs);
    stream.decision = decision;
    stream.request = request;
    stream.serverForgot = false;
    stream.entries = new Map([['master.m3u8', { name: 'master.m3u8', upstreamPath: decision.masterPath, kind: 'playlist' }]]);
    stream.variants = new Map();
    const master = await this.fetchPlaylist(stream, stream.entries.get('master.m3u8')!);
    if (!master.ok) {
      stream.decision = old;
      stream.entries = oldEntries;
      stream.variants = oldVariants;
      return { ok: false, message: master.message };
    }
    for (const entry of [...stream.entries.values()].filter((e) => e.kind === 'playlist' && e.name !== 'master.m3u8')) {
      const variant = await this.fetchPlaylist(stream, entry);
      if (!variant.ok) this.log('warn', { sessionId: stream.sessionId.slice(0, 6) }, `HLS variant of the new transcode failed: ${variant.message}`);
    }
    // Plex names a restarted transcode by the same session: stopping the old one would stop the new.
    if (!oldIsDead && old.playSessionId !== decision.playSessionId) void this.stopTranscode(stream.sourceId, old);
    // Same names for the same media: the player goes on. Otherwise it must reload the master.
    const reload = wanted !== null && !stream.entries.has(wanted);
    if (reload) stream.generation++;
    const words = reload ? `${why}; the new transcode numbers its segments differently: the player reloads at its position` : `${why}; the player keeps its URLs`;
    this.log('info', { sessionId: stream.sessionId.slice(0, 6), positionMs: request.startMs, generation: stream.generation }, `HLS transcode restarted: ${words}`);
    this.options.onChange?.({ sessionId: stream.sessionId, decision, generation: stream.generation, reload, why: words });
    return { ok: true, reload };
  }

  /** The segment name that holds a position in the stream's first variant. */
  private nameAt(stream: HlsStream, positionMs: number): string | null {
    const [name, variant] = [...stream.variants.entries()][0] ?? [];
    if (!name || !variant) return null;
    let t = variant.baseMs;
    for (let i = 0; i < variant.durations.length; i++) {
      t += variant.durations[i]! * 1000;
      if (positionMs < t) {
        const prefix = `${name.replace(/\.m3u8$/, '')}-${variant.mediaSequence + i}.`;
        for (const key of stream.entries.keys()) if (key.startsWith(prefix)) return key;
        return null;
      }
    }
    return null;
  }

  private async ping(stream: HlsStream): Promise<void> {
    if (stream.ended || stream.restarting) return;
    const outcome = await this.options.caller.call(
      stream.sourceId,
      async (use, signal) => (use.backend.playback ? use.backend.playback.ping(use, stream.decision, { timeoutMs: 5_000, signal }) : { ok: true as const, value: null }),
      { timeoutMs: 10_000 },
    );
    if (outcome.ok || stream.ended) return;
    if (outcome.error?.status === 404) {
      // The source answers, the transcode is gone: restart before the player needs its next segment.
      stream.serverForgot = true;
      void this.restart(stream, stream.positionMs, 'the server forgot the transcode (keep-alive answered 404)', null);
      return;
    }
    // Away (offline, the route died): the keep-alive pauses; a 404 once the source is back restarts it.
    this.log('info', { sessionId: stream.sessionId.slice(0, 6) }, `HLS keep-alive paused: ${outcome.message}`);
  }

  /** Stops a transcode on the server: the one place Marquee does (a session's end, a replaced or superseded decision). */
  async stopTranscode(sourceId: string, decision: TranscodeDecision): Promise<void> {
    const outcome = await this.options.caller.call(
      sourceId,
      async (use, signal) => (use.backend.playback ? use.backend.playback.stop(use, decision, { timeoutMs: 5_000, signal }) : { ok: true as const, value: null }),
      { timeoutMs: 8_000 },
    );
    if (!outcome.ok) this.log('info', {}, `the server's transcode could not be stopped (it ends by itself without keep-alive): ${outcome.message}`);
  }

  private serverOrigins(sourceId: string): string[] {
    return this.options.engine.getSource(sourceId)?.source.routes.map((r) => r.url) ?? [];
  }

  private async open(sourceId: string, path: string, range: MediaRange | null, signal?: AbortSignal): Promise<{ ok: true; value: MediaResponse } | { ok: false; status: number; message: string }> {
    const timeoutMs = this.options.openTimeoutMs ?? 8_000;
    const outcome = await this.options.caller.call(
      sourceId,
      async (use, callSignal) => {
        if (!use.backend.media) return { ok: false, error: { code: 'malformed', message: `a ${use.source.kind} server cannot stream media here` } };
        return use.backend.media.open(use, path, range, { timeoutMs, stallMs: this.options.stallMs ?? 1_500, signal: callSignal });
      },
      { timeoutMs, ...(signal ? { signal } : {}) },
    );
    return outcome.ok ? { ok: true, value: outcome.value } : { ok: false, ...statusOf(outcome) };
  }

  /** A playlist's text, read whole (capped) inside the routed call: a read that dies with its route fails over too. */
  private async fetchText(sourceId: string, path: string): Promise<{ ok: true; text: string } | { ok: false; status: number; message: string }> {
    const timeoutMs = this.options.openTimeoutMs ?? 8_000;
    const outcome = await this.options.caller.call<string>(
      sourceId,
      async (use, signal) => {
        if (!use.backend.media) return { ok: false, error: { code: 'malformed', message: `a ${use.source.kind} server cannot stream media here` } };
        const opened = await use.backend.media.open(use, path, null, { timeoutMs, stallMs: this.options.stallMs ?? 1_500, signal });
        if (!opened.ok) return opened;
        const chunks: Buffer[] = [];
        let size = 0;
        try {
          for await (const chunk of opened.value.body) {
            size += chunk.length;
            if (size > PLAYLIST_LIMITS.maxBytes) {
              opened.value.cancel();
              return { ok: false, error: { code: 'malformed', message: `the playlist is larger than ${PLAYLIST_LIMITS.maxBytes / 1024 / 1024} MiB` } };
            }
            chunks.push(Buffer.from(chunk));
          }
        } catch (error) {
          return { ok: false, error: error instanceof MediaReadError ? error.error : { code: 'malformed', message: 'the playlist could not be read' } };
        }
        return { ok: true, value: Buffer.concat(chunks).toString('utf8') };
      },
      { timeoutMs },
    );
    return outcome.ok ? { ok: true, text: outcome.value } : { ok: false, ...statusOf(outcome) };
  }
}

function statusOf(outcome: Extract<RoutedOutcome<unknown>, { ok: false }>): { status: number; message: string } {
  const status = outcome.error?.status === 404 ? 404 : outcome.reason === 'offline' ? 503 : outcome.reason === 'unknown_source' ? 404 : 502;
  return { status, message: outcome.message };
}

function fail(res: ServerResponse, status: number, error: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error, message });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', String(Buffer.byteLength(body)));
  res.end(body);
}

/** Only a plain media type goes to the browser; else one from the name's extension. */
function safeSegmentType(value: string, name: string): string {
  const type = value.split(';')[0]!.trim().toLowerCase();
  if (/^(video|audio|application)\/[a-z0-9.+-]+$/.test(type) && type !== 'application/octet-stream') return type;
  if (name.endsWith('.ts')) return 'video/mp2t';
  if (name.endsWith('.aac')) return 'audio/aac';
  if (name.endsWith('.vtt') || name.endsWith('.webvtt')) return 'text/vtt';
  return name.endsWith('.m4s') || name.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream';
}
