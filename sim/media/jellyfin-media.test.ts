import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, ensureClips, fallbackPlayables, type ClipSet, type Simulation } from '../index.js';
import { JELLYFIN_SPEC, OpenApiValidator } from '../openapi-validator.js';
import { smallConfig } from '../test-fixtures.js';
import { fileHash, rawGet, sha256 } from './test-helpers.js';

const spec = new OpenApiValidator(JELLYFIN_SPEC);
let sim: Simulation;
let clips: ClipSet;
let base: string;
let token: string;
const [h264, hevc, audio] = fallbackPlayables('jellyfin', 'jf');
const auth = () => ({ Authorization: `MediaBrowser Client="Marquee Test", Device="Test", DeviceId="media-device", Version="1.0.0", Token="${token}"` });
/** What Debian's Chromium plays as it is (LIBRARY-PLAYBACK.md). */
const CHROMIUM_PROFILE = {
  DirectPlayProfiles: [
    { Container: 'mp4,m4v', Type: 'Video', VideoCodec: 'h264,vp9,av1', AudioCodec: 'aac,opus' },
    { Container: 'mp4,m4a', Type: 'Audio', AudioCodec: 'aac' },
  ],
};

beforeAll(async () => {
  clips = await ensureClips(); // generated once per machine (10–20 s), then cached
  // 0.02: an unpinged HLS session dies after 1.2 s instead of 60 s.
  sim = await createSimulation({ ...smallConfig(), mediaKeepAliveScale: 0.02 });
  base = sim.servers.find((s) => s.id === 'jf')!.routes[0]!.url;
  token = sim.jellyfin('jf').issueToken('demo', 'media-device');
}, 180_000);
afterAll(() => sim?.close());

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

