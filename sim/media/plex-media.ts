// Plex Media Server's playback surface (LIBRARY-PLAYBACK.md): part downloads with ranges, the
// universal transcoder's decision / start.m3u8 / session playlists and segments / ping / stop,
// subtitle streams, timeline and scrobble. Called from plex-server.ts; undefined for other paths.
import type { IncomingMessage } from 'node:http';
import { header, json, queryParam, text, type SimResponse } from '../http-util.js';
import { randomHex } from '../ids.js';
import type { MediaCatalog, SimPlayable } from '../media-catalog.js';
import { toPlexXml } from '../plex-xml.js';
import type { Timers } from '../timers.js';
import { CLIP_PARAMS, ensureClips, type ClipFile } from './clips.js';
import { fallbackCatalog } from './fallback-catalog.js';
import { hlsVariantInfo, MemoryPlayStateStore, PLAYED_THRESHOLD, PlaybackReports, TranscodeSessions, type PlayStateStore } from './playback.js';
import { fileResponse } from './range.js';

/** An unpinged Plex transcode dies after 1–2 minutes (synclounge#1422): 90 s here. */
export const PLEX_TRANSCODE_IDLE_MS = 90_000;
export const PLEX_CHANGESTAMP = '1700000000';
const html = (status: number, title: string) => text(status, `<html><head><title>${title}</title></head><body><h1>${status} ${title}</h1></body></html>`, 'text/html');
const TIMELINE_STATES = new Set(['stopped', 'buffering', 'playing', 'paused']);
/** Chromium (Plex Web's profile) plays these as they are; HEVC and AC-3 need the transcoder. */
const BROWSER_PLAYABLE = new Set(['h264-aac', 'audio-aac', 'h264-aac-high']);

/** Stream ids of a part: video, audio, subtitle (the subtitle's `key` serves WebVTT). */
export const plexStreamIds = (partId: string) => ({ video: `${partId}1`, audio: `${partId}2`, subtitle: `${partId}3` });

export class PlexMedia {
  /** The generated library chained with the fixed extras (set by the server). */
  catalog: MediaCatalog;
  playState: PlayStateStore = new MemoryPlayStateStore();
  readonly reports = new PlaybackReports();
  readonly transcodes: TranscodeSessions;
  /** Parts of items looked up by id, for catalogs without `playableByPart`. */
  private readonly seenParts = new Map<string, SimPlayable>();

  constructor(serverId: string, timers: Timers, keepAliveScale: number) {
    this.catalog = fallbackCatalog('plex', serverId);
    this.transcodes = new TranscodeSessions(timers, PLEX_TRANSCODE_IDLE_MS * keepAliveScale);
  }

  handle(req: IncomingMessage, url: URL, path: string, method: string, authorized: boolean): Promise<SimResponse> | undefined {
    const route = this.route(req, url, path, method);
    if (!route) return undefined;
    if (!authorized) return Promise.resolve(html(401, 'Unauthorized'));
    return route().catch(() => html(500, 'Internal Server Error'));
  }

  private route(req: IncomingMessage, url: URL, path: string, method: string): (() => Promise<SimResponse>) | undefined {
    const get = method === 'GET';
    let m: RegExpExecArray | null;
    if ((m = /^\/library\/parts\/(\d+)\/(\d+)\/([^/]+)$/.exec(path)) && (get || method === 'HEAD')) {
      const partId = m[1]!;
      // One client found PMS answering HEAD on a part with 500; it asks `Range: bytes=0-0` instead.
      if (method === 'HEAD') return async () => html(500, 'Internal Server Error');
      return async () => this.part(req, partId);
    }
    if ((m = /^\/library\/streams\/(\d+)$/.exec(path)) && get) {
      const streamId = m[1]!;
      return async () => this.subtitleStream(req, streamId);
    }
    if ((m = /^\/(video|music)\/:\/transcode\/universal\/(decision|start\.m3u8|ping|stop)$/.exec(path)) && get) {
      const action = m[2]!;
      if (action === 'decision') return async () => this.decision(req, url);
      if (action === 'start.m3u8') return async () => this.start(req, url);
      return async () => {
        const id = sessionIdOf(req, url);
        const known = action === 'ping' ? this.transcodes.touch(id) : this.transcodes.stopRequested(id);
        return known ? this.reply(req, { size: 0 }) : html(404, 'Not Found');
      };
    }
    if ((m = /^\/(?:video|music)\/:\/transcode\/universal\/session\/([^/]+)\/base\/(index\.m3u8|\d+\.ts)$/.exec(path)) && get) {
      const [, id, file] = m as unknown as [string, string, string];
      return async () => this.sessionFile(req, id, file);
    }
    if (path === '/:/timeline' && (method === 'POST' || get)) return async () => this.timeline(req, url, method);
    if ((path === '/:/scrobble' || path === '/:/unscrobble') && (method === 'PUT' || get)) return async () => this.scrobble(req, url, method, path === '/:/scrobble');
    return undefined;
  }

