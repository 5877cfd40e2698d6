// What Marquee sends the servers for playback, validated against the published OpenAPI specs
// (issue 15): the Jellyfin PlaybackInfo request (body and query) and the Sessions/Playing* bodies,
// the Plex universal decision and timeline/scrobble query parameters — recorded on the wire by a
// proxy in front of each server. And the secret scan: no token in any play API answer, streamUrl,
// subtitle URL, HLS playlist or segment, or response header the browser receives.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClips } from '../../sim/index.js';
import { JELLYFIN_SPEC, OpenApiValidator, PLEX_SPEC } from '../../sim/openapi-validator.js';
import type { ApiPlaySession } from '../../src/api/types.js';
import type { RouteContext } from '../../src/backends/types.js';
import { EngineHarness, JELLYFIN_ID, PLEX_ID, SIM_ROUTES } from '../support/engine-harness.js';
import { simJellyfinMovie, simPlexMovies } from '../support/sim-movies.js';
import { startRecordingProxy, type RecordedRequest, type RecordingProxy } from '../support/recording-proxy.js';

let h: EngineHarness;
let jellyfinWire: RecordingProxy;
let plexWire: RecordingProxy;
const jellyfinSpec = new OpenApiValidator(JELLYFIN_SPEC);
const plexSpec = new OpenApiValidator(PLEX_SPEC);

beforeAll(async () => {
  await ensureClips();
  h = await EngineHarness.start({
    // The user's Jellyfin address is a proxy that keeps every request body Marquee sends.
    jellyfinRoutes: async (sim, harness) => {
      jellyfinWire = await startRecordingProxy(sim.route(SIM_ROUTES.jellyfinLocal).url, '127.0.0.9', { recordBodies: true });
      harness.onClose(() => jellyfinWire.close());
      return [{ url: jellyfinWire.url, kind: 'local', priority: 0 }];
    },
  });
  plexWire = await startRecordingProxy(h.sim.route(SIM_ROUTES.plexLocal).url, '127.0.0.10', { recordBodies: true });
  h.onClose(() => plexWire.close());
  await h.waitForSteadyState(20_000);
}, 180_000);

afterAll(async () => {
  await h?.close();
});

async function play(sourceId: string, itemId: string, extra: Record<string, unknown> = {}) {
  const res = await h.running.app.inject({ method: 'POST', url: '/api/play', payload: { sourceId, itemId, ...extra } });
  return { res, body: res.json<ApiPlaySession>() };
}

const queryOf = (r: RecordedRequest) => Object.fromEntries(new URL(r.path, 'http://x').searchParams);
const pathOf = (r: RecordedRequest) => new URL(r.path, 'http://x').pathname;

