// Plex playback (issue 15): the item (`/library/metadata/{id}`: title, resume `viewOffset`,
// codecs), the universal transcoder's decision (`/video/:/transcode/universal/decision`, with the
// session named by `session` and `X-Plex-Session-Identifier`, `location=lan|wan`, `maxVideoBitrate`),
// `POST /:/timeline` progress (+ `offline=1&updated=` for reports made while away), `PUT
// /:/scrobble` past 90 %, transcode ping/stop, subtitle streams and the next episode. Tokens only
// in headers; every path handed on is server-relative and token-free. Never throws.
import { z } from 'zod';
import { browserPlays, plexLocation } from '../../core/playback-policy.js';
import { classifyStatus, describeHost, MAX_BODY_BYTES, stripTokenParams } from '../http.js';
import { decodeJsonOrXml, validate } from '../parse.js';
import { toWebVtt } from '../subtitles.js';
import type { BrowseResult, CallOptions, MediaTrackInfo, PlaybackApi, PlaybackDecision, PlaybackRequest, ProgressReport, RouteContext } from '../types.js';
import { plexHeaders, type PlexConfig } from './backend.js';

const num = z.coerce.number();
const optStr = z.coerce.string().optional();
const stream = z.looseObject({
  id: z.coerce.string(),
  streamType: num,
  codec: optStr,
  key: optStr,
  format: optStr,
  languageCode: optStr,
  language: optStr,
  displayTitle: optStr,
  selected: z.union([z.boolean(), z.string()]).optional(),
});
const part = z.looseObject({ id: z.coerce.string(), key: z.string(), container: optStr, decision: optStr, Stream: z.array(stream).optional() });
const media = z.looseObject({ id: z.coerce.string().optional(), container: optStr, videoCodec: optStr, audioCodec: optStr, bitrate: num.optional(), Part: z.array(part).optional() });
const metadata = z.looseObject({
  ratingKey: z.coerce.string(),
  type: optStr,
  title: z.coerce.string().optional(),
  grandparentTitle: optStr,
  parentIndex: num.optional(),
  index: num.optional(),
  parentRatingKey: optStr,
  grandparentRatingKey: optStr,
  viewOffset: num.optional(),
  duration: num.optional(),
  Media: z.array(media).optional(),
});
const container = z.looseObject({
  MediaContainer: z.looseObject({
    generalDecisionCode: num.optional(),
    generalDecisionText: optStr,
    Metadata: z.array(metadata).optional(),
  }),
});
type Metadata = z.infer<typeof metadata>;

const SUBTITLE_MAX_BYTES = MAX_BODY_BYTES;

export class PlexPlayback implements PlaybackApi {
  constructor(private readonly config: PlexConfig) {}

