// The play API (issue 15) for browser tests while its server routes are being merged: the session
// JSON (POST /api/play, GET/DELETE /api/play/:session, progress) is answered by `context.route`
// fixtures validated against the committed zod schemas, but the media is REAL:
//  - direct play goes through Marquee's own byte proxy (src/playback/byte-proxy.ts) over the
//    runtime's engine and backends, i.e. over the simulated server's routes — a cut route is a
//    real cut, and the proxy's failover is what keeps the video playing;
//  - HLS serves the simulators' ffmpeg-made segments (what every simulated transcode serves);
//  - subtitles are the simulators' WebVTT.
// The connection line reports the route the engine is on now.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import type { ClipSet } from '../../sim/index.js';
import { playProgressBody } from '../../src/api/requests.js';
import { apiPlaySessionSchema } from '../../src/api/responses.js';
import type { ApiPlaySession } from '../../src/api/types.js';
import { EngineRoutedCaller } from '../../src/monitor/routed-caller.js';
import { serveMedia } from '../../src/playback/byte-proxy.js';
import { PlaySessions } from '../../src/playback/sessions.js';
import type { ApiSource } from '../../src/api/types.js';
import type { MediaBackend } from '../../src/backends/types.js';
import type { SourceKind } from '../../src/core/types.js';
import type { MarqueeEngine } from '../../src/monitor/engine.js';

/** What the rig needs of test/support/browser.ts's MarqueeUnderTest (that file is DOM-typed). */
export interface PlayRuntime {
  engine: MarqueeEngine;
  backends: Record<SourceKind, MediaBackend>;
  sources(): ApiSource[];
}

export interface FixtureItem {
  sourceId: string;
  itemId: string;
  title: string;
  protocol: 'file' | 'hls';
  /** Direct play: the server-relative media path the byte proxy fetches. */
  mediaPath?: string;
  startMs?: number;
  nextItemId?: string | null;
}

export interface RecordedProgress {
  sessionId: string;
  at: number;
  positionMs: number;
  state: 'playing' | 'paused' | 'stopped';
  seeked?: boolean;
}

export interface PlayRig {
  /** Items the fixtures know, by `${sourceId}/${itemId}`. */
  items: Map<string, FixtureItem>;
  sessions: Map<string, ApiPlaySession>;
  progress: RecordedProgress[];
  deleted: string[];
  /** Byte-proxy log lines ("playback stream resumed at byte …"). */
  proxyLog: string[];
  /** Every GET of a stream/segment path seen (the browser only talks to Marquee). */
  mediaRequests: string[];
  close(): Promise<void>;
}

const RELAY_KBPS = 2_000;

