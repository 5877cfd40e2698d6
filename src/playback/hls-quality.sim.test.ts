// Quality follows the route against the Plex simulator (issue 15): the source falls back to its
// relay → the playing sessions are re-decided with a cap that fits Plex's relay limit (the HEVC item
// becomes a ≤ 2 Mbps transcode served through Marquee over the relay; the H.264 item, whose bitrate
// fits, stays direct); once the engine returns to local after its hold-down, the cap goes away.
// And Plex's keep-alive: a ping answered 404 restarts the transcode before the player needs it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createSimulation, ensureClips, type Simulation } from '../../sim/index.js';
import { smallConfig } from '../../sim/test-fixtures.js';
import type { PlaybackRequest } from '../backends/types.js';
import { EngineRoutedCaller } from '../monitor/routed-caller.js';
import { QualityFollower, type FollowedSession, type QualitySwitch } from './hls-quality.js';
import { HlsService } from './hls-stream.js';
import { startMediaEngine } from '../../test/support/media-engine.js';
import { simPlexPlayback } from '../../test/support/sim-plex-playback.js';
import { rawGet } from '../../sim/media/test-helpers.js';

let sim: Simulation;
let items: { hevc: string; h264: string };
let cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  await ensureClips();
  sim = await createSimulation(smallConfig());
  const base = sim.servers.find((s) => s.id === 'plex-a')!.routes[0]!.url;
  const headers = { accept: 'application/json', 'x-plex-token': sim.plexTv.serverToken('plex-a') };
  const movies = sim.library('plex-a').libraries().find((l) => l.kind === 'movie')!;
  const res = await fetch(`${base}/library/sections/${movies.id}/all`, { headers });
  const keys = ((await res.json()) as { MediaContainer: { Metadata: { ratingKey: string }[] } }).MediaContainer.Metadata.map((m) => m.ratingKey);
  const catalog = sim.library('plex-a').mediaCatalog();
  items = { hevc: keys.find((k) => catalog.playable(k)?.variant === 'hevc-ac3')!, h264: keys.find((k) => catalog.playable(k)?.variant === 'h264-aac')! };
  expect(items.hevc && items.h264).toBeTruthy();
}, 180_000);
afterAll(() => sim?.close());
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
  for (const r of sim.servers.find((s) => s.id === 'plex-a')!.routes) await sim.route(r.id).fault({ mode: 'up' });
});

