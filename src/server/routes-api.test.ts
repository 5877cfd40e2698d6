// POST/PATCH/DELETE /api/sources/{id}/routes through the real app (app.inject) over `marquee demo`
// itself: the real engine, store and backends against the simulators (sim/example.json). Every
// error path answers with its status, its code and words; every success validates against the
// contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { API_ERROR, API_ROUTES } from '../api/routes.js';
import type { ApiRouteEdit, ApiSourceDetail } from '../api/types.js';
import { startRecordingProxy } from '../../test/support/recording-proxy.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/start.js';
import { waitUntil } from '../../test/support/wait.js';
import { toApiSource } from './views.js';

let rt: TestRuntime;
const FAST = { probeTimeoutMs: 1_500, baseTickMs: 500, backoff: { initialMs: 200, factor: 2, capMs: 1_000, minDelayMs: 50 } };

beforeAll(async () => {
  rt = await startTestRuntime({ demo: true, monitor: FAST });
  await waitUntil(() => rt.engine.listSources().map(toApiSource).every((s) => s.status === 'connected'), { what: 'every demo source connected', timeoutMs: 20_000 });
}, 40_000);
afterAll(() => rt?.close());

const idOf = (name: string) => rt.engine.listSources().find((s) => s.source.name === name)!.source.id;
const simUrl = (routeId: string) => rt.simulation!.route(routeId).url;

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await rt.app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object, headers: { 'content-type': 'application/json' } } : {}) });
  const body: unknown = res.body ? res.json() : undefined;
  if (res.statusCode >= 400) API_ERROR.parse(body);
  return { status: res.statusCode, body: body as { error?: string; message?: string } & Partial<ApiRouteEdit> };
}

function valid<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return schema.parse(body);
}

const detail = async (id: string) => (await call('GET', `/api/sources/${id}`)).body as unknown as ApiSourceDetail;

describe('POST /api/sources/{id}/routes', () => {
  it('404 for an unknown source', async () => {
    const res = await call('POST', '/api/sources/no-such-source/routes', { url: 'http://127.0.0.1:9' });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });

  it.each([
    [{}, /body\.url/],
    [{ url: 'http://127.0.0.2:1', kind: 'relay' }, /kind must be "local" or "remote"/],
    [{ url: 'http://127.0.0.2:1', token: 'x' }, /body\.token: is not a known field/],
    [{ url: 'http://127.0.0.2:1', force: 'yes' }, /force must be true or false/],
    ['not json object', /expected a JSON object|body/],
  ])('400 invalid_request for a bad body %j', async (payload, words) => {
    const res = await call('POST', `/api/sources/${idOf('Living-room Plex')}/routes`, payload);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(words);
  });

  it.each([
    ['ftp://127.0.0.2:21', /only http/],
    ['http://demo:secret@127.0.0.2:32400', /user name or password/],
    ['http://127.0.0.2:32400/?X-Plex-Token=abc', /query/],
    ['http://127.0.0.2:32400/a/../b', /\.\./],
    ['http://127.0.0.2:32400/%2e%2e/', /encoded/],
  ])('400 invalid_url for %s, in words', async (url, words) => {
    const res = await call('POST', `/api/sources/${idOf('Living-room Plex')}/routes`, { url });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_url');
    expect(res.body.message).toMatch(words);
  });

  it('409 duplicate for an address the source already has (in any spelling)', async () => {
    const id = idOf('Living-room Plex');
    const existing = (await detail(id)).routes.find((r) => r.url.startsWith('http://127.0.0.2'))!;
    const res = await call('POST', `/api/sources/${id}/routes`, { url: `${existing.url.toUpperCase().replace('HTTP://', 'http://')}/` });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('duplicate');
    expect(res.body.message).toContain(existing.url);
  });

  it('422 wrong_server when another server answers there — even with force — and nothing is stored', async () => {
    const id = idOf('Living-room Plex');
    const before = (await detail(id)).routes.length;
    for (const force of [undefined, true]) {
      const res = await call('POST', `/api/sources/${id}/routes`, { url: simUrl('friends-plex-remote'), ...(force ? { force } : {}) });
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('wrong_server');
      expect(res.body.message).toMatch(/a different Plex server answers at 127\.0\.0\.5:\d+, not Living-room Plex; the address was not added and no token was sent there/);
    }
    expect((await detail(id)).routes.length).toBe(before);
  });

  it('422 unreachable when nothing answers (a Jellyfin address given to a Plex source counts too)', async () => {
    const id = idOf('Living-room Plex');
    const res = await call('POST', `/api/sources/${id}/routes`, { url: simUrl('jellyfin-home-local') });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('unreachable');
    expect(res.body.message).toMatch(/nothing answered as a Plex server at 127\.0\.0\.6:\d+ .*force: true/);
  });
});

