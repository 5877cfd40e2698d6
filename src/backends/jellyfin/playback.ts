// Jellyfin playback (issue 15): the item (`/Items/{id}`: title, resume `UserData.PlaybackPositionTicks`),
// `POST /Items/{id}/PlaybackInfo` through the SDK's MediaInfoApi with a DeviceProfile that says
// exactly what Debian's Chromium plays (src/core/playback-policy.ts), progress through
// `/Sessions/Playing[/Progress|/Stopped]`, the transcode keep-alive `/Sessions/Playing/Ping`,
// `DELETE /Videos/ActiveEncodings`, subtitles as `Stream.vtt` and the next episode. The DeviceId is
// the install's (per server), so any route reaches the same running transcode. Never throws.
import type { Api } from '@jellyfin/sdk';
import { getMediaInfoApi } from '@jellyfin/sdk/lib/utils/api/media-info-api.js';
import { getSessionApi } from '@jellyfin/sdk/lib/utils/api/session-api.js';
import type { AxiosResponse } from 'axios';
import { z } from 'zod';
import { BROWSER_AUDIO_CODECS, BROWSER_VIDEO_CODECS } from '../../core/playback-policy.js';
import { probeErrorFromAxios } from '../axios.js';
import { describeHost, MAX_BODY_BYTES, stripTokenParams } from '../http.js';
import { decodeJson, validate } from '../parse.js';
import { toWebVtt } from '../subtitles.js';
import type { BrowseResult, CallOptions, PlaybackApi, PlaybackDecision, PlaybackRequest, ProgressReport, RouteContext } from '../types.js';

export const TICKS_PER_MS = 10_000;

/** What Chromium plays as it is, and what to transcode to otherwise (HLS, H.264 + AAC in MPEG-TS). */
export function chromiumDeviceProfile(maxBitrateBps: number | null): Record<string, unknown> {
  const video = BROWSER_VIDEO_CODECS.join(',');
  const audio = BROWSER_AUDIO_CODECS.join(',');
  return {
    Name: 'Marquee (Chromium)',
    ...(maxBitrateBps !== null ? { MaxStreamingBitrate: maxBitrateBps, MaxStaticBitrate: maxBitrateBps } : {}),
    DirectPlayProfiles: [
      { Container: 'mp4,m4v,mov', Type: 'Video', VideoCodec: 'h264,vp9,av1', AudioCodec: 'aac,opus,mp3,flac' },
      { Container: 'webm', Type: 'Video', VideoCodec: 'vp8,vp9,av1', AudioCodec: 'opus,vorbis' },
      { Container: 'ts,mpegts', Type: 'Video', VideoCodec: 'h264', AudioCodec: 'aac,mp3' },
      { Container: 'mp3', Type: 'Audio', AudioCodec: 'mp3' },
      { Container: 'm4a,mp4', Type: 'Audio', AudioCodec: 'aac,flac,opus,mp3' },
      { Container: 'flac', Type: 'Audio', AudioCodec: 'flac' },
      { Container: 'webm,ogg', Type: 'Audio', AudioCodec: 'opus,vorbis' },
    ],
    TranscodingProfiles: [
      { Container: 'ts', Type: 'Video', VideoCodec: 'h264', AudioCodec: 'aac', Protocol: 'hls', Context: 'Streaming', MinSegments: 1, BreakOnNonKeyFrames: true },
      { Container: 'ts', Type: 'Audio', AudioCodec: 'aac', Protocol: 'hls', Context: 'Streaming', MinSegments: 1, BreakOnNonKeyFrames: true },
    ],
    ContainerProfiles: [],
    // Not HEVC, AC-3, E-AC-3 or DTS: anything outside these lists is transcoded.
    CodecProfiles: [
      { Type: 'Video', Codec: video, Conditions: [] },
      { Type: 'VideoAudio', Codec: audio, Conditions: [] },
    ],
    SubtitleProfiles: [
      { Format: 'vtt', Method: 'External' },
      { Format: 'srt', Method: 'External' },
    ],
  };
}

