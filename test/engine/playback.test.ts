// Play sessions against the simulators through the real app (issue 15): the decision (direct play
// for H.264/AAC, a token-free transcode for HEVC/AC-3), the resume position, the byte proxy, the
// progress reports the servers received, the transcode stop — and the durable outbox across an
// outage: 0 reports lost, delivered in order once the server is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClips } from '../../sim/index.js';
import type { ApiPlaySession } from '../../src/api/types.js';
import { apiPlaySessionSchema } from '../../src/api/responses.js';
import { EngineHarness, JELLYFIN_ID, PLEX_ID } from '../support/engine-harness.js';
import { simJellyfinMovie, simPlexMovies } from '../support/sim-movies.js';

let h: EngineHarness;

beforeAll(async () => {
  await ensureClips();
  h = await EngineHarness.start();
  await h.waitForSteadyState(20_000);
}, 180_000);

afterAll(async () => {
  await h?.close();
});

async function play(sourceId: string, itemId: string, extra: Record<string, unknown> = {}) {
  const res = await h.running.app.inject({ method: 'POST', url: '/api/play', payload: { sourceId, itemId, ...extra } });
  const body = res.json<ApiPlaySession & { error?: string; message?: string }>();
  if (res.statusCode >= 500) console.error(body);
  return { status: res.statusCode, body };
}

/** The first simulated Plex H.264 movie played from 0:00, with the server's play log cleared. */
async function playPlexMovieFromStart(): Promise<{ key: string; id: string }> {
  const key = simPlexMovies(h, 'h264-aac')[0]!;
  h.sim.library(PLEX_ID).setResume(key, 0);
  h.sim.server(PLEX_ID).clearPlaybackReports();
  const created = await play(h.plexSourceId, key, { startMs: 0 });
  expect(created.status).toBe(201);
  return { key, id: created.body.id };
}

