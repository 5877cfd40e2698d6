// Jellyfin's playback surface (LIBRARY-PLAYBACK.md): PlaybackInfo decisions, static streams with
// ranges, HLS "transcodes" (segments of the H.264 clip), subtitles, progress reports and played
// state. Called from jellyfin-server.ts's dispatch; answers undefined for paths it does not own.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { empty, json, parseJsonBody, queryParam, text, type SimResponse } from '../http-util.js';
import { randomHex } from '../ids.js';
import type { MediaCatalog, SimPlayable } from '../media-catalog.js';
import type { Timers } from '../timers.js';
import { CLIP_PARAMS, ensureClips, type ClipFile } from './clips.js';
import { fallbackCatalog } from './fallback-catalog.js';
import { hlsVariantInfo, MemoryPlayStateStore, PLAYED_THRESHOLD, PlaybackReports, TranscodeSessions, type PlayStateStore } from './playback.js';
import { fileResponse } from './range.js';

/** Jellyfin kills an HLS transcode nobody pinged for ~60 s (TranscodeManager). */
export const JELLYFIN_HLS_IDLE_MS = 60_000;
const TICKS_PER_MS = 10_000;
const SUBTITLE_INDEX = 2;

export interface JellyfinMediaCaller {
  userId: string;
  token: string;
  deviceId: string | undefined;
}

const errorText = (status: number) => text(status, 'Error processing request.');

// Request bodies, transcribed from the spec's PlaybackStartInfo / PlaybackProgressInfo /
// PlaybackStopInfo (the fields a player sends; others pass through unchecked).
const guid = z.string().regex(/^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i);
const ticks = z.number().int().nullable().optional();
const ReportBody = z.looseObject({
  ItemId: guid,
  MediaSourceId: z.string().nullable().optional(),
  PlaySessionId: z.string().nullable().optional(),
  SessionId: z.string().nullable().optional(),
  PositionTicks: ticks,
  PlaybackStartTimeTicks: ticks,
  IsPaused: z.boolean().optional(),
  IsMuted: z.boolean().optional(),
  CanSeek: z.boolean().optional(),
  Failed: z.boolean().optional(),
  PlayMethod: z.enum(['Transcode', 'DirectStream', 'DirectPlay']).optional(),
  AudioStreamIndex: z.number().int().nullable().optional(),
  SubtitleStreamIndex: z.number().int().nullable().optional(),
});

const Profile = z.looseObject({ Container: z.string().nullable().optional(), AudioCodec: z.string().nullable().optional(), VideoCodec: z.string().nullable().optional(), Type: z.string().optional() });
const PlaybackInfoBody = z.looseObject({
  UserId: z.string().nullable().optional(),
  MaxStreamingBitrate: z.number().int().nullable().optional(),
  StartTimeTicks: ticks,
  MediaSourceId: z.string().nullable().optional(),
  EnableDirectPlay: z.boolean().nullable().optional(),
  EnableDirectStream: z.boolean().nullable().optional(),
  EnableTranscoding: z.boolean().nullable().optional(),
  DeviceProfile: z.looseObject({ DirectPlayProfiles: z.array(Profile).nullable().optional(), MaxStreamingBitrate: z.number().int().nullable().optional() }).nullable().optional(),
});

const CONTAINER_ALIASES: Record<ClipFile['container'], string[]> = { mp4: ['mp4', 'm4v', 'mov'], mkv: ['mkv', 'matroska'], m4a: ['m4a', 'mp4', 'mov'] };
const list = (value: string | null | undefined) => (value ?? '').toLowerCase().split(',').map((v) => v.trim()).filter(Boolean);

/** Whether a DirectPlayProfile list lets the browser play this file as it is. */
export function profileAllowsDirectPlay(profiles: z.infer<typeof Profile>[], clip: ClipFile): boolean {
  const type = clip.videoCodec ? 'video' : 'audio';
  return profiles.some((p) => {
    if ((p.Type ?? '').toLowerCase() !== type) return false;
    const containers = list(p.Container);
    if (containers.length > 0 && !containers.some((c) => CONTAINER_ALIASES[clip.container].includes(c))) return false;
    const audio = list(p.AudioCodec);
    if (audio.length > 0 && !audio.includes(clip.audioCodec)) return false;
    const video = list(p.VideoCodec);
    return !clip.videoCodec || video.length === 0 || video.includes(clip.videoCodec);
  });
}