const streamSchema = z.looseObject({
  Type: z.string().optional(),
  Index: z.number().int(),
  Codec: z.string().nullable().optional(),
  Language: z.string().nullable().optional(),
  DisplayTitle: z.string().nullable().optional(),
  IsTextSubtitleStream: z.boolean().optional(),
});
const sourceSchema = z.looseObject({
  Id: z.string(),
  Container: z.string().nullable().optional(),
  SupportsDirectPlay: z.boolean().optional(),
  TranscodingUrl: z.string().nullable().optional(),
  RunTimeTicks: z.number().nullable().optional(),
  Bitrate: z.number().nullable().optional(),
  DefaultAudioStreamIndex: z.number().nullable().optional(),
  MediaStreams: z.array(streamSchema).nullable().optional(),
});
const playbackInfoSchema = z.looseObject({
  MediaSources: z.array(sourceSchema).nullable().optional(),
  PlaySessionId: z.string().nullable().optional(),
  ErrorCode: z.string().nullable().optional(),
});
const itemSchema = z.looseObject({
  Id: z.string(),
  Name: z.string().nullable().optional(),
  Type: z.string().nullable().optional(),
  MediaType: z.string().nullable().optional(),
  SeriesName: z.string().nullable().optional(),
  SeriesId: z.string().nullable().optional(),
  IndexNumber: z.number().nullable().optional(),
  ParentIndexNumber: z.number().nullable().optional(),
  RunTimeTicks: z.number().nullable().optional(),
  AlbumArtist: z.string().nullable().optional(),
  UserData: z.looseObject({ PlaybackPositionTicks: z.number().nullable().optional() }).nullable().optional(),
});
const episodesSchema = z.looseObject({ Items: z.array(itemSchema).nullable().optional() });
type Item = z.infer<typeof itemSchema>;

/** What the backend lends the playback side: an SDK client for a call's route, device and token. */
export interface JellyfinApiSource {
  apiFor(call: RouteContext): Api;
  deviceIdFor(call: RouteContext): string;
}

const parseWith =
  <S extends z.ZodType>(schema: S, what: string) =>
  (body: unknown) => {
    const decoded = decodeJson(body);
    return decoded.ok ? validate(schema, decoded.value, what) : decoded;
  };

async function run<T>(call: RouteContext, send: () => Promise<AxiosResponse<unknown>>, parse: (body: unknown) => BrowseResult<T>): Promise<BrowseResult<T>> {
  let res: AxiosResponse<unknown>;
  try {
    res = await send();
  } catch (err) {
    const error = probeErrorFromAxios(err);
    return { ok: false, error: error.status === 404 ? { ...error, message: `${describeHost(call.route.url)} has no such item (HTTP 404)` } : error };
  }
  return parse(res.data);
}
const none = (): BrowseResult<null> => ({ ok: true, value: null });

export class JellyfinPlayback implements PlaybackApi {
  constructor(private readonly source: JellyfinApiSource) {}