describe('Plex', () => {
  it('plays H.264/AAC directly from the resume position, proxies ranges, reports progress and the stop', async () => {
    const key = simPlexMovies(h, 'h264-aac')[0]!;
    h.sim.library(PLEX_ID).setResume(key, 42_000);
    h.sim.server(PLEX_ID).clearPlaybackReports();
    const created = await play(h.plexSourceId, key);
    expect(created.status).toBe(201);
    expect(apiPlaySessionSchema.safeParse(created.body).success).toBe(true);
    expect(created.body).toMatchObject({ protocol: 'file', startMs: 42_000, durationMs: 180_000, connection: { method: 'direct', routeKind: 'local', bitrateKbps: null } });
    expect(created.body.streamUrl).toBe(`/api/play/${created.body.id}/stream`);
    expect(created.body.subtitles.length).toBeGreaterThan(0);

    const bytes = await h.running.app.inject({ method: 'GET', url: created.body.streamUrl, headers: { range: 'bytes=0-99' } });
    expect(bytes.statusCode).toBe(206);
    expect(bytes.rawPayload.length).toBe(100);
    const vtt = await h.running.app.inject({ method: 'GET', url: created.body.subtitles[0]!.url });
    expect(vtt.statusCode).toBe(200);
    expect(vtt.body.startsWith('WEBVTT')).toBe(true);

    const id = created.body.id;
    expect((await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: 50_000, state: 'playing' } })).statusCode).toBe(204);
    expect((await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: 165_000, state: 'paused' } })).statusCode).toBe(204);
    await h.running.play.idle();
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}` })).statusCode).toBe(204);
    await h.running.play.idle();
    expect((await h.running.app.inject({ method: 'GET', url: `/api/play/${id}` })).statusCode).toBe(404);

    const reports = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.itemId === key);
    expect(reports.every((r) => r.accepted)).toBe(true);
    const timeline = reports.filter((r) => r.call.endsWith('/:/timeline')).map((r) => [r.state, r.positionMs]);
    expect(timeline).toEqual([
      ['playing', 42_000],
      ['playing', 50_000],
      ['paused', 165_000],
      ['stopped', 165_000],
    ]);
    // Past 90 % of 180 s: one scrobble, right after the report that crossed it.
    expect(reports.filter((r) => r.call === 'PUT /:/scrobble')).toHaveLength(1);
    expect(h.store.playOutbox.count()).toBe(0);
  });

  it('one stopped report per playback: the page says stopped, then leaves (DELETE)', async () => {
    const { key, id } = await playPlexMovieFromStart();
    // The media ended (PlayerPage reports stopped), then the page is left (DELETE with its position).
    expect((await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: 33_000, state: 'stopped' } })).statusCode).toBe(204);
    await h.running.play.idle();
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}`, payload: { positionMs: 33_000 } })).statusCode).toBe(204);
    await h.running.play.idle();
    // A second DELETE (a retried keepalive request) is a 404 and reports nothing.
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}` })).statusCode).toBe(404);
    await h.running.play.idle();
    const stops = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.itemId === key && r.state === 'stopped');
    expect(stops.map((r) => [r.call, r.positionMs])).toEqual([['POST /:/timeline', 33_000]]);
  });

  it('leaving is one request: DELETE carries the final position, and the one stopped report says exactly that', async () => {
    const { key, id } = await playPlexMovieFromStart();
    // The last periodic report, up to ~10 s before the page was left.
    expect((await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: 20_000, state: 'playing' } })).statusCode).toBe(204);
    await h.running.play.idle();
    // A body that is not a position is refused in words, and the session lives on.
    const bad = await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}`, payload: { positionMs: 'late' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toMatch(/positionMs/);
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}`, payload: { positionMs: 1, extra: true } })).statusCode).toBe(400);
    expect((await h.running.app.inject({ method: 'GET', url: `/api/play/${id}` })).statusCode).toBe(200);
    // What PlayerPage sends when it is left: only DELETE, with where the player was.
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}`, payload: { positionMs: 29_400 } })).statusCode).toBe(204);
    await h.running.play.idle();
    const timeline = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.itemId === key && r.call.endsWith('/:/timeline'));
    expect(timeline.map((r) => [r.state, r.positionMs])).toEqual([
      ['playing', 0],
      ['playing', 20_000],
      ['stopped', 29_400],
    ]);
    expect(timeline.every((r) => r.accepted)).toBe(true);
    expect(h.store.playOutbox.count()).toBe(0);
  });

  it('asks for a transcode of HEVC/AC-3 whose master path carries no token; unknown items are 404', async () => {
    const key = simPlexMovies(h, 'hevc-ac3')[0]!;
    const created = await play(h.plexSourceId, key, { startMs: 0 });
    expect(created.status).toBe(201);
    expect(created.body.protocol).toBe('hls');
    const session = h.running.play.sessions.peek(created.body.id)!;
    expect(session.decision?.method).toBe('transcode');
    if (session.decision?.method !== 'transcode') throw new Error('unreachable');
    expect(session.decision.masterPath).toMatch(/^\/video\/:\/transcode\/universal\/start\.m3u8\?/);
    expect(session.decision.masterPath).toContain('location=lan');
    expect(session.decision.masterPath.toLowerCase()).not.toContain('token');
    expect(JSON.stringify(created.body)).not.toContain(h.engine.getCredentials(h.plexSourceId)!.token);
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${created.body.id}` })).statusCode).toBe(204);

    const missing = await play(h.plexSourceId, '999999999');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/no such item/);
  });
});

describe('Jellyfin', () => {
  it('plays H.264 directly and transcodes HEVC with a token-free TranscodingUrl; reports start, progress and stop', async () => {
    const direct = await simJellyfinMovie(h, 'h264-aac');
    h.sim.server(JELLYFIN_ID).clearPlaybackReports();
    const a = await play(h.jellyfinSourceId, direct, { startMs: 10_000 });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ protocol: 'file', startMs: 10_000, connection: { method: 'direct' } });
    const bytes = await h.running.app.inject({ method: 'GET', url: a.body.streamUrl, headers: { range: 'bytes=100-199' } });
    expect(bytes.statusCode).toBe(206);
    expect(bytes.headers['content-range']).toMatch(/^bytes 100-199\/\d+$/);
    await h.running.app.inject({ method: 'POST', url: `/api/play/${a.body.id}/progress`, payload: { positionMs: 20_000, state: 'playing' } });
    await h.running.play.idle();
    // Left at 27.5 s: the DELETE says so, and Jellyfin's Stopped carries it (PositionTicks).
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${a.body.id}`, payload: { positionMs: 27_500 } })).statusCode).toBe(204);
    await h.running.play.idle();
    const calls = h.sim.server(JELLYFIN_ID).playbackReports().filter((r) => r.itemId === direct);
    expect(calls.every((r) => r.accepted)).toBe(true);
    expect(calls.map((r) => [r.call, r.positionMs])).toEqual([
      ['POST /Sessions/Playing', 10_000],
      ['POST /Sessions/Playing/Progress', 20_000],
      ['POST /Sessions/Playing/Stopped', 27_500],
    ]);

    const hevc = await simJellyfinMovie(h, 'hevc-ac3');
    const b = await play(h.jellyfinSourceId, hevc, { startMs: 60_000 });
    expect(b.status).toBe(201);
    expect(b.body.protocol).toBe('hls');
    const session = h.running.play.sessions.peek(b.body.id)!;
    if (session.decision?.method !== 'transcode') throw new Error('expected a transcode');
    expect(session.decision.masterPath).toMatch(/^\/videos\/[0-9a-f]+\/master\.m3u8\?/);
    expect(session.decision.masterPath).toContain('StartTimeTicks=600000000');
    expect(session.decision.masterPath).not.toMatch(/ApiKey|api_key/i);
    expect(session.decision.masterPath).not.toContain(h.engine.getCredentials(h.jellyfinSourceId)!.token);
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${b.body.id}` })).statusCode).toBe(204);
  });
});

describe('the durable outbox', () => {
  it('keeps every report made while the server is away and delivers them in order once it is back', async () => {
    const item = await simJellyfinMovie(h, 'h264-aac');
    const created = await play(h.jellyfinSourceId, item, { startMs: 5_000 });
    expect(created.status).toBe(201);
    await h.running.play.idle();
    h.sim.server(JELLYFIN_ID).clearPlaybackReports();

    await h.sim.server(JELLYFIN_ID).fault({ mode: 'stop' });
    await h.waitForView('jellyfin', 'away', (v) => v.status !== 'connected', 20_000);
    for (const positionMs of [30_000, 40_000, 50_000]) {
      const r = await h.running.app.inject({ method: 'POST', url: `/api/play/${created.body.id}/progress`, payload: { positionMs, state: 'playing' } });
      expect(r.statusCode).toBe(204);
    }
    expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${created.body.id}` })).statusCode).toBe(204);
    await h.running.play.idle();
    // Collapsed to the latest per item: the stop (at 50 s) superseded the progress reports before it.
    expect(h.store.playOutbox.count(h.jellyfinSourceId)).toBe(1);
    expect(h.sim.server(JELLYFIN_ID).playbackReports()).toHaveLength(0);
    // Nothing new starts while it is away: 409 in words.
    const away = await play(h.jellyfinSourceId, item);
    expect(away.status).toBe(409);
    expect(away.body.message).toMatch(/not reachable right now/);

    await h.sim.server(JELLYFIN_ID).fault({ mode: 'up' });
    await h.waitFor('the outbox delivered', () => h.store.playOutbox.count(h.jellyfinSourceId) === 0, 30_000);
    const calls = h.sim.server(JELLYFIN_ID).playbackReports().filter((r) => r.itemId === item);
    expect(calls.every((r) => r.accepted)).toBe(true);
    expect(calls.map((r) => [r.call, r.positionMs])).toEqual([['POST /Sessions/Playing/Stopped', 50_000]]);
  }, 90_000);
});

