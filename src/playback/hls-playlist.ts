// HLS playlists rewritten for the browser (issue 15). A server's playlist names its variants,
// segments, keys and init maps by URIs that carry the server's host and often its token (Jellyfin
// copies `ApiKey=` into every line; Plex segment URIs are relative `session/{id}/…`). The browser
// gets instead short Marquee names relative to the playlist it loaded (`p0.m3u8`, `p0-15.ts`: one path segment, so one route parameter), and
// Marquee keeps name → server-relative path as the session's allow-list: a name the server's own
// playlists did not list is never fetched. Parsing is strict and bounded; only known tags pass
// (an unknown tag could carry anything, a token included), and a segment's title is dropped.
// Pure: no I/O.

/** Query parameters that carry a server token: never kept in a path Marquee stores. */
const TOKEN_PARAMS = new Set(['api_key', 'apikey', 'x-plex-token', 'x-emby-token', 'x-mediabrowser-token', 'token']);

export const PLAYLIST_LIMITS = { maxBytes: 2 * 1024 * 1024, maxLines: 60_000, maxLineLength: 8 * 1024, maxEntries: 30_000 } as const;

/** Tags copied as they are (their attributes name no URI). */
const PLAIN_TAGS = new Set([
  'EXT-X-VERSION',
  'EXT-X-TARGETDURATION',
  'EXT-X-MEDIA-SEQUENCE',
  'EXT-X-DISCONTINUITY-SEQUENCE',
  'EXT-X-PLAYLIST-TYPE',
  'EXT-X-ENDLIST',
  'EXT-X-DISCONTINUITY',
  'EXT-X-INDEPENDENT-SEGMENTS',
  'EXT-X-PROGRAM-DATE-TIME',
  'EXT-X-ALLOW-CACHE',
  'EXT-X-GAP',
  'EXT-X-START',
]);

export type HlsEntryKind = 'playlist' | 'resource';

/** One URI the server listed: the Marquee name the browser sees, and the server-relative path behind it. */
export interface HlsEntry {
  name: string;
  upstreamPath: string;
  kind: HlsEntryKind;
}

export interface RewriteInput {
  text: string;
  /** The playlist's own server-relative path (relative URIs resolve against it). */
  upstreamPath: string;
  /** The playlist's Marquee name: `master.m3u8` or `p{n}.m3u8` (its resources are named `p{n}-…`). */
  name: string;
  /** Origins of the source's own routes: an absolute URI on one of them is kept (as a path); any other host is refused. */
  serverOrigins: readonly string[];
}

export type RewriteResult =
  | {
      ok: true;
      kind: 'master' | 'media';
      text: string;
      entries: HlsEntry[];
      /** Media playlists: the first segment's sequence number and every segment's duration (s), in order. */
      mediaSequence: number;
      segmentDurations: number[];
      /** URIs to other hosts that were dropped (master variants only). */
      dropped: number;
    }
  | { ok: false; message: string };

const UPSTREAM_BASE = 'http://upstream.invalid';

/**
 * A URI of a playlist as a server-relative path (no token), or why not. Relative URIs resolve
 * against the playlist's path; absolute ones must be on one of the server's own origins.
 */
export function upstreamPathOf(uri: string, playlistPath: string, serverOrigins: readonly string[]): { ok: true; path: string } | { ok: false; message: string } {
  if (uri.length === 0 || /[\s\\\u0000-\u001f]/.test(uri)) return { ok: false, message: 'a URI with spaces or control characters' };
  let resolved: URL;
  try {
    resolved = new URL(uri, new URL(playlistPath, UPSTREAM_BASE));
  } catch {
    return { ok: false, message: 'a URI that is not a URL' };
  }
  if (resolved.origin !== UPSTREAM_BASE) {
    const own = serverOrigins.some((o) => {
      try {
        return new URL(o).origin === resolved.origin;
      } catch {
        return false;
      }
    });
    if (!own) return { ok: false, message: 'a URI on another host' };
  }
  for (const key of [...resolved.searchParams.keys()]) if (TOKEN_PARAMS.has(key.toLowerCase())) resolved.searchParams.delete(key);
  return { ok: true, path: resolved.pathname + resolved.search };
}

