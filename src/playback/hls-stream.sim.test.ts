// The HLS path through Marquee against the Jellyfin simulator (issue 15): playlists rewritten
// (no token, no host), every segment byte-identical while the local route is cut mid-transfer and
// then refused (the engine moves to the remote route), the keep-alive holding a transcode the
// server would kill, a transcode the server killed restarted under the same names, and the
// session's end stopping the transcode on the server.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, ensureClips, type ClipSet, type Simulation } from '../../sim/index.js';
import { smallConfig } from '../../sim/test-fixtures.js';
import type { PlaybackRequest } from '../backends/types.js';
import { EngineRoutedCaller } from '../monitor/routed-caller.js';
import { HlsService, type HlsChange, type TranscodeDecision } from './hls-stream.js';
import { PlaySessions } from './sessions.js';
import { addTwoRouteSource, startMediaEngine } from '../../test/support/media-engine.js';
import { simJellyfinPlayback } from '../../test/support/sim-jellyfin-playback.js';
import { rawGet, sha256 } from '../../sim/media/test-helpers.js';

const DEVICE = 'marquee-hls-test';
let sim: Simulation;
let clips: ClipSet;
let token: string;
let hevc: { itemId: string } | null = null;
let cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  clips = await ensureClips();
  // 0.05: an unpinged HLS transcode dies after 3 s instead of 60 s.
  sim = await createSimulation({ ...smallConfig(), mediaKeepAliveScale: 0.05 });
  token = sim.jellyfin('jf').issueToken('demo', DEVICE);
  // An item of the simulated library that plays the HEVC + AC-3 clip: Chromium cannot, so it transcodes.
  const base = sim.servers.find((s) => s.id === 'jf')!.routes[0]!.url;
  const res = await fetch(`${base}/Items?Recursive=true&IncludeItemTypes=Movie&Limit=50`, { headers: { authorization: `MediaBrowser Client="t", Device="t", DeviceId="${DEVICE}", Version="1", Token="${token}"` } });
  const items = ((await res.json()) as { Items: { Id: string }[] }).Items;
  const catalog = sim.library('jf').mediaCatalog();
  const found = items.find((i) => catalog.playable(i.Id)?.variant === 'hevc-ac3');
  if (!found) throw new Error('no HEVC item in the simulated library');
  hevc = { itemId: found.Id };
}, 180_000);
afterAll(() => sim?.close());
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
  for (const r of sim.servers.find((s) => s.id === 'jf')!.routes) await sim.route(r.id).fault({ mode: 'up' });
});