export async function startPlayRig(context: BrowserContext, marquee: PlayRuntime, clips: ClipSet, items: FixtureItem[]): Promise<PlayRig> {
  const caller = new EngineRoutedCaller({ engine: marquee.engine, backends: marquee.backends });
  const proxySessions = new PlaySessions();
  const proxyIdOf = new Map<string, string>();
  const rig: PlayRig = {
    items: new Map(items.map((i) => [`${i.sourceId}/${i.itemId}`, i])),
    sessions: new Map(),
    progress: [],
    deleted: [],
    proxyLog: [],
    mediaRequests: [],
    close: async () => undefined,
  };

  // Marquee's byte proxy on loopback: /direct/<play session id>.
  const proxy: Server = createServer((req, res) => {
    const id = /^\/direct\/([^/?]+)/.exec(req.url ?? '')?.[1];
    const proxied = id ? proxySessions.get(proxyIdOf.get(id) ?? '') : null;
    if (!proxied) return void res.writeHead(404).end();
    rig.mediaRequests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`);
    void serveMedia(req, res, proxied, { caller, engine: marquee.engine, stallMs: 1_000, log: (_level, _obj, msg) => rig.proxyLog.push(msg) });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  rig.close = async () => {
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  };

  const connectionOf = (item: FixtureItem) => {
    const source = marquee.sources().find((s) => s.id === item.sourceId)!;
    const routeKind = source.status === 'connected' && source.route ? source.route.kind : null;
    const relayed = routeKind === 'relay' && item.protocol === 'hls';
    return {
      sourceName: source.name,
      routeKind,
      method: item.protocol === 'file' ? ('direct' as const) : ('transcode' as const),
      bitrateKbps: item.protocol === 'file' ? null : relayed ? RELAY_KBPS : 4_000,
      reason: relayed ? 'relay: Plex caps relayed streams at 2 Mbps' : null,
    };
  };

  const makeSession = (item: FixtureItem, startMs: number | undefined): ApiPlaySession => {
    const id = `fixture${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`.padEnd(24, 'x');
    if (item.protocol === 'file') {
      const proxied = proxySessions.createDirect({ sourceId: item.sourceId, itemId: item.itemId, mediaPath: item.mediaPath! });
      proxyIdOf.set(id, proxied.id);
    }
    const session = apiPlaySessionSchema.parse({
      id,
      sourceId: item.sourceId,
      itemId: item.itemId,
      title: item.title,
      subtitle: null,
      mediaType: 'video',
      generation: 1,
      protocol: item.protocol,
      streamUrl: item.protocol === 'file' ? `${proxyOrigin}/direct/${id}` : `api/play/${id}/hls/master.m3u8`,
      durationMs: clips.files['h264-aac'].durationMs,
      startMs: startMs ?? item.startMs ?? 0,
      subtitles: [{ id: 'en', label: 'English', language: 'en', url: `api/play/${id}/subtitles/en.vtt` }],
      audioTracks: [{ id: 'a1', label: 'English (AAC stereo)', language: 'en', selected: true }],
      nextItemId: item.nextItemId ?? null,
      connection: connectionOf(item),
    });
    rig.sessions.set(id, session);
    return session;
  };

  const segments = clips.hls;
  const mediaPlaylist = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...segments.map((s) => s.durationSec)))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    ...segments.flatMap((s) => [`#EXTINF:${s.durationSec.toFixed(3)},`, `${s.index}.ts`]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
  const masterPlaylist = ['#EXTM3U', '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240,CODECS="avc1.42c01e,mp4a.40.2"', 'main.m3u8', ''].join('\n');
  const vtt = readFileSync(clips.subtitles.path);

  await context.route(/\/api\/play(\/|$|\?)/, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const path = url.pathname.replace(/^.*\/api\/play/, '');
    const method = request.method();
    const json = (status: number, body: unknown) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
    if (path === '' && method === 'POST') {
      const body = request.postDataJSON() as { sourceId: string; itemId: string; startMs?: number };
      const item = rig.items.get(`${body.sourceId}/${body.itemId}`);
      if (!item) return json(404, { error: 'not_found', message: 'no such item' });
      return json(200, makeSession(item, body.startMs));
    }
    const m = /^\/([^/]+)(\/.*)?$/.exec(path);
    const session = m ? rig.sessions.get(m[1]!) : undefined;
    if (!m || !session) return json(404, { error: 'not_found', message: 'play session not found' });
    const rest = m[2] ?? '';
    const item = rig.items.get(`${session.sourceId}/${session.itemId}`)!;
    if (rest === '' && method === 'GET') {
      const fresh = apiPlaySessionSchema.parse({ ...session, connection: connectionOf(item) });
      rig.sessions.set(session.id, fresh);
      return json(200, fresh);
    }
    if (rest === '' && method === 'DELETE') {
      rig.deleted.push(session.id);
      return route.fulfill({ status: 204 });
    }
    if (rest === '/progress' && method === 'POST') {
      const body = playProgressBody.parse(request.postDataJSON());
      rig.progress.push({ sessionId: session.id, at: Date.now(), ...body });
      return route.fulfill({ status: 204 });
    }
    if (rest.startsWith('/subtitles/')) return route.fulfill({ status: 200, contentType: 'text/vtt; charset=utf-8', body: vtt });
    if (rest === '/hls/master.m3u8') return route.fulfill({ status: 200, contentType: 'application/vnd.apple.mpegurl', body: masterPlaylist });
    if (rest === '/hls/main.m3u8') return route.fulfill({ status: 200, contentType: 'application/vnd.apple.mpegurl', body: mediaPlaylist });
    const seg = /^\/hls\/(\d+)\.ts$/.exec(rest);
    if (seg) {
      const segment = segments.find((s) => s.index === Number(seg[1]));
      if (!segment) return json(404, { error: 'not_found', message: 'no such segment' });
      rig.mediaRequests.push(`GET ${path}`);
      return route.fulfill({ status: 200, contentType: 'video/mp2t', body: readFileSync(segment.path) });
    }
    return json(404, { error: 'not_found', message: `no fixture for ${method} ${path}` });
  });
  return rig;
}