describe('the durable outbox with Plex', () => {
  it('an outage with reports of several items: none lost, delivered in order once back, each with offline=1&updated=', async () => {
    const catalog = h.sim.library(PLEX_ID).mediaCatalog();
    const keys: string[] = [];
    for (let i = 0; i < 40 && keys.length < 3; i++) {
      const key = String(100_000_000 + i * 1000);
      if (catalog.playable(key)?.variant === 'h264-aac') keys.push(key);
    }
    expect(keys).toHaveLength(3);
    const sessions: string[] = [];
    for (const key of keys) {
      const created = await play(h.plexSourceId, key, { startMs: 0 });
      expect(created.status).toBe(201);
      sessions.push(created.body.id);
    }
    await h.running.play.idle();
    h.sim.server(PLEX_ID).clearPlaybackReports();

    await h.sim.server(PLEX_ID).fault({ mode: 'stop' });
    await h.waitForView('plex', 'away', (v) => v.status !== 'connected', 20_000);
    const awayFrom = Math.floor(Date.now() / 1000);
    // Rounds of reports from the three players while the server is away; the second one leaves.
    for (let round = 1; round <= 3; round++) {
      for (const [i, id] of sessions.entries()) {
        if (i === 1 && round === 3) {
          expect((await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}` })).statusCode).toBe(204);
          continue;
        }
        const r = await h.running.app.inject({ method: 'POST', url: `/api/play/${id}/progress`, payload: { positionMs: round * 10_000 + i * 1_000, state: 'playing' } });
        expect(r.statusCode).toBe(204);
      }
    }
    await h.running.play.idle();
    const awayTo = Math.ceil(Date.now() / 1000);
    expect(h.sim.server(PLEX_ID).playbackReports()).toHaveLength(0);
    expect(h.store.playOutbox.count(h.plexSourceId)).toBe(3);

    await h.sim.server(PLEX_ID).fault({ mode: 'up' });
    await h.waitFor('the Plex outbox delivered', () => h.store.playOutbox.count(h.plexSourceId) === 0, 30_000);
    const timeline = h.sim.server(PLEX_ID).playbackReports().filter((r) => r.call.endsWith('/:/timeline'));
    expect(timeline.every((r) => r.accepted)).toBe(true);
    // The latest of each item, in the order they were made in round 3: item 0, item 1's stop (at its round-2 position), item 2.
    expect(timeline.map((r) => [r.itemId, r.state, r.positionMs])).toEqual([
      [keys[0], 'playing', 30_000],
      [keys[1], 'stopped', 21_000],
      [keys[2], 'playing', 32_000],
    ]);
    for (const r of timeline) {
      expect(r.query.offline).toBe('1');
      expect(Number(r.query.updated)).toBeGreaterThanOrEqual(awayFrom - 1);
      expect(Number(r.query.updated)).toBeLessThanOrEqual(awayTo);
    }
    for (const id of [sessions[0]!, sessions[2]!]) await h.running.app.inject({ method: 'DELETE', url: `/api/play/${id}` });
    await h.running.play.idle();
  }, 90_000);
});