export class JellyfinMedia {
  /** The generated library chained with the fixed extras (set by the server). */
  catalog: MediaCatalog;
  playState: PlayStateStore = new MemoryPlayStateStore();
  readonly reports = new PlaybackReports();
  readonly transcodes: TranscodeSessions;

  constructor(serverId: string, timers: Timers, keepAliveScale: number) {
    this.catalog = fallbackCatalog('jellyfin', serverId);
    this.transcodes = new TranscodeSessions(timers, JELLYFIN_HLS_IDLE_MS * keepAliveScale);
  }

  /** `path` is lower-cased (ASP.NET routing is case-insensitive). Undefined: not a media path. */
  handle(req: IncomingMessage, url: URL, path: string, method: string, body: Buffer, caller: JellyfinMediaCaller | undefined): Promise<SimResponse> | undefined {
    const route = this.route(url, path, method, body);
    if (!route) return undefined;
    if (!caller) return Promise.resolve(empty(401));
    return route(req, caller).catch(() => errorText(500));
  }

  private route(url: URL, path: string, method: string, body: Buffer): ((req: IncomingMessage, caller: JellyfinMediaCaller) => Promise<SimResponse>) | undefined {
    const read = method === 'GET' || method === 'HEAD';
    let m: RegExpExecArray | null;
    if ((m = /^\/(videos|audio)\/([0-9a-f-]{32,36})\/stream(?:\.\w+)?$/.exec(path)) && read) {
      const itemId = m[2]!;
      return async (req) => this.stream(req, url, itemId);
    }
    if ((m = /^\/items\/([0-9a-f-]{32,36})\/playbackinfo$/.exec(path)) && (method === 'POST' || method === 'GET')) {
      const itemId = m[1]!;
      return async (_req, caller) => this.playbackInfo(url, itemId, method === 'POST' ? body : Buffer.alloc(0), caller);
    }
    if ((m = /^\/videos\/([0-9a-f-]{32,36})\/(master|main)\.m3u8$/.exec(path)) && read) {
      const [, itemId, which] = m as unknown as [string, string, 'master' | 'main'];
      return async () => this.playlist(url, itemId, which);
    }
    if ((m = /^\/videos\/([0-9a-f-]{32,36})\/hls1\/([^/]+)\/(\d+)\.ts$/.exec(path)) && read) {
      const [, itemId, , segment] = m as unknown as [string, string, string, string];
      return async (req) => this.segment(req, url, itemId, Number(segment));
    }
    if ((m = /^\/videos\/([0-9a-f-]{32,36})\/([^/]+)\/subtitles\/(\d+)(?:\/\d+)?\/stream\.vtt$/.exec(path)) && read) {
      const [, itemId, sourceId, index] = m as unknown as [string, string, string, string];
      return async (req) => this.subtitles(req, itemId, sourceId, Number(index));
    }
    if (path === '/videos/activeencodings' && method === 'DELETE') {
      return async () => {
        const playSessionId = queryParam(url, 'playSessionId');
        if (!playSessionId && !queryParam(url, 'deviceId')) return errorText(400);
        this.transcodes.stopRequested(playSessionId);
        return empty(204);
      };
    }
    if (path === '/sessions/playing/ping' && method === 'POST') {
      return async () => {
        const playSessionId = queryParam(url, 'playSessionId');
        if (!playSessionId) return errorText(400);
        this.transcodes.touch(playSessionId); // the real server answers 204 for an unknown session too
        return empty(204);
      };
    }
    if ((path === '/sessions/playing' || path === '/sessions/playing/progress' || path === '/sessions/playing/stopped') && method === 'POST') {
      const kind = path === '/sessions/playing' ? 'started' : path.endsWith('progress') ? 'progress' : 'stopped';
      return async () => this.report(url, kind, body);
    }
    if ((m = /^\/userplayeditems\/([0-9a-f-]{32,36})$/.exec(path)) && (method === 'POST' || method === 'DELETE')) {
      const itemId = m[1]!;
      return async () => this.markPlayed(url, itemId.replace(/-/g, ''), method === 'POST');
    }
    return undefined;
  }

