// Play sessions end to end (issue 15) — the one playback pipeline: ask the server for a decision
// over the engine's current route at the cap the route allows (src/core/quality-policy.ts), start
// at the server's resume position, hand a transcode to the HLS service (hls-stream.ts: it serves
// `master.m3u8` and what it lists, keeps the transcode alive, restarts it when the server forgot
// it, and is the only part that stops it on the server), follow the route with the quality
// follower (hls-quality.ts), report progress through the durable outbox, serve subtitles as
// WebVTT. A session ends in one place — `PlaySessions.onEnded` (left, expired, pushed out): the
// stopped report goes to the outbox and the HLS stream is ended, which stops the transcode once.
// The HTTP layer (src/server/routes/play.ts, play-hls.ts) is a thin shell over this.
import { randomBytes } from 'node:crypto';
import type { PlaybackDecision, PlaybackRequest, ProgressReport } from '../backends/types.js';
import { pastWatchedMark } from '../core/playback-policy.js';
import type { RouteKind } from '../core/types.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import { QualityFollower, type FollowedSession, type QualitySwitch } from './hls-quality.js';
import type { HlsChange, HlsService } from './hls-stream.js';
import type { ProgressReporter } from './progress.js';
import type { PlaySession, PlaySessionEnd, PlaySessions } from './sessions.js';

/** A failure in words with the HTTP status it maps to. */
export interface PlayError {
  status: 404 | 409 | 502 | 503;
  code: 'not_found' | 'offline' | 'not_playable' | 'upstream_failed';
  message: string;
}
export type PlayResult<T> = { ok: true; value: T } | { ok: false; error: PlayError };

export interface PlayServiceOptions {
  sessions: PlaySessions;
  reporter: ProgressReporter;
  caller: RoutedCaller;
  engine: Pick<Engine, 'getSource' | 'subscribe'>;
  /** Serves, keeps alive, restarts and stops the transcodes (the only part that does). */
  hls: HlsService;
  /** The install's fixed device id (Jellyfin transcodes are named after it). */
  deviceId: string;
  /** Base path of the app ('/' or '/marquee/'): stream and subtitle URLs live under it. */
  basePath: string;
  /**
   * Whether a Plex server's owner has Plex Pass (relay cap 2 Mbps instead of 1). Default: unknown
   * for every server — Marquee cannot see a shared server owner's subscription — so the safe cap.
   */
  plexPass?(sourceId: string): boolean | null;
  /** How often idle sessions are ended (default 60 s; each end stops its transcode). */
  sweepMs?: number;
  /** Budget of one decision (default 15 s). */
  timeoutMs?: number;
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

/** Where the HLS proxy serves a transcode's master playlist (play-hls.ts). */
export function hlsMasterUrl(basePath: string, sessionId: string): string {
  return `${basePath}api/play/${sessionId}/hls/master.m3u8`;
}

export class PlayService {
  private sweep: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: NonNullable<PlayServiceOptions['log']>;
  /** Re-decides playing sessions when their route changes the cap. */
  readonly follower: QualityFollower;
  private readonly stopListening: () => void;

  constructor(private readonly options: PlayServiceOptions) {
    this.log = options.log ?? (() => undefined);
    this.follower = new QualityFollower({
      engine: options.engine,
      caller: options.caller,
      hls: options.hls,
      plexPass: (sourceId) => options.plexPass?.(sourceId) ?? null,
      onSwitch: (change) => this.applySwitch(change),
      log: this.log,
    });
    this.stopListening = options.sessions.onEnded((session, why) => this.ended(session, why));
  }

  get sessions(): PlaySessions {
    return this.options.sessions;
  }

  start(): void {
    this.options.reporter.start();
    if (this.sweep) return;
    // A session nobody asks for again still ends (and its transcode is stopped).
    this.sweep = setInterval(() => this.options.sessions.sweepExpired(), this.options.sweepMs ?? 60_000);
    this.sweep.unref();
  }

  /**
   * Stops following routes and ends every HLS stream (their transcodes stopped on the server while
   * the engine still routes), then closes the reporter. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
    this.follower.close();
    this.stopListening();
    await this.options.hls.close();
    await this.options.reporter.close();
  }

  /** The kind of route the engine uses for the source now; null while it is away. */
  routeKindOf(sourceId: string): RouteKind | null {
    const snap = this.options.engine.getSource(sourceId);
    if (!snap) return null;
    const status = snap.status;
    if (status.state !== 'connected' && status.state !== 'sync_failed') return null;
    return snap.source.routes.find((r) => r.id === status.routeId)?.kind ?? null;
  }