describe('requests Marquee sends, against the published specs', () => {
  it('Jellyfin: PlaybackInfo (body and query) and Sessions/Playing, /Progress, /Stopped bodies', async () => {
    const direct = await simJellyfinMovie(h, 'h264-aac');
    const hevc = await simJellyfinMovie(h, 'hevc-ac3');
    const since = jellyfinWire.requests.length;
    const a = await play(h.jellyfinSourceId, direct, { startMs: 10_000 });
    expect(a.res.statusCode).toBe(201);
    await h.running.play.idle();
    await h.running.app.inject({ method: 'POST', url: `/api/play/${a.body.id}/progress`, payload: { positionMs: 20_000, state: 'playing' } });
    await h.running.play.idle();
    await h.running.app.inject({ method: 'POST', url: `/api/play/${a.body.id}/progress`, payload: { positionMs: 25_000, state: 'paused' } });
    await h.running.play.idle();
    // Left at 26 s, said by the DELETE itself: the Stopped body carries exactly that.
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${a.body.id}`, payload: { positionMs: 26_000 } })).statusCode).toBe(204);
    const b = await play(h.jellyfinSourceId, hevc, { startMs: 60_000 });
    expect(b.res.statusCode).toBe(201);
    expect(b.body.protocol).toBe('hls');
    await h.running.app.inject({ method: 'DELETE', url: `/api/play/${b.body.id}` });
    await h.running.play.idle();

    const sent = jellyfinWire.requests.slice(since);
    const playbackInfo = sent.filter((r) => r.method === 'POST' && /^\/Items\/[^/]+\/PlaybackInfo$/i.test(pathOf(r)));
    expect(playbackInfo.length).toBeGreaterThanOrEqual(2);
    for (const r of playbackInfo) {
      const body = JSON.parse(r.body!.toString('utf8')) as Record<string, unknown>;
      const checked = jellyfinSpec.validateRequestBody('/Items/{itemId}/PlaybackInfo', 'post', body);
      expect(checked.errors, `PlaybackInfo body ${JSON.stringify(body).slice(0, 300)}`).toEqual([]);
      // The body says what Chromium plays: a device profile with direct-play and transcoding profiles.
      expect(body).toHaveProperty('DeviceProfile.DirectPlayProfiles');
      expect(body).toHaveProperty('DeviceProfile.TranscodingProfiles');
      const params = jellyfinSpec.validateParameters('/Items/{itemId}/PlaybackInfo', 'post', { query: queryOf(r) });
      expect(params.errors).toEqual([]);
      expect(params.undocumented).toEqual([]);
    }
    const sessions = sent.filter((r) => r.method === 'POST' && /^\/Sessions\/Playing(\/Progress|\/Stopped)?$/i.test(pathOf(r)));
    expect(sessions.map((r) => pathOf(r))).toEqual(['/Sessions/Playing', '/Sessions/Playing/Progress', '/Sessions/Playing/Progress', '/Sessions/Playing/Stopped', '/Sessions/Playing', '/Sessions/Playing/Stopped']);
    for (const r of sessions) {
      const body = JSON.parse(r.body!.toString('utf8')) as unknown;
      const checked = jellyfinSpec.validateRequestBody(pathOf(r), 'post', body);
      expect(checked.errors, `${pathOf(r)} ${JSON.stringify(body)}`).toEqual([]);
    }
    const stopped = sessions.filter((r) => pathOf(r) === '/Sessions/Playing/Stopped').map((r) => JSON.parse(r.body!.toString('utf8')) as { PositionTicks?: number });
    expect(stopped[0]!.PositionTicks).toBe(26_000 * 10_000);
    // And the simulated server accepted every one of them.
    const reports = h.sim.server(JELLYFIN_ID).playbackReports().filter((r) => r.itemId === direct || r.itemId === hevc);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.filter((r) => !r.accepted)).toEqual([]);
  });

  it('deciding is one round trip: the item and the decision (Plex) / PlaybackInfo (Jellyfin) are in flight together', async () => {
    // A proxy that holds every answer 80 ms and counts requests in flight at once: asked one after
    // the other (or queued on one connection) they never overlap; asked together, two are in flight.
    const overlapProxy = async (upstream: string) => {
      let inFlight = 0;
      const seen = { max: 0 };
      const server = createServer((req, res) => {
        inFlight++;
        seen.max = Math.max(seen.max, inFlight);
        const target = new URL(req.url ?? '/', upstream);
        const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
          setTimeout(() => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => inFlight--);
          }, 80);
        });
        out.on('error', () => {
          inFlight--;
          res.destroy();
        });
        req.pipe(out);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.11', resolve));
      h.onClose(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return { url: `http://127.0.0.11:${(server.address() as AddressInfo).port}`, seen };
    };
    const options = { timeoutMs: 5_000 };
    const seen: Record<string, number> = {};
    for (const kind of ['plex', 'jellyfin'] as const) {
      const sourceId = kind === 'plex' ? h.plexSourceId : h.jellyfinSourceId;
      const source = h.engine.getSource(sourceId)!.source;
      const local = source.routes.find((r) => r.kind === 'local')!;
      const itemId = kind === 'plex' ? simPlexMovies(h, 'h264-aac')[0]! : await simJellyfinMovie(h, 'h264-aac');
      const proxy = await overlapProxy(kind === 'plex' ? h.sim.route(SIM_ROUTES.plexLocal).url : h.sim.route(SIM_ROUTES.jellyfinLocal).url);
      const call: RouteContext = { target: { kind, serverId: source.serverId }, route: { ...local, url: proxy.url }, credentials: h.engine.getCredentials(sourceId)! };
      const decided = await h.backends.backends[kind].playback!.decide(call, { itemId, startMs: 0, maxBitrateKbps: null, deviceId: 'dev-1', clientSessionId: `overlap-${kind}` }, options);
      expect(decided.ok && decided.value.method, kind).toBe('direct');
      seen[kind] = proxy.seen.max;
    }
    expect(seen).toEqual({ plex: 2, jellyfin: 2 });
  });

  it('Plex: the universal decision, /:/timeline (live and made offline) and /:/scrobble query parameters', async () => {
    const source = h.engine.getSource(h.plexSourceId)!.source;
    const local = source.routes.find((r) => r.kind === 'local')!;
    const call: RouteContext = { target: { kind: 'plex', serverId: source.serverId }, route: { ...local, url: plexWire.url }, credentials: h.engine.getCredentials(h.plexSourceId)! };
    const playback = h.backends.backends.plex.playback!;
    const options = { timeoutMs: 5_000 };
    const since = plexWire.requests.length;
    const directDecision = await playback.decide(call, { itemId: simPlexMovies(h, 'h264-aac')[0]!, startMs: 30_000, maxBitrateKbps: null, deviceId: 'dev-1', clientSessionId: 'client-session-1' }, options);
    expect(directDecision.ok).toBe(true);
    const transcode = await playback.decide(call, { itemId: simPlexMovies(h, 'hevc-ac3')[0]!, startMs: 0, maxBitrateKbps: 2_000, deviceId: 'dev-1', clientSessionId: 'client-session-2' }, options);
    expect(transcode.ok && transcode.value.method).toBe('transcode');
    if (!directDecision.ok || !transcode.ok) throw new Error('unreachable');
    const d = directDecision.value;
    const base = { itemId: d.itemId, decision: { playSessionId: d.playSessionId, mediaSourceId: d.mediaSourceId, method: d.method, durationMs: d.durationMs } };
    expect((await playback.report(call, { ...base, positionMs: 31_000, state: 'playing', event: 'progress' }, options)).ok).toBe(true);
    expect((await playback.report(call, { ...base, positionMs: 170_000, state: 'stopped', event: 'stop', offlineAt: Date.now() - 60_000, scrobble: true }, options)).ok).toBe(true);
    const t = transcode.value;
    expect((await playback.report(call, { itemId: t.itemId, decision: { playSessionId: t.playSessionId, mediaSourceId: t.mediaSourceId, method: t.method, durationMs: t.durationMs }, positionMs: 5_000, state: 'paused', event: 'progress' }, options)).ok).toBe(true);

    const sent = plexWire.requests.slice(since);
    const decisions = sent.filter((r) => /^\/video\/:\/transcode\/universal\/decision$/.test(pathOf(r)));
    const timelines = sent.filter((r) => pathOf(r) === '/:/timeline');
    const scrobbles = sent.filter((r) => pathOf(r) === '/:/scrobble');
    // Three decisions: the H.264 movie's (asked beside its metadata, direct play allowed, and used),
    // and for the HEVC one the same early ask, then the transcode decision once the metadata said so.
    expect([decisions.length, timelines.length, scrobbles.length]).toEqual([3, 3, 1]);
    expect(decisions.map((r) => queryOf(r).directPlay)).toEqual(['1', '1', '0']);
    // Parameters real Plex clients send that the published spec does not list (Plex Web sends each);
    // anything else undocumented fails the test.
    const knownUndocumented = new Set(['query:session', 'query:X-Plex-Session-Identifier', 'query:fastSeek', 'query:maxVideoBitrate', 'query:audioStreamID']);
    const check = (path: string, method: string, r: RecordedRequest) => {
      const header = Object.fromEntries(Object.entries(r.headers).filter(([k]) => k.toLowerCase().startsWith('x-plex-')).map(([k, v]) => [k, String(v)]));
      const result = plexSpec.validateParameters(path, method, { query: queryOf(r), header });
      expect(result.errors, `${method.toUpperCase()} ${r.path}`).toEqual([]);
      expect(result.undocumented.filter((u) => !knownUndocumented.has(u) && !u.startsWith('header:')), r.path).toEqual([]);
    };
    for (const r of decisions) check('/{transcodeType}/:/transcode/universal/decision', 'get', r);
    for (const r of timelines) {
      expect(r.method).toBe('POST');
      check('/:/timeline', 'post', r);
    }
    for (const r of scrobbles) {
      expect(r.method).toBe('PUT');
      check('/:/scrobble', 'put', r);
    }
    // The report made while the server was away says so, with when it was made.
    const offline = timelines.map(queryOf).find((q) => q.offline === '1');
    expect(offline).toMatchObject({ state: 'stopped', time: '170000' });
    expect(Number(offline!.updated)).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(h.sim.server(PLEX_ID).playbackReports().slice(-4).filter((r) => !r.accepted)).toEqual([]);
  });
});

