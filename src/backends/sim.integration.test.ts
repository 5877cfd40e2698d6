// Both backends against the protocol-faithful simulators (sim/), over loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../sim/index.js';
import { JELLYFIN_SPEC, PLEX_SPEC } from '../../sim/openapi-validator.js';
import type { Route } from '../core/types.js';
import { createSafeAxios } from './axios.js';
import { HttpClient } from './http.js';
import { JellyfinBackend, JellyfinSignInFlow, jellyfinDeviceId } from './jellyfin/backend.js';
import { jellyfinRoutes } from './jellyfin/routes.js';
import { PlexBackend, PlexSignInFlow } from './plex/backend.js';
import { SignInError, type BackendTarget, type Credentials, type PushHandlers, type PushOptions } from './types.js';

const INSTALL = 'marquee-test-install-0001';
let sim: Simulation;
let http: HttpClient;
const opts = { timeoutMs: 2000 };
const push: PushOptions = { pingIntervalMs: 200, pongTimeoutMs: 400, connectTimeoutMs: 2000 };

beforeAll(async () => {
  sim = await createSimulation({
    plexTv: { accounts: [{ username: 'demo' }, { username: 'friend' }] },
    jellyfinKeepAliveScale: 0.05,
    servers: [
      {
        id: 'lr',
        kind: 'plex',
        name: 'Living-room Plex',
        owner: 'demo',
        routes: [
          { id: 'lr-local', kind: 'local', host: '127.0.0.2' },
          { id: 'lr-remote', kind: 'remote', host: '127.0.0.3' },
          { id: 'lr-relay', kind: 'relay', host: '127.0.0.4' },
        ],
        libraries: [
          { title: 'Movies', type: 'movie' },
          { title: 'TV Shows', type: 'show' },
          { title: 'Music', type: 'artist' },
        ],
      },
      { id: 'fr', kind: 'plex', name: "Friend's Plex", owner: 'friend', sharedWith: ['demo'], routes: [{ id: 'fr-remote', kind: 'remote', host: '127.0.0.5' }], libraries: [{ title: 'Photos', type: 'photo' }] },
      {
        id: 'jf',
        kind: 'jellyfin',
        name: 'Home Jellyfin',
        users: [{ name: 'demo', password: 'pw', admin: true }],
        routes: [
          { id: 'jf-local', kind: 'local', host: '127.0.0.6' },
          { id: 'jf-remote', kind: 'remote', host: '127.0.0.7' },
        ],
        libraries: [{ name: 'Movies', collectionType: 'movies' }, { name: 'Shows', collectionType: 'tvshows' }, { name: 'Mixed' }],
      },
    ],
  });
  http = new HttpClient();
});

afterAll(async () => {
  await http?.close();
  await sim?.close();
});

afterEach(async () => {
  for (const s of sim.servers) {
    await sim.server(s.id).fault({ mode: 'up' });
    for (const r of s.routes) await sim.route(r.id).fault({ mode: 'up' });
  }
});

const info = (id: string) => {
  const s = sim.servers.find((x) => x.id === id);
  if (!s) throw new Error(id);
  return s;
};
const route = (id: string, priority = 0): Route => {
  for (const s of sim.servers) for (const r of s.routes) if (r.id === id) return { id: r.id, url: r.url, kind: r.kind, priority };
  throw new Error(id);
};