async function until(what: string, ok: () => boolean, ms = 15_000) {
  for (const start = Date.now(); !ok(); ) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('on the relay the sessions are re-decided under the relay cap; back on local the cap goes away', async () => {
  const plex = sim.servers.find((s) => s.id === 'plex-a')!;
  const playback = simPlexPlayback();
  const { backend, engine } = await startMediaEngine({ kind: 'plex', dirPrefix: 'marquee-quality-', mediaHeaders: (call) => ({ 'x-plex-token': call.credentials.token }), playback, settings: { probeTimeoutMs: 1_000, graceMs: 50, returnCheckMs: 1_000, returnHoldMs: 1_500, returnMinSuccesses: 2 }, cleanups });
  const view = engine.addSource({
    name: 'Living-room Plex',
    kind: 'plex',
    serverId: plex.machineId,
    routes: plex.routes.map((r, i) => ({ url: r.url, kind: r.kind, priority: i })),
    credentials: { token: sim.plexTv.serverToken('plex-a') },
  });
  const sourceId = view.source.id;
  const routeOf = (kind: string) => view.source.routes.find((r) => r.kind === kind)!;
  await until('connected on local', () => {
    const s = engine.getSource(sourceId)?.status;
    return s?.state === 'connected' && s.routeId === routeOf('local').id;
  });
  const caller = new EngineRoutedCaller({ engine, backends: { plex: backend, jellyfin: backend } });
  const hls = new HlsService({ caller, engine, openTimeoutMs: 4_000, pingIntervalMs: 60_000 });
  cleanups.push(() => hls.close());
  const switches: QualitySwitch[] = [];
  const follower = new QualityFollower({ engine, caller, hls, plexPass: () => null, onSwitch: (c) => switches.push(c) });
  cleanups.push(() => follower.close());

  // Two sessions start on local: no cap (the HEVC item transcodes anyway, the H.264 one plays directly).
  const sessions: FollowedSession[] = [];
  for (const [n, itemId] of [items.hevc, items.h264].entries()) {
    const choice = follower.choiceFor(sourceId);
    expect(choice).toMatchObject({ maxBitrateKbps: null, routeKind: 'local' });
    const request: PlaybackRequest = { itemId, startMs: 30_000, maxBitrateKbps: choice.maxBitrateKbps, deviceId: 'dev', clientSessionId: `session-${n}-${'x'.repeat(20)}` };
    const decided = await caller.call(sourceId, (use, signal) => playback.decide(use, request, { timeoutMs: 3_000, signal }));
    if (!decided.ok) throw new Error(decided.message);
    const session: FollowedSession = { sessionId: request.clientSessionId, sourceId, request, decision: decided.value, generation: 0, positionMs: () => 42_000 };
    if (decided.value.method === 'transcode') hls.attach({ sessionId: session.sessionId, sourceId, request, decision: decided.value });
    follower.follow(session);
    sessions.push(session);
  }
  expect(sessions.map((s) => s.decision.method)).toEqual(['transcode', 'direct']);

  // Local and remote die: the engine falls back to the relay.
  for (const kind of ['local', 'remote']) {
    await sim.route(plex.routes.find((r) => r.kind === kind)!.id).fault({ mode: 'refuse' });
    backend.route(routeOf(kind).id, { answer: 'refused' });
  }
  engine.checkNow(sourceId);
  await until('both sessions re-decided on the relay', () => switches.filter((s) => s.routeKind === 'relay').length === 2);
  const onRelay = switches.filter((s) => s.routeKind === 'relay');
  const hevcOnRelay = onRelay.find((s) => s.sessionId === sessions[0]!.sessionId)!;
  expect(hevcOnRelay.decision.method).toBe('transcode');
  expect(hevcOnRelay.request.maxBitrateKbps).toBeLessThanOrEqual(2_000);
  expect(hevcOnRelay.request.startMs).toBe(42_000); // at the player's position
  expect(hevcOnRelay.choice.reason).toBe('relay: Plex caps relayed streams at 1 Mbps');
  expect(hevcOnRelay.generation).toBe(1);
  const h264OnRelay = onRelay.find((s) => s.sessionId === sessions[1]!.sessionId)!;
  expect(h264OnRelay.request.maxBitrateKbps).toBe(800);
  expect(h264OnRelay.decision.method).toBe('direct'); // the 0.3 Mbps file fits the cap: no transcode needed
  expect(h264OnRelay.generation).toBe(0); // same file: the player goes on
  // The new transcode plays through Marquee over the relay.
  const proxy: Server = createServer((req, res) => {
    const stream = hls.get(sessions[0]!.sessionId);
    if (!stream) return void res.writeHead(404).end();
    void hls.serve(req, res, stream, req.url!.slice(1));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
  const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
  expect((await rawGet(`${base}master.m3u8`)).status).toBe(200);
  const names = (await rawGet(`${base}p0.m3u8`)).body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
  expect(names[0]).toBe('p0-10.ts'); // 42 s → the segment holding it
  expect((await rawGet(`${base}${names[0]}`)).status).toBe(200);
  expect(playback.calls.stop.length).toBeGreaterThanOrEqual(1); // the uncapped transcode was stopped on the server

  // Local comes back; the engine returns after its hold-down, and the cap goes away.
  switches.length = 0;
  await sim.route(plex.routes.find((r) => r.kind === 'local')!.id).fault({ mode: 'up' });
  backend.route(routeOf('local').id, { answer: 'ok', delayMs: 2 });
  await until('both sessions re-decided on local', () => switches.filter((s) => s.routeKind === 'local').length === 2, 20_000);
  for (const change of switches) expect(change.request.maxBitrateKbps).toBeNull();
  expect(switches.find((s) => s.sessionId === sessions[0]!.sessionId)).toMatchObject({ generation: 2, choice: { reason: null } });
  expect(switches.find((s) => s.sessionId === sessions[1]!.sessionId)!.decision.method).toBe('direct');
}, 60_000);

it('Plex: a keep-alive answered 404 (the server dropped the transcode) restarts it before the player asks, same names', async () => {
  const plex = sim.servers.find((s) => s.id === 'plex-a')!;
  const playback = simPlexPlayback();
  const { backend, engine } = await startMediaEngine({ kind: 'plex', dirPrefix: 'marquee-plex-keepalive-', mediaHeaders: (call) => ({ 'x-plex-token': call.credentials.token }), playback, cleanups });
  const token = sim.plexTv.serverToken('plex-a');
  const view = engine.addSource({ name: 'Living-room Plex', kind: 'plex', serverId: plex.machineId, routes: plex.routes.map((r, i) => ({ url: r.url, kind: r.kind, priority: i })), credentials: { token } });
  await until('connected', () => engine.getSource(view.source.id)?.status.state === 'connected');
  const caller = new EngineRoutedCaller({ engine, backends: { plex: backend, jellyfin: backend } });
  const hls = new HlsService({ caller, engine, openTimeoutMs: 4_000, pingIntervalMs: 300 });
  cleanups.push(() => hls.close());
  const request: PlaybackRequest = { itemId: items.hevc, startMs: 0, maxBitrateKbps: null, deviceId: 'dev', clientSessionId: 'plex-keepalive-session-0001' };
  const decided = await caller.call(view.source.id, (use, signal) => playback.decide(use, request, { timeoutMs: 3_000, signal }));
  if (!decided.ok || decided.value.method !== 'transcode') throw new Error('no transcode');
  const stream = hls.attach({ sessionId: request.clientSessionId, sourceId: view.source.id, request, decision: decided.value });
  const proxy: Server = createServer((req, res) => void hls.serve(req, res, stream, req.url!.slice(1)));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
  const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
  expect((await rawGet(`${base}master.m3u8`)).status).toBe(200);
  const names = (await rawGet(`${base}p0.m3u8`)).body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
  expect((await rawGet(`${base}${names[2]}`)).status).toBe(200);

  // The server drops the transcode (as after 90 s without a ping during an outage).
  const stopped = await rawGet(`${plex.routes[0]!.url}/video/:/transcode/universal/stop?session=${request.clientSessionId}`, { 'x-plex-token': token });
  expect(stopped.status).toBe(200);
  await until('the keep-alive saw the 404 and restarted', () => stream.restarts === 1 && stream.restarting === null, 5_000);
  expect(playback.calls.decide.at(-1)!.startMs).toBe(8_000); // where the player was: segment 2 (8–12 s) served last
  const next = await rawGet(`${base}${names[3]}`);
  expect(next.status).toBe(200);
  expect(stream.generation).toBe(0); // same names: no reload
}, 30_000);