describe('secret scan: nothing the browser receives from the play API carries a token', () => {
  it('answers, stream URLs, subtitle URLs and bodies, response headers — Plex and Jellyfin, direct and transcode', async () => {
    const tokens = [h.engine.getCredentials(h.plexSourceId)!.token, h.engine.getCredentials(h.jellyfinSourceId)!.token];
    for (const t of tokens) expect(t.length).toBeGreaterThan(8);
    const seen: string[] = [];
    let hlsChecked = 0;
    const look = (label: string, res: { statusCode: number; headers: Record<string, unknown>; body: string }) => {
      seen.push(`${label} ${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
    };
    const items: Array<[string, string]> = [
      [h.plexSourceId, simPlexMovies(h, 'h264-aac')[0]!],
      [h.plexSourceId, simPlexMovies(h, 'hevc-ac3')[0]!],
      [h.jellyfinSourceId, await simJellyfinMovie(h, 'h264-aac')],
      [h.jellyfinSourceId, await simJellyfinMovie(h, 'hevc-ac3')],
    ];
    for (const [sourceId, itemId] of items) {
      const created = await play(sourceId, itemId, { startMs: 0 });
      expect(created.res.statusCode).toBe(201);
      look('POST /api/play', created.res);
      const id = created.body.id;
      look('GET session', await h.running.app.inject({ method: 'GET', url: `/api/play/${id}` }));
      if (created.body.protocol === 'file') {
        const bytes = await h.running.app.inject({ method: 'GET', url: created.body.streamUrl, headers: { range: 'bytes=0-1023' } });
        expect(bytes.statusCode).toBe(206);
        look('stream headers', { statusCode: bytes.statusCode, headers: bytes.headers, body: '' });
      }
      if (created.body.protocol === 'hls') {
        // The HLS proxy: master, a variant playlist and a segment, each a Marquee name under hls/.
        const master = await h.running.app.inject({ method: 'GET', url: created.body.streamUrl });
        expect(master.statusCode).toBe(200);
        expect(master.body.startsWith('#EXTM3U')).toBe(true);
        look('master playlist', master);
        const variantName = master.body.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'))!.trim();
        expect(variantName).toMatch(/^p\d+\.m3u8$/);
        const variant = await h.running.app.inject({ method: 'GET', url: `/api/play/${id}/hls/${variantName}` });
        expect(variant.statusCode).toBe(200);
        look('variant playlist', variant);
        const segmentName = variant.body.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'))!.trim();
        const segment = await h.running.app.inject({ method: 'GET', url: `/api/play/${id}/hls/${segmentName}` });
        expect(segment.statusCode).toBe(200);
        expect(segment.rawPayload.length).toBeGreaterThan(0);
        look('segment headers', { statusCode: segment.statusCode, headers: segment.headers, body: segmentName });
        hlsChecked++;
      }
      for (const track of created.body.subtitles) {
        expect(track.url.startsWith('/api/play/')).toBe(true);
        const vtt = await h.running.app.inject({ method: 'GET', url: track.url });
        look('subtitle', vtt);
      }
      look('progress', await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: 1_000, state: 'playing' } }));
      look('DELETE', await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}` }));
      look('gone', await h.running.app.inject({ method: 'GET', url: `/api/play/${id}` }));
      expect(created.body.streamUrl.startsWith('/api/play/')).toBe(true);
    }
    await h.running.play.idle();
    expect(seen.length).toBeGreaterThan(20);
    expect(hlsChecked).toBe(2);
    const all = seen.join('\n');
    for (const token of tokens) expect(all.includes(token)).toBe(false);
    expect(all).not.toMatch(/x-plex-token|api_key=|apikey=|MediaBrowser Token/i);
  });
});