function recorder() {
  const events: { t: number; e: string; detail?: unknown }[] = [];
  const started = Date.now();
  const handlers: PushHandlers = {
    onOpen: () => events.push({ t: Date.now() - started, e: 'open' }),
    onServerGoingAway: (reason) => events.push({ t: Date.now() - started, e: 'going_away', detail: reason }),
    onLost: (detail) => events.push({ t: Date.now() - started, e: 'lost', detail }),
    onActivity: (hint) => events.push({ t: Date.now() - started, e: 'activity', detail: hint }),
  };
  const waitFor = async (e: string, ms = 4000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const hit = events.find((x) => x.e === e);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no "${e}" within ${ms} ms; saw ${JSON.stringify(events)}`);
  };
  return { events, handlers, waitFor };
}

describe('Plex against the simulator', () => {
  const config = () => ({ http, clientIdentifier: INSTALL, plexTvUrl: sim.plexTvUrl });
  const plexTarget = (): BackendTarget => ({ kind: 'plex', serverId: info('lr').machineId });
  const creds = (): Credentials => ({ token: sim.plexTv.serverToken('lr') });

  it('signs in with a PIN and lists owned and shared servers with per-server tokens and ranked routes', async () => {
    const signIn = new PlexSignInFlow(config());
    const pin = await signIn.createPin();
    expect(pin.code.length).toBeGreaterThan(3);
    expect(pin.authUrl).toContain(`clientID=${INSTALL}`);
    expect(pin.authUrl).toContain('context%5Bdevice%5D%5Bproduct%5D=Marquee');
    expect(pin.expiresAt).toBeGreaterThan(Date.now());
    expect(await signIn.checkPin(pin.id)).toEqual({ state: 'pending' });
    sim.plexTv.approvePin(pin.id);
    const state = await signIn.checkPin(pin.id);
    expect(state).toEqual({ state: 'authorized', accountToken: sim.plexTv.accountToken() });
    if (state.state !== 'authorized') return;

    const servers = await signIn.listServers(state.accountToken);
    const lr = servers.find((s) => s.serverId === info('lr').machineId);
    const fr = servers.find((s) => s.serverId === info('fr').machineId);
    expect(lr?.owned).toBe(true);
    expect(fr?.owned).toBe(false);
    expect(lr?.credentials.token).toBe(sim.plexTv.serverToken('lr'));
    expect(fr?.credentials.token).toBe(sim.plexTv.serverToken('fr'));
    expect(fr?.credentials.token).not.toBe(state.accountToken);
    expect(lr?.routes.map((r) => [r.kind, r.url])).toEqual(
      expect.arrayContaining([
        ['local', route('lr-local').url],
        ['remote', route('lr-remote').url],
        ['relay', route('lr-relay').url],
      ]),
    );
    const kinds = lr?.routes.map((r) => r.kind) ?? [];
    expect(kinds.indexOf('local')).toBeLessThan(kinds.indexOf('remote'));
    expect(kinds.indexOf('remote')).toBeLessThan(kinds.indexOf('relay'));
  });

  it('reports an expired PIN and a bad account token', async () => {
    const signIn = new PlexSignInFlow(config());
    const pin = await signIn.createPin();
    sim.plexTv.expirePin(pin.id);
    expect(await signIn.checkPin(pin.id)).toEqual({ state: 'expired' });
    await expect(signIn.listServers('not-a-token')).rejects.toMatchObject({ code: 'bad_credentials' });
  });

  it('probes: ok, wrong_server, unauthorized, refused', async () => {
    const plex = new PlexBackend(config());
    const ok = await plex.probe(plexTarget(), route('lr-local'), creds(), opts);
    expect(ok).toMatchObject({ ok: true, routeId: 'lr-local', serverName: 'Living-room Plex' });

    const wrong = await plex.probe(plexTarget(), route('fr-remote'), { token: sim.plexTv.serverToken('fr') }, opts);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'wrong_server', message: 'the server at this address is a different Plex server', foundServerId: info('fr').machineId } });

    const bad = await plex.probe(plexTarget(), route('lr-local'), { token: 'wrong-token-123' }, opts);
    expect(bad).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
    expect(JSON.stringify(bad)).not.toContain('wrong-token-123');

    await sim.route('lr-remote').fault({ mode: 'refuse' });
    const refused = await plex.probe(plexTarget(), route('lr-remote'), creds(), opts);
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
  });

  it('bounds a hang on a kept-alive connection by the timeout', async () => {
    const plex = new PlexBackend(config());
    expect((await plex.probe(plexTarget(), route('lr-local'), creds(), opts)).ok).toBe(true);
    await sim.route('lr-local').fault({ mode: 'hang' });
    const started = Date.now();
    const hung = await plex.probe(plexTarget(), route('lr-local'), creds(), { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(hung).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/no answer within 0.5 s/) } });
  });

  it('revoked token → unauthorized; malformed bodies → malformed, oversized → too_large', async () => {
    const plex = new PlexBackend(config());
    const old = creds();
    await sim.server('lr').fault({ mode: 'bad-token' });
    expect(await plex.probe(plexTarget(), route('lr-local'), old, opts)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await sim.server('lr').fault({ mode: 'up' });
    for (const variant of ['truncated', 'html', 'garbage', 'wrong-type', 'missing-fields'] as const) {
      await sim.route('lr-local').fault({ mode: 'malformed', variant });
      const r = await plex.probe(plexTarget(), route('lr-local'), creds(), opts);
      expect(r, variant).toMatchObject({ ok: false, error: { code: 'malformed' } });
    }
    await sim.route('lr-local').fault({ mode: 'malformed', variant: 'oversized', sizeBytes: 5 * 1024 * 1024 });
    const big = await plex.probe(plexTarget(), route('lr-local'), creds(), opts);
    expect(big).toMatchObject({ ok: false, error: { code: 'too_large', message: expect.stringContaining('answered with more than 1 MB') } });
    await sim.route('lr-local').fault({ mode: 'error', status: 503 });
    expect(await plex.probe(plexTarget(), route('lr-local'), creds(), opts)).toMatchObject({ ok: false, error: { code: 'http_error', status: 503 } });
  });

  it('sim faults: wrong identity at an address, plex.tv unreachable, WebSocket reset', async () => {
    const plex = new PlexBackend(config());
    await sim.route('lr-remote').fault({ mode: 'wrong-identity' });
    expect(await plex.probe(plexTarget(), route('lr-remote'), creds(), opts)).toMatchObject({ ok: false, error: { code: 'wrong_server' } });
    await sim.plexTv.route.fault({ mode: 'refuse' });
    try {
      await expect(new PlexSignInFlow(config()).createPin()).rejects.toMatchObject({ code: 'unreachable' });
    } finally {
      await sim.plexTv.route.fault({ mode: 'up' });
    }
    const rec = recorder();
    const ch = plex.openPush(plexTarget(), route('lr-local'), creds(), rec.handlers, push);
    try {
      await rec.waitFor('open');
      await sim.route('lr-local').fault({ mode: 'drop-socket', variant: 'reset' });
      expect((await rec.waitFor('lost', 2000)).detail).toMatchObject({ code: expect.stringMatching(/^(closed|error)$/) });
    } finally {
      ch.close();
    }
  });

  it('reads libraries in JSON and in XML', async () => {
    const expected = [
      { name: 'Movies', type: 'movie' },
      { name: 'TV Shows', type: 'show' },
      { name: 'Music', type: 'music' },
    ];
    const json = await new PlexBackend(config()).libraries(plexTarget(), route('lr-local'), creds(), opts);
    expect(json.ok && json.libraries.map(({ name, type }) => ({ name, type }))).toEqual(expected);
    const xml = await new PlexBackend({ ...config(), preferXml: true }).libraries(plexTarget(), route('lr-local'), creds(), opts);
    expect(xml.ok && xml.libraries.map(({ name, type }) => ({ name, type }))).toEqual(expected);
    expect(xml.ok && xml.libraries.every((l) => l.id.length > 0)).toBe(true);
  });

  it('push channel: opens, sees activity, survives pings, and is lost at once on a crash', async () => {
    const plex = new PlexBackend(config());
    const rec = recorder();
    const ch = plex.openPush(plexTarget(), route('lr-local'), creds(), rec.handlers, push);
    try {
      await rec.waitFor('open');
      expect(sim.server('lr').openSockets).toBe(1);
      sim.server('lr').notify('timeline');
      await rec.waitFor('activity');
      await new Promise((r) => setTimeout(r, 1000)); // several ping/pong rounds
      expect(rec.events.some((e) => e.e === 'lost')).toBe(false);
      const crashAt = Date.now();
      await sim.server('lr').fault({ mode: 'crash' });
      await rec.waitFor('lost', 2000);
      expect(Date.now() - crashAt).toBeLessThan(1500);
    } finally {
      ch.close();
    }
  });

  it('push channel: graceful stop → going away; hang → pong timeout; bad token → unauthorized; refused', async () => {
    const plex = new PlexBackend(config());
    const a = recorder();
    const chA = plex.openPush(plexTarget(), route('lr-local'), creds(), a.handlers, push);
    await a.waitFor('open');
    await sim.server('lr').fault({ mode: 'stop' });
    expect((await a.waitFor('going_away')).detail).toBe('server_shutting_down');
    await a.waitFor('lost');
    chA.close();
    await sim.server('lr').fault({ mode: 'up' });

    const b = recorder();
    const chB = plex.openPush(plexTarget(), route('lr-remote'), creds(), b.handlers, push);
    await b.waitFor('open');
    await sim.route('lr-remote').fault({ mode: 'hang' });
    expect((await b.waitFor('lost', 3000)).detail).toMatchObject({ code: 'pong_timeout' });
    chB.close();

    const c = recorder();
    const chC = plex.openPush(plexTarget(), route('lr-local'), { token: 'bogus-token-xyz' }, c.handlers, push);
    const lostC = await c.waitFor('lost');
    expect(lostC.detail).toMatchObject({ code: 'unauthorized' });
    expect(JSON.stringify(lostC)).not.toContain('bogus-token-xyz');
    expect(c.events.some((e) => e.e === 'open')).toBe(false);
    chC.close();

    await sim.route('lr-relay').fault({ mode: 'refuse' });
    const d = recorder();
    const chD = plex.openPush(plexTarget(), route('lr-relay'), creds(), d.handlers, push);
    expect((await d.waitFor('lost')).detail).toMatchObject({ code: 'refused' });
    chD.close();
  });
});

describe('Jellyfin against the simulator', () => {
  const axiosConfig = () => ({ axios: createSafeAxios(http), installId: INSTALL });
  const jfTarget = (): BackendTarget => ({ kind: 'jellyfin', serverId: info('jf').machineId });
  let signedIn: Credentials;
  beforeAll(() => {
    // Independent of the sign-in tests, so any test can run alone.
    const deviceId = jellyfinDeviceId(INSTALL, info('jf').machineId);
    signedIn = { token: sim.jellyfin('jf').issueToken('demo', deviceId), userId: sim.jellyfin('jf').user('demo').id, deviceId };
  });

  it('discovers the server behind user input, with typed failures', async () => {
    const flow = new JellyfinSignInFlow(axiosConfig());
    const found = await flow.probe(route('jf-local').url);
    expect(found).toMatchObject({ serverId: info('jf').machineId, name: 'Home Jellyfin', url: route('jf-local').url });
    // No scheme: the SDK also tries https (fails with TLS against a plain port) and picks http.
    const bare = await flow.probe(route('jf-local').url.replace('http://', ''));
    expect(bare).toMatchObject({ serverId: info('jf').machineId, url: route('jf-local').url });
    await expect(flow.probe('http://')).rejects.toMatchObject({ code: 'invalid_url' });
    await expect(flow.probe('ftp://x y')).rejects.toBeInstanceOf(SignInError);
    await sim.route('jf-remote').fault({ mode: 'refuse' });
    await expect(flow.probe(route('jf-remote').url)).rejects.toMatchObject({ code: 'unreachable' });
    await expect(flow.probe(route('lr-local').url)).rejects.toMatchObject({ code: 'not_a_server' });
    await sim.route('jf-remote').fault({ mode: 'error', status: 503 });
    await expect(flow.probe(route('jf-remote').url)).rejects.toMatchObject({ code: 'upstream_error', message: expect.stringContaining('starting') });
  });

  it('signs in by name with the MediaBrowser header and a stable DeviceId; routes from the given URL', async () => {
    const flow = new JellyfinSignInFlow(axiosConfig());
    await expect(flow.signInByName(route('jf-local').url, 'demo', 'nope')).rejects.toMatchObject({ code: 'bad_credentials' });
    const r = await flow.signInByName(route('jf-local').url, 'demo', 'pw');
    expect(r.serverId).toBe(info('jf').machineId);
    expect(r.userName).toBe('demo');
    expect(r.credentials.deviceId).toBe(jellyfinDeviceId(INSTALL, info('jf').machineId));
    expect(r.credentials.userId).toBe(sim.jellyfin('jf').user('demo').id);
    expect(r.routes).toEqual([{ url: route('jf-local').url, kind: 'local', priority: 0, origin: 'typed' }]);
    signedIn = r.credentials; // re-login with the same DeviceId revoked the previous token
  });

  it('signs in with Quick Connect (code, approval, token)', async () => {
    const flow = new JellyfinSignInFlow(axiosConfig());
    const { code, secret } = await flow.quickConnectStart(route('jf-local').url);
    expect(code).toMatch(/^\d{6}$/);
    expect(await flow.quickConnectPoll(route('jf-local').url, secret)).toEqual({ state: 'pending' });
    sim.jellyfin('jf').approveQuickConnect(code, 'demo');
    const done = await flow.quickConnectPoll(route('jf-local').url, secret);
    expect(done.state).toBe('authorized');
    if (done.state !== 'authorized') return;
    expect(done.result.serverId).toBe(info('jf').machineId);
    expect(done.result.credentials.token.length).toBeGreaterThan(8);
    expect(await flow.quickConnectPoll(route('jf-local').url, 'F'.repeat(64))).toEqual({ state: 'expired' });
    // The Quick Connect token is our stable device's token now: use it from here on.
    signedIn = done.result.credentials;
  });

  it('probes: ok, wrong_server, unauthorized, starting (503), refused, hang', async () => {
    const jf = new JellyfinBackend(axiosConfig());
    expect(await jf.probe(jfTarget(), route('jf-local'), signedIn, opts)).toMatchObject({ ok: true, serverName: 'Home Jellyfin' });
    const wrong = await jf.probe({ kind: 'jellyfin', serverId: 'f'.repeat(32) }, route('jf-local'), signedIn, opts);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'wrong_server', message: 'the server at this address is a different Jellyfin server' } });
    const bad = await jf.probe(jfTarget(), route('jf-local'), { ...signedIn, token: 'f'.repeat(32) }, opts);
    expect(bad).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
    expect(JSON.stringify(bad)).not.toContain('f'.repeat(32) + '"');
    sim.jellyfin('jf').setStartup(true);
    try {
      expect(await jf.probe(jfTarget(), route('jf-local'), signedIn, opts)).toMatchObject({ ok: false, error: { code: 'http_error', status: 503, message: expect.stringContaining('server is starting') } });
    } finally {
      sim.jellyfin('jf').setStartup(false);
    }
    await sim.route('jf-remote').fault({ mode: 'refuse' });
    expect(await jf.probe(jfTarget(), route('jf-remote'), signedIn, opts)).toMatchObject({ ok: false, error: { code: 'refused' } });
    await sim.route('jf-remote').fault({ mode: 'hang' });
    const started = Date.now();
    expect(await jf.probe(jfTarget(), route('jf-remote'), signedIn, { timeoutMs: 400 })).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a different Jellyfin server at the address is wrong_server', async () => {
    await sim.route('jf-remote').fault({ mode: 'wrong-identity' });
    const r = await new JellyfinBackend(axiosConfig()).probe(jfTarget(), route('jf-remote'), signedIn, opts);
    expect(r).toMatchObject({ ok: false, error: { code: 'wrong_server', message: 'the server at this address is a different Jellyfin server' } });
  });

  it('reads user views as libraries', async () => {
    const jf = new JellyfinBackend(axiosConfig());
    const libs = await jf.libraries(jfTarget(), route('jf-local'), signedIn, opts);
    expect(libs.ok && libs.libraries.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: 'Movies', type: 'movie' },
      { name: 'Shows', type: 'show' },
      { name: 'Mixed', type: 'other' },
    ]);
    await sim.route('jf-local').fault({ mode: 'malformed', variant: 'wrong-type' });
    expect(await jf.libraries(jfTarget(), route('jf-local'), signedIn, opts)).toMatchObject({ ok: false, error: { code: 'malformed' } });
  });

  it('push channel: honours ForceKeepAlive (never dropped), sees LibraryChanged, going-away on stop', async () => {
    const jf = new JellyfinBackend(axiosConfig());
    const rec = recorder();
    // Pings off (long interval) so only our KeepAlive keeps the server from dropping us.
    const ch = jf.openPush(jfTarget(), route('jf-local'), signedIn, rec.handlers, { pingIntervalMs: 60_000, pongTimeoutMs: 2000, connectTimeoutMs: 2000 });
    try {
      await rec.waitFor('open');
      // Scale 0.05: the server drops a silent client after ~3 s. Stay well past that.
      await new Promise((r) => setTimeout(r, 5000));
      expect(rec.events.filter((e) => e.e === 'lost')).toEqual([]);
      expect(sim.server('jf').openSockets).toBe(1);
      sim.server('jf').notify('LibraryChanged');
      expect((await rec.waitFor('activity')).detail).toBe('library_changed');
      await sim.server('jf').fault({ mode: 'stop' });
      expect((await rec.waitFor('going_away')).detail).toBe('server_shutting_down');
      await rec.waitFor('lost');
    } finally {
      ch.close();
    }
  });

  it('push channel: restart message, crash, bad token (403) → unauthorized', async () => {
    const jf = new JellyfinBackend(axiosConfig());
    const a = recorder();
    const chA = jf.openPush(jfTarget(), route('jf-local'), signedIn, a.handlers, push);
    await a.waitFor('open');
    await sim.server('jf').fault({ mode: 'stop', restarting: true });
    expect((await a.waitFor('going_away')).detail).toBe('server_restarting');
    chA.close();
    await sim.server('jf').fault({ mode: 'up' });

    const b = recorder();
    const chB = jf.openPush(jfTarget(), route('jf-local'), signedIn, b.handlers, push);
    await b.waitFor('open');
    const crashAt = Date.now();
    await sim.server('jf').fault({ mode: 'crash' });
    await b.waitFor('lost', 2000);
    expect(Date.now() - crashAt).toBeLessThan(1500);
    chB.close();
    await sim.server('jf').fault({ mode: 'up' });

    const c = recorder();
    const chC = jf.openPush(jfTarget(), route('jf-local'), { ...signedIn, token: 'e'.repeat(32) }, c.handlers, push);
    expect((await c.waitFor('lost')).detail).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('403') });
    chC.close();
  });
});

describe("Jellyfin: the LocalAddress a server reports becomes a route only if the same server answers there", () => {
  // Two servers of their own, so reporting addresses cannot disturb the tests above.
  let lsim: Simulation;
  const recorded: { path: string; headers: Record<string, string | string[] | undefined> }[] = [];
  let listener: Server;
  let listenerUrl: string;
  let listenerId = 'ffffffffffffffffffffffffffffffff';
  const flow = () => new JellyfinSignInFlow({ axios: createSafeAxios(http), installId: INSTALL });
  const url = (routeId: string) => lsim.servers.flatMap((s) => s.routes).find((r) => r.id === routeId)!.url;
  const home = () => lsim.jellyfin('home');

  beforeAll(async () => {
    lsim = await createSimulation({
      servers: [
        { id: 'home', kind: 'jellyfin', name: 'Home', users: [{ name: 'demo', password: 'pw', admin: true }], routes: [{ id: 'home-a', kind: 'remote', host: '127.0.0.6' }, { id: 'home-b', kind: 'local', host: '127.0.0.7' }] },
        { id: 'other', kind: 'jellyfin', name: 'Neighbour', users: [{ name: 'demo', password: 'pw', admin: true }], routes: [{ id: 'other-a', kind: 'local', host: '127.0.0.8' }] },
      ],
    });
    // A plain HTTP listener that records every request's headers and answers as "a Jellyfin".
    listener = createServer((req, res) => {
      recorded.push({ path: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ServerName: 'Listener', Version: '10.11.3', ProductName: 'Jellyfin Server', Id: listenerId, StartupWizardCompleted: true }));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.9', resolve));
    listenerUrl = `http://127.0.0.9:${(listener.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    listener?.closeAllConnections();
    await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    await lsim?.close();
  });
  afterEach(() => {
    home().setLocalAddress(undefined);
    recorded.length = 0;
  });

  it("honest: the server's other address answers with its id → a second, server-reported route", async () => {
    home().setLocalAddress(url('home-b'));
    const r = await flow().signInByName(url('home-a'), 'demo', 'pw');
    expect(r.routes).toEqual([
      { url: url('home-a'), kind: 'local', priority: 0, origin: 'typed' },
      { url: url('home-b'), kind: 'local', priority: 1, origin: 'server-reported' },
    ]);
    expect(r.refusedRoutes).toBeUndefined();
  });

  it('impostor: another Jellyfin answers at the reported address → no route, the reason in words', async () => {
    home().setLocalAddress(url('other-a'));
    const r = await flow().signInByName(url('home-a'), 'demo', 'pw');
    expect(r.routes.map((x) => x.url)).toEqual([url('home-a')]);
    expect(r.refusedRoutes).toEqual([{ url: url('other-a'), reason: 'a different Jellyfin server answers at the address this server reports' }]);
  });

  it('impostor listener: is asked anonymously who it is, never receives the token (sign-in by name and Quick Connect)', async () => {
    home().setLocalAddress(listenerUrl);
    const byName = await flow().signInByName(url('home-a'), 'demo', 'pw');
    const f = flow();
    const qc = await f.quickConnectStart(url('home-a'));
    home().approveQuickConnect(qc.code, 'demo');
    const done = await f.quickConnectPoll(url('home-a'), qc.secret);
    if (done.state !== 'authorized') throw new Error(`Quick Connect: ${done.state}`);
    const tokens = [byName.credentials.token, done.result.credentials.token];
    for (const r of [byName, done.result]) {
      expect(r.routes.map((x) => x.url)).toEqual([url('home-a')]);
      expect(r.refusedRoutes?.[0]?.reason).toMatch(/different Jellyfin server/);
    }
    expect(recorded.map((x) => x.path)).toEqual(['/System/Info/Public', '/System/Info/Public']);
    for (const { headers } of recorded) {
      const all = JSON.stringify(headers);
      for (const token of tokens) expect(all).not.toContain(token);
      expect(headers.authorization).toMatch(/Token=""$/);
      // Not even the per-server DeviceId: the anonymous discovery one.
      expect(headers.authorization).toContain(`DeviceId="${jellyfinDeviceId(INSTALL, 'discovery')}"`);
    }
  });

  it('a listener answering with the same id is accepted (the check is the id, nothing else)', async () => {
    listenerId = lsim.servers.find((s) => s.id === 'home')!.machineId;
    try {
      home().setLocalAddress(listenerUrl);
      const r = await flow().signInByName(url('home-a'), 'demo', 'pw');
      expect(r.routes.map((x) => [x.url, x.origin])).toEqual([
        [url('home-a'), 'typed'],
        [listenerUrl, 'server-reported'],
      ]);
      expect(recorded).toHaveLength(1);
      expect(JSON.stringify(recorded[0]!.headers)).not.toContain(r.credentials.token);
    } finally {
      listenerId = 'ffffffffffffffffffffffffffffffff';
    }
  });

  it('unreachable: the reported address does not answer → no route', async () => {
    home().setLocalAddress('http://127.0.0.10:9');
    const r = await flow().signInByName(url('home-a'), 'demo', 'pw');
    expect(r.routes.map((x) => x.url)).toEqual([url('home-a')]);
    expect(r.refusedRoutes?.[0]?.reason).toMatch(/did not answer as a Jellyfin server/);
  });

  it.each(['http://169.254.169.254:8096', 'http://[::ffff:169.254.169.254]:8096', 'http://[fe80::1]:8096', 'http://0xa9fea9fe'])(
    'link-local %s: refused without being asked',
    async (reported) => {
      home().setLocalAddress(reported);
      const started = Date.now();
      const r = await flow().signInByName(url('home-a'), 'demo', 'pw');
      expect(r.routes.map((x) => x.url)).toEqual([url('home-a')]);
      expect(r.refusedRoutes?.[0]?.reason).toMatch(/link-local/);
      expect(Date.now() - started).toBeLessThan(2000);
    },
  );

  it('a link-local address the user typed is theirs to choose', () => {
    expect(jellyfinRoutes('http://169.254.10.20:8096')).toEqual([{ url: 'http://169.254.10.20:8096', kind: 'local', priority: 0, origin: 'typed' }]);
  });
});