  private req(options: CallOptions) {
    return { timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
  }

  private raw(call: RouteContext, method: 'get' | 'delete', path: string, params: object, options: CallOptions) {
    const api = this.source.apiFor(call);
    return api.axiosInstance.request({ method, url: api.getUri(path, params), ...this.req(options), headers: { Authorization: api.authorizationHeader } });
  }

  private item(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<Item>> {
    const userId = call.credentials.userId;
    return run(call, () => this.raw(call, 'get', `/Items/${encodeURIComponent(itemId)}`, userId ? { userId } : {}, options), parseWith(itemSchema, 'item'));
  }

  async decide(call: RouteContext, request: PlaybackRequest, options: CallOptions): Promise<BrowseResult<PlaybackDecision>> {
    // The item (title, resume point) and PlaybackInfo are independent: asked together, one round
    // trip instead of two (on a remote route, ~100 ms less before the first frame).
    const itemAnswer = this.item(call, request.itemId, options);
    const api = this.source.apiFor(call);
    const deviceId = this.source.deviceIdFor(call);
    const maxBps = request.maxBitrateKbps !== null ? request.maxBitrateKbps * 1000 : null;
    const audioIndex = request.audioTrackId !== undefined && /^\d+$/.test(request.audioTrackId) ? Number(request.audioTrackId) : undefined;
    const info = await run(
      call,
      () =>
        getMediaInfoApi(api).getPostedPlaybackInfo(
          {
            itemId: request.itemId,
            playbackInfoDto: {
              ...(call.credentials.userId ? { UserId: call.credentials.userId } : {}),
              ...(maxBps !== null ? { MaxStreamingBitrate: maxBps } : {}),
              StartTimeTicks: Math.round(request.startMs) * TICKS_PER_MS,
              ...(audioIndex !== undefined ? { AudioStreamIndex: audioIndex } : {}),
              MediaSourceId: request.itemId,
              EnableDirectPlay: true,
              EnableDirectStream: false,
              EnableTranscoding: true,
              AllowVideoStreamCopy: true,
              AllowAudioStreamCopy: true,
              AutoOpenLiveStream: false,
              DeviceProfile: chromiumDeviceProfile(maxBps),
            },
          },
          this.req(options),
        ),
      parseWith(playbackInfoSchema, 'playback info'),
    );
    const item = await itemAnswer;
    if (!item.ok) return item;
    if (!info.ok) return info;
    const source = info.value.MediaSources?.[0];
    const playSessionId = info.value.PlaySessionId;
    if (!source || !playSessionId) {
      return { ok: false, error: { code: 'http_error', status: 409, message: `the server cannot play this item in the browser${info.value.ErrorCode ? ` (${info.value.ErrorCode})` : ''}` } };
    }
    const meta = item.value;
    const isAudio = (meta.MediaType ?? '').toLowerCase() === 'audio' || meta.Type === 'Audio';
    const streams = source.MediaStreams ?? [];
    const audio = streams.filter((s) => s.Type === 'Audio');
    const selectedAudio = audioIndex ?? source.DefaultAudioStreamIndex ?? audio[0]?.Index;
    const ticks = meta.UserData?.PlaybackPositionTicks ?? 0;
    const runTicks = source.RunTimeTicks ?? meta.RunTimeTicks ?? null;
    const base = {
      itemId: request.itemId,
      mediaType: isAudio ? ('audio' as const) : ('video' as const),
      durationMs: runTicks !== null ? Math.round(runTicks / TICKS_PER_MS) : null,
      resumeMs: ticks > 0 ? Math.round(ticks / TICKS_PER_MS) : null,
      subtitles: streams
        .filter((s) => s.Type === 'Subtitle' && s.IsTextSubtitleStream === true)
        .map((s) => ({
          id: String(s.Index),
          label: s.DisplayTitle ?? s.Language ?? `Subtitle ${s.Index}`,
          language: s.Language ?? null,
          path: `/Videos/${encodeURIComponent(request.itemId)}/${encodeURIComponent(source.Id)}/Subtitles/${s.Index}/Stream.vtt`,
          format: 'vtt' as const,
        })),
      audioTracks: audio.map((s) => ({ id: String(s.Index), label: s.DisplayTitle ?? s.Language ?? `Audio ${s.Index}`, language: s.Language ?? null, selected: s.Index === selectedAudio })),
      playSessionId,
      mediaSourceId: source.Id,
      ...(meta.Name ? { title: meta.Name } : {}),
      subtitleLine: meta.Type === 'Episode' && meta.SeriesName ? `${meta.SeriesName} · S${meta.ParentIndexNumber ?? '?'} E${meta.IndexNumber ?? '?'}` : (meta.AlbumArtist ?? null),
      seriesId: meta.Type === 'Episode' ? (meta.SeriesId ?? null) : null,
    };
    if (source.SupportsDirectPlay === true && audioIndex === undefined) {
      const query = new URLSearchParams({ static: 'true', mediaSourceId: source.Id, playSessionId, deviceId });
      return { ok: true, value: { ...base, method: 'direct', mediaPath: `/${isAudio ? 'Audio' : 'Videos'}/${encodeURIComponent(request.itemId)}/stream?${query.toString()}` } };
    }
    if (!source.TranscodingUrl || !source.TranscodingUrl.startsWith('/')) {
      return { ok: false, error: { code: 'http_error', status: 409, message: 'the server offered neither direct play nor a transcode for this item' } };
    }
    const masterPath = stripTokenParams(source.TranscodingUrl);
    const videoBitrate = Number(new URLSearchParams(masterPath.split('?')[1] ?? '').get('VideoBitrate'));
    const bitrateKbps = Number.isFinite(videoBitrate) && videoBitrate > 0 ? Math.round(videoBitrate / 1000) : (request.maxBitrateKbps ?? Math.round((source.Bitrate ?? 0) / 1000));
    return { ok: true, value: { ...base, method: 'transcode', masterPath, bitrateKbps } };
  }

  report(call: RouteContext, report: ProgressReport, options: CallOptions): Promise<BrowseResult<null>> {
    const api = getSessionApi(this.source.apiFor(call));
    const info = {
      ItemId: report.itemId,
      MediaSourceId: report.decision.mediaSourceId,
      PlaySessionId: report.decision.playSessionId,
      PositionTicks: Math.round(report.positionMs) * TICKS_PER_MS,
      IsPaused: report.state === 'paused',
      CanSeek: true,
      PlayMethod: report.decision.method === 'direct' ? ('DirectPlay' as const) : ('Transcode' as const),
    };
    const send =
      report.event === 'start'
        ? () => api.reportPlaybackStart({ playbackStartInfo: info }, this.req(options))
        : report.event === 'stop' || report.state === 'stopped'
          ? () => api.reportPlaybackStopped({ playbackStopInfo: { ItemId: info.ItemId, MediaSourceId: info.MediaSourceId, PlaySessionId: info.PlaySessionId, PositionTicks: info.PositionTicks } }, this.req(options))
          : () => api.reportPlaybackProgress({ playbackProgressInfo: info }, this.req(options));
    return run(call, send, none);
  }

  ping(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>> {
    return run(call, () => getSessionApi(this.source.apiFor(call)).pingPlaybackSession({ playSessionId: decision.playSessionId }, this.req(options)), none);
  }

  stop(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>> {
    return run(call, () => this.raw(call, 'delete', '/Videos/ActiveEncodings', { deviceId: this.source.deviceIdFor(call), playSessionId: decision.playSessionId }, options), none);
  }

  async subtitle(call: RouteContext, path: string, options: CallOptions): Promise<BrowseResult<string>> {
    if (!path.startsWith('/') || path.startsWith('//')) return { ok: false, error: { code: 'malformed', message: 'not a server-relative subtitle path' } };
    const body = await run(call, () => this.raw(call, 'get', path, {}, options), (b) => ({ ok: true, value: typeof b === 'string' ? b : JSON.stringify(b) }));
    if (!body.ok) return body;
    if (body.value.length > MAX_BODY_BYTES) return { ok: false, error: { code: 'malformed', message: 'the subtitle is too large' } };
    return toWebVtt(body.value);
  }

  async nextItem(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<string | null>> {
    const item = await this.item(call, itemId, options);
    if (!item.ok) return item;
    if (item.value.Type !== 'Episode' || !item.value.SeriesId) return { ok: true, value: null };
    const userId = call.credentials.userId;
    const episodes = await run(call, () => this.raw(call, 'get', `/Shows/${encodeURIComponent(item.value.SeriesId!)}/Episodes`, userId ? { userId } : {}, options), parseWith(episodesSchema, 'episodes'));
    if (!episodes.ok) return episodes;
    const order = (e: Item) => (e.ParentIndexNumber ?? 0) * 100_000 + (e.IndexNumber ?? 0);
    const sorted = [...(episodes.value.Items ?? [])].sort((a, b) => order(a) - order(b));
    const at = sorted.findIndex((e) => e.Id === item.value.Id);
    const next = at >= 0 ? sorted[at + 1] : sorted.find((e) => order(e) > order(item.value));
    return { ok: true, value: next?.Id ?? null };
  }
}
