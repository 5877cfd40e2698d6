// Play sessions end to end (issue 15): ask the server for a decision over the engine's current
// route (quality follows the route: src/core/playback-policy.ts), start at the server's resume
// position, keep transcodes alive, report progress through the durable outbox, stop the transcode
// when the player leaves, serve subtitles as WebVTT. The HTTP layer (src/server/routes/play.ts) is
// a thin shell over this; the HLS proxy (play-hls.ts) reads `session.decision` for transcodes.
import { randomBytes } from 'node:crypto';
import type { PlaybackDecision, ProgressReport } from '../backends/types.js';
import { pastWatchedMark, qualityForRoute } from '../core/playback-policy.js';
import type { RouteKind } from '../core/types.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { ProgressReporter } from './progress.js';
import type { PlaySession, PlaySessions } from './sessions.js';

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
  engine: Pick<Engine, 'getSource'>;
  /** The install's fixed device id (Jellyfin transcodes are named after it). */
  deviceId: string;
  /** Base path of the app ('/' or '/marquee/'): stream and subtitle URLs live under it. */
  basePath: string;
  /** Transcode keep-alive cadence (default 30 s: Jellyfin kills an unpinged HLS job after ~60 s, Plex after 1–2 min). */
  keepAliveMs?: number;
  /** Budget of one decision (default 15 s). */
  timeoutMs?: number;
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

/** Where the HLS proxy serves a transcode's master playlist (play-hls.ts). */
export function hlsMasterUrl(basePath: string, sessionId: string): string {
  return `${basePath}api/play/${sessionId}/hls/master.m3u8`;
}

export class PlayService {
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly log: NonNullable<PlayServiceOptions['log']>;

  constructor(private readonly options: PlayServiceOptions) {
    this.log = options.log ?? (() => undefined);
  }

  get sessions(): PlaySessions {
    return this.options.sessions;
  }

  start(): void {
    this.options.reporter.start();
    if (this.keepAlive) return;
    this.keepAlive = setInterval(() => void this.keepAliveRound(), this.options.keepAliveMs ?? 30_000);
    this.keepAlive.unref();
  }

  async close(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
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
    const routeKind = this.routeKindOf(input.sourceId);
    if (routeKind === null) return fail(409, 'offline', `${snap.source.name} is not reachable right now, so nothing of it can play. Try again once it is back.`);
    const quality = qualityForRoute(snap.source.kind, routeKind);
    const clientSessionId = randomBytes(12).toString('hex');
    const decide = (startMs: number) =>
      this.options.caller.call<PlaybackDecision>(
        input.sourceId,
        (use, signal) =>
          use.backend.playback
            ? use.backend.playback.decide(
                use,
                { itemId: input.itemId, startMs, maxBitrateKbps: quality.maxBitrateKbps, deviceId: this.options.deviceId, clientSessionId, ...(input.audioTrackId !== undefined ? { audioTrackId: input.audioTrackId } : {}) },
                { timeoutMs: this.options.timeoutMs ?? 15_000, signal },
              )
            : Promise.resolve({ ok: false, error: { code: 'malformed', message: `a ${use.source.kind} server cannot play here` } }),
        { timeoutMs: this.options.timeoutMs ?? 15_000 },
      );
    let outcome = await decide(input.startMs ?? 0);
    // A transcode starts where it is asked to: ask again at the resume position the server gave.
    if (outcome.ok && input.startMs === undefined && outcome.value.method === 'transcode' && (outcome.value.resumeMs ?? 0) > 0) {
      const first = outcome.value;
      outcome = await decide(first.resumeMs!);
      if (outcome.ok && first.playSessionId !== outcome.value.playSessionId) void this.stopTranscode(input.sourceId, first);
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
      startMs,
      title: decision.title ?? 'Untitled',
      subtitleLine: decision.subtitleLine ?? null,
      nextItemId,
      decidedFor: { routeKind: outcome.routeKind, maxBitrateKbps: quality.maxBitrateKbps, reason: quality.reason },
      ...(input.audioTrackId !== undefined ? { audioTrackId: input.audioTrackId } : {}),
    });
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
    const event = body.state === 'stopped' ? 'stop' : 'progress';
    void this.options.reporter.submit(session.sourceId, session.id, this.report(session, session.decision, event, body.state, body.positionMs));
    return { ok: true, value: null };
  }

  /** The player left: a stopped report (durable), and the transcode stopped on the server. */
  stop(id: string): PlayResult<null> {
    const session = this.options.sessions.peek(id);
    if (!session) return fail(404, 'not_found', 'This play session has ended or never existed.');
    this.options.sessions.delete(id);
    this.end(session);
    return { ok: true, value: null };
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

  private end(session: PlaySession): void {
    if (!session.decision) return;
    void this.options.reporter.submit(session.sourceId, session.id, this.report(session, session.decision, 'stop', 'stopped', session.positionMs));
    if (session.decision.method === 'transcode') void this.stopTranscode(session.sourceId, session.decision);
  }

  private async stopTranscode(sourceId: string, decision: PlaybackDecision): Promise<void> {
    const outcome = await this.options.caller.call(sourceId, (use, signal) => (use.backend.playback ? use.backend.playback.stop(use, decision, { timeoutMs: 5_000, signal }) : Promise.resolve({ ok: true as const, value: null })), { timeoutMs: 5_000 });
    if (!outcome.ok) this.log('info', { sourceId }, `the transcode could not be stopped on the server (it ends by itself): ${outcome.message}`);
  }

  /** Pings every live transcode; ends sessions abandoned past their idle time. */
  private async keepAliveRound(): Promise<void> {
    for (const session of this.options.sessions.takeExpired()) this.end(session);
    const pings = this.options.sessions
      .all()
      .filter((s) => s.decision?.method === 'transcode')
      .map((s) =>
        this.options.caller.call(s.sourceId, (use, signal) => (use.backend.playback ? use.backend.playback.ping(use, s.decision!, { timeoutMs: 5_000, signal }) : Promise.resolve({ ok: true as const, value: null })), { timeoutMs: 5_000 }),
      );
    await Promise.allSettled(pings);
  }
}

function fail(status: PlayError['status'], code: PlayError['code'], message: string): { ok: false; error: PlayError } {
  return { ok: false, error: { status, code, message } };
}