  private item(ratingKey: string | undefined): SimPlayable | null {
    if (!ratingKey) return null;
    const item = this.catalog.playable(ratingKey);
    if (item) this.seenParts.set(item.partId, item);
    return item;
  }

  private byPart(partId: string): SimPlayable | null {
    return this.catalog.playableByPart?.(partId) ?? this.seenParts.get(partId) ?? null;
  }

  private reply(req: IncomingMessage, container: Record<string, unknown>): SimResponse {
    if ((header(req, 'accept') ?? '').toLowerCase().includes('application/json')) return json(200, { MediaContainer: container });
    return text(200, toPlexXml('MediaContainer', container), 'text/xml;charset=utf-8');
  }

  private async part(req: IncomingMessage, partId: string): Promise<SimResponse> {
    const item = this.byPart(partId);
    if (!item) return html(404, 'Not Found');
    const clip = (await ensureClips()).files[item.variant];
    return fileResponse(req, clip, { 'content-disposition': `attachment; filename="${clip.fileName}"` });
  }

  private async subtitleStream(req: IncomingMessage, streamId: string): Promise<SimResponse> {
    const partId = streamId.slice(0, -1);
    const item = this.byPart(partId);
    if (!item || item.variant === 'audio-aac' || plexStreamIds(partId).subtitle !== streamId) return html(404, 'Not Found');
    return fileResponse(req, (await ensureClips()).subtitles);
  }

  /** The item a transcoder call is about: `path=/library/metadata/{ratingKey}`. */
  private transcodeItem(url: URL): SimPlayable | null {
    const path = queryParam(url, 'path') ?? '';
    return this.item(/\/library\/metadata\/([^/?]+)/.exec(path)?.[1]);
  }

  private async decision(req: IncomingMessage, url: URL): Promise<SimResponse> {
    const item = this.transcodeItem(url);
    if (!item) return html(400, 'Bad Request');
    const clip = (await ensureClips()).files[item.variant];
    const wantsDirect = queryParam(url, 'directPlay') !== '0';
    const maxKbps = Number(queryParam(url, 'maxVideoBitrate') ?? Infinity) || Infinity;
    const fitsBitrate = clip.bitrate / 1000 <= maxKbps;
    const codecsOk = BROWSER_PLAYABLE.has(item.variant);
    const direct = wantsDirect && codecsOk && fitsBitrate;
    const directText = !wantsDirect ? 'App cannot direct play this item. Direct play is disabled.' : !codecsOk ? 'App cannot direct play this item. No direct play video profile exists for the codecs.' : 'App cannot direct play this item. The bitrate exceeds the limit.';
    const codes = direct
      ? { generalDecisionCode: 1000, generalDecisionText: 'Direct play OK.', directPlayDecisionCode: 1000, directPlayDecisionText: 'Direct play OK.', transcodeDecisionCode: 1000, transcodeDecisionText: 'Direct play OK.' }
      : { generalDecisionCode: 1001, generalDecisionText: 'Direct play not available; Conversion OK.', directPlayDecisionCode: 3000, directPlayDecisionText: directText, transcodeDecisionCode: 1001, transcodeDecisionText: 'Direct play not available; Conversion OK.' };
    return this.reply(req, {
      size: 1,
      allowSync: '1',
      identifier: 'com.plexapp.plugins.library',
      resourceSession: sessionIdOf(req, url) ?? randomHex(16),
      ...codes,
      Metadata: [this.metadata(item, clip, direct)],
    });
  }