  private item(itemId: string): SimPlayable | null {
    return this.catalog.playable(itemId.replace(/-/g, ''));
  }

  private async stream(req: IncomingMessage, url: URL, itemId: string): Promise<SimResponse> {
    const item = this.item(itemId);
    const sourceId = queryParam(url, 'mediaSourceId');
    if (!item || (sourceId && sourceId.replace(/-/g, '') !== item.partId)) return errorText(404);
    const clip = (await ensureClips()).files[item.variant];
    return fileResponse(req, clip);
  }

  private async playbackInfo(url: URL, itemId: string, body: Buffer, caller: JellyfinMediaCaller): Promise<SimResponse> {
    const raw = body.length > 0 ? parseJsonBody(body) : {};
    const parsed = PlaybackInfoBody.safeParse(raw ?? null);
    if (!parsed.success) return errorText(400);
    const request = parsed.data;
    const item = this.item(itemId);
    if (!item) return errorText(404);
    const clips = await ensureClips();
    const clip = clips.files[item.variant];
    const maxBitrate = request.MaxStreamingBitrate ?? request.DeviceProfile?.MaxStreamingBitrate ?? Number(queryParam(url, 'maxStreamingBitrate') ?? Infinity);
    const profiles = request.DeviceProfile?.DirectPlayProfiles;
    // Without a device profile the server cannot rule anything out: it offers direct play.
    const playable = profiles ? profileAllowsDirectPlay(profiles, clip) : true;
    const direct = request.EnableDirectPlay !== false && playable && clip.bitrate <= maxBitrate;
    const playSessionId = randomHex(32);
    const startTicks = request.StartTimeTicks ?? Number(queryParam(url, 'startTimeTicks') ?? 0);
    if (!direct && request.EnableTranscoding === false) return json(200, { MediaSources: [], PlaySessionId: playSessionId, ErrorCode: 'NoCompatibleStream' });
    const source = this.mediaSource(item, clip, direct);
    if (!direct) {
      const query = new URLSearchParams({
        DeviceId: caller.deviceId ?? '',
        MediaSourceId: item.partId,
        VideoCodec: 'h264',
        AudioCodec: 'aac',
        AudioStreamIndex: '1',
        VideoBitrate: String(Math.min(CLIP_PARAMS.videoKbps * 1000, Number.isFinite(maxBitrate) ? maxBitrate : Infinity)),
        AudioBitrate: String(CLIP_PARAMS.audioKbps * 1000),
        PlaySessionId: playSessionId,
        SegmentContainer: 'ts',
        MinSegments: '1',
        BreakOnNonKeyFrames: 'True',
        TranscodeReasons: playable ? 'ContainerBitrateExceedsLimit' : 'VideoCodecNotSupported,AudioCodecNotSupported',
      });
      if (startTicks > 0) query.set('StartTimeTicks', String(startTicks));
      // The real server appends the caller's token: a client must never hand this URL on as it is.
      query.set('ApiKey', caller.token);
      source['TranscodingUrl'] = `/videos/${item.itemId}/master.m3u8?${query.toString()}`;
      source['TranscodingSubProtocol'] = 'hls';
      source['TranscodingContainer'] = 'ts';
    }
    return json(200, { MediaSources: [source], PlaySessionId: playSessionId });
  }

