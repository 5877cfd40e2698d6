// One playback pipeline against the simulators through the real runtime (issue 15): a transcode
// made by POST /api/play is served by the HLS service (master → variant → segments, the sim's very
// bytes), progress reaches the server and the HLS stream's position, DELETE stops the server's
// transcode exactly once; and quality follows the route — on the Plex relay a ~3 Mbps file that
// played directly becomes a transcode under the relay cap and an uncapped transcode is re-decided
// under it (generation + 1, the connection line says why), and once the engine is back on local
// after its hold-down both return to the original quality.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureClips, type ClipSet } from '../../sim/index.js';
import type { MediaCatalog, SimPlayable } from '../../sim/media-catalog.js';
import type { ApiPlaySession } from '../../src/api/types.js';
import { apiPlaySessionSchema } from '../../src/api/responses.js';
import { PLEX_RELAY_CAP_KBPS } from '../../src/core/quality-policy.js';
import { EngineHarness, JELLYFIN_ID, PLEX_ID, SIM_ROUTES } from '../support/engine-harness.js';
import { simPlexMovies } from '../support/sim-movies.js';

let h: EngineHarness;
let clips: ClipSet;

beforeAll(async () => {
  clips = await ensureClips();
  h = await EngineHarness.start();
  await h.waitForSteadyState(20_000);
}, 180_000);

afterAll(async () => {
  await h?.close();
});

afterEach(async () => {
  for (const route of [SIM_ROUTES.plexLocal, SIM_ROUTES.plexRemote]) await h.sim.route(route).fault({ mode: 'up' });
});

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => h.running.app.inject({ method, url, ...(payload ? { payload } : {}) });

async function play(itemId: string, startMs: number, sourceId = h.plexSourceId): Promise<ApiPlaySession> {
  const res = await inject('POST', '/api/play', { sourceId, itemId, startMs });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json<ApiPlaySession>();
  expect(apiPlaySessionSchema.safeParse(body).success).toBe(true);
  return body;
}