  private metadata(item: SimPlayable, clip: ClipFile, direct: boolean): Record<string, unknown> {
    const ids = plexStreamIds(item.partId);
    const decision = direct ? 'directplay' : 'transcode';
    // The spec's Stream.decision vocabulary: a direct-played stream is copied as it is.
    const streamDecision = direct ? 'copy' : 'transcode';
    const streams: Record<string, unknown>[] = [];
    if (clip.videoCodec) {
      streams.push({ id: Number(ids.video), streamType: 1, codec: direct ? clip.videoCodec : 'h264', decision: streamDecision, default: true, bitrate: CLIP_PARAMS.videoKbps, width: CLIP_PARAMS.width, height: CLIP_PARAMS.height, frameRate: CLIP_PARAMS.fps, displayTitle: '240p', location: direct ? 'direct' : 'segments-av' });
    }
    streams.push({ id: Number(ids.audio), streamType: 2, codec: direct ? clip.audioCodec : 'aac', decision: streamDecision, default: true, selected: true, channels: 1, bitrate: CLIP_PARAMS.audioKbps, displayTitle: 'English (AAC Mono)', location: direct ? 'direct' : 'segments-av' });
    if (clip.videoCodec) streams.push({ id: Number(ids.subtitle), streamType: 3, codec: 'vtt', key: `/library/streams/${ids.subtitle}`, format: 'vtt', languageCode: 'eng', displayTitle: 'English (WebVTT External)', decision: 'copy' });
    const state = this.playState.get(item.itemId);
    const part: Record<string, unknown> = {
      id: Number(item.partId),
      key: `/library/parts/${item.partId}/${PLEX_CHANGESTAMP}/file.${clip.container}`,
      duration: item.durationMs,
      file: `/data/media/${clip.fileName}`,
      size: clip.size,
      container: direct ? clip.container : 'mpegts',
      decision,
      selected: true,
      Stream: streams,
      ...(direct ? {} : { protocol: 'hls' }),
    };
    return {
      ratingKey: item.itemId,
      key: `/library/metadata/${item.itemId}`,
      type: clip.videoCodec ? 'movie' : 'track',
      title: item.title,
      duration: item.durationMs,
      ...(state.positionMs > 0 ? { viewOffset: state.positionMs } : {}),
      ...(state.played ? { viewCount: state.playCount } : {}),
      Media: [{ id: Number(item.partId), duration: item.durationMs, bitrate: Math.round(clip.bitrate / 1000), container: part['container'], audioCodec: direct ? clip.audioCodec : 'aac', audioChannels: 1, selected: true,
        ...(clip.videoCodec ? { videoCodec: direct ? clip.videoCodec : 'h264', width: CLIP_PARAMS.width, height: CLIP_PARAMS.height, videoResolution: '240' } : {}),
        ...(direct ? {} : { protocol: 'hls' }), Part: [part] }],
    };
  }

  /** start.m3u8: a master playlist whose one variant is relative (`session/{id}/base/index.m3u8`). */
  private async start(req: IncomingMessage, url: URL): Promise<SimResponse> {
    const item = this.transcodeItem(url);
    if (!item) return html(400, 'Bad Request');
    const clips = await ensureClips();
    const id = sessionIdOf(req, url) ?? randomHex(16);
    const offsetSec = Number(queryParam(url, 'offset') ?? 0) || 0;
    const startSegment = Math.min(clips.hls.length - 1, Math.max(0, Math.floor(offsetSec / CLIP_PARAMS.hlsSegmentSec)));
    this.transcodes.start(id, item.itemId, startSegment);
    const body = `#EXTM3U\n${hlsVariantInfo(clips.files['h264-aac'].bitrate, CLIP_PARAMS.width, CLIP_PARAMS.height, CLIP_PARAMS.fps)}\nsession/${id}/base/index.m3u8\n`;
    return text(200, body, 'application/vnd.apple.mpegurl');
  }

