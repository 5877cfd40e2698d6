// Play sessions (issue 15): the browser holds only an unguessable id; what it plays (source, item,
// server-relative media path) stays here. Sessions expire after idle time and their number is
// bounded (the least recently used goes first), so abandoned players cost nothing for long.
import { randomBytes } from 'node:crypto';
import type { PlaybackDecision } from '../backends/types.js';

export interface PlaySession {
  id: string;
  sourceId: string;
  itemId: string;
  /** Server-relative (Plex part key, Jellyfin /Videos/{id}/stream?static=true&mediaSourceId=…). */
  mediaPath: string;
  /** Learned from the first answer: every later range must be of this very file. */
  length: number | null;
  etag: string | null;
  lastModified: string | null;
  lastUsedAt: number;
  /** How it plays: `direct` through the byte proxy, `transcode` through the HLS proxy (play-hls.ts reads `decision`). */
  method: 'direct' | 'transcode';
  /** The server's decision (null only for a bare direct session made without one). */
  decision: PlaybackDecision | null;
  /** Bumped whenever the stream was switched (quality followed the route, a transcode restarted). */
  generation: number;
  /** The last position the player reported (ms), and whether it reported at all. */
  positionMs: number;
  /** Shown by the player. */
  title: string;
  subtitleLine: string | null;
  nextItemId: string | null;
  /** The route kind the decision was made for, and the cap asked (the connection line). */
  decidedFor: { routeKind: 'local' | 'remote' | 'relay' | null; maxBitrateKbps: number | null; reason: string | null };
  audioTrackId?: string;
  /** A scrobble (past 90 %) was sent in this playback. */
  scrobbled: boolean;
}

export interface NewPlaySession {
  sourceId: string;
  itemId: string;
  decision: PlaybackDecision;
  startMs: number;
  title: string;
  subtitleLine: string | null;
  nextItemId: string | null;
  decidedFor: PlaySession['decidedFor'];
  audioTrackId?: string;
}

export interface PlaySessionsOptions {
  now?: () => number;
  /** Default 30 min. */
  idleMs?: number;
  /** Default 500. */
  maxSessions?: number;
}

/** Why a session ended: the player left (DELETE), it sat idle too long, or newer sessions pushed it out. */
export type PlaySessionEnd = 'deleted' | 'expired' | 'evicted';

export class PlaySessions {
  private readonly sessions = new Map<string, PlaySession>();
  /** Told once per session that ends (what it started on the server is stopped there: transcodes, keep-alives). */
  private readonly endListeners = new Set<(session: PlaySession, why: PlaySessionEnd) => void>();
  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly maxSessions: number;

  constructor(options: PlaySessionsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.maxSessions = options.maxSessions ?? 500;
  }

  /** A direct-play session (the playback decision that picks the file comes later). */
  createDirect(input: { sourceId: string; itemId: string; mediaPath: string }): PlaySession {
    return this.insert({
      ...input,
      method: 'direct',
      decision: null,
      positionMs: 0,
      title: '',
      subtitleLine: null,
      nextItemId: null,
      decidedFor: { routeKind: null, maxBitrateKbps: null, reason: null },
    });
  }

  /** A session for a server's decision: direct play or a transcode. */
  create(input: NewPlaySession): PlaySession {
    const { decision, startMs, ...rest } = input;
    return this.insert({ ...rest, decision, method: decision.method, mediaPath: decision.method === 'direct' ? decision.mediaPath : '', positionMs: startMs });
  }

  /** Sessions that expired since the last look, removed (their transcodes are then stopped). */
  takeExpired(): PlaySession[] {
    const now = this.now();
    const gone: PlaySession[] = [];
    for (const [id, s] of this.sessions) {
      if (now - s.lastUsedAt > this.idleMs) {
        this.sessions.delete(id);
        gone.push(s);
      }
    }
    return gone;
  }

  /** The session without touching it (keep-alive timers must not keep an abandoned player alive). */
  peek(id: string): PlaySession | null {
    return this.sessions.get(id) ?? null;
  }

  private insert(input: Omit<PlaySession, 'id' | 'length' | 'etag' | 'lastModified' | 'lastUsedAt' | 'generation' | 'scrobbled'>): PlaySession {
    this.sweep();
    while (this.sessions.size >= this.maxSessions) {
      // Map order is insertion order and get() re-inserts: the first is the least recently used.
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.end(oldest, 'evicted');
    }
    const session: PlaySession = { id: randomBytes(24).toString('base64url'), ...input, generation: 0, scrobbled: false, length: null, etag: null, lastModified: null, lastUsedAt: this.now() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session, touched; null when unknown or expired. */
  get(id: string): PlaySession | null {
    const session = this.sessions.get(id);
    if (!session) return null;
    if (this.now() - session.lastUsedAt > this.idleMs) {
      this.end(id, 'expired');
      return null;
    }
    session.lastUsedAt = this.now();
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  /** Every live session, untouched (keep-alive rounds). */
  all(): PlaySession[] {
    return [...this.sessions.values()];
  }

  delete(id: string): boolean {
    return this.end(id, 'deleted');
  }

  /** Calls `listener` for every session that ends from now on; returns the unsubscribe. */
  onEnded(listener: (session: PlaySession, why: PlaySessionEnd) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** Ends idle sessions now (a timer calls this: a session nobody asks for again still ends). */
  sweepExpired(): void {
    this.sweep();
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now - s.lastUsedAt > this.idleMs) this.end(id, 'expired');
  }

  private end(id: string, why: PlaySessionEnd): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    this.sessions.delete(id);
    for (const listener of this.endListeners) {
      try {
        listener(session, why);
      } catch {
        // A listener's failure must not keep the session alive or stop the others.
      }
    }
    return true;
  }
}