  private mediaSource(item: SimPlayable, clip: ClipFile, direct: boolean): Record<string, unknown> {
    const runTimeTicks = item.durationMs * TICKS_PER_MS;
    const streams: Record<string, unknown>[] = [];
    if (clip.videoCodec) {
      streams.push({ Codec: clip.videoCodec, Type: 'Video', Index: 0, IsDefault: true, IsForced: false, IsExternal: false, IsInterlaced: false, IsTextSubtitleStream: false, SupportsExternalStream: false,
        Width: CLIP_PARAMS.width, Height: CLIP_PARAMS.height, BitRate: CLIP_PARAMS.videoKbps * 1000, AverageFrameRate: CLIP_PARAMS.fps, RealFrameRate: CLIP_PARAMS.fps,
        Profile: clip.videoCodec === 'h264' ? 'High' : 'Main', PixelFormat: 'yuv420p', DisplayTitle: `240p ${clip.videoCodec.toUpperCase()} SDR` });
    }
    streams.push({ Codec: clip.audioCodec, Type: 'Audio', Index: clip.videoCodec ? 1 : 0, IsDefault: true, IsForced: false, IsExternal: false, IsInterlaced: false, IsTextSubtitleStream: false, SupportsExternalStream: false,
      Channels: 1, SampleRate: 48000, BitRate: CLIP_PARAMS.audioKbps * 1000, ChannelLayout: 'mono', Language: 'eng', DisplayTitle: `English - ${clip.audioCodec.toUpperCase()} - Mono` });
    if (clip.videoCodec) {
      streams.push({ Codec: 'webvtt', Type: 'Subtitle', Index: SUBTITLE_INDEX, Language: 'eng', IsDefault: false, IsForced: false, IsExternal: true, IsInterlaced: false, IsTextSubtitleStream: true, SupportsExternalStream: true,
        DeliveryMethod: 'External', DeliveryUrl: `/Videos/${item.itemId}/${item.partId}/Subtitles/${SUBTITLE_INDEX}/0/Stream.vtt`, IsExternalUrl: false, Path: `/media/${item.itemId}.en.vtt`, DisplayTitle: 'English - WEBVTT - External' });
    }
    return {
      Protocol: 'File', Id: item.partId, Path: `/media/${item.title}/${clip.fileName}`, Type: 'Default', Container: clip.container, Size: clip.size, Name: item.title,
      IsRemote: false, ETag: clip.etag.replace(/"/g, ''), RunTimeTicks: runTimeTicks, ReadAtNativeFramerate: false, IgnoreDts: false, IgnoreIndex: false, GenPtsInput: false,
      SupportsTranscoding: true, SupportsDirectStream: direct, SupportsDirectPlay: direct, IsInfiniteStream: false, UseMostCompatibleTranscodingProfile: false,
      RequiresOpening: false, RequiresClosing: false, RequiresLooping: false, SupportsProbing: true, VideoType: clip.videoCodec ? 'VideoFile' : null,
      MediaStreams: streams, MediaAttachments: [], Formats: [], Bitrate: clip.bitrate, RequiredHttpHeaders: {},
      DefaultAudioStreamIndex: clip.videoCodec ? 1 : 0, DefaultSubtitleStreamIndex: -1, HasSegments: false,
      TranscodingSubProtocol: 'http',
    };
  }

  /** master.m3u8 starts (or restarts at StartTimeTicks) the session; main.m3u8 lists its segments. */
  private async playlist(url: URL, itemId: string, which: 'master' | 'main'): Promise<SimResponse> {
    const item = this.item(itemId);
    const playSessionId = queryParam(url, 'PlaySessionId');
    if (!item || !playSessionId) return errorText(404);
    const clips = await ensureClips();
    const startTicks = Number(queryParam(url, 'StartTimeTicks') ?? 0) || 0;
    const startSegment = Math.min(clips.hls.length - 1, Math.floor(startTicks / TICKS_PER_MS / 1000 / CLIP_PARAMS.hlsSegmentSec));
    const running = this.transcodes.get(playSessionId);
    // The query (token included) is copied into the playlist's URLs, as the real server does.
    const query = url.search;
    if (which === 'master') {
      if (!running || running.itemId !== item.itemId || running.startSegment !== startSegment) this.transcodes.start(playSessionId, item.itemId, startSegment);
      else this.transcodes.touch(playSessionId);
      const body = `#EXTM3U\n${hlsVariantInfo(clips.files['h264-aac'].bitrate, CLIP_PARAMS.width, CLIP_PARAMS.height, CLIP_PARAMS.fps)}\nmain.m3u8${query}\n`;
      return text(200, body, 'application/vnd.apple.mpegurl');
    }
    if (!running || running.itemId !== item.itemId) return errorText(404);
    this.transcodes.touch(playSessionId);
    const lines = ['#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${CLIP_PARAMS.hlsSegmentSec}`, `#EXT-X-MEDIA-SEQUENCE:${running.startSegment}`];
    for (const segment of clips.hls.slice(running.startSegment)) lines.push(`#EXTINF:${segment.durationSec.toFixed(6)}, nodesc`, `hls1/main/${segment.index}.ts${query}`);
    lines.push('#EXT-X-ENDLIST');
    return text(200, `${lines.join('\n')}\n`, 'application/vnd.apple.mpegurl');
  }

  private async segment(req: IncomingMessage, url: URL, itemId: string, index: number): Promise<SimResponse> {
    const playSessionId = queryParam(url, 'PlaySessionId');
    const session = this.transcodes.get(playSessionId);
    const item = this.item(itemId);
    if (!item || !session || session.itemId !== item.itemId || index < session.startSegment) return errorText(404);
    const segment = (await ensureClips()).hls[index];
    if (!segment) return errorText(404);
    this.transcodes.touch(playSessionId);
    return fileResponse(req, { path: segment.path, size: segment.size, mimeType: 'video/mp2t', etag: `"seg-${index}-${segment.size}"`, lastModified: new Date(session.startedAt) });
  }

  private async subtitles(req: IncomingMessage, itemId: string, sourceId: string, index: number): Promise<SimResponse> {
    const item = this.item(itemId);
    if (!item || item.variant === 'audio-aac' || sourceId.replace(/-/g, '') !== item.partId || index !== SUBTITLE_INDEX) return errorText(404);
    const clips = await ensureClips();
    return fileResponse(req, clips.subtitles);
  }

  private report(url: URL, kind: 'started' | 'progress' | 'stopped', body: Buffer): SimResponse {
    const call = `POST /Sessions/Playing${kind === 'started' ? '' : kind === 'progress' ? '/Progress' : '/Stopped'}`;
    const raw = parseJsonBody(body);
    const parsed = ReportBody.safeParse(raw ?? null);
    if (!parsed.success) {
      this.reports.record({ url, call, itemId: null, positionMs: null, state: kind, accepted: false, problem: z.prettifyError(parsed.error), body: raw });
      return errorText(400);
    }
    const report = parsed.data;
    const itemId = report.ItemId.replace(/-/g, '').toLowerCase();
    const positionMs = report.PositionTicks == null ? null : Math.round(report.PositionTicks / TICKS_PER_MS);
    const state = kind === 'progress' && report.IsPaused ? 'paused' : kind;
    this.reports.record({ url, call, itemId, positionMs, state, accepted: true, body: report });
    const item = this.catalog.playable(itemId);
    if (item && positionMs !== null) {
      if (kind === 'stopped' && positionMs >= item.durationMs * PLAYED_THRESHOLD) this.playState.setPlayed(itemId, true);
      else this.playState.setPosition(itemId, positionMs);
    }
    // Progress keeps the transcode alive; stopping ends it (the server kills the session's job).
    if (kind === 'stopped') this.transcodes.stop(report.PlaySessionId ?? undefined);
    else this.transcodes.touch(report.PlaySessionId ?? undefined);
    return empty(204);
  }

  private markPlayed(url: URL, itemId: string, played: boolean): SimResponse {
    const call = `${played ? 'POST' : 'DELETE'} /UserPlayedItems/{itemId}`;
    if (!this.catalog.playable(itemId)) {
      this.reports.record({ url, call, itemId, positionMs: null, state: played ? 'played' : 'unplayed', accepted: false, problem: 'unknown item' });
      return errorText(404);
    }
    this.playState.setPlayed(itemId, played);
    this.reports.record({ url, call, itemId, positionMs: null, state: played ? 'played' : 'unplayed', accepted: true });
    const state = this.playState.get(itemId);
    return json(200, {
      PlaybackPositionTicks: state.positionMs * TICKS_PER_MS,
      PlayCount: state.playCount,
      IsFavorite: false,
      Played: state.played,
      Key: itemId,
      ItemId: itemId,
      ...(state.lastPlayedAt ? { LastPlayedDate: state.lastPlayedAt.toISOString() } : {}),
    });
  }
}