describe('what we send, checked against the official specs', () => {
  class RecordingHttpClient extends HttpClient {
    readonly sent: { method: string; url: string; headers: Record<string, string> }[] = [];
    override request(req: Parameters<HttpClient['request']>[0]) {
      this.sent.push({ method: req.method ?? 'GET', url: req.url, headers: Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) });
      return super.request(req);
    }
  }

  async function specPaths(file: string): Promise<{ method: string; re: RegExp; template: string }[]> {
    const { readFile } = await import('node:fs/promises');
    const spec = JSON.parse(await readFile(file, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    return Object.entries(spec.paths).flatMap(([template, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'delete', 'put'].includes(m))
        .map((m) => ({ method: m.toUpperCase(), template, re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`, 'i') })),
    );
  }

  it('Jellyfin: every request is a documented operation and carries the full MediaBrowser header, no legacy header, no token in the URL', async () => {
    const rec = new RecordingHttpClient();
    try {
      const config = { axios: createSafeAxios(rec), installId: INSTALL };
      const flow = new JellyfinSignInFlow(config);
      const base = route('jf-local').url;
      await flow.probe(base);
      const r = await flow.signInByName(base, 'demo', 'pw');
      const qc = await flow.quickConnectStart(base);
      await flow.quickConnectPoll(base, qc.secret);
      const jf = new JellyfinBackend(config);
      const target: BackendTarget = { kind: 'jellyfin', serverId: r.serverId };
      await jf.probe(target, route('jf-local'), r.credentials, opts);
      await jf.libraries(target, route('jf-local'), r.credentials, opts);

      const paths = await specPaths(JELLYFIN_SPEC);
      expect(rec.sent.length).toBeGreaterThanOrEqual(8);
      for (const s of rec.sent) {
        const url = new URL(s.url);
        expect(paths.some((p) => p.method === s.method && p.re.test(url.pathname)), `${s.method} ${url.pathname}`).toBe(true);
        const auth = s.headers['authorization'] ?? '';
        expect(auth).toMatch(/^MediaBrowser Client="Marquee", Device="[^"]+", DeviceId="[0-9a-f]{32}", Version="[^"]+", Token="[^"]*"$/);
        expect(Object.keys(s.headers).filter((h) => h.startsWith('x-emby') || h.startsWith('x-mediabrowser'))).toEqual([]);
        expect(url.searchParams.has('ApiKey') || url.searchParams.has('api_key')).toBe(false);
        expect(s.url).not.toContain(r.credentials.token);
      }
      // One DeviceId per install and server, on every request to that server.
      const ids = new Set(rec.sent.filter((s) => !s.url.includes('/System/Info/Public')).map((s) => /DeviceId="([^"]+)"/.exec(s.headers['authorization'] ?? '')?.[1]));
      expect([...ids]).toEqual([jellyfinDeviceId(INSTALL, r.serverId)]);
    } finally {
      await rec.close();
    }
  });

  it('Plex: PMS requests are documented, plex.tv and PMS requests carry product and client id, the token only in a header', async () => {
    const rec = new RecordingHttpClient();
    try {
      const config = { http: rec, clientIdentifier: INSTALL, plexTvUrl: sim.plexTvUrl };
      const signIn = new PlexSignInFlow(config);
      const pin = await signIn.createPin();
      sim.plexTv.approvePin(pin.id);
      const state = await signIn.checkPin(pin.id);
      if (state.state !== 'authorized') throw new Error('pin not authorized');
      const servers = await signIn.listServers(state.accountToken);
      const lr = servers.find((s) => s.serverId === info('lr').machineId);
      if (!lr) throw new Error('no server');
      const plex = new PlexBackend(config);
      await plex.probe({ kind: 'plex', serverId: lr.serverId }, route('lr-local'), lr.credentials, opts);
      await plex.libraries({ kind: 'plex', serverId: lr.serverId }, route('lr-local'), lr.credentials, opts);

      const paths = await specPaths(PLEX_SPEC);
      for (const s of rec.sent) {
        const url = new URL(s.url);
        expect(s.headers['x-plex-product']).toBe('Marquee');
        expect(s.headers['x-plex-client-identifier']).toBe(INSTALL);
        expect(s.headers['accept']).toBe('application/json');
        expect([...url.searchParams.keys()].filter((k) => /token/i.test(k))).toEqual([]);
        if (url.origin !== new URL(sim.plexTvUrl).origin) {
          // /library/sections is what PMS, python-plexapi and Reel use; the community spec only
          // documents its alias /library/sections/all (PROTOCOLS.md §2.2).
          const path = url.pathname === '/library/sections' ? '/library/sections/all' : url.pathname;
          expect(paths.some((p) => p.method === s.method && p.re.test(path)), `${s.method} ${url.pathname}`).toBe(true);
          expect(s.headers['x-plex-token']).toBe(lr.credentials.token);
        }
      }
      expect(rec.sent.filter((s) => s.url.includes('/api/v2/resources'))[0]?.headers['x-plex-token']).toBe(state.accountToken);
    } finally {
      await rec.close();
    }
  });
});

describe('createBackends', () => {
  it('wires both kinds and both sign-in flows to one transport', async () => {
    const { createBackends } = await import('./index.js');
    const b = createBackends({ clientIdentifier: INSTALL, plexTvUrl: sim.plexTvUrl });
    try {
      const pin = await b.plexSignIn.createPin();
      expect(pin.id).toBeGreaterThan(0);
      const plexOk = await b.backends.plex.probe({ kind: 'plex', serverId: info('lr').machineId }, route('lr-local'), { token: sim.plexTv.serverToken('lr') }, opts);
      expect(plexOk.ok).toBe(true);
      const found = await b.jellyfinSignIn.probe(route('jf-local').url);
      expect(found.serverId).toBe(info('jf').machineId);
      const deviceId = jellyfinDeviceId(INSTALL, info('jf').machineId);
      const token = sim.jellyfin('jf').issueToken('demo', deviceId);
      const libs = await b.backends.jellyfin.libraries({ kind: 'jellyfin', serverId: found.serverId }, route('jf-local'), { token, deviceId }, opts);
      expect(libs.ok && libs.libraries).toHaveLength(3);
      expect(b.backends.plex.kind).toBe('plex');
      expect(b.backends.jellyfin.kind).toBe('jellyfin');
    } finally {
      await b.close();
    }
  });
});
