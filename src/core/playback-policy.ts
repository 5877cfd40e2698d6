// What the browser plays and at which quality (issue 15). Pure: no I/O, no clock. The backends
// build their device profile (Jellyfin) and direct-play check (Plex) from these very tables, so
// both servers are told the same truth about Debian's Chromium.
import type { RouteKind, SourceKind } from './types.js';

/** Containers Debian's Chromium plays (as the servers name them). */
export const BROWSER_CONTAINERS = ['mp4', 'm4v', 'mov', 'webm', 'ts', 'mpegts', 'm4a', 'mp3', 'flac', 'ogg'] as const;
/** Video codecs it decodes (HEVC is not among them). */
export const BROWSER_VIDEO_CODECS = ['h264', 'vp8', 'vp9', 'av1'] as const;
/** Audio codecs it decodes (AC-3, E-AC-3, DTS, TrueHD are not among them). */
export const BROWSER_AUDIO_CODECS = ['aac', 'opus', 'mp3', 'flac', 'vorbis'] as const;

/** Names servers use for the same codec or container, reduced to the table's spelling. */
const ALIASES: Record<string, string> = { avc: 'h264', avc1: 'h264', x264: 'h264', 'mpeg-ts': 'mpegts', mp2t: 'mpegts', mpeg4audio: 'aac', vp09: 'vp9', av01: 'av1' };
const norm = (value: string) => {
  const v = value.trim().toLowerCase();
  return ALIASES[v] ?? v;
};

export interface MediaFormat {
  container: string | null;
  /** null for audio-only media. */
  videoCodec: string | null;
  audioCodec: string | null;
}

/** Whether Chromium plays this file as it is (direct play). Unknown container or codec: no. */
export function browserPlays(format: MediaFormat): boolean {
  if (!format.container) return false;
  const containers = format.container.split(',').map(norm);
  if (!containers.some((c) => (BROWSER_CONTAINERS as readonly string[]).includes(c))) return false;
  if (format.videoCodec !== null && !(BROWSER_VIDEO_CODECS as readonly string[]).includes(norm(format.videoCodec))) return false;
  if (format.audioCodec !== null && !(BROWSER_AUDIO_CODECS as readonly string[]).includes(norm(format.audioCodec))) return false;
  return format.videoCodec !== null || format.audioCodec !== null;
}

/** plex.tv caps relayed streams at 1 Mbps (2 Mbps with Plex Pass): ask for what fits the larger. */
export const RELAY_MAX_KBPS = 2_000;

export interface StreamQuality {
  /** The cap asked of the server (MaxStreamingBitrate / maxVideoBitrate); null: original quality. */
  maxBitrateKbps: number | null;
  /** Why, in words, for the player's connection line; null when nothing limits it. */
  reason: string | null;
}

/**
 * The quality for a route. Local and remote: the original (direct play when the browser can; a
 * remote link that cannot carry it still plays, through the byte proxy, just buffers). Relay (Plex
 * only; Jellyfin has none): at most 2 Mbps — the server transcodes when the file is bigger.
 */
export function qualityForRoute(sourceKind: SourceKind, routeKind: RouteKind | null): StreamQuality {
  if (routeKind === 'relay') {
    return { maxBitrateKbps: RELAY_MAX_KBPS, reason: `relay: ${sourceKind === 'plex' ? 'Plex caps' : 'the server caps'} relayed streams at ${RELAY_MAX_KBPS / 1000} Mbps` };
  }
  return { maxBitrateKbps: null, reason: null };
}

/** Plex `location=`: lan only on a local route. */
export function plexLocation(routeKind: RouteKind): 'lan' | 'wan' {
  return routeKind === 'local' ? 'lan' : 'wan';
}

/** Watched: a position at or past 90 % of the duration (Plex scrobble, Jellyfin marks played on stop). */
export const WATCHED_FRACTION = 0.9;
export function pastWatchedMark(positionMs: number, durationMs: number | null): boolean {
  return durationMs !== null && durationMs > 0 && positionMs >= durationMs * WATCHED_FRACTION;
}
