import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { createMetrics } from './metrics.js';
import {
  FakeDemo,
  FakeEngine,
  FakeJellyfinSignIn,
  FakePlexSignIn,
  JELLYFIN_SERVER_ID,
  PLEX_SERVER_ID,
  SECRETS,
  testConfig,
} from '../../test/support/server-fakes.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function setup(config: Partial<AppConfig> = {}, opts: { demo?: boolean } = {}) {
  const engine = new FakeEngine();
  const plex = new FakePlexSignIn();
  const jellyfin = new FakeJellyfinSignIn();
  const demo = opts.demo ? new FakeDemo() : undefined;
  const metrics = createMetrics({ defaultMetrics: false });
  const app = await buildApp({
    engine,
    plexSignIn: plex,
    jellyfinSignIn: jellyfin,
    config: testConfig(config),
    metrics,
    ...(demo ? { demo } : {}),
  });
  apps.push(app);
  return { app, engine, plex, jellyfin, demo, metrics };
}

const json = { 'content-type': 'application/json' };

async function addJellyfin(app: FastifyInstance) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/sources',
    headers: json,
    payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: SECRETS.jellyfinPassword },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; name: string }>();
}

describe('sources', () => {
  it('lists, shows, checks, renames and deletes sources', async () => {
    const { app, engine } = await setup();
    expect((await app.inject('/api/sources')).json()).toEqual([]);
    const added = await addJellyfin(app);
    expect(added.name).toBe('Attic Jellyfin');

    const list = (await app.inject('/api/sources')).json();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: added.id, kind: 'jellyfin', status: 'connecting' });

    const detail = await app.inject(`/api/sources/${added.id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ serverId: JELLYFIN_SERVER_ID, routes: [{ url: 'http://127.0.0.3:8096', kind: 'local' }] });

    const check = await app.inject({ method: 'POST', url: `/api/sources/${added.id}/check` });
    expect(check.statusCode).toBe(202);
    expect(engine.checks).toEqual([added.id]);

    const patch = await app.inject({
      method: 'PATCH',
      url: `/api/sources/${added.id}`,
      headers: json,
      payload: { name: 'Attic', monitoring: { enabled: false, probeTimeoutMs: 3000 } },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().name).toBe('Attic');
    expect(engine.getSource(added.id)?.source.monitoring).toMatchObject({ enabled: false, probeTimeoutMs: 3000 });

    const del = await app.inject({ method: 'DELETE', url: `/api/sources/${added.id}` });
    expect(del.statusCode).toBe(204);
    expect(engine.sources.size).toBe(0);
  });

  it('answers 404 with a clear message for unknown ids on every source route', async () => {
    const { app } = await setup();
    const cases = [
      { method: 'GET' as const, url: '/api/sources/nope' },
      { method: 'POST' as const, url: '/api/sources/nope/check' },
      { method: 'PATCH' as const, url: '/api/sources/nope', payload: { name: 'x' } },
      { method: 'DELETE' as const, url: '/api/sources/nope' },
      { method: 'POST' as const, url: '/api/sources/nope/signin', payload: { pinId: 5 } },
    ];
    for (const c of cases) {
      const res = await app.inject({ ...c, headers: c.payload ? json : {} });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(404);
      expect(res.json()).toEqual({ error: 'not_found', message: 'No source with id "nope".' });
    }
    const unknownRoute = await app.inject('/api/nothing-here');
    expect(unknownRoute.statusCode).toBe(404);
    expect(unknownRoute.json().error).toBe('not_found');
  });

  it('rejects unknown keys in every body with 400 naming the key, and changes nothing', async () => {
    const { app, engine } = await setup();
    const { id } = await addJellyfin(app);
    const cases: [string, string, unknown, RegExp][] = [
      ['PATCH', `/api/sources/${id}`, { monitoring: { enabled: false, foo: 1 } }, /^body\.monitoring\.foo: is not a known field$/],
      ['PATCH', `/api/sources/${id}`, { name: 'Attic', colour: 'red' }, /^body\.colour: is not a known field$/],
      ['POST', '/api/sources', { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: 1, admin: true }, /^body\.admin: is not a known field$/],
      ['POST', '/api/sources', { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'a', password: 'b', token: 'x' }, /^body\.token: is not a known field$/],
      ['POST', `/api/sources/${id}/signin`, { pinId: 1, foo: 1 }, /^body\.foo: is not a known field$/],
      ['POST', '/api/jellyfin/quickconnect', { url: 'http://127.0.0.3:8096', extra: 1 }, /^body\.extra: is not a known field$/],
      ['POST', '/api/session', { apiKey: 'k', remember: true }, /^body\.remember: is not a known field$/],
    ];
    for (const [method, url, payload, message] of cases) {
      const res = await app.inject({ method: method as 'POST', url, headers: json, payload: JSON.stringify(payload) });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}: ${res.body}`).toBe(400);
      expect(res.json().message).toMatch(message);
    }
    expect(engine.getSource(id)?.source.monitoring.enabled !== false).toBe(true);
    expect(engine.getSource(id)?.source.name).not.toBe('Attic');
  });

  it('rejects bad bodies with 400 naming the field', async () => {
    const { app, engine } = await setup();
    const { id } = await addJellyfin(app);
    const cases: [string, string, unknown, RegExp][] = [
      ['PATCH', `/api/sources/${id}`, { name: 42 }, /body\.name: name must be a string/],
      ['PATCH', `/api/sources/${id}`, { name: '   ' }, /body\.name: name must not be empty/],
      ['PATCH', `/api/sources/${id}`, { monitoring: { probeTimeoutMs: 10 } }, /body\.monitoring\.probeTimeoutMs: must be at least 500 ms/],
      ['PATCH', `/api/sources/${id}`, {}, /give a new name or monitoring settings/],
      ['POST', '/api/sources', { kind: 'emby' }, /body\.kind: kind must be "plex" or "jellyfin"/],
      ['POST', '/api/sources', { kind: 'plex', serverId: PLEX_SERVER_ID }, /body\.pinId: pinId must be the number/],
      ['POST', '/api/sources', { kind: 'jellyfin', url: 'http://x' }, /body\.username: required/],
      ['POST', '/api/sources', [], /body/],
      ['POST', '/api/jellyfin/quickconnect', {}, /body\.url: url must be a string/],
      ['POST', `/api/sources/${id}/signin`, {}, /body: give \{pinId\}/],
    ];
    for (const [method, url, payload, message] of cases) {
      const res = await app.inject({ method: method as 'POST', url, headers: json, payload: JSON.stringify(payload) });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(res.json().error).toBe('invalid_request');
      expect(res.json().message).toMatch(message);
    }
    const badJson = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: '{"kind":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toEqual({ error: 'invalid_json', message: 'body: the request body is not valid JSON.' });
    const tooBig = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: JSON.stringify({ kind: 'x'.repeat(100_000) }) });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error).toBe('body_too_large');
    const badProbe = await app.inject({ method: 'POST', url: '/api/jellyfin/probe', headers: json, payload: {} });
    expect(badProbe.statusCode).toBe(400);
    expect(badProbe.json().message).toMatch(/^body\.url:/);
    const badPin = await app.inject('/api/plex/pins/abc');
    expect(badPin.statusCode).toBe(400);
    expect(badPin.json().message).toMatch(/^params\.id: must be a number/);
    expect(engine.sources.size).toBe(1);
  });

  it('hides internals of 5xx errors', async () => {
    const { app, engine } = await setup();
    engine.listSources = () => {
      throw new Error('SQLITE_CORRUPT at /secret/path/db.sqlite');
    };
    const res = await app.inject('/api/sources');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal_error', message: 'Something went wrong inside Marquee; the server log has the details.' });
    expect(res.body).not.toContain('SQLITE');
    const events = await app.inject('/api/events');
    expect(events.statusCode).toBe(500);
    expect(events.json().error).toBe('internal_error');
  });
});