async function rig(options: { pingIntervalMs?: number } = {}) {
  const jf = sim.servers.find((s) => s.id === 'jf')!;
  const [local, remote] = jf.routes;
  const playback = simJellyfinPlayback(DEVICE);
  const { backend, engine } = await startMediaEngine({ kind: 'jellyfin', dirPrefix: 'marquee-hls-', mediaHeaders: (call) => ({ authorization: `MediaBrowser Client="Marquee", Device="Test", DeviceId="${DEVICE}", Version="1.0.0", Token="${call.credentials.token}"` }), playback, cleanups });
  const { view, local: routeLocal, remote: routeRemote } = await addTwoRouteSource(engine, { name: 'Home Jellyfin', kind: 'jellyfin', serverId: jf.machineId, localUrl: local!.url, remoteUrl: remote!.url, credentials: { token, userId: 'u' } });
  expect(engine.getSource(view.source.id)?.status).toMatchObject({ state: 'connected', routeId: routeLocal.id });
  const caller = new EngineRoutedCaller({ engine, backends: { plex: backend, jellyfin: backend } });
  const logs: string[] = [];
  const changes: HlsChange[] = [];
  const hls = new HlsService({ caller, engine, stallMs: 800, openTimeoutMs: 4_000, pingIntervalMs: options.pingIntervalMs ?? 60_000, log: (_l, _o, msg) => logs.push(msg), onChange: (c) => changes.push(c) });
  cleanups.push(() => hls.close());
  const sessions = new PlaySessions();
  sessions.onEnded((s) => void hls.end(s.id));
  const session = sessions.createDirect({ sourceId: view.source.id, itemId: hevc!.itemId, mediaPath: '/unused' });
  const request: PlaybackRequest = { itemId: hevc!.itemId, startMs: 0, maxBitrateKbps: null, deviceId: DEVICE, clientSessionId: session.id };
  const decided = await caller.call(view.source.id, (use, signal) => playback.decide(use, request, { timeoutMs: 3_000, signal }));
  if (!decided.ok || decided.value.method !== 'transcode') throw new Error(`the simulator did not decide a transcode: ${JSON.stringify(decided)}`);
  const stream = hls.attach({ sessionId: session.id, sourceId: view.source.id, request, decision: decided.value });
  const proxy: Server = createServer((req, res) => {
    const [, id, hlsWord, ...rest] = req.url!.split('/');
    const s = id && hlsWord === 'hls' ? hls.get(id) : null;
    if (!s) return void res.writeHead(404).end();
    void hls.serve(req, res, s, rest.join('/'));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
  cleanups.push(() => proxy.closeAllConnections());
  const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/${session.id}/hls/`;
  const routeHosts = jf.routes.map((r) => new URL(r.url).host);
  return { engine, backend, playback, hls, stream, session, sessions, base, logs, changes, sourceId: view.source.id, local: local!, routeLocal: routeLocal, routeRemote: routeRemote, routeHosts };
}

type Rig = Awaited<ReturnType<typeof rig>>;

/** Loads master and variant through Marquee, checking both are free of tokens and hosts. */
async function loadPlaylists(r: Rig): Promise<string[]> {
  const master = await rawGet(`${r.base}master.m3u8`);
  expect(master.status).toBe(200);
  expect(master.headers['content-type']).toBe('application/vnd.apple.mpegurl');
  const variantName = master.body.toString().split('\n').find((l) => l && !l.startsWith('#'))!;
  expect(variantName).toBe('p0.m3u8');
  const media = await rawGet(`${r.base}${variantName}`);
  expect(media.status).toBe(200);
  for (const body of [master, media]) scanForSecrets(r, body.body.toString(), JSON.stringify(body.headers));
  return media.body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
}

function scanForSecrets(r: Rig, ...texts: string[]) {
  for (const text of texts) {
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/api_?key|x-plex-token|PlaySessionId|videos\//i);
    for (const host of r.routeHosts) expect(text).not.toContain(host);
  }
}

function segmentBytes(name: string): Buffer {
  const index = Number(/-(\d+)\.ts$/.exec(name)![1]);
  return readFileSync(clips.hls[index]!.path);
}

describe('HLS through Marquee (Jellyfin simulator)', () => {
  it('every segment arrives byte-identical while the local route is cut mid-transfer, then refused', async () => {
    const r = await rig();
    const names = await loadPlaylists(r);
    expect(names.length).toBe(clips.hls.length);
    expect(names[0]).toBe('p0-0.ts');
    for (const [i, name] of names.entries()) {
      scanForSecrets(r, name);
      if (i === 5) await sim.route(r.local.id).fault({ mode: 'cut', afterBytes: 60_000 }); // bodies die after 60 kB
      if (i === 10) {
        await sim.route(r.local.id).fault({ mode: 'refuse' });
        r.backend.route(r.routeLocal.id, { answer: 'refused' });
      }
      const got = await rawGet(`${r.base}${name}`);
      expect(got.status, name).toBe(200);
      expect(got.cutShort, name).toBe(false);
      expect(sha256(got.body), name).toBe(sha256(segmentBytes(name)));
      expect(got.headers['content-type']).toBe('video/mp2t');
      scanForSecrets(r, JSON.stringify(got.headers));
    }
    expect(r.logs.some((m) => /resumes at byte/.test(m))).toBe(true); // the cut really cut
    expect(r.engine.getSource(r.sourceId)?.status).toMatchObject({ state: 'connected', routeId: r.routeRemote.id });
  }, 120_000);

  it('answers 404 for a name the playlists did not list (no client-chosen fetch)', async () => {
    const r = await rig();
    await loadPlaylists(r);
    for (const name of ['p0-9999.ts', 'p1.m3u8', 'p0/0.ts', '..%2F..%2Fetc%2Fpasswd', 'p0-0.ts%3Fx=http://evil', 'http:%2F%2Fevil.example%2Fa.ts', 'videos/x/main.m3u8']) {
      const got = await rawGet(`${r.base}${name}`);
      expect(got.status, name).toBe(404);
    }
  });

  it('the keep-alive holds a transcode the server kills after 3 s unpinged (the restart test shows it dies without)', async () => {
    const kept = await rig({ pingIntervalMs: 400 });
    const names = await loadPlaylists(kept);
    await new Promise((res) => setTimeout(res, 4_500));
    const got = await rawGet(`${kept.base}${names[3]}`);
    expect(got.status).toBe(200);
    expect(kept.stream.restarts).toBe(0);
    expect(kept.playback.calls.ping.length).toBeGreaterThanOrEqual(8);
  }, 30_000);

  it('a transcode the server killed is restarted at the segment asked for, under the same names (no reload)', async () => {
    const r = await rig();
    const names = await loadPlaylists(r);
    const first = r.stream.decision.playSessionId;
    // The server forgets the transcode (keep-alive lapsed during an outage, or killed).
    await new Promise((res) => setTimeout(res, 4_000));
    const direct = await rawGet(`${r.local.url}/videos/${hevc!.itemId}/hls1/main/20.ts?PlaySessionId=${first}`, { authorization: `MediaBrowser Token="${token}"` });
    expect(direct.status).toBe(404);
    const got = await rawGet(`${r.base}${names[20]}`);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(segmentBytes(names[20]!)));
    expect(r.stream.restarts).toBe(1);
    expect(r.stream.decision.playSessionId).not.toBe(first);
    expect(r.playback.calls.decide.at(-1)!.startMs).toBe(80_000); // segment 20 of 4 s
    expect(r.stream.generation).toBe(0);
    expect(r.changes.at(-1)).toMatchObject({ generation: 0, why: expect.stringContaining('keeps its URLs') });
    // The following segments come from the new transcode; the variant playlist lists from 20 on.
    for (const name of names.slice(21, 24)) {
      const next = await rawGet(`${r.base}${name}`);
      expect(next.status).toBe(200);
      expect(sha256(next.body)).toBe(sha256(segmentBytes(name)));
    }
    expect((await rawGet(`${r.base}p0.m3u8`)).body.toString()).toContain('#EXT-X-MEDIA-SEQUENCE:20');
  }, 30_000);

  it('ending the play session stops the transcode on the server', async () => {
    const r = await rig({ pingIntervalMs: 400 });
    await loadPlaylists(r);
    const playSessionId = r.stream.decision.playSessionId;
    r.sessions.delete(r.session.id);
    for (let i = 0; i < 50 && !r.playback.calls.stop.includes(playSessionId); i++) await new Promise((res) => setTimeout(res, 20));
    expect(r.playback.calls.stop).toContain(playSessionId);
    expect(r.hls.get(r.session.id)).toBeNull();
    const direct = await rawGet(`${r.local.url}/videos/${hevc!.itemId}/hls1/main/0.ts?PlaySessionId=${playSessionId}`, { authorization: `MediaBrowser Token="${token}"` });
    expect(direct.status).toBe(404);
  });
});

export type { TranscodeDecision };