async function session(id: string): Promise<ApiPlaySession> {
  const res = await inject('GET', `/api/play/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<ApiPlaySession>();
}

/** The names a playlist lists (its URIs). */
const listed = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

/** Master → first variant → its first segment through Marquee; the segment's bytes and its name. */
async function firstSegment(streamUrl: string): Promise<{ name: string; bytes: Buffer }> {
  const base = streamUrl.replace(/master\.m3u8$/, '');
  const master = await inject('GET', streamUrl);
  expect(master.statusCode, master.body).toBe(200);
  const variant = listed(master.body)[0]!;
  expect(variant).toMatch(/^p\d+\.m3u8$/);
  const media = await inject('GET', `${base}${variant}`);
  expect(media.statusCode, media.body).toBe(200);
  const name = listed(media.body)[0]!;
  const segment = await inject('GET', `${base}${name}`);
  expect(segment.statusCode).toBe(200);
  return { name, bytes: segment.rawPayload };
}

/** The sim's own bytes of HLS segment n (every simulated transcode serves the H.264 clip's cut). */
const simSegment = (n: number) => readFile(clips.hls[n]!.path);

describe('a transcode through the API', () => {
  it('serves master → variant → segments byte for byte; progress reaches the server; DELETE stops the transcode once', async () => {
    const item = simPlexMovies(h, 'hevc-ac3')[0]!;
    h.sim.server(PLEX_ID).clearPlaybackReports();
    const created = await play(item, 0);
    expect(created).toMatchObject({ protocol: 'hls', streamUrl: `/api/play/${created.id}/hls/master.m3u8`, connection: { method: 'transcode', routeKind: 'local' } });
    const transcodeId = h.running.play.sessions.peek(created.id)!.decision!.playSessionId;

    const base = `/api/play/${created.id}/hls/`;
    const master = await inject('GET', created.streamUrl);
    expect(master.statusCode, master.body).toBe(200);
    expect(listed(master.body)).toEqual(['p0.m3u8']);
    const media = await inject('GET', `${base}p0.m3u8`);
    expect(media.statusCode).toBe(200);
    const names = listed(media.body);
    expect(names.slice(0, 3)).toEqual(['p0-0.ts', 'p0-1.ts', 'p0-2.ts']);
    for (const n of [0, 1, 2]) {
      const segment = await inject('GET', `${base}p0-${n}.ts`);
      expect(segment.statusCode).toBe(200);
      expect(segment.rawPayload.equals(await simSegment(n))).toBe(true);
    }

    expect((await inject('POST', `/api/play/${created.id}/progress`, { positionMs: 30_000, state: 'playing' })).statusCode).toBe(204);
    await h.running.play.idle();
    const timeline = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.itemId === item && r.call.endsWith('/:/timeline'));
    expect(timeline.map((r) => [r.state, r.positionMs])).toEqual([
      ['playing', 0],
      ['playing', 30_000],
    ]);
    // A restart of the transcode would start where the player is.
    expect(h.running.hls.get(created.id)?.positionMs).toBe(30_000);

    const stopsBefore = h.sim.server(PLEX_ID).media.transcodes.stopCalls().filter((c) => c.id === transcodeId).length;
    expect(stopsBefore).toBe(0);
    expect((await inject('DELETE', `/api/play/${created.id}`)).statusCode).toBe(204);
    await h.running.play.idle();
    await h.waitFor('the transcode stopped on the server', () => h.sim.server(PLEX_ID).media.transcodes.stopCalls().some((c) => c.id === transcodeId), 5_000);
    await new Promise((r) => setTimeout(r, 500)); // a second stop would have arrived by now
    expect(h.sim.server(PLEX_ID).media.transcodes.stopCalls().filter((c) => c.id === transcodeId)).toHaveLength(1);
    expect(h.sim.server(PLEX_ID).media.transcodes.all().some((t) => t.id === transcodeId)).toBe(false);
    expect((await inject('GET', created.streamUrl)).statusCode).toBe(404);
    const stopped = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.itemId === item && r.call.endsWith('/:/timeline')).at(-1);
    expect([stopped?.state, stopped?.positionMs]).toEqual(['stopped', 30_000]);
  }, 60_000);

  it('Jellyfin: the same pipeline — segments byte for byte from 60 s, progress reported, one DELETE /Videos/ActiveEncodings', async () => {
    const creds = h.engine.getCredentials(h.jellyfinSourceId)!;
    const listing = await fetch(`${h.sim.route(SIM_ROUTES.jellyfinLocal).url}/Items?recursive=true&includeItemTypes=Movie&limit=20&userId=${creds.userId}`, { headers: { authorization: `MediaBrowser Token="${creds.token}"` } });
    const catalog = h.sim.library(JELLYFIN_ID).mediaCatalog();
    const item = ((await listing.json()) as { Items: { Id: string }[] }).Items.map((i) => i.Id).find((id) => catalog.playable(id)?.variant === 'hevc-ac3')!;
    h.sim.server(JELLYFIN_ID).clearPlaybackReports();
    const created = await play(item, 60_000, h.jellyfinSourceId);
    expect(created).toMatchObject({ protocol: 'hls', connection: { method: 'transcode', routeKind: 'local' } });
    const transcodeId = h.running.play.sessions.peek(created.id)!.decision!.playSessionId;
    const first = await firstSegment(created.streamUrl);
    expect(first.name).toBe('p0-15.ts'); // 60 s: segment 15 of the whole clip
    expect(first.bytes.equals(await simSegment(15))).toBe(true);
    expect((await inject('POST', `/api/play/${created.id}/progress`, { positionMs: 64_000, state: 'paused' })).statusCode).toBe(204);
    await h.running.play.idle();
    expect(h.running.hls.get(created.id)?.positionMs).toBe(64_000);
    expect((await inject('DELETE', `/api/play/${created.id}`)).statusCode).toBe(204);
    await h.running.play.idle();
    const jellyfin = h.sim.server(JELLYFIN_ID);
    await h.waitFor('the transcode stopped on the server', () => jellyfin.media.transcodes.stopCalls().some((c) => c.id === transcodeId), 5_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(jellyfin.media.transcodes.stopCalls().filter((c) => c.id === transcodeId)).toHaveLength(1);
    const calls = jellyfin.playbackReports().filter((r) => r.itemId === item);
    expect(calls.every((r) => r.accepted)).toBe(true);
    expect(calls.map((r) => [r.call, r.positionMs])).toEqual([
      ['POST /Sessions/Playing', 60_000],
      ['POST /Sessions/Playing/Progress', 64_000],
      ['POST /Sessions/Playing/Stopped', 64_000],
    ]);
  }, 60_000);
});

describe('quality follows the route', () => {
  it('on the relay: a 3 Mbps direct play becomes a transcode under the cap, an uncapped transcode is re-capped; back on local: the original', async () => {
    // One H.264 movie plays the ~3 Mbps clip (above any relay cap): direct on local, too big for the relay.
    const [highItem] = simPlexMovies(h, 'h264-aac');
    const hevcItem = simPlexMovies(h, 'hevc-ac3')[0]!;
    const media = h.sim.server(PLEX_ID).media;
    const original = media.catalog;
    const high = (p: SimPlayable | null): SimPlayable | null => (p && p.itemId === highItem ? { ...p, variant: 'h264-aac-high' } : p);
    const patched: MediaCatalog = { playable: (id) => high(original.playable(id)), playableByPart: (part) => high(original.playableByPart?.(part) ?? null) };
    media.catalog = patched;
    try {
      const direct = await play(highItem!, 0);
      expect(direct).toMatchObject({ protocol: 'file', generation: 0, connection: { routeKind: 'local', method: 'direct', bitrateKbps: null, reason: null } });
      const transcode = await play(hevcItem, 0);
      expect(transcode).toMatchObject({ protocol: 'hls', generation: 0, connection: { routeKind: 'local', method: 'transcode', reason: null } });
      for (const id of [direct.id, transcode.id]) expect((await inject('POST', `/api/play/${id}/progress`, { positionMs: 42_000, state: 'playing' })).statusCode).toBe(204);

      // Local and remote die: the engine falls back to the relay, and the follower re-decides both.
      for (const route of [SIM_ROUTES.plexLocal, SIM_ROUTES.plexRemote]) await h.sim.route(route).fault({ mode: 'refuse' });
      await h.waitForView('plex', 'on the relay', (v) => v.status === 'connected' && v.route?.kind === 'relay', 20_000);
      const relayCap = PLEX_RELAY_CAP_KBPS.withoutPlexPass; // Plex Pass unknown: the safe cap
      for (const id of [direct.id, transcode.id]) {
        await h.waitFor(`session ${id.slice(0, 6)} re-decided on the relay`, () => h.running.play.sessions.peek(id)?.decidedFor.routeKind === 'relay', 15_000);
        const now = await session(id);
        expect(now).toMatchObject({ protocol: 'hls', generation: 1, streamUrl: `/api/play/${id}/hls/master.m3u8`, connection: { routeKind: 'relay', method: 'transcode', reason: 'relay: Plex caps relayed streams at 1 Mbps' } });
        expect(now.connection.bitrateKbps).toBeGreaterThan(0);
        expect(now.connection.bitrateKbps!).toBeLessThanOrEqual(relayCap);
        // The new transcode starts at the player's position (42 s: segment 10) and plays through Marquee over the relay.
        const first = await firstSegment(now.streamUrl);
        expect(first.name).toBe('p0-10.ts');
        expect(first.bytes.equals(await simSegment(10))).toBe(true);
      }

      // Local is back: the engine returns after its hold-down, and so does the original quality.
      await h.sim.route(SIM_ROUTES.plexLocal).fault({ mode: 'up' });
      await h.waitForView('plex', 'back on local', (v) => v.status === 'connected' && v.route?.kind === 'local', 20_000);
      for (const id of [direct.id, transcode.id]) await h.waitFor(`session ${id.slice(0, 6)} re-decided on local`, () => h.running.play.sessions.peek(id)?.decidedFor.routeKind === 'local', 15_000);
      const back = await session(direct.id);
      expect(back).toMatchObject({ protocol: 'file', generation: 2, streamUrl: `/api/play/${direct.id}/stream`, connection: { routeKind: 'local', method: 'direct', bitrateKbps: null, reason: null } });
      const bytes = await h.running.app.inject({ method: 'GET', url: back.streamUrl, headers: { range: 'bytes=0-99' } });
      expect(bytes.statusCode).toBe(206);
      expect(bytes.headers['content-range']).toBe(`bytes 0-99/${clips.files['h264-aac-high'].size}`);
      expect((await inject('GET', `/api/play/${direct.id}/hls/master.m3u8`)).statusCode).toBe(404); // its relay transcode is gone
      const uncapped = await session(transcode.id);
      expect(uncapped).toMatchObject({ protocol: 'hls', generation: 2, connection: { routeKind: 'local', method: 'transcode', reason: null } });
      expect(h.running.play.sessions.peek(transcode.id)!.request!.maxBitrateKbps).toBeNull();
      for (const id of [direct.id, transcode.id]) expect((await inject('DELETE', `/api/play/${id}`)).statusCode).toBe(204);
    } finally {
      media.catalog = original;
    }
  }, 120_000);
});
