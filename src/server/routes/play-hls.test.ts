// GET /api/play/:session/hls/:name through the Fastify app: the hijacked reply carries the
// rewritten playlist and the segment bytes, names outside the session's allow-list are refused,
// and nothing the browser receives holds the server's token or host.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrowseResult, MediaResponse } from '../../backends/types.js';
import type { RoutedCaller, RoutedOutcome, RouteUse } from '../../monitor/engine-types.js';
import { HlsService } from '../../playback/hls-stream.js';
import { PlaySessions } from '../../playback/sessions.js';
import { buildApp } from '../app.js';
import { FakeDemo, FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, testConfig } from '../../../test/support/server-fakes.js';

const TOKEN = 'server-token-0123456789';
const HOST = '192.168.1.20:8096';
const FILES: Record<string, string> = {
  '/videos/abc/master.m3u8?PlaySessionId=ps1': `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=360000\nhttp://${HOST}/videos/abc/main.m3u8?PlaySessionId=ps1&ApiKey=${TOKEN}\n`,
  '/videos/abc/main.m3u8?PlaySessionId=ps1': `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:4.0, ${TOKEN}\nhls1/main/0.ts?PlaySessionId=ps1&api_key=${TOKEN}\n#EXT-X-ENDLIST\n`,
  '/videos/abc/hls1/main/0.ts?PlaySessionId=ps1': 'G-segment-bytes',
};
const fetched: string[] = [];
const decided: number[] = [];
const DECISION = { method: 'transcode' as const, masterPath: '/videos/abc/master.m3u8?PlaySessionId=ps1', bitrateKbps: 800, itemId: 'abc', mediaType: 'video' as const, durationMs: 8000, resumeMs: null, subtitles: [], audioTracks: [], playSessionId: 'ps1', mediaSourceId: 'abc' };

/** A routed caller over an in-memory server: paths → bodies (404 otherwise). */
const caller: RoutedCaller = {
  async call<T>(_sourceId: string, run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>): Promise<RoutedOutcome<T>> {
    const media = {
      open: async (_call: unknown, path: string): Promise<BrowseResult<MediaResponse>> => {
        fetched.push(path);
        const body = FILES[path];
        if (body === undefined) return { ok: false, error: { code: 'http_error', status: 404, message: 'HTTP 404' } };
        const bytes = Buffer.from(body);
        return { ok: true, value: { status: 200, contentType: path.includes('.ts') ? 'video/mp2t' : 'application/x-mpegURL', contentLength: bytes.length, body: (async function* () { yield bytes; })(), cancel: () => undefined } };
      },
    };
    const playback = {
      // A restart: a new transcode whose segments are numbered from 0 again (as Plex does after `offset`).
      decide: async (_call: unknown, request: { startMs: number }) => {
        decided.push(request.startMs);
        return { ok: true, value: { ...DECISION, playSessionId: 'ps2', masterPath: '/videos/abc/master.m3u8?PlaySessionId=ps2' } };
      },
      stop: async () => ({ ok: true, value: null }),
    };
    const use = { backend: { media, playback }, source: { kind: 'jellyfin' } } as unknown as RouteUse;
    const result = await run(use, new AbortController().signal);
    return result.ok ? { ok: true, value: result.value, routeId: 'r1', routeKind: 'local', retried: false } : { ok: false, reason: 'failed', message: result.error.message, error: result.error };
  },
};

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

async function rig() {
  const engine = new FakeEngine();
  const sessions = new PlaySessions();
  const hls = new HlsService({ caller, engine: { getSource: () => ({ source: { routes: [{ url: `http://${HOST}` }] } }) as never }, pingIntervalMs: 3_600_000 });
  app = await buildApp({ engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig(), demo: new FakeDemo(), playback: { sessions, hls } });
  await app.ready();
  const session = sessions.createDirect({ sourceId: 's1', itemId: 'abc', mediaPath: '/unused' });
  hls.attach({
    sessionId: session.id,
    sourceId: 's1',
    request: { itemId: 'abc', startMs: 0, maxBitrateKbps: null, deviceId: 'd', clientSessionId: session.id },
    decision: DECISION,
  });

  return { app, session, sessions, hls };
}

describe('GET /api/play/:session/hls/:name', () => {
  it('serves master, variant and segment; no token or host in any body or header', async () => {
    const { app, session } = await rig();
    const master = await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/master.m3u8` });
    expect(master.statusCode).toBe(200);
    expect(master.body).toBe('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=360000\np0.m3u8\n');
    expect(master.headers['x-content-type-options']).toBe('nosniff');
    const media = await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0.m3u8` });
    expect(media.body).toContain('\np0-0.ts\n');
    const segment = await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0-0.ts` });
    expect(segment.statusCode).toBe(200);
    expect(segment.headers['content-type']).toBe('video/mp2t');
    expect(segment.body).toBe('G-segment-bytes');
    for (const res of [master, media, segment]) {
      const seen = res.body + JSON.stringify(res.headers);
      expect(seen).not.toContain(TOKEN);
      expect(seen).not.toContain('192.168.1.20');
    }
    expect(fetched.every((p) => !p.includes(TOKEN))).toBe(true); // tokens go in headers, never in a path
  });

  it('refuses names outside the form (400) and names the playlists did not list (404); unknown sessions 404', async () => {
    const { app, session, sessions } = await rig();
    await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/master.m3u8` });
    const before = fetched.length;
    expect((await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/evil.m3u8` })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0-7.ts` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/..%2Fmaster.m3u8` })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/play/${'x'.repeat(32)}/hls/master.m3u8` })).statusCode).toBe(404);
    expect(fetched.length).toBe(before); // nothing was fetched for any of them
    sessions.delete(session.id);
    expect((await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/master.m3u8` })).statusCode).toBe(404);
  });

  it('a transcode restarted with another numbering bumps generation (the player reloads) instead of splicing', async () => {
    FILES['/videos/abc/main.m3u8?PlaySessionId=ps1'] = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nhls1/main/0.ts?PlaySessionId=ps1\n#EXTINF:4.0,\nhls1/main/1.ts?PlaySessionId=ps1\n#EXT-X-ENDLIST\n';
    FILES['/videos/abc/master.m3u8?PlaySessionId=ps2'] = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=360000\nmain.m3u8?PlaySessionId=ps2\n';
    FILES['/videos/abc/main.m3u8?PlaySessionId=ps2'] = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nhls1/main/0.ts?PlaySessionId=ps2\n#EXT-X-ENDLIST\n';
    FILES['/videos/abc/hls1/main/0.ts?PlaySessionId=ps2'] = 'new-transcode-segment';
    const { app, session, hls } = await rig();
    await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/master.m3u8` });
    await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0.m3u8` });
    // The server forgot ps1 (its segment 1 answers 404): restarted at segment 1's position (4 s).
    const res = await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0-1.ts` });
    expect(decided.at(-1)).toBe(4_000);
    const stream = hls.get(session.id)!;
    expect(stream.decision.playSessionId).toBe('ps2');
    expect(stream.generation).toBe(1); // the new transcode does not list p0-1.ts: no wrong bytes under that name
    expect(res.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/api/play/${session.id}/hls/p0-0.ts` })).body).toBe('new-transcode-segment');
  });
});