  async create(input: { sourceId: string; itemId: string; startMs?: number; audioTrackId?: string }): Promise<PlayResult<PlaySession>> {
    const snap = this.options.engine.getSource(input.sourceId);
    if (!snap) return fail(404, 'not_found', 'There is no such server.');
    // The cap the route allows now: the same policy the follower applies while it plays.
    const quality = this.follower.choiceFor(input.sourceId);
    if (quality.routeKind === null) return fail(409, 'offline', `${snap.source.name} is not reachable right now, so nothing of it can play. Try again once it is back.`);
    const clientSessionId = randomBytes(12).toString('hex');
    const requestAt = (startMs: number): PlaybackRequest => ({
      itemId: input.itemId,
      startMs,
      maxBitrateKbps: quality.maxBitrateKbps,
      deviceId: this.options.deviceId,
      clientSessionId,
      ...(input.audioTrackId !== undefined ? { audioTrackId: input.audioTrackId } : {}),
    });
    const decide = (request: PlaybackRequest) =>
      this.options.caller.call<PlaybackDecision>(
        input.sourceId,
        (use, signal) =>
          use.backend.playback
            ? use.backend.playback.decide(use, request, { timeoutMs: this.options.timeoutMs ?? 15_000, signal })
            : Promise.resolve({ ok: false, error: { code: 'malformed', message: `a ${use.source.kind} server cannot play here` } }),
        { timeoutMs: this.options.timeoutMs ?? 15_000 },
      );
    let request = requestAt(input.startMs ?? 0);
    let outcome = await decide(request);
    // A transcode starts where it is asked to: ask again at the resume position the server gave.
    if (outcome.ok && input.startMs === undefined && outcome.value.method === 'transcode' && (outcome.value.resumeMs ?? 0) > 0) {
      const first = outcome.value;
      request = requestAt(first.resumeMs!);
      outcome = await decide(request);
      if (outcome.ok && first.playSessionId !== outcome.value.playSessionId && first.method === 'transcode') void this.options.hls.stopTranscode(input.sourceId, first);
    }
    if (!outcome.ok) {
      if (outcome.reason === 'offline') return fail(409, 'offline', `${snap.source.name} is not reachable right now: ${outcome.message}`);
      if (outcome.reason === 'unknown_source') return fail(404, 'not_found', 'There is no such server.');
      if (outcome.error?.status === 404) return fail(404, 'not_found', `${snap.source.name} has no such item.`);
      if (outcome.error?.status === 409) return fail(409, 'not_playable', `${snap.source.name} cannot play this item: ${outcome.error.message}`);
      return fail(502, 'upstream_failed', `${snap.source.name} could not start playback: ${outcome.message}`);
    }
    const decision = outcome.value;
    let nextItemId: string | null = null;
    if (decision.seriesId) {
      const next = await this.options.caller.call(input.sourceId, (use, signal) => (use.backend.playback?.nextItem ? use.backend.playback.nextItem(use, input.itemId, { timeoutMs: 5_000, signal }) : Promise.resolve({ ok: true as const, value: null })), { timeoutMs: 5_000 });
      nextItemId = next.ok ? next.value : null;
    }
    const startMs = input.startMs ?? decision.resumeMs ?? 0;
    const session = this.options.sessions.create({
      sourceId: input.sourceId,
      itemId: input.itemId,
      decision,
      request,
      startMs,
      title: decision.title ?? 'Untitled',
      subtitleLine: decision.subtitleLine ?? null,
      nextItemId,
      decidedFor: { routeKind: outcome.routeKind, maxBitrateKbps: quality.maxBitrateKbps, reason: quality.reason },
      ...(input.audioTrackId !== undefined ? { audioTrackId: input.audioTrackId } : {}),
    });
    // A transcode is served by the HLS service under `streamUrl` (master.m3u8) from now on.
    if (decision.method === 'transcode') this.options.hls.attach({ sessionId: session.id, sourceId: session.sourceId, request, decision });
    this.follower.follow(followed(session));
    void this.options.reporter.submit(session.sourceId, session.id, this.report(session, decision, 'start', 'playing', startMs));
    this.log('info', { sessionId: session.id.slice(0, 6), method: decision.method }, `playback started (${decision.method})`);
    return { ok: true, value: session };
  }

  /** Every delivery run of the reporter done (tests, shutdown). */
  idle(): Promise<void> {
    return this.options.reporter.idle();
  }

  get(id: string): PlaySession | null {
    return this.options.sessions.get(id);
  }

  /** What the player reported; stored durably before this returns, delivered in the background. */
  progress(id: string, body: { positionMs: number; state: 'playing' | 'paused' | 'stopped' }): PlayResult<null> {
    const session = this.options.sessions.get(id);
    if (!session || !session.decision) return fail(404, 'not_found', 'This play session has ended or never existed.');
    session.positionMs = body.positionMs;
    // A restart of the transcode (the server forgot it) or a quality switch starts here.
    this.options.hls.notePosition(id, body.positionMs);
    const event = body.state === 'stopped' ? 'stop' : 'progress';
    // One stopped report per playback: the player says stopped and then leaves (DELETE), or sends
    // it twice (ended, then left); the server hears the stop once. Playing again starts anew.
    if (event === 'stop' && session.stopReported) return { ok: true, value: null };
    session.stopReported = event === 'stop';
    void this.options.reporter.submit(session.sourceId, session.id, this.report(session, session.decision, event, body.state, body.positionMs));
    return { ok: true, value: null };
  }