describe('adding sources', () => {
  it('runs the Plex PIN flow without sending the account token to the client', async () => {
    const { app, plex, engine } = await setup();
    const pin = await app.inject({ method: 'POST', url: '/api/plex/pins' });
    expect(pin.statusCode).toBe(201);
    const { id, code, authUrl } = pin.json();
    expect(code).toBe(`CODE${id}`);
    expect(authUrl).toContain('app.plex.tv/auth');

    expect((await app.inject(`/api/plex/pins/${id}`)).json()).toEqual({ state: 'pending' });
    const early = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: id } });
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toBe('not_authorized');

    plex.authorize(id);
    const authorized = await app.inject(`/api/plex/pins/${id}`);
    expect(authorized.json()).toEqual({
      state: 'authorized',
      servers: [
        {
          serverId: PLEX_SERVER_ID,
          name: 'Living-room Plex',
          owned: true,
          presence: true,
          routes: [
            { url: 'http://127.0.0.2:32400', kind: 'local' },
            { url: 'https://relay.example:8443', kind: 'relay' },
          ],
          alreadyAdded: false,
        },
      ],
    });
    expect(authorized.body).not.toContain(SECRETS.plexAccountToken);
    expect(authorized.body).not.toContain(SECRETS.plexServerToken);

    const add = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: id } });
    expect(add.statusCode).toBe(201);
    expect(add.json()).toMatchObject({ name: 'Living-room Plex', kind: 'plex' });
    expect(engine.getCredentials(add.json().id)).toEqual({ token: SECRETS.plexServerToken, accountToken: SECRETS.plexAccountToken });

    const again = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: id } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'already_added', message: 'Living-room Plex is already one of your sources.' });

    const unknownServer = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'plex', serverId: 'c'.repeat(40), pinId: id } });
    expect(unknownServer.statusCode).toBe(404);
    expect((await app.inject('/api/plex/pins/999999')).statusCode).toBe(404);
  });

  it('reports an expired PIN', async () => {
    const { app, plex } = await setup();
    const { id } = (await app.inject({ method: 'POST', url: '/api/plex/pins' })).json();
    plex.pinStates.set(id, { state: 'expired' });
    expect((await app.inject(`/api/plex/pins/${id}`)).json()).toEqual({ state: 'expired' });
  });

  it('probes Jellyfin and maps sign-in errors to clear 4xx', async () => {
    const { app } = await setup();
    const probeFor = (url: string) => app.inject({ method: 'POST', url: '/api/jellyfin/probe', headers: json, payload: { url } });
    const probe = await probeFor('http://127.0.0.3:8096');
    expect(probe.statusCode).toBe(200);
    expect(probe.json()).toEqual({ serverId: JELLYFIN_SERVER_ID, name: 'Attic Jellyfin', version: '10.10.7', url: 'http://127.0.0.3:8096', alreadyAdded: false });

    const badUrl = await probeFor('notaurl');
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toEqual({ error: 'invalid_url', message: '"notaurl" is not a server address' });

    const unreachable = await probeFor('http://unreachable.test');
    expect(unreachable.statusCode).toBe(422);
    expect(unreachable.json().error).toBe('unreachable');

    const wrongPassword = await app.inject({
      method: 'POST',
      url: '/api/sources',
      headers: json,
      payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: 'wrong-guess' },
    });
    expect(wrongPassword.statusCode).toBe(422);
    expect(wrongPassword.json()).toEqual({ error: 'bad_credentials', message: 'Wrong user name or password' });
  });

  it('refuses an already-added Jellyfin server before signing in (a new login would revoke the existing token)', async () => {
    const { app, jellyfin, engine } = await setup();
    const { id } = await addJellyfin(app);
    expect(jellyfin.signIns).toBe(1);
    engine.updateCredentials(id, { token: 'existing-token' });

    const again = await app.inject({
      method: 'POST',
      url: '/api/sources',
      headers: json,
      payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: SECRETS.jellyfinPassword },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'already_added', message: 'Attic Jellyfin is already one of your sources.' });
    expect(jellyfin.signIns).toBe(1);
    expect(engine.getCredentials(id)?.token).toBe('existing-token');

    const quickConnect = await app.inject({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: json, payload: { url: 'http://127.0.0.3:8096' } });
    expect(quickConnect.statusCode).toBe(409);
    expect(quickConnect.json().error).toBe('already_added');
    expect(jellyfin.quickConnectStarts).toBe(0);
    expect((await app.inject('/api/sources')).json()).toHaveLength(1);

    // "Sign in again" by Quick Connect names its source: allowed for that source's server only.
    const again2 = await app.inject({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: json, payload: { url: 'http://127.0.0.3:8096', sourceId: id } });
    expect(again2.statusCode).toBe(201);
    expect(jellyfin.quickConnectStarts).toBe(1);
    const unknown = await app.inject({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: json, payload: { url: 'http://127.0.0.3:8096', sourceId: 'nope' } });
    expect(unknown.statusCode).toBe(404);
    jellyfin.serverId = 'd'.repeat(32);
    const other = await app.inject({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: json, payload: { url: 'http://127.0.0.3:8096', sourceId: id } });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toEqual({ error: 'wrong_server', message: 'The server at that address is Attic Jellyfin, not Attic Jellyfin.' });
    expect(jellyfin.quickConnectStarts).toBe(1);
  });

  it('runs Quick Connect behind an opaque handle', async () => {
    const { app, jellyfin, engine } = await setup();
    const start = await app.inject({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: json, payload: { url: 'http://127.0.0.3:8096' } });
    expect(start.statusCode).toBe(201);
    const { code, handle } = start.json();
    expect(code).toBe('123456');
    expect(handle).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(start.body).not.toContain(SECRETS.quickConnectSecret);

    expect((await app.inject(`/api/jellyfin/quickconnect/${handle}`)).json()).toEqual({ state: 'pending' });
    const early = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'jellyfin', quickConnectHandle: handle } });
    expect(early.statusCode).toBe(409);

    jellyfin.quickConnectAuthorized = true;
    expect((await app.inject(`/api/jellyfin/quickconnect/${handle}`)).json()).toEqual({
      state: 'authorized',
      serverId: JELLYFIN_SERVER_ID,
      serverName: 'Attic Jellyfin',
      userName: 'alice',
    });
    const add = await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'jellyfin', quickConnectSecret: handle, name: 'Attic' } });
    expect(add.statusCode).toBe(201);
    expect(add.json().name).toBe('Attic');
    expect(engine.getCredentials(add.json().id)?.token).toBe(SECRETS.jellyfinToken);
    expect((await app.inject('/api/jellyfin/quickconnect/unknownhandle')).statusCode).toBe(404);
  });

  it('signs in again: Jellyfin by password (same server only), Plex by PIN', async () => {
    const { app, engine, plex, jellyfin } = await setup();
    const { id } = await addJellyfin(app);
    engine.updateCredentials(id, { token: 'old' });
    const ok = await app.inject({ method: 'POST', url: `/api/sources/${id}/signin`, headers: json, payload: { username: 'alice', password: SECRETS.jellyfinPassword } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().id).toBe(id);
    expect(engine.getCredentials(id)?.token).toBe(SECRETS.jellyfinToken);

    jellyfin.serverId = 'd'.repeat(32);
    const other = await app.inject({ method: 'POST', url: `/api/sources/${id}/signin`, headers: json, payload: { username: 'alice', password: SECRETS.jellyfinPassword } });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toEqual({ error: 'wrong_server', message: 'That sign-in belongs to Attic Jellyfin, not Attic Jellyfin.' });
    const pinForJellyfin = await app.inject({ method: 'POST', url: `/api/sources/${id}/signin`, headers: json, payload: { pinId: 1 } });
    expect(pinForJellyfin.statusCode).toBe(400);

    const { id: pinId } = (await app.inject({ method: 'POST', url: '/api/plex/pins' })).json();
    plex.authorize(pinId);
    await app.inject(`/api/plex/pins/${pinId}`);
    const plexSource = (await app.inject({ method: 'POST', url: '/api/sources', headers: json, payload: { kind: 'plex', serverId: PLEX_SERVER_ID, pinId } })).json();
    engine.updateCredentials(plexSource.id, { token: 'expired' });
    const plexAgain = await app.inject({ method: 'POST', url: `/api/sources/${plexSource.id}/signin`, headers: json, payload: { pinId } });
    expect(plexAgain.statusCode).toBe(200);
    expect(plexAgain.body).not.toContain(SECRETS.plexServerToken);
    expect(engine.getCredentials(plexSource.id)?.token).toBe(SECRETS.plexServerToken);
  });
});

