import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, ensureClips, fallbackPlayables, type ClipSet, type Simulation } from '../index.js';
import { OpenApiValidator, PLEX_SPEC } from '../openapi-validator.js';
import { smallConfig } from '../test-fixtures.js';
import { rawGet } from './test-helpers.js';

const spec = new OpenApiValidator(PLEX_SPEC);
let sim: Simulation;
let clips: ClipSet;
let base: string;
let headers: Record<string, string>;
const [h264, hevc] = fallbackPlayables('plex', 'plex-a');

beforeAll(async () => {
  clips = await ensureClips();
  sim = await createSimulation({ ...smallConfig(), mediaKeepAliveScale: 0.02 }); // unpinged transcode dies after 1.8 s
  base = sim.servers.find((s) => s.id === 'plex-a')!.routes[0]!.url;
  headers = { Accept: 'application/json', 'X-Plex-Token': sim.plexTv.serverToken('plex-a'), 'X-Plex-Client-Identifier': 'media-test' };
}, 180_000);
afterAll(() => sim?.close());

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

async function decision(ratingKey: string, query: string) {
  const res = await fetch(`${base}/video/:/transcode/universal/decision?path=/library/metadata/${ratingKey}&protocol=hls&${query}`, { headers });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { MediaContainer: { generalDecisionCode: number; Metadata: { Media: { Part: { key: string; decision: string; Stream: { streamType: number; key?: string }[] }[] }[] }[] } };
  expectValid(spec.validate('/{transcodeType}/:/transcode/universal/decision', 'get', 200, body));
  return body.MediaContainer;
}