describe('a Jellyfin source: add, force, verify, reorder, remove', () => {
  it('walks every path of a route the user owns', async () => {
    const id = idOf('Home Jellyfin');
    const remoteUrl = simUrl('jellyfin-home-remote');
    const remote = (await detail(id)).routes.find((r) => r.url === remoteUrl)!;
    expect(remote.origin).toBe('typed');

    // The wizard's address may be removed (it is the user's) …
    expect((await call('DELETE', `/api/sources/${id}/routes/${remote.id}`)).status).toBe(204);
    expect((await detail(id)).routes.map((r) => r.url)).not.toContain(remoteUrl);
    // … but not the last usable route.
    const local = (await detail(id)).routes[0]!;
    const last = await call('DELETE', `/api/sources/${id}/routes/${local.id}`);
    expect(last.status).toBe(409);
    expect(last.body.error).toBe('last_route');
    expect(last.body.message).toMatch(/only route to Home Jellyfin/);

    // Added again while it does not answer: refused, then kept with force as pending.
    await rt.simulation!.route('jellyfin-home-remote').fault({ mode: 'refuse' });
    const refused = await call('POST', `/api/sources/${id}/routes`, { url: remoteUrl, kind: 'remote' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('unreachable');
    const forced = await call('POST', `/api/sources/${id}/routes`, { url: remoteUrl, kind: 'remote', force: true });
    expect(forced.status).toBe(201);
    const kept = valid(API_ROUTES.addRoute.response, forced.body);
    expect(kept.route).toMatchObject({ url: remoteUrl, kind: 'remote', origin: 'user', pending: true, lastResult: 'refused' });
    // Pending: shown, never handed to the monitor.
    expect(rt.engine.getSource(id)!.source.routes.map((r) => r.url)).not.toContain(remoteUrl);
    // Twice is a duplicate, pending or not.
    expect((await call('POST', `/api/sources/${id}/routes`, { url: remoteUrl, force: true })).status).toBe(409);

    // It answers as the right server now: "Check now" verifies it and it becomes a route.
    await rt.simulation!.route('jellyfin-home-remote').fault({ mode: 'up' });
    expect((await call('POST', `/api/sources/${id}/check`)).status).toBe(202);
    await waitUntil(() => rt.engine.getSource(id)!.source.routes.some((r) => r.url === remoteUrl), { what: 'the pending route verified', timeoutMs: 10_000 });
    const verified = (await detail(id)).routes.find((r) => r.url === remoteUrl)!;
    expect(verified.pending).toBeUndefined();
    expect(verified.origin).toBe('user');

    // The same address with a trailing slash is the same route.
    const extra = await call('POST', `/api/sources/${id}/routes`, { url: remoteUrl.replace(/^http:\/\/127\.0\.0\.7/, 'http://127.0.0.7') + '/' });
    expect(extra.status).toBe(409); // same address, trailing slash
    // Move the user route to local, first among the local routes.
    const moved = await call('PATCH', `/api/sources/${id}/routes/${verified.id}`, { kind: 'local', position: 0 });
    expect(moved.status).toBe(200);
    const after = valid(API_ROUTES.patchRoute.response, moved.body);
    expect(after.route).toMatchObject({ kind: 'local', priority: 0 });
    expect(after.source.routes.filter((r) => r.kind === 'local').map((r) => r.url)).toEqual([remoteUrl, local.url]);
    const back = await call('PATCH', `/api/sources/${id}/routes/${verified.id}`, { kind: 'remote' });
    expect(valid(API_ROUTES.patchRoute.response, back.body).route).toMatchObject({ kind: 'remote', priority: 0 });

    // PATCH errors.
    expect((await call('PATCH', `/api/sources/${id}/routes/${verified.id}`, {})).status).toBe(400);
    expect((await call('PATCH', `/api/sources/${id}/routes/${verified.id}`, { position: -1 })).status).toBe(400);
    expect((await call('PATCH', `/api/sources/${id}/routes/${verified.id}`, { position: 0, url: 'http://x' })).status).toBe(400);
    expect((await call('PATCH', `/api/sources/${id}/routes/no-such-route`, { position: 0 })).status).toBe(404);
    expect((await call('PATCH', `/api/sources/no-such-source/routes/${verified.id}`, { position: 0 })).status).toBe(404);
    expect((await call('DELETE', `/api/sources/${id}/routes/no-such-route`)).status).toBe(404);
    expect((await call('DELETE', `/api/sources/${id}/routes/bad%20id`)).status).toBe(400);
  });
});

describe('managed routes (plex.tv)', () => {
  it('may be reordered, not given another kind nor removed (409 managed, in words)', async () => {
    const id = idOf('Living-room Plex');
    // A reverse proxy in front of the server's LAN address: a second local route, tried after plex.tv's.
    const proxy = await startRecordingProxy(simUrl('living-room-local'));
    try {
      const added = await call('POST', `/api/sources/${id}/routes`, { url: proxy.url });
      expect(added.status).toBe(201);
      expect(valid(API_ROUTES.addRoute.response, added.body).route).toMatchObject({ url: proxy.url, kind: 'local', priority: 1, origin: 'user' });
      // The identity check asked /identity without a token.
      expect(proxy.requests[0]).toMatchObject({ method: 'GET', path: '/identity' });
      expect(proxy.requests[0]!.headers['x-plex-token']).toBeUndefined();
    } finally {
      await proxy.close();
    }
    const locals = (await detail(id)).routes.filter((r) => r.kind === 'local').sort((a, b) => a.priority - b.priority);
    expect(locals.map((r) => r.origin)).toEqual(['plex.tv', 'user']);
    const plexTvLocal = locals[0]!;
    // Reordering a managed route is allowed: plex.tv's address moves behind the proxy.
    const behind = await call('PATCH', `/api/sources/${id}/routes/${plexTvLocal.id}`, { position: 1 });
    expect(behind.status).toBe(200);
    expect(valid(API_ROUTES.patchRoute.response, behind.body).route).toMatchObject({ id: plexTvLocal.id, priority: 1 });
    const lastLocal = plexTvLocal;

    const moved = await call('PATCH', `/api/sources/${id}/routes/${lastLocal.id}`, { position: 0 });
    expect(moved.status).toBe(200);
    expect(valid(API_ROUTES.patchRoute.response, moved.body).source.routes.filter((r) => r.kind === 'local')[0]!.id).toBe(lastLocal.id);

    const kind = await call('PATCH', `/api/sources/${id}/routes/${lastLocal.id}`, { kind: 'remote' });
    expect(kind.status).toBe(409);
    expect(kind.body.error).toBe('managed');
    expect(kind.body.message).toMatch(/managed by plex\.tv/);

    const removed = await call('DELETE', `/api/sources/${id}/routes/${lastLocal.id}`);
    expect(removed.status).toBe(409);
    expect(removed.body.error).toBe('managed');
    expect((await detail(id)).routes.map((r) => r.id)).toContain(lastLocal.id);
  });
});