describe('health and metrics', () => {
  it('reports ok, and 503 with detail when degraded or stopped', async () => {
    const { app, engine } = await setup();
    const ok = await app.inject('/healthz');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', database: 'ok', monitor: 'running' });
    engine.healthState = { database: 'degraded', monitor: 'running', detail: 'data directory is read-only' };
    const degraded = await app.inject('/healthz');
    expect(degraded.statusCode).toBe(503);
    expect(degraded.json()).toEqual({ status: 'degraded', database: 'degraded', monitor: 'running', detail: 'data directory is read-only' });
    engine.healthState = { database: 'ok', monitor: 'stopped' };
    expect((await app.inject('/healthz')).statusCode).toBe(503);
  });

  it('exposes the metric names with source status labels', async () => {
    const { app, engine, metrics } = await setup();
    const { id } = await addJellyfin(app);
    engine.setConnected(id, 'local', 12);
    metrics.observeProbe('jellyfin', 'local', 'ok', 12);
    metrics.observeProbe('jellyfin', 'remote', 'timeout', 5000);
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    for (const name of ['marquee_source_status', 'marquee_route_latency_seconds_bucket', 'marquee_probes_total', 'marquee_sse_clients', 'marquee_source_route_latency_seconds']) {
      expect(res.body).toContain(name);
    }
    expect(res.body).toContain(`marquee_source_status{source_id="${id}",name="Attic Jellyfin",kind="jellyfin",state="connected"} 1`);
    expect(res.body).toContain('marquee_probes_total{kind="jellyfin",route_kind="remote",outcome="timeout"} 1');
  });
});

