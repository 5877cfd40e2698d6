// Quality follows the route, for playing sessions (issue 15). The pure policy
// (src/core/quality-policy.ts) says which cap a route allows; this watches the engine: when a
// source of a playing session changes route and the cap changes (onto a Plex relay: a transcode
// that fits; back on local once the engine's hold-down let it return: the original quality), it
// asks the server again at the player's position and hands the new decision over — the HLS
// stream of a transcode is replaced (the old transcode stopped on the server), `generation` is
// bumped so the player reloads `streamUrl` at its position, and the connection line says why.
import type { PlaybackDecision, PlaybackRequest } from '../backends/types.js';
import { qualityAction, qualityFor, type QualityChoice } from '../core/quality-policy.js';
import type { RouteKind } from '../core/types.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { HlsService } from './hls-stream.js';

/** A playing session as the follower sees it. */
export interface FollowedSession {
  sessionId: string;
  sourceId: string;
  /** The request of the decision in use (itemId, deviceId, clientSessionId, audio track). */
  request: PlaybackRequest;
  decision: PlaybackDecision;
  generation: number;
  /** Where the player is now (its last progress report). */
  positionMs(): number;
}

export interface QualitySwitch {
  sessionId: string;
  decision: PlaybackDecision;
  request: PlaybackRequest;
  generation: number;
  routeKind: RouteKind;
  choice: QualityChoice;
}

export interface QualityFollowerOptions {
  engine: Pick<Engine, 'subscribe' | 'getSource'>;
  caller: RoutedCaller;
  hls: HlsService;
  /** Whether the Plex server's owner has Plex Pass (relay cap 2 Mbps); null: unknown. */
  plexPass?(sourceId: string): boolean | null;
  /** The new decision is in force: the session's answer (protocol, streamUrl, connection, generation) follows it. */
  onSwitch(change: QualitySwitch): void;
  log?: (level: 'info' | 'warn', obj: object, msg: string) => void;
}

export class QualityFollower {
  private readonly sessions = new Map<string, FollowedSession>();
  private readonly busy = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: QualityFollowerOptions) {
    this.unsubscribe = options.engine.subscribe((message) => {
      const sourceId = message.type === 'source' ? message.source.source.id : message.type === 'engine' ? message.message.event.sourceId : null;
      if (!sourceId) return;
      for (const session of this.sessions.values()) if (session.sourceId === sourceId) void this.reconsider(session.sessionId);
    });
  }

  /** The cap for a source's route now: what POST /api/play asks the server for. */
  choiceFor(sourceId: string, userCapKbps: number | null = null): QualityChoice & { routeKind: RouteKind | null } {
    const input = this.input(sourceId, userCapKbps);
    return { ...qualityFor(input), routeKind: input.routeKind };
  }

  follow(session: FollowedSession): void {
    this.sessions.set(session.sessionId, session);
  }

  unfollow(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  close(): void {
    this.unsubscribe();
    this.sessions.clear();
  }

  /** Re-decides a session when its route's cap differs from the one in use. One at a time per session. */
  async reconsider(sessionId: string): Promise<QualitySwitch | null> {
    const session = this.sessions.get(sessionId);
    if (!session || this.busy.has(sessionId)) return null;
    const input = this.input(session.sourceId, null);
    const action = qualityAction(session.request.maxBitrateKbps, input);
    if (action.action === 'keep' || input.routeKind === null) return null;
    this.busy.add(sessionId);
    try {
      const request: PlaybackRequest = { ...session.request, startMs: Math.max(0, Math.round(session.positionMs())), maxBitrateKbps: action.choice.maxBitrateKbps };
      const outcome = await this.options.caller.call(
        session.sourceId,
        async (use, signal) => (use.backend.playback ? use.backend.playback.decide(use, request, { timeoutMs: 8_000, signal }) : { ok: false, error: { code: 'malformed', message: 'this server kind cannot decide playback here' } }),
        { timeoutMs: 15_000 },
      );
      if (!outcome.ok) {
        this.options.log?.('warn', { sessionId: sessionId.slice(0, 6) }, `quality could not follow the route: ${outcome.message}`);
        return null;
      }
      if (!this.sessions.has(sessionId)) return null; // ended meanwhile
      const decision = outcome.value;
      const old = session.decision;
      // The server kept the same way of playing (a file that fits the cap plays directly): only the cap changes.
      const sameStream = old.method === 'direct' && decision.method === 'direct' && old.mediaPath === decision.mediaPath;
      if (decision.method === 'transcode') {
        // A new HLS stream under the same URL; the old transcode is stopped on the server.
        await this.options.hls.end(sessionId);
        this.options.hls.attach({ sessionId, sourceId: session.sourceId, request, decision });
      } else if (old.method === 'transcode') {
        await this.options.hls.end(sessionId);
      }
      session.decision = decision;
      session.request = request;
      if (!sameStream) session.generation++;
      const change: QualitySwitch = { sessionId, decision, request, generation: session.generation, routeKind: input.routeKind, choice: action.choice };
      this.options.log?.('info', { sessionId: sessionId.slice(0, 6), routeKind: input.routeKind, maxBitrateKbps: action.choice.maxBitrateKbps, method: decision.method }, `quality follows the route: ${action.choice.reason ?? 'no cap on this route'}`);
      this.options.onSwitch(change);
      return change;
    } finally {
      this.busy.delete(sessionId);
    }
  }

  private input(sourceId: string, userCapKbps: number | null) {
    const snapshot = this.options.engine.getSource(sourceId);
    const status = snapshot?.status;
    const routeId = status && (status.state === 'connected' || status.state === 'sync_failed') ? status.routeId : null;
    const routeKind = snapshot?.source.routes.find((r) => r.id === routeId)?.kind ?? null;
    return { serverKind: snapshot?.source.kind ?? 'plex', routeKind, plexPass: this.options.plexPass?.(sourceId) ?? null, userCapKbps } as const;
  }
}