  /**
   * The player left: the session ends (`ended`: a stopped report, the transcode stopped once). The
   * stopped report carries `finalPositionMs` when the player said where it was, else the last
   * reported position.
   */
  stop(id: string, finalPositionMs?: number): PlayResult<null> {
    const session = this.options.sessions.peek(id);
    if (session && finalPositionMs !== undefined) session.positionMs = finalPositionMs;
    if (!this.options.sessions.delete(id)) return fail(404, 'not_found', 'This play session has ended or never existed.');
    return { ok: true, value: null };
  }

  /**
   * The HLS service restarted a transcode the server forgot: progress reports name the new one from
   * now on, and when its segments are named otherwise the player reloads (`generation`).
   */
  hlsChanged(change: HlsChange): void {
    const session = this.options.sessions.peek(change.sessionId);
    if (!session) return;
    session.decision = change.decision;
    if (change.reload) session.generation++;
  }

  async subtitle(id: string, index: number): Promise<PlayResult<string>> {
    const session = this.options.sessions.get(id);
    const track = session?.decision?.subtitles[index];
    if (!session || !track) return fail(404, 'not_found', 'No such subtitle track.');
    const outcome = await this.options.caller.call(session.sourceId, (use, signal) =>
      use.backend.playback ? use.backend.playback.subtitle(use, track.path, { timeoutMs: 10_000, signal }) : Promise.resolve({ ok: false as const, error: { code: 'malformed' as const, message: 'no subtitles here' } }),
    );
    if (outcome.ok) return { ok: true, value: outcome.value };
    if (outcome.reason === 'offline') return fail(503, 'offline', outcome.message);
    return fail(502, 'upstream_failed', `the subtitle could not be fetched: ${outcome.message}`);
  }

  /** The source's name, for the connection line. */
  sourceName(sourceId: string): string {
    return this.options.engine.getSource(sourceId)?.source.name ?? 'Server';
  }

  get basePath(): string {
    return this.options.basePath;
  }

  private report(session: PlaySession, decision: PlaybackDecision, event: ProgressReport['event'], state: ProgressReport['state'], positionMs: number): ProgressReport {
    const scrobble = !session.scrobbled && pastWatchedMark(positionMs, decision.durationMs);
    if (scrobble) session.scrobbled = true;
    return {
      itemId: session.itemId,
      decision: { playSessionId: decision.playSessionId, mediaSourceId: decision.mediaSourceId, method: decision.method, durationMs: decision.durationMs },
      positionMs,
      state,
      event,
      ...(scrobble ? { scrobble: true } : {}),
    };
  }

  /**
   * The quality follower re-decided a playing session (the route changed the cap): decision,
   * request and generation are already the session's own (see `followed`); the way it plays, the
   * file the byte proxy may serve and the connection line follow here.
   */
  private applySwitch(change: QualitySwitch): void {
    const session = this.options.sessions.peek(change.sessionId);
    if (!session) return;
    const mediaPath = change.decision.method === 'direct' ? change.decision.mediaPath : '';
    if (mediaPath !== session.mediaPath) {
      // Another file: what was learned about the old one must not be checked against the new.
      session.length = null;
      session.etag = null;
      session.lastModified = null;
    }
    session.method = change.decision.method;
    session.mediaPath = mediaPath;
    session.decidedFor = { routeKind: change.routeKind, maxBitrateKbps: change.choice.maxBitrateKbps, reason: change.choice.reason };
  }

  /** The one end of a session (left, expired, pushed out). */
  private ended(session: PlaySession, why: PlaySessionEnd): void {
    this.follower.unfollow(session.id);
    if (session.decision && !session.stopReported) {
      session.stopReported = true;
      void this.options.reporter.submit(session.sourceId, session.id, this.report(session, session.decision, 'stop', 'stopped', session.positionMs));
    }
    // Stops the keep-alive and the transcode on the server (once); nothing for direct play.
    void this.options.hls.end(session.id);
    this.log('info', { sessionId: session.id.slice(0, 6), why }, 'playback ended');
  }
}

/** The follower's view of a play session: the session's own fields, so there is one state. */
function followed(session: PlaySession): FollowedSession {
  return {
    sessionId: session.id,
    sourceId: session.sourceId,
    get request() {
      return session.request!;
    },
    set request(value) {
      session.request = value;
    },
    get decision() {
      return session.decision!;
    },
    set decision(value) {
      session.decision = value;
    },
    get generation() {
      return session.generation;
    },
    set generation(value) {
      session.generation = value;
    },
    positionMs: () => session.positionMs,
  };
}

function fail(status: PlayError['status'], code: PlayError['code'], message: string): { ok: false; error: PlayError } {
  return { ok: false, error: { status, code, message } };
}