/** `TAG:attrs` split; attrs as raw text. */
function splitTag(line: string): { tag: string; value: string } {
  const colon = line.indexOf(':');
  return colon < 0 ? { tag: line.slice(1), value: '' } : { tag: line.slice(1, colon), value: line.slice(colon + 1) };
}

const URI_ATTR = /URI="([^"]*)"/;

/** A resource's extension, from a closed set (the browser's MSE cares; anything else is `bin`). */
function extensionOf(path: string): string {
  const m = /\.([a-z0-9]{1,5})(?:\?|$)/i.exec(path);
  const ext = m?.[1]?.toLowerCase();
  return ext && ['ts', 'm4s', 'mp4', 'aac', 'mp3', 'vtt', 'webvtt', 'key', 'm4a', 'm4v', 'cmfv', 'cmfa'].includes(ext) ? ext : 'bin';
}

/** Parses and rewrites one playlist. Never throws. */
export function rewritePlaylist(input: RewriteInput): RewriteResult {
  if (input.text.length > PLAYLIST_LIMITS.maxBytes) return { ok: false, message: `the playlist is larger than ${PLAYLIST_LIMITS.maxBytes / 1024 / 1024} MiB` };
  const lines = input.text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > PLAYLIST_LIMITS.maxLines) return { ok: false, message: `the playlist has more than ${PLAYLIST_LIMITS.maxLines} lines` };
  if (lines[0]?.trim() !== '#EXTM3U') return { ok: false, message: 'not an HLS playlist (it does not start with #EXTM3U)' };
  const isMaster = lines.some((l) => l.startsWith('#EXT-X-STREAM-INF'));
  const isMedia = lines.some((l) => l.startsWith('#EXTINF'));
  if (isMaster && isMedia) return { ok: false, message: 'the playlist mixes variants and segments' };
  const prefix = input.name.replace(/\.m3u8$/, '');
  const out: string[] = ['#EXTM3U'];
  const entries: HlsEntry[] = [];
  const durations: number[] = [];
  let mediaSequence = 0;
  let dropped = 0;
  let pendingStreamInf: string | null = null;
  let pendingDuration: number | null = null;
  let pendingSegmentTags: string[] = [];
  let keys = 0;
  let maps = 0;
  const playlistName = () => `p${entries.filter((e) => e.kind === 'playlist').length}.m3u8`;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length > PLAYLIST_LIMITS.maxLineLength) return { ok: false, message: `line ${i + 1} is longer than ${PLAYLIST_LIMITS.maxLineLength} characters` };
    if (entries.length > PLAYLIST_LIMITS.maxEntries) return { ok: false, message: `the playlist lists more than ${PLAYLIST_LIMITS.maxEntries} URIs` };
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!line.startsWith('#EXT')) continue; // a comment: dropped
      const { tag, value } = splitTag(line);
      if (tag === 'EXTM3U') continue;
      if (tag === 'EXTINF') {
        const duration = Number(value.split(',')[0]);
        if (!Number.isFinite(duration) || duration < 0 || duration > 3600) return { ok: false, message: `line ${i + 1}: #EXTINF without a valid duration` };
        pendingDuration = duration;
        pendingSegmentTags.push(`#EXTINF:${value.split(',')[0]!.trim()},`);
        continue;
      }
      if (tag === 'EXT-X-STREAM-INF') {
        if (!isMaster) return { ok: false, message: `line ${i + 1}: #EXT-X-STREAM-INF in a media playlist` };
        if (URI_ATTR.test(value)) return { ok: false, message: `line ${i + 1}: #EXT-X-STREAM-INF with a URI attribute` };
        pendingStreamInf = line;
        continue;
      }
      if (tag === 'EXT-X-MEDIA-SEQUENCE') {
        if (!/^\d{1,9}$/.test(value)) return { ok: false, message: `line ${i + 1}: #EXT-X-MEDIA-SEQUENCE is not a number` };
        mediaSequence = Number(value);
        out.push(line);
        continue;
      }
      if (tag === 'EXT-X-BYTERANGE') return { ok: false, message: 'byte-range playlists (#EXT-X-BYTERANGE) are not supported' };
      if (tag === 'EXT-X-KEY' || tag === 'EXT-X-MAP' || tag === 'EXT-X-MEDIA') {
        const uri = URI_ATTR.exec(value)?.[1];
        if (uri === undefined) {
          // A key with METHOD=NONE, or a rendition inside the main stream: nothing to fetch.
          if (tag !== 'EXT-X-MAP') (tag === 'EXT-X-KEY' ? pendingSegmentTags : out).push(line);
          else return { ok: false, message: `line ${i + 1}: #EXT-X-MAP without a URI` };
          continue;
        }
        const path = upstreamPathOf(uri, input.upstreamPath, input.serverOrigins);
        if (!path.ok) {
          if (tag === 'EXT-X-MEDIA') {
            dropped++;
            continue;
          }
          return { ok: false, message: `line ${i + 1}: ${path.message}` };
        }
        let name: string;
        if (tag === 'EXT-X-MEDIA') name = playlistName();
        else if (tag === 'EXT-X-KEY') name = `${prefix}-key${keys++}.key`;
        else name = `${prefix}-map${maps++}.${extensionOf(path.path)}`;
        entries.push({ name, upstreamPath: path.path, kind: tag === 'EXT-X-MEDIA' ? 'playlist' : 'resource' });
        const rewritten = `#${tag}:${value.replace(URI_ATTR, `URI="${tag === 'EXT-X-MEDIA' ? name : name}"`)}`;
        (tag === 'EXT-X-MEDIA' ? out : pendingSegmentTags).push(rewritten);
        continue;
      }
      if (PLAIN_TAGS.has(tag)) {
        if (/URI=/i.test(value)) return { ok: false, message: `line ${i + 1}: #${tag} with a URI attribute` };
        (tag === 'EXT-X-DISCONTINUITY' || tag === 'EXT-X-PROGRAM-DATE-TIME' || tag === 'EXT-X-GAP' ? pendingSegmentTags : out).push(line);
        continue;
      }
      continue; // an unknown tag (session data, I-frame playlists, …): dropped, it could carry anything
    }
    // A URI line.
    const path = upstreamPathOf(line, input.upstreamPath, input.serverOrigins);
    if (isMaster) {
      if (pendingStreamInf === null) return { ok: false, message: `line ${i + 1}: a URI without #EXT-X-STREAM-INF` };
      if (!path.ok) {
        dropped++;
        pendingStreamInf = null;
        continue;
      }
      const name = playlistName();
      entries.push({ name, upstreamPath: path.path, kind: 'playlist' });
      out.push(pendingStreamInf, name);
      pendingStreamInf = null;
      continue;
    }
    if (pendingDuration === null) return { ok: false, message: `line ${i + 1}: a segment without #EXTINF` };
    if (!path.ok) return { ok: false, message: `line ${i + 1}: ${path.message}` };
    const sequence = mediaSequence + durations.length;
    const name = `${prefix}-${sequence}.${extensionOf(path.path)}`;
    entries.push({ name, upstreamPath: path.path, kind: 'resource' });
    out.push(...pendingSegmentTags, name);
    durations.push(pendingDuration);
    pendingDuration = null;
    pendingSegmentTags = [];
  }
  if (pendingStreamInf !== null) return { ok: false, message: 'the playlist ends with a variant that has no URI' };
  if (pendingDuration !== null) return { ok: false, message: 'the playlist ends with a segment that has no URI' };
  if (isMaster && !entries.some((e) => e.kind === 'playlist')) return { ok: false, message: 'the playlist lists no variant Marquee may fetch' };
  if (!isMaster && !isMedia) return { ok: false, message: 'the playlist lists neither variants nor segments' };
  // Tags that belong after the segments (#EXT-X-ENDLIST) were pushed in order; move ENDLIST last.
  const endlist = out.indexOf('#EXT-X-ENDLIST');
  if (endlist >= 0) out.push(...out.splice(endlist, 1));
  return { ok: true, kind: isMaster ? 'master' : 'media', text: `${out.join('\n')}\n`, entries, mediaSequence, segmentDurations: durations, dropped };
}

/** The media sequence number of the segment that holds `positionSec` (null: past the end or before the start). */
export function sequenceAt(mediaSequence: number, durations: readonly number[], positionSec: number): number | null {
  let t = 0;
  for (let i = 0; i < durations.length; i++) {
    t += durations[i]!;
    if (positionSec < t) return mediaSequence + i;
  }
  return null;
}