async function playbackInfo(itemId: string, body: Record<string, unknown>) {
  const res = await fetch(`${base}/Items/${itemId}/PlaybackInfo`, { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { MediaSources: Record<string, unknown>[]; PlaySessionId: string };
  expectValid(spec.validate('/Items/{itemId}/PlaybackInfo', 'post', 200, json));
  return json;
}

describe('Jellyfin direct play with ranges', () => {
  const url = () => `${base}/Videos/${h264!.itemId}/stream?static=true&mediaSourceId=${h264!.partId}`;
  const file = () => clips.files['h264-aac'];

  it('serves the whole file (200) with validators; its bytes hash like the file', async () => {
    const res = await rawGet(url(), auth());
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['etag']).toBe(file().etag);
    expect(new Date(res.headers['last-modified']!).getTime()).toBe(Math.floor(file().lastModified.getTime() / 1000) * 1000);
    expect(Number(res.headers['content-length'])).toBe(file().size);
    expect(sha256(res.body)).toBe(fileHash(file().path));
  });

  it('answers first byte, middle, suffix and open-ended ranges with 206 and the right bytes', async () => {
    const bytes = readFileSync(file().path);
    const size = bytes.length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=1000000-1000999', 1_000_000, 1_000_999],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=${size - 1234}-`, size - 1234, size - 1],
      [`bytes=${size - 10}-${size + 5000}`, size - 10, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await rawGet(url(), { ...auth(), Range: range });
      expect(res.status, range).toBe(206);
      expect(res.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(Number(res.headers['content-length'])).toBe(end - start + 1);
      expect(res.body.equals(bytes.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 with the size for unsatisfiable ranges', async () => {
    for (const range of [`bytes=${file().size}-`, 'bytes=-0']) {
      const res = await rawGet(url(), { ...auth(), Range: range });
      expect(res.status, range).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${file().size}`);
    }
  });

  it('answers HEAD with the length and no body; audio streams too; 401 without a token; 404 for an unknown item', async () => {
    const head = await rawGet(url(), auth(), 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(file().size);
    expect(head.body.length).toBe(0);
    const audioRes = await rawGet(`${base}/Audio/${audio!.itemId}/stream?static=true`, { ...auth(), Range: 'bytes=0-99' });
    expect(audioRes.status).toBe(206);
    expect(audioRes.headers['content-range']).toBe(`bytes 0-99/${clips.files['audio-aac'].size}`);
    expect((await rawGet(url())).status).toBe(401);
    expect((await rawGet(`${base}/Videos/${'0'.repeat(32)}/stream?static=true`, auth())).status).toBe(404);
  });
});

describe('Jellyfin PlaybackInfo honours the device profile', () => {
  it('offers direct play of H.264/AAC MP4 to a profile that plays it', async () => {
    const info = await playbackInfo(h264!.itemId, { DeviceProfile: CHROMIUM_PROFILE, MaxStreamingBitrate: 20_000_000 });
    const source = info.MediaSources[0]!;
    expect(source['SupportsDirectPlay']).toBe(true);
    expect(source['TranscodingUrl']).toBeUndefined();
    expect(info.PlaySessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(source['Size']).toBe(clips.files['h264-aac'].size);
  });

  it('sends HEVC/AC-3 to an HLS transcode whose URL carries the play session (and the token, like the real server)', async () => {
    const info = await playbackInfo(hevc!.itemId, { DeviceProfile: CHROMIUM_PROFILE });
    const source = info.MediaSources[0]!;
    expect(source['SupportsDirectPlay']).toBe(false);
    const transcodingUrl = new URL(String(source['TranscodingUrl']), base);
    expect(transcodingUrl.pathname).toBe(`/videos/${hevc!.itemId}/master.m3u8`);
    expect(transcodingUrl.searchParams.get('PlaySessionId')).toBe(info.PlaySessionId);
    expect(transcodingUrl.searchParams.get('ApiKey')).toBe(token);
  });

  it('transcodes when MaxStreamingBitrate is below the file, or the profile lacks the codec', async () => {
    const low = await playbackInfo(h264!.itemId, { DeviceProfile: CHROMIUM_PROFILE, MaxStreamingBitrate: 100_000 });
    expect(low.MediaSources[0]!['SupportsDirectPlay']).toBe(false);
    expect(String(low.MediaSources[0]!['TranscodingUrl'])).toContain('master.m3u8');
    const noAac = await playbackInfo(h264!.itemId, { DeviceProfile: { DirectPlayProfiles: [{ Container: 'mp4', Type: 'Video', VideoCodec: 'h264', AudioCodec: 'opus' }] } });
    expect(noAac.MediaSources[0]!['SupportsDirectPlay']).toBe(false);
  });
});

describe('Jellyfin HLS transcode', () => {
  async function startTranscode(extra = '') {
    const info = await playbackInfo(hevc!.itemId, { DeviceProfile: CHROMIUM_PROFILE });
    const master = new URL(`${String(info.MediaSources[0]!['TranscodingUrl'])}${extra}`, base);
    const res = await fetch(master, { headers: auth() });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('#EXTM3U')).toBe(true);
    const variant = text.split('\n').find((l) => l && !l.startsWith('#'))!;
    return { playSessionId: info.PlaySessionId, main: new URL(variant, master) };
  }

  async function segments(main: URL) {
    const res = await fetch(main, { headers: auth() });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('#EXT-X-ENDLIST');
    return { text, urls: text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => new URL(l, main)) };
  }

  it('lists every segment of the clip and each one is fetchable MPEG-TS', async () => {
    const { main } = await startTranscode();
    const { urls } = await segments(main);
    expect(urls.length).toBe(clips.hls.length);
    for (const [i, segmentUrl] of urls.entries()) {
      const res = await rawGet(segmentUrl.href, auth());
      expect(res.status, segmentUrl.pathname).toBe(200);
      expect(res.body.length).toBe(clips.hls[i]!.size);
      expect(res.body[0]).toBe(0x47); // MPEG-TS sync byte
    }
  });

  it('restarts at StartTimeTicks: the playlist begins with the segment holding that position', async () => {
    const { main } = await startTranscode(`&StartTimeTicks=${60 * 10_000_000}`);
    const { text, urls } = await segments(main);
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:15');
    expect(urls[0]!.pathname).toMatch(/\/hls1\/main\/15\.ts$/);
    expect(urls.length).toBe(clips.hls.length - 15);
  });

  it('keeps a pinged session; kills one without pings (segments 404); DELETE ActiveEncodings ends one at once', async () => {
    const { main, playSessionId } = await startTranscode();
    const { urls } = await segments(main);
    // Pinged every 300 ms for 2.4 s: twice the (scaled) 1.2 s idle limit.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const ping = await fetch(`${base}/Sessions/Playing/Ping?playSessionId=${playSessionId}`, { method: 'POST', headers: auth() });
      expect(ping.status).toBe(204);
    }
    expect((await rawGet(urls[3]!.href, auth())).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await rawGet(urls[4]!.href, auth())).status).toBe(404);

    const other = await startTranscode();
    const otherUrls = (await segments(other.main)).urls;
    const del = await fetch(`${base}/Videos/ActiveEncodings?deviceId=media-device&playSessionId=${other.playSessionId}`, { method: 'DELETE', headers: auth() });
    expect(del.status).toBe(204);
    expect((await rawGet(otherUrls[0]!.href, auth())).status).toBe(404);
  });

  it('serves the WebVTT subtitles the media source lists', async () => {
    const info = await playbackInfo(h264!.itemId, { DeviceProfile: CHROMIUM_PROFILE });
    const streams = info.MediaSources[0]!['MediaStreams'] as { Type: string; DeliveryUrl?: string }[];
    const subtitle = streams.find((s) => s.Type === 'Subtitle')!;
    const res = await fetch(new URL(subtitle.DeliveryUrl!, base), { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/vtt');
    expect((await res.text()).startsWith('WEBVTT')).toBe(true);
  });
});

describe('Jellyfin progress reports', () => {
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('records start/progress/stopped (spec-valid bodies), updates the resume position and marks played past 90 %', async () => {
    sim.server('jf').clearPlaybackReports();
    const common = { ItemId: h264!.itemId, MediaSourceId: h264!.partId, PlaySessionId: 'p1', PlayMethod: 'DirectPlay', CanSeek: true };
    const start = { ...common, PositionTicks: 0, IsPaused: false };
    const progress = { ...common, PositionTicks: 42_000 * 10_000, IsPaused: true };
    const stopped = { ItemId: h264!.itemId, MediaSourceId: h264!.partId, PlaySessionId: 'p1', PositionTicks: 50_000 * 10_000 };
    expectValid(spec.validateComponent('PlaybackStartInfo', start));
    expectValid(spec.validateComponent('PlaybackProgressInfo', progress));
    expectValid(spec.validateComponent('PlaybackStopInfo', stopped));
    expect((await post('/Sessions/Playing', start)).status).toBe(204);
    expect((await post('/Sessions/Playing/Progress', progress)).status).toBe(204);
    expect(sim.server('jf').media.playState.get(h264!.itemId).positionMs).toBe(42_000);
    expect((await post('/Sessions/Playing/Stopped', stopped)).status).toBe(204);
    expect(sim.server('jf').media.playState.get(h264!.itemId).positionMs).toBe(50_000);

    const reports = (await (await fetch(`${sim.controlUrl}/servers/jf/playback-reports`)).json()) as { call: string; positionMs: number; state: string; accepted: boolean }[];
    expect(reports.map((r) => [r.call, r.positionMs, r.state, r.accepted])).toEqual([
      ['POST /Sessions/Playing', 0, 'started', true],
      ['POST /Sessions/Playing/Progress', 42_000, 'paused', true],
      ['POST /Sessions/Playing/Stopped', 50_000, 'stopped', true],
    ]);

    expect((await post('/Sessions/Playing/Stopped', { ...stopped, PositionTicks: 175_000 * 10_000 })).status).toBe(204);
    expect(sim.server('jf').media.playState.get(h264!.itemId).played).toBe(true);
  });

  it('refuses a body that breaks the spec (400) and records it as refused; no token → 401', async () => {
    sim.server('jf').clearPlaybackReports();
    expect((await post('/Sessions/Playing/Progress', { ItemId: 'not-a-guid', PositionTicks: 'soon' })).status).toBe(400);
    const [report] = sim.server('jf').playbackReports();
    expect(report?.accepted).toBe(false);
    expect(report?.problem).toContain('ItemId');
    const anonymous = await fetch(`${base}/Sessions/Playing`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
  });

  it('marks played and unplayed with /UserPlayedItems (spec-valid answer); the control API clears the reports', async () => {
    const played = await fetch(`${base}/UserPlayedItems/${hevc!.itemId}`, { method: 'POST', headers: auth() });
    expect(played.status).toBe(200);
    const body = await played.json();
    expectValid(spec.validate('/UserPlayedItems/{itemId}', 'post', 200, body));
    expect(body).toMatchObject({ Played: true, PlaybackPositionTicks: 0 });
    const unplayed = await fetch(`${base}/UserPlayedItems/${hevc!.itemId}`, { method: 'DELETE', headers: auth() });
    expect(((await unplayed.json()) as { Played: boolean }).Played).toBe(false);
    expect(sim.server('jf').playbackReports().slice(-2).map((r) => r.state)).toEqual(['played', 'unplayed']);
    const cleared = await fetch(`${sim.controlUrl}/servers/jf/playback-reports`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect(sim.server('jf').playbackReports()).toEqual([]);
  });
});
