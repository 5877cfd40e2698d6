// What a simulated server remembers about playback: each item's resume position and watched
// state (behind a small interface the library side can implement with its own item store), the
// progress calls it received (for tests: "what did the server see?") and its transcode sessions.
import type { Timers } from '../timers.js';

export interface SimPlayState {
  positionMs: number;
  played: boolean;
  playCount: number;
  lastPlayedAt: Date | null;
}

/** Resume position and watched state per item; the library side may supply its own. */
export interface PlayStateStore {
  get(itemId: string): SimPlayState;
  setPosition(itemId: string, positionMs: number): void;
  setPlayed(itemId: string, played: boolean): void;
}

export class MemoryPlayStateStore implements PlayStateStore {
  private readonly states = new Map<string, SimPlayState>();

  get(itemId: string): SimPlayState {
    return { ...(this.states.get(itemId) ?? { positionMs: 0, played: false, playCount: 0, lastPlayedAt: null }) };
  }

  setPosition(itemId: string, positionMs: number): void {
    this.states.set(itemId, { ...this.get(itemId), positionMs: Math.max(0, Math.round(positionMs)), lastPlayedAt: new Date() });
  }

  setPlayed(itemId: string, played: boolean): void {
    const state = this.get(itemId);
    // Marking played clears the resume point, as both servers do.
    this.states.set(itemId, played ? { ...state, played, positionMs: 0, playCount: state.playCount + 1, lastPlayedAt: new Date() } : { ...state, played });
  }
}

/** A stopped report past this share of the runtime marks the item played (both servers: 90 %). */
export const PLAYED_THRESHOLD = 0.9;

export interface PlaybackReport {
  seq: number;
  /** Epoch ms when the server received it. */
  at: number;
  /** e.g. `POST /Sessions/Playing/Progress`, `POST /:/timeline`, `PUT /:/scrobble`. */
  call: string;
  itemId: string | null;
  positionMs: number | null;
  /** Plex `state`; Jellyfin: started/progress/paused/stopped/played/unplayed. */
  state: string | null;
  /** False when the server refused it (bad body or parameters); `problem` says why. */
  accepted: boolean;
  problem?: string;
  /** Query parameters, tokens removed. */
  query: Record<string, string>;
  body?: unknown;
}

const SECRET_PARAMS = new Set(['x-plex-token', 'api_key', 'apikey']);

export class PlaybackReports {
  private readonly list: PlaybackReport[] = [];
  private seq = 0;
  /** Oldest reports are dropped beyond this, so a long demo never grows without bound. */
  private static readonly LIMIT = 10_000;

  record(report: Omit<PlaybackReport, 'seq' | 'at' | 'query'> & { url: URL }): void {
    const { url, ...rest } = report;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (!SECRET_PARAMS.has(k.toLowerCase())) query[k] = v;
    this.list.push({ seq: ++this.seq, at: Date.now(), query, ...rest });
    if (this.list.length > PlaybackReports.LIMIT) this.list.shift();
  }

  all(): PlaybackReport[] {
    return this.list.map((r) => ({ ...r }));
  }

  clear(): void {
    this.list.length = 0;
  }
}

export interface TranscodeSession {
  id: string;
  itemId: string;
  /** First segment the playlist lists (the segment holding the requested start offset). */
  startSegment: number;
  startedAt: number;
  lastActivity: number;
}

/**
 * Running "transcodes". A session with no ping (or segment request) for `idleMs` is killed, as
 * the servers kill an unwatched transcode; a killed session's playlists and segments answer 404.
 */
/** A client asked the transcoder to stop a session (Plex …/universal/stop, Jellyfin DELETE /Videos/ActiveEncodings). */
export interface TranscodeStopCall {
  /** The session named (undefined: none named). */
  id: string | undefined;
  /** The item of the live session it stopped; null when no such session was running. */
  itemId: string | null;
  at: number;
}

export class TranscodeSessions {
  private readonly sessions = new Map<string, { session: TranscodeSession; timer: NodeJS.Timeout }>();
  private readonly stopCallList: TranscodeStopCall[] = [];

  constructor(
    private readonly timers: Timers,
    readonly idleMs: number,
  ) {}

  /** Starts (or restarts at a new position) the session `id`. */
  start(id: string, itemId: string, startSegment: number): TranscodeSession {
    this.stop(id);
    const now = Date.now();
    const session: TranscodeSession = { id, itemId, startSegment, startedAt: now, lastActivity: now };
    this.sessions.set(id, { session, timer: this.timers.timeout(() => this.sessions.delete(id), this.idleMs) });
    return session;
  }

  get(id: string | undefined): TranscodeSession | undefined {
    return id === undefined ? undefined : this.sessions.get(id)?.session;
  }

  /** A ping or a segment request: the kill timer starts over. False if no such live session. */
  touch(id: string | undefined): boolean {
    const entry = id === undefined ? undefined : this.sessions.get(id);
    if (!entry || id === undefined) return false;
    this.timers.clear(entry.timer);
    entry.session.lastActivity = Date.now();
    entry.timer = this.timers.timeout(() => this.sessions.delete(id), this.idleMs);
    return true;
  }

  stop(id: string | undefined): boolean {
    const entry = id === undefined ? undefined : this.sessions.get(id);
    if (!entry || id === undefined) return false;
    this.timers.clear(entry.timer);
    this.sessions.delete(id);
    return true;
  }

  /** A client's stop request (recorded for tests: "was it stopped, and how often?"), then the stop. */
  stopRequested(id: string | undefined): boolean {
    const running = this.get(id);
    this.stopCallList.push({ id, itemId: running?.itemId ?? null, at: Date.now() });
    if (this.stopCallList.length > 1_000) this.stopCallList.shift();
    return this.stop(id);
  }

  /** Every stop request received, oldest first (the last 1,000). */
  stopCalls(): TranscodeStopCall[] {
    return this.stopCallList.map((c) => ({ ...c }));
  }

  all(): TranscodeSession[] {
    return [...this.sessions.values()].map((e) => ({ ...e.session }));
  }
}

/** The HLS master playlist's one variant line for the H.264 clip. */
export function hlsVariantInfo(bitrate: number, width: number, height: number, fps: number): string {
  return `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(bitrate * 1.2)},AVERAGE-BANDWIDTH=${bitrate},CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=${width}x${height},FRAME-RATE=${fps.toFixed(3)}`;
}
