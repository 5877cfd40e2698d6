// Issue 13 §3 against the simulators, Plex and Jellyfin together: routes and tokens that refresh
// without the user doing anything. plex.tv's connections change → the Plex source's routes follow
// (ids kept, history in words); every route down → plex.tv asked at once; a rotated per-server token
// is fetched silently (never auth_required); a sign-in plex.tv itself rejects is auth_required.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulation, type SimConfig, type Simulation } from '../../sim/index.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import type { EngineEvent } from '../../src/core/types.js';
import type { EngineStreamMessage } from '../../src/monitor/engine-types.js';
import { toApiSource } from '../../src/server/views.js';
import { TEST_PUSH, TEST_SETTINGS } from '../support/engine-harness.js';
import { startTestRuntime, type TestRuntime } from '../support/start.js';
import { waitUntil } from '../support/wait.js';

const PLEX = 'den-plex';
const JELLYFIN = 'den-jellyfin';

function simConfig(jwtLifetimeSec?: number): SimConfig {
  return {
    plexTv: { accounts: [{ username: 'demo' }], ...(jwtLifetimeSec ? { jwtLifetimeSec } : {}) },
    servers: [
      {
        id: PLEX,
        kind: 'plex',
        name: 'Den Plex',
        routes: [
          { id: 'den-local', kind: 'local', host: '127.0.0.2', port: 0 },
          { id: 'den-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
          { id: 'den-relay', kind: 'relay', host: '127.0.0.4', port: 0 },
          // The public address the server will have after its IP changes: plex.tv does not list it yet.
          { id: 'den-remote-new', kind: 'remote', host: '127.0.0.5', port: 0, listed: false },
        ],
        libraries: [{ title: 'Movies', type: 'movie' }],
      },
      {
        id: JELLYFIN,
        kind: 'jellyfin',
        name: 'Den Jellyfin',
        users: [{ name: 'demo', password: 'pw', admin: true, disabled: false }],
        routes: [
          { id: 'den-jf', kind: 'local', host: '127.0.0.6', port: 0 },
          // Where the server will say it lives after its LAN address changes.
          { id: 'den-jf-lan', kind: 'local', host: '127.0.0.7', port: 0 },
          { id: 'den-jf-lan2', kind: 'local', host: '127.0.0.9', port: 0 },
        ],
        libraries: [{ name: 'Films', collectionType: 'movies' }],
      },
      {
        // Another Jellyfin server: an address that answers, as someone else.
        id: 'other-jf',
        kind: 'jellyfin',
        name: 'Other Jellyfin',
        routes: [{ id: 'other-jf-lan', kind: 'local', host: '127.0.0.8', port: 0 }],
      },
    ],
  };
}

interface Rig {
  sim: Simulation;
  marquee: TestRuntime;
  messages: EngineStreamMessage[];
  plexId: string;
  jellyfinId: string;
  close(): Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function start(settings: MonitorSettingsInput = {}, jwtLifetimeSec?: number): Promise<Rig> {
  const sim = await createSimulation(simConfig(jwtLifetimeSec));
  const dir = mkdtempSync(join(tmpdir(), 'marquee-refresh-test-'));
  const messages: EngineStreamMessage[] = [];
  let marquee: TestRuntime;
  try {
    marquee = await startTestRuntime({
      dataDir: dir,
      plexTvUrl: sim.plexTvUrl,
      monitor: { ...TEST_SETTINGS, ...settings, refresh: { routesMs: 3_600_000, minGapMs: 200, timeoutMs: 1_500, plexJwt: false, ...settings.refresh } },
      push: TEST_PUSH,
      onMessage: (m) => messages.push(m),
    });
  } catch (error) {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const close = async () => {
    await marquee.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const plexServer = sim.servers.find((s) => s.id === PLEX)!;
  const found = await marquee.plexSignIn.listServers(sim.plexTv.accountToken());
  const plex = found.find((s) => s.serverId === plexServer.machineId)!;
  const plexId = marquee.engine.addSource({ name: plex.name, kind: 'plex', serverId: plex.serverId, routes: plex.routes, credentials: plex.credentials }).source.id;
  const jfUrl = sim.route('den-jf').url;
  const signedIn = await marquee.jellyfinSignIn.signInByName(jfUrl, 'demo', 'pw');
  const jellyfinId = marquee.engine.addSource({ name: signedIn.serverName, kind: 'jellyfin', serverId: signedIn.serverId, routes: signedIn.routes, credentials: signedIn.credentials }).source.id;
  return { sim, marquee, messages, plexId, jellyfinId, close };
}

const view = (r: Rig, id: string) => toApiSource(r.marquee.engine.getSource(id)!);
const routesOf = (r: Rig, id: string) => r.marquee.engine.getSourceDetail(id)!.routes;
const origin = (url: string) => new URL(url).origin;
const events = (r: Rig, id: string): EngineEvent[] => r.messages.flatMap((m) => (m.type === 'engine' && m.message.event.sourceId === id ? [m.message.event] : []));

async function waitConnected(r: Rig, id: string, kind = 'local', timeoutMs = 10_000): Promise<void> {
  await waitUntil(() => {
    const v = view(r, id);
    return v.status === 'connected' && v.route?.kind === kind;
  }, { what: `source ${id} connected via ${kind}`, timeoutMs, intervalMs: 20, detail: () => JSON.stringify(view(r, id)) });
}

describe('routes and tokens that refresh (issue 13 §3)', () => {
  it('plex.tv lists new connections: the Plex source’s routes follow by themselves, ids kept, the change in the history', async () => {
    rig = await start({ refresh: { routesMs: 1_000 } });
    const r = rig;
    await waitConnected(r, r.plexId);
    await waitConnected(r, r.jellyfinId);
    const before = routesOf(r, r.plexId);
    const localBefore = before.find((x) => x.kind === 'local')!;
    const relayBefore = before.find((x) => x.kind === 'relay')!;
    const jellyfinRoutesBefore = routesOf(r, r.jellyfinId);

    // The server's public IP changed: plex.tv lists the new remote address, the old one is gone.
    r.sim.plexTv.setConnections(PLEX, ['den-local', 'den-remote-new', 'den-relay']);
    const newRemote = origin(r.sim.route('den-remote-new').url);
    const oldRemote = origin(r.sim.route('den-remote').url);
    const after = await waitUntil(() => {
      const routes = routesOf(r, r.plexId);
      return routes.some((x) => origin(x.url) === newRemote) && !routes.some((x) => origin(x.url) === oldRemote) ? routes : null;
    }, { what: 'the new remote route from plex.tv', timeoutMs: 8_000, intervalMs: 50 });

    expect(after.find((x) => x.kind === 'local')!.id).toBe(localBefore.id);
    expect(after.find((x) => x.kind === 'relay')!.id).toBe(relayBefore.id);
    expect(after.every((x) => x.origin === 'plex.tv')).toBe(true);
    // The Jellyfin source (no plex.tv) is untouched.
    expect(routesOf(r, r.jellyfinId)).toEqual(jellyfinRoutesBefore.map((x) => ({ ...x, checkedAt: expect.any(Number), latencyMs: expect.anything(), recentLatencies: expect.any(Array) })));
    // The history says what happened, in words.
    r.marquee.store.flush();
    const history = r.marquee.store.status.recentHistory(r.plexId, 50).map((h) => h.detail ?? '');
    expect(history.some((d) => d.includes('plex.tv reports a new remote route') && d.includes(newRemote) && d.includes('no longer reports the remote route'))).toBe(true);
    // The new route is checked and usable.
    await r.sim.route('den-local').fault({ mode: 'refuse' });
    await waitConnected(r, r.plexId, 'remote');
    expect(view(r, r.plexId).route?.id).toBe(after.find((x) => origin(x.url) === newRemote)!.id);
  });

  it('every route of a Plex source fails: plex.tv is asked at once and its new address is used', async () => {
    rig = await start(); // periodic refresh an hour away: only the failure can trigger it
    const r = rig;
    await waitConnected(r, r.plexId);
    r.sim.plexTv.setConnections(PLEX, ['den-remote-new']);
    await Promise.all(['den-local', 'den-remote', 'den-relay'].map((id) => r.sim.route(id).fault({ mode: 'refuse' })));
    await waitConnected(r, r.plexId, 'remote', 10_000);
    expect(origin(routesOf(r, r.plexId).find((x) => x.id === view(r, r.plexId).route!.id)!.url)).toBe(origin(r.sim.route('den-remote-new').url));
    expect(routesOf(r, r.plexId)).toHaveLength(1);
  });

  it('Jellyfin: a changed LocalAddress updates its managed route; an address where another server answers is refused', async () => {
    rig = await start({ refresh: { routesMs: 500 } });
    const r = rig;
    await waitConnected(r, r.jellyfinId);
    const typed = routesOf(r, r.jellyfinId);
    expect(typed.map((x) => x.origin)).toEqual(['typed']);
    const plexRoutes = routesOf(r, r.plexId);

    const lan = r.sim.route('den-jf-lan').url;
    r.sim.jellyfin(JELLYFIN).setLocalAddress(lan);
    const added = await waitUntil(() => routesOf(r, r.jellyfinId).find((x) => x.origin === 'server-reported'), { what: 'the LocalAddress route', timeoutMs: 8_000, intervalMs: 50 });
    expect(origin(added.url)).toBe(origin(lan));
    expect(added.kind).toBe('local');
    // The typed route is kept as it was; the Plex source is not touched.
    expect(routesOf(r, r.jellyfinId).find((x) => x.origin === 'typed')!.id).toBe(typed[0]!.id);
    expect(routesOf(r, r.plexId).map((x) => x.id)).toEqual(plexRoutes.map((x) => x.id));

    // The server now reports an address where another Jellyfin server answers: refused, noted once.
    const impostor = r.sim.route('other-jf-lan').url;
    r.sim.jellyfin(JELLYFIN).setLocalAddress(impostor);
    const note = await waitUntil(() => {
      r.marquee.store.flush();
      return r.marquee.store.status.recentHistory(r.jellyfinId, 50).find((h) => h.detail?.includes(origin(impostor)));
    }, { what: 'the refused address in the history', timeoutMs: 8_000, intervalMs: 50 });
    expect(note.detail).toContain('a different Jellyfin server answers there');
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // two more refresh rounds
    const idsAndOrigins = () => new Set(routesOf(r, r.jellyfinId).map((x) => `${x.id} ${x.origin}`));
    expect(idsAndOrigins()).toEqual(new Set([`${typed[0]!.id} typed`, `${added.id} server-reported`]));
    r.marquee.store.flush();
    expect(r.marquee.store.status.recentHistory(r.jellyfinId, 50).filter((h) => h.detail?.includes(origin(impostor)))).toHaveLength(1);
    expect(view(r, r.jellyfinId).status).toBe('connected');

    // The server moves again, to an address where it does answer: the managed route is replaced.
    const lan2 = r.sim.route('den-jf-lan2').url;
    r.sim.jellyfin(JELLYFIN).setLocalAddress(lan2);
    const moved = await waitUntil(() => routesOf(r, r.jellyfinId).find((x) => x.origin === 'server-reported' && origin(x.url) === origin(lan2)), { what: 'the moved LocalAddress route', timeoutMs: 8_000, intervalMs: 50 });
    expect(routesOf(r, r.jellyfinId).map((x) => x.origin).sort()).toEqual(['server-reported', 'typed']);
    expect(moved.id).not.toBe(added.id);
    r.marquee.store.flush();
    expect(r.marquee.store.status.recentHistory(r.jellyfinId, 50).some((h) => h.detail?.includes(`no longer reports the local route ${origin(lan)}`))).toBe(true);
  });

  it('a rotated per-server token is fetched silently from plex.tv: never auth_required', async () => {
    rig = await start();
    const r = rig;
    await waitConnected(r, r.plexId);
    const oldToken = r.marquee.engine.getCredentials(r.plexId)!.token;
    const from = r.messages.length;

    r.sim.plexTv.rotateServerToken(PLEX);
    const newToken = r.sim.plexTv.serverToken(PLEX);
    expect(newToken).not.toBe(oldToken);
    await waitUntil(() => r.marquee.engine.getCredentials(r.plexId)?.token === newToken, { what: 'the new per-server token stored', timeoutMs: 10_000, intervalMs: 20 });
    await waitConnected(r, r.plexId);
    // Push channel reopened with the new token, and a few more checks later still fine.
    await waitUntil(() => view(r, r.plexId).push === 'open', { what: 'push channel open again', timeoutMs: 8_000, intervalMs: 20 });
    expect(r.marquee.engine.checkNow(r.plexId)).toBe(true);
    await waitConnected(r, r.plexId);

    const after = r.messages.slice(from);
    const states = after.flatMap((m) => (m.type === 'source' && m.source.source.id === r.plexId ? [m.source.status.state] : []));
    expect(states).not.toContain('auth_required');
    expect(events(r, r.plexId).filter((e) => e.type === 'AuthStatusChanged')).toEqual([]);
    r.marquee.store.flush();
    expect(r.marquee.store.status.recentHistory(r.plexId, 50).map((h) => h.state)).not.toContain('auth_required');
    // The token never leaves the server side.
    expect(JSON.stringify(r.messages)).not.toContain(newToken);
  });

  it('the account sign-in gone (plex.tv rejects the account token): auth_required', async () => {
    rig = await start();
    const r = rig;
    await waitConnected(r, r.plexId);
    r.sim.plexTv.revokeAccount();
    r.sim.plexTv.rotateServerToken(PLEX);
    await waitUntil(() => view(r, r.plexId).status === 'auth_required', { what: 'Plex auth_required', timeoutMs: 10_000, intervalMs: 20 });
    expect(events(r, r.plexId).some((e) => e.type === 'AuthStatusChanged' && e.authRequired)).toBe(true);
    // The Jellyfin source is not affected.
    expect(view(r, r.jellyfinId).status).toBe('connected');
  });
});

describe('Plex JWT (issue 13 §3): short-lived plex.tv tokens renewed before they expire', () => {
  const credentials = (r: Rig) => r.marquee.engine.getCredentials(r.plexId)!;
  const plexTvAccepts = async (r: Rig, token: string) =>
    (await fetch(`${r.sim.plexTvUrl}/api/v2/user`, { headers: { accept: 'application/json', 'x-plex-client-identifier': 't', 'x-plex-token': token } })).status;

  it('the legacy account token moves to a JWT (device key registered), renewed before expiry; the source never notices', async () => {
    // 4 s tokens, checked every 300 ms, renewed at half their lifetime (2 s before expiry).
    rig = await start({ refresh: { plexJwt: true, routesMs: 300, jwtRenewBeforeMs: 60_000 } }, 4);
    const r = rig;
    await waitConnected(r, r.plexId);
    const legacy = credentials(r).accountToken!;
    expect(credentials(r).accountTokenExpiresAt).toBeUndefined();
    const first = await waitUntil(() => (credentials(r).accountTokenExpiresAt ? credentials(r) : null), { what: 'a plex.tv JWT stored', timeoutMs: 5_000, intervalMs: 20 });
    expect(first.accountToken).not.toBe(legacy);
    expect(first.accountToken!.split('.')).toHaveLength(3);
    expect(first.accountTokenExpiresAt! - first.accountTokenIssuedAt!).toBe(4_000);
    // The device key is the install's (settings), registered for the account at plex.tv.
    const clientIdentifier = r.marquee.store.settings.get('clientIdentifier')!;
    expect(r.sim.plexTv.jwtRegistration(clientIdentifier)).toBe('demo');
    expect(JSON.parse(r.marquee.store.settings.get('plexDeviceKey')!)).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(await plexTvAccepts(r, first.accountToken!)).toBe(200);

    // Renewed before it expired: the next token arrives while the first one is still valid.
    const second = await waitUntil(() => (credentials(r).accountToken !== first.accountToken ? credentials(r) : null), { what: 'the JWT renewed', timeoutMs: 6_000, intervalMs: 20 });
    expect(Date.now()).toBeLessThan(first.accountTokenExpiresAt!);
    expect(second.accountTokenExpiresAt!).toBeGreaterThan(first.accountTokenExpiresAt!);
    expect(await plexTvAccepts(r, second.accountToken!)).toBe(200);
    // The per-server token, the routes and the status are untouched; no secret in any message.
    expect(second.token).toBe(first.token);
    expect(view(r, r.plexId).status).toBe('connected');
    expect(JSON.stringify(r.messages)).not.toContain(second.accountToken!);
    expect(JSON.stringify(r.messages)).not.toContain(r.marquee.store.settings.get('plexDeviceKey')!);
  });

  it('an expired JWT (498 from plex.tv) is renewed, then the rotated server token is fetched: never auth_required', async () => {
    rig = await start({ refresh: { plexJwt: true, routesMs: 300 } });
    const r = rig;
    await waitConnected(r, r.plexId);
    const jwt = await waitUntil(() => credentials(r).accountTokenExpiresAt !== undefined && credentials(r).accountToken, { what: 'a plex.tv JWT stored', timeoutMs: 5_000, intervalMs: 20 });
    // The machine slept past the JWT's expiry: plex.tv answers 498 to it.
    r.sim.plexTv.expireJwts();
    expect(await plexTvAccepts(r, jwt)).toBe(498);
    const from = r.messages.length;
    r.sim.plexTv.rotateServerToken(PLEX);
    const newServerToken = r.sim.plexTv.serverToken(PLEX);
    await waitUntil(() => credentials(r).token === newServerToken, { what: 'the new per-server token stored', timeoutMs: 10_000, intervalMs: 20 });
    await waitConnected(r, r.plexId);
    expect(credentials(r).accountToken).not.toBe(jwt);
    expect(await plexTvAccepts(r, credentials(r).accountToken!)).toBe(200);
    const states = r.messages.slice(from).flatMap((m) => (m.type === 'source' && m.source.source.id === r.plexId ? [m.source.status.state] : []));
    expect(states).not.toContain('auth_required');
  });

  it('with JWTs off the legacy account token keeps working: a rotated server token is still fetched with it', async () => {
    rig = await start({ refresh: { plexJwt: false, routesMs: 300 } });
    const r = rig;
    await waitConnected(r, r.plexId);
    const legacy = credentials(r).accountToken;
    r.sim.plexTv.rotateServerToken(PLEX);
    const newServerToken = r.sim.plexTv.serverToken(PLEX);
    await waitUntil(() => credentials(r).token === newServerToken, { what: 'the new per-server token stored', timeoutMs: 10_000, intervalMs: 20 });
    await waitConnected(r, r.plexId);
    expect(credentials(r).accountToken).toBe(legacy);
    expect(credentials(r).accountTokenExpiresAt).toBeUndefined();
    expect(r.marquee.store.settings.get('plexDeviceKey')).toBeNull();
  });
});