  async decide(call: RouteContext, request: PlaybackRequest, options: CallOptions): Promise<BrowseResult<PlaybackDecision>> {
    const itemPath = `/library/metadata/${encodeURIComponent(request.itemId)}`;
    // The usual decision (video, direct play allowed) is asked together with the item's metadata:
    // one round trip instead of two (on a relay, ~100 ms less before the first frame). Asked again
    // as it must be only when the metadata shows music, or a file the browser cannot play.
    const paramsFor = (directAllowed: boolean) =>
      new URLSearchParams({
        path: itemPath,
        session: request.clientSessionId,
        transcodeSessionId: request.clientSessionId,
        'X-Plex-Session-Identifier': request.clientSessionId,
        protocol: 'hls',
        mediaIndex: '0',
        partIndex: '0',
        offset: String(Math.floor(request.startMs / 1000)),
        directPlay: directAllowed ? '1' : '0',
        directStream: '1',
        fastSeek: '1',
        location: plexLocation(call.route.kind),
        ...(request.maxBitrateKbps !== null ? { maxVideoBitrate: String(request.maxBitrateKbps) } : {}),
        ...(request.audioTrackId !== undefined ? { audioStreamID: request.audioTrackId } : {}),
      });
    const askDecision = (kind: string, params: URLSearchParams) => this.get(call, `/${kind}/:/transcode/universal/decision?${params.toString()}`, options, { 'x-plex-session-identifier': request.clientSessionId });
    // Asking for another audio track means the server has to remux or transcode: no direct play.
    const early = request.audioTrackId === undefined ? askDecision('video', paramsFor(true)) : null;
    const item = await this.get(call, itemPath, options);
    if (!item.ok) return item;
    const meta = item.value.MediaContainer.Metadata?.[0];
    if (!meta) return { ok: false, error: { code: 'http_error', status: 404, message: 'the server has no such item' } };
    const firstMedia = meta.Media?.[0];
    const firstPart = firstMedia?.Part?.[0];
    if (!firstMedia || !firstPart) return { ok: false, error: { code: 'malformed', message: 'this item has no media file to play' } };
    const isAudio = meta.type === 'track' || (firstMedia.videoCodec === undefined && firstMedia.audioCodec !== undefined);
    const playable = browserPlays({ container: firstMedia.container ?? firstPart.container ?? null, videoCodec: isAudio ? null : (firstMedia.videoCodec ?? null), audioCodec: firstMedia.audioCodec ?? null });
    const directAllowed = playable && request.audioTrackId === undefined;
    const kind = isAudio ? 'music' : 'video';
    const params = paramsFor(directAllowed);
    const decided = early && kind === 'video' && directAllowed ? await early : await askDecision(kind, params);
    if (!decided.ok) return decided;
    const answer = decided.value.MediaContainer;
    const code = answer.generalDecisionCode ?? 0;
    const dMeta = answer.Metadata?.[0];
    const dMedia = dMeta?.Media?.[0];
    const dPart = dMedia?.Part?.[0];
    if (!dMeta || !dMedia || !dPart || code >= 2000) {
      return { ok: false, error: { code: 'http_error', status: 409, message: `the server cannot play this item here${answer.generalDecisionText ? ` (${answer.generalDecisionText})` : ''}` } };
    }
    const direct = directAllowed && dPart.decision === 'directplay';
    const streams = [...(dPart.Stream ?? []), ...(firstPart.Stream ?? [])];
    const seen = new Set<string>();
    const unique = streams.filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true)));
    const track = (s: z.infer<typeof stream>): MediaTrackInfo => ({ id: s.id, label: s.displayTitle ?? s.language ?? `Track ${s.id}`, language: s.languageCode ?? null });
    const subtitles: PlaybackDecision['subtitles'] = unique
      .filter((s) => s.streamType === 3 && s.key !== undefined && s.key.startsWith('/') && ['vtt', 'webvtt', 'srt', 'subrip'].includes((s.format ?? s.codec ?? '').toLowerCase()))
      .map((s) => ({ ...track(s), path: stripTokenParams(s.key!), format: ['vtt', 'webvtt'].includes((s.format ?? s.codec ?? '').toLowerCase()) ? 'vtt' : 'srt' }));
    const audio = unique.filter((s) => s.streamType === 2);
    const selectedAudio = request.audioTrackId ?? audio.find((s) => s.selected === true || s.selected === '1')?.id ?? audio[0]?.id;
    const base = {
      itemId: meta.ratingKey,
      mediaType: isAudio ? ('audio' as const) : ('video' as const),
      durationMs: meta.duration ?? dMeta.duration ?? null,
      resumeMs: meta.viewOffset !== undefined && meta.viewOffset > 0 ? meta.viewOffset : null,
      subtitles,
      audioTracks: audio.map((s) => ({ ...track(s), selected: s.id === selectedAudio })),
      playSessionId: request.clientSessionId,
      mediaSourceId: firstPart.id,
      ...titles(meta),
    };
    if (direct) return { ok: true, value: { ...base, method: 'direct', mediaPath: stripTokenParams(dPart.key) } };
    return {
      ok: true,
      value: {
        ...base,
        method: 'transcode',
        masterPath: `/${kind}/:/transcode/universal/start.m3u8?${params.toString().replace('directPlay=1', 'directPlay=0')}`,
        bitrateKbps: request.maxBitrateKbps ?? dMedia.bitrate ?? firstMedia.bitrate ?? 0,
      },
    };
  }

  async report(call: RouteContext, report: ProgressReport, options: CallOptions): Promise<BrowseResult<null>> {
    const key = `/library/metadata/${report.itemId}`;
    const params = new URLSearchParams({
      ratingKey: report.itemId,
      key,
      state: report.state,
      time: String(Math.round(report.positionMs)),
      ...(report.decision.durationMs !== null ? { duration: String(Math.round(report.decision.durationMs)) } : {}),
      ...(report.decision.method === 'transcode' ? { session: report.decision.playSessionId } : {}),
      ...(report.offlineAt !== undefined ? { offline: '1', updated: String(Math.floor(report.offlineAt / 1000)) } : {}),
    });
    const sent = await this.send(call, 'POST', `/:/timeline?${params.toString()}`, options, { 'x-plex-session-identifier': report.decision.playSessionId });
    if (!sent.ok || !report.scrobble) return sent;
    return this.send(call, 'PUT', `/:/scrobble?${new URLSearchParams({ key: report.itemId, identifier: 'com.plexapp.plugins.library' }).toString()}`, options);
  }

  ping(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>> {
    return this.send(call, 'GET', `/${decision.mediaType === 'audio' ? 'music' : 'video'}/:/transcode/universal/ping?session=${encodeURIComponent(decision.playSessionId)}`, options);
  }

  stop(call: RouteContext, decision: PlaybackDecision, options: CallOptions): Promise<BrowseResult<null>> {
    return this.send(call, 'GET', `/${decision.mediaType === 'audio' ? 'music' : 'video'}/:/transcode/universal/stop?session=${encodeURIComponent(decision.playSessionId)}`, options);
  }

  async subtitle(call: RouteContext, path: string, options: CallOptions): Promise<BrowseResult<string>> {
    if (!path.startsWith('/') || path.startsWith('//')) return { ok: false, error: { code: 'malformed', message: 'not a server-relative subtitle path' } };
    const res = await this.raw(call, 'GET', path, options, { accept: 'text/vtt, application/x-subrip, text/plain, */*' });
    if (!res.ok) return res;
    if (res.value.length > SUBTITLE_MAX_BYTES) return { ok: false, error: { code: 'malformed', message: 'the subtitle is too large' } };
    return toWebVtt(res.value);
  }

  async nextItem(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<string | null>> {
    const item = await this.get(call, `/library/metadata/${encodeURIComponent(itemId)}`, options);
    if (!item.ok) return item;
    const meta = item.value.MediaContainer.Metadata?.[0];
    if (!meta || meta.type !== 'episode' || !meta.parentRatingKey) return { ok: true, value: null };
    const episodes = await this.children(call, meta.parentRatingKey, options);
    if (!episodes.ok) return episodes;
    const after = nextByIndex(episodes.value, meta.index ?? -1, meta.ratingKey);
    if (after) return { ok: true, value: after.ratingKey };
    if (!meta.grandparentRatingKey) return { ok: true, value: null };
    const seasons = await this.children(call, meta.grandparentRatingKey, options);
    if (!seasons.ok) return seasons;
    const nextSeason = nextByIndex(seasons.value, meta.parentIndex ?? -1, meta.parentRatingKey);
    if (!nextSeason) return { ok: true, value: null };
    const first = await this.children(call, nextSeason.ratingKey, options);
    if (!first.ok) return first;
    const sorted = [...first.value].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return { ok: true, value: sorted[0]?.ratingKey ?? null };
  }

  private async children(call: RouteContext, ratingKey: string, options: CallOptions): Promise<BrowseResult<Metadata[]>> {
    const r = await this.get(call, `/library/metadata/${encodeURIComponent(ratingKey)}/children`, options);
    return r.ok ? { ok: true, value: r.value.MediaContainer.Metadata ?? [] } : r;
  }

  private async get(call: RouteContext, path: string, options: CallOptions, extra: Record<string, string> = {}): Promise<BrowseResult<z.infer<typeof container>>> {
    const res = await this.raw(call, 'GET', path, options, extra);
    if (!res.ok) return res;
    const decoded = decodeJsonOrXml(res.value);
    if (!decoded.ok) return decoded;
    return validate(container, decoded.value, 'playback');
  }

  private async send(call: RouteContext, method: 'GET' | 'POST' | 'PUT', path: string, options: CallOptions, extra: Record<string, string> = {}): Promise<BrowseResult<null>> {
    const res = await this.raw(call, method, path, options, extra);
    return res.ok ? { ok: true, value: null } : res;
  }

  private async raw(call: RouteContext, method: 'GET' | 'POST' | 'PUT', path: string, options: CallOptions, extra: Record<string, string>): Promise<BrowseResult<string>> {
    const url = call.route.url.replace(/\/+$/, '') + path;
    const res = await this.config.http.request({
      url,
      method,
      headers: { ...plexHeaders(this.config, call.credentials.token), ...extra },
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!res.ok) return res;
    const status = classifyStatus(res.status, url, res.headers);
    if (status) return { ok: false, error: { ...status, message: status.status === 404 ? `${describeHost(url)} has no such item (HTTP 404)` : status.message } };
    return { ok: true, value: res.body };
  }
}

function titles(meta: Metadata): { title?: string; subtitleLine: string | null; seriesId: string | null } {
  const episode = meta.type === 'episode';
  const line = episode && meta.grandparentTitle ? `${meta.grandparentTitle} · S${meta.parentIndex ?? '?'} E${meta.index ?? '?'}` : (meta.grandparentTitle ?? null);
  return { ...(meta.title !== undefined ? { title: meta.title } : {}), subtitleLine: line, seriesId: episode ? (meta.grandparentRatingKey ?? null) : null };
}

/** The sibling right after `index` (by index, then by list order when indexes tie or are missing). */
function nextByIndex(list: Metadata[], index: number, selfKey: string): Metadata | null {
  const sorted = [...list].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const at = sorted.findIndex((m) => m.ratingKey === selfKey);
  if (at >= 0) return sorted[at + 1] ?? null;
  return sorted.find((m) => (m.index ?? 0) > index) ?? null;
}