  private async sessionFile(req: IncomingMessage, id: string, file: string): Promise<SimResponse> {
    const session = this.transcodes.get(id);
    if (!session) return html(404, 'Not Found');
    this.transcodes.touch(id);
    const clips = await ensureClips();
    if (file === 'index.m3u8') {
      const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-TARGETDURATION:${CLIP_PARAMS.hlsSegmentSec}`, `#EXT-X-MEDIA-SEQUENCE:${session.startSegment}`];
      for (const s of clips.hls.slice(session.startSegment)) lines.push(`#EXTINF:${s.durationSec.toFixed(6)},`, `${s.index}.ts`);
      lines.push('#EXT-X-ENDLIST');
      return text(200, `${lines.join('\n')}\n`, 'application/vnd.apple.mpegurl');
    }
    const index = Number(file.slice(0, -3));
    const segment = clips.hls[index];
    if (!segment || index < session.startSegment) return html(404, 'Not Found');
    return fileResponse(req, { path: segment.path, size: segment.size, mimeType: 'video/mp2t', etag: `"seg-${index}-${segment.size}"`, lastModified: new Date(session.startedAt) });
  }

  private timeline(req: IncomingMessage, url: URL, method: string): SimResponse {
    const call = `${method} /:/timeline`;
    const ratingKey = queryParam(url, 'ratingKey');
    const state = queryParam(url, 'state');
    const time = queryParam(url, 'time');
    const duration = queryParam(url, 'duration');
    const integer = (v: string | undefined) => v === undefined || /^\d+$/.test(v);
    const problem = !ratingKey
      ? 'ratingKey is missing'
      : !state || !TIMELINE_STATES.has(state)
        ? `state must be one of ${[...TIMELINE_STATES].join(', ')}`
        : time === undefined || !integer(time) || !integer(duration) || !integer(queryParam(url, 'updated'))
          ? 'time, duration and updated must be integers (ms; updated in epoch seconds)'
          : undefined;
    const positionMs = time !== undefined && integer(time) ? Number(time) : null;
    if (problem) {
      this.reports.record({ url, call, itemId: ratingKey ?? null, positionMs, state: state ?? null, accepted: false, problem });
      return html(400, 'Bad Request');
    }
    this.reports.record({ url, call, itemId: ratingKey ?? null, positionMs, state: state ?? null, accepted: true });
    const item = this.item(ratingKey);
    if (item && positionMs !== null) {
      if (state === 'stopped' && positionMs >= item.durationMs * PLAYED_THRESHOLD) this.playState.setPlayed(item.itemId, true);
      else this.playState.setPosition(item.itemId, positionMs);
    }
    if (state === 'stopped') this.transcodes.stop(sessionIdOf(req, url));
    return this.reply(req, { size: 0 });
  }

  private scrobble(req: IncomingMessage, url: URL, method: string, played: boolean): SimResponse {
    const call = `${method} /:/${played ? '' : 'un'}scrobble`;
    const key = queryParam(url, 'key');
    const identifier = queryParam(url, 'identifier');
    const record = (accepted: boolean, problem?: string) =>
      this.reports.record({ url, call, itemId: key ?? null, positionMs: null, state: played ? 'played' : 'unplayed', accepted, ...(problem ? { problem } : {}) });
    if (!key || !identifier) {
      record(false, 'key and identifier are required');
      return html(400, 'Bad Request');
    }
    const item = this.item(key);
    if (!item || identifier !== 'com.plexapp.plugins.library') {
      record(false, 'no such item');
      return html(404, 'Not Found');
    }
    record(true);
    this.playState.setPlayed(item.itemId, played);
    return text(200, '', 'text/html');
  }
}

/** The transcode session a call names: `session`, `transcodeSessionId`, or the session header. */
function sessionIdOf(req: IncomingMessage, url: URL): string | undefined {
  return queryParam(url, 'session') ?? queryParam(url, 'transcodeSessionId') ?? header(req, 'x-plex-session-identifier') ?? queryParam(url, 'X-Plex-Session-Identifier');
}