describe('Plex parts', () => {
  it('serves a part with ranges; HEAD answers 500 like the real server; a token is required', async () => {
    const container = await decision(h264!.itemId, 'directPlay=1&directStream=1');
    const partUrl = `${base}${container.Metadata[0]!.Media[0]!.Part[0]!.key}`;
    const bytes = readFileSync(clips.files['h264-aac'].path);
    const first = await rawGet(partUrl, { 'X-Plex-Token': headers['X-Plex-Token']!, Range: 'bytes=0-0' });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-0/${bytes.length}`);
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(first.body.equals(bytes.subarray(0, 1))).toBe(true);
    const suffix = await rawGet(partUrl, { 'X-Plex-Token': headers['X-Plex-Token']!, Range: 'bytes=-4096' });
    expect(suffix.body.equals(bytes.subarray(bytes.length - 4096))).toBe(true);
    expect((await rawGet(partUrl, { 'X-Plex-Token': headers['X-Plex-Token']!, Range: `bytes=${bytes.length}-` })).status).toBe(416);
    expect((await rawGet(partUrl, { 'X-Plex-Token': headers['X-Plex-Token']! }, 'HEAD')).status).toBe(500);
    expect((await rawGet(partUrl)).status).toBe(401);
  });
});

describe('Plex universal transcoder', () => {
  it('decides direct play for H.264 within the bitrate, transcode for HEVC or a low maxVideoBitrate (spec-valid)', async () => {
    const direct = await decision(h264!.itemId, 'directPlay=1&directStream=1');
    expect(direct.generalDecisionCode).toBe(1000);
    expect(direct.Metadata[0]!.Media[0]!.Part[0]!.decision).toBe('directplay');
    const forced = await decision(hevc!.itemId, 'directPlay=1&directStream=1');
    expect(forced.generalDecisionCode).toBe(1001);
    expect(forced.Metadata[0]!.Media[0]!.Part[0]!.decision).toBe('transcode');
    const relay = await decision(h264!.itemId, 'directPlay=1&directStream=1&maxVideoBitrate=200');
    expect(relay.generalDecisionCode).toBe(1001);
    const refused = await decision(h264!.itemId, 'directPlay=0&directStream=1');
    expect(refused.generalDecisionCode).toBe(1001);
  });

  async function start(session: string, offset = 0) {
    const startUrl = new URL(`${base}/video/:/transcode/universal/start.m3u8?path=/library/metadata/${hevc!.itemId}&protocol=hls&session=${session}&offset=${offset}&directPlay=0`);
    const res = await fetch(startUrl, { headers });
    expect(res.status).toBe(200);
    const master = await res.text();
    const variant = master.split('\n').find((l) => l && !l.startsWith('#'))!;
    expect(variant).toBe(`session/${session}/base/index.m3u8`); // relative, as the real server writes it
    const index = new URL(variant, startUrl);
    const playlist = await (await fetch(index, { headers })).text();
    return { playlist, segments: playlist.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => new URL(l, index)) };
  }

  it('start.m3u8 → relative session playlist → every segment fetchable', async () => {
    const { playlist, segments } = await start('s-all');
    expect(playlist).toContain('#EXT-X-ENDLIST');
    expect(segments.length).toBe(clips.hls.length);
    for (const [i, url] of segments.entries()) {
      const res = await rawGet(url.href, { 'X-Plex-Token': headers['X-Plex-Token']! });
      expect(res.status, url.pathname).toBe(200);
      expect(res.body.length).toBe(clips.hls[i]!.size);
    }
  });

  it('offset restarts at the segment holding it; ping keeps a session, silence kills it, stop ends it', async () => {
    const late = await start('s-offset', 100);
    expect(late.segments[0]!.pathname).toMatch(/\/session\/s-offset\/base\/25\.ts$/);

    const { segments } = await start('s-ping');
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 400));
      expect((await fetch(`${base}/video/:/transcode/universal/ping?session=s-ping`, { headers })).status).toBe(200);
    }
    expect((await rawGet(segments[2]!.href, { 'X-Plex-Token': headers['X-Plex-Token']! })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await rawGet(segments[3]!.href, { 'X-Plex-Token': headers['X-Plex-Token']! })).status).toBe(404);
    expect((await fetch(`${base}/video/:/transcode/universal/ping?session=s-ping`, { headers })).status).toBe(404);

    const stopped = await start('s-stop');
    expect((await fetch(`${base}/video/:/transcode/universal/stop?session=s-stop`, { headers })).status).toBe(200);
    expect((await rawGet(stopped.segments[0]!.href, { 'X-Plex-Token': headers['X-Plex-Token']! })).status).toBe(404);
  });

  it('lists a subtitle stream whose key serves WebVTT', async () => {
    const container = await decision(h264!.itemId, 'directPlay=1');
    const subtitle = container.Metadata[0]!.Media[0]!.Part[0]!.Stream.find((s) => s.streamType === 3)!;
    const res = await fetch(`${base}${subtitle.key}`, { headers });
    expect(res.status).toBe(200);
    expect((await res.text()).startsWith('WEBVTT')).toBe(true);
  });
});

describe('Plex timeline and scrobble', () => {
  it('records timeline reports (offline ones too), keeps viewOffset, scrobbles with PUT; refuses a bad state', async () => {
    sim.server('plex-a').clearPlaybackReports();
    const q = `ratingKey=${h264!.itemId}&key=/library/metadata/${h264!.itemId}&duration=180000`;
    expect((await fetch(`${base}/:/timeline?${q}&state=playing&time=30000`, { method: 'POST', headers })).status).toBe(200);
    expect((await fetch(`${base}/:/timeline?${q}&state=paused&time=61000&offline=1&updated=1700000000`, { method: 'POST', headers })).status).toBe(200);
    expect(sim.server('plex-a').media.playState.get(h264!.itemId).positionMs).toBe(61_000);
    expect((await fetch(`${base}/:/timeline?${q}&state=dancing&time=1`, { method: 'POST', headers })).status).toBe(400);
    expect((await fetch(`${base}/:/scrobble?key=${h264!.itemId}&identifier=com.plexapp.plugins.library`, { method: 'PUT', headers })).status).toBe(200);
    expect(sim.server('plex-a').media.playState.get(h264!.itemId).played).toBe(true);
    expect((await fetch(`${base}/:/unscrobble?key=${h264!.itemId}&identifier=com.plexapp.plugins.library`, { method: 'PUT', headers })).status).toBe(200);
    expect(sim.server('plex-a').media.playState.get(h264!.itemId).played).toBe(false);

    const reports = (await (await fetch(`${sim.controlUrl}/servers/plex-a/playback-reports`)).json()) as { call: string; state: string; positionMs: number | null; accepted: boolean; query: Record<string, string> }[];
    expect(reports.map((r) => [r.call, r.state, r.positionMs, r.accepted])).toEqual([
      ['POST /:/timeline', 'playing', 30_000, true],
      ['POST /:/timeline', 'paused', 61_000, true],
      ['POST /:/timeline', 'dancing', 1, false],
      ['PUT /:/scrobble', 'played', null, true],
      ['PUT /:/unscrobble', 'unplayed', null, true],
    ]);
    expect(reports[1]!.query).toMatchObject({ offline: '1', updated: '1700000000' });
    expect(JSON.stringify(reports)).not.toContain(headers['X-Plex-Token']!);
    expect((await fetch(`${base}/:/timeline?${q}&state=playing&time=1`, { method: 'POST' })).status).toBe(401);
  });
});