describe('demo routes', () => {
  it('exist only in demo mode and drive the DemoControl', async () => {
    const plain = await setup();
    expect((await plain.app.inject('/api/demo/routes')).statusCode).toBe(404);

    const { app, demo } = await setup({}, { demo: true });
    const routes = await app.inject('/api/demo/routes');
    expect(routes.json()).toEqual([{ id: 'r1', sourceId: 'src1', serverName: 'Demo Plex', kind: 'local', url: 'http://127.0.0.2:32400' }]);
    const fault = await app.inject({ method: 'POST', url: '/api/demo/routes/r1/fault', headers: json, payload: { mode: 'down' } });
    expect(fault.statusCode).toBe(200);
    const server = await app.inject({ method: 'POST', url: '/api/demo/servers/src1/fault', headers: json, payload: { mode: 'up' } });
    expect(server.statusCode).toBe(200);
    expect(demo!.calls).toEqual(['route:r1:down', 'server:src1:up']);
    const badMode = await app.inject({ method: 'POST', url: '/api/demo/routes/r1/fault', headers: json, payload: { mode: 'explode' } });
    expect(badMode.statusCode).toBe(400);
    expect(badMode.json().message).toBe('body.mode: must be one of "up", "down", "hang", "slow"');
    expect((await app.inject({ method: 'POST', url: '/api/demo/routes/zz/fault', headers: json, payload: { mode: 'up' } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/demo/servers/zz/fault', headers: json, payload: { mode: 'up' } })).statusCode).toBe(404);
  });
});
