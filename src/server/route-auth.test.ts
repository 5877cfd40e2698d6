// Issue 11: the API key must be decided on what the router routes, not on the raw URL.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, registeredRoutes } from './app.js';
import { openRoutes } from './auth.js';
import type { AppConfig } from './config.js';
import { FakeDemo, FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, SECRETS, testConfig } from '../../test/support/server-fakes.js';

// A built UI, so the static-file wildcard route exists and is walked too.
const webDir = mkdtempSync(join(tmpdir(), 'marquee-web-auth-'));
mkdirSync(join(webDir, 'assets'));
writeFileSync(join(webDir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"></head><body>UI</body></html>');
writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log("marquee")');
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const KEY = SECRETS.apiKey;
const HOST = 'marquee.lan:8844';
const ORIGIN = `http://${HOST}`;

async function keyedApp(config: Partial<AppConfig> = {}) {
  const engine = new FakeEngine();
  const app = await buildApp({
    engine,
    plexSignIn: new FakePlexSignIn(),
    jellyfinSignIn: new FakeJellyfinSignIn(),
    config: testConfig({ apiKey: KEY, host: '0.0.0.0', ...config }),
    demo: new FakeDemo(),
    // The walk sends hundreds of wrong keys from one address; the limiter has its own tests.
    keyGuessLimits: { burst: 1e9, refillMs: 1, maxClients: 10 },
  });
  apps.push(app);
  const { id } = engine.addSource({ name: 'S', kind: 'jellyfin', serverId: 'b'.repeat(32), routes: [], credentials: { token: 't' } }).source;
  return { app, engine, sourceId: id };
}

describe('issue 11: percent-encoding the path does not skip the API key', () => {
  it('answers 401 to the five requests of the report', async () => {
    const { app, engine, sourceId } = await keyedApp();
    const get = (url: string) => app.inject({ url, headers: { host: HOST } });
    expect((await get('/api/sources')).statusCode).toBe(401);
    expect((await get('/%61pi/sources')).statusCode).toBe(401);
    expect((await get('/%61pi/events')).statusCode).toBe(401);
    expect((await get('/%6detrics')).statusCode).toBe(401);
    const del = await app.inject({ method: 'DELETE', url: `/%61pi/sources/${sourceId}`, headers: { host: HOST, origin: ORIGIN } });
    expect(del.statusCode).toBe(401);
    expect(engine.sources.has(sourceId)).toBe(true);
  });

  it('marks every spelling of an API response no-store (decided on the routed path)', async () => {
    const { app } = await keyedApp();
    const res = await app.inject({ url: '/%61pi/sources', headers: { host: HOST, 'x-api-key': KEY } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await app.inject({ url: '/healthz', headers: { host: HOST } })).headers['cache-control']).toBeUndefined();
  });

  it('answers 401 under a base URL too', async () => {
    const { app } = await keyedApp({ basePath: '/marquee/' });
    expect((await app.inject({ url: '/marquee/%61pi/sources', headers: { host: HOST } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/marquee/api/sources', headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
  });
});

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A concrete path for a route pattern: parameters filled in, the static wildcard pointed at a real file. */
function concretePath(url: string, sourceId: string): string {
  return url.replace(/:[A-Za-z]+/g, sourceId).replace(/\*$/, 'assets/app.js');
}

const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Spellings of one path that a lenient router, proxy or file server could take for the same thing. */
function variants(path: string, basePath: string): string[] {
  const rest = path.slice(basePath.length); // e.g. "api/sources/src1"
  const segments = rest.split('/');
  const withBase = (r: string) => `${basePath}${r}`;
  const out = [
    withBase(segments.map((seg) => (seg ? encodeChar(seg[0]!) + seg.slice(1) : seg)).join('/')), // %61pi/%73ources
    withBase(segments.map((seg) => [...seg].map(encodeChar).join('')).join('/')), // every byte encoded
    withBase(segments.map((seg) => (seg ? `%25${encodeChar(seg[0]!).slice(1)}${seg.slice(1)}` : seg)).join('/')), // %2561pi: double-encoded
    withBase(rest.toUpperCase()),
    withBase(segments.map((seg) => (seg ? seg[0]!.toUpperCase() + seg.slice(1) : seg)).join('/')),
    withBase(rest.replace(/\//g, '//')),
    `/${withBase(rest)}`, // a leading //
    withBase(`x/../${rest}`),
    withBase(`./${rest}`),
    `${path}/`,
    `${path};x`,
    `${path}?x=1`,
  ];
  if (basePath !== '/') {
    // The base itself encoded.
    out.push(`/${[...basePath.slice(1, -1)].map(encodeChar).join('')}/${rest}`);
  }
  return out;
}

function request(method: string, url: string, headers: Record<string, string> = {}): InjectOptions {
  const h: Record<string, string> = { host: HOST, ...headers };
  if (STATE_CHANGING.has(method)) h.origin = ORIGIN;
  return { method: method, url, headers: h };
}

describe.each(['/', '/marquee/'])('every registered route under base %s', (basePath) => {
  it('needs the key, in every spelling of its path, unless it is on the open list', async () => {
    const { app, sourceId } = await keyedApp({ basePath, webDir });
    await app.ready();
    const routes = registeredRoutes(app);
    const open = openRoutes(basePath);
    const staticWildcard = `${basePath}*`;
    // The table really is Fastify's: API, demo, UI and static routes are all in it.
    const names = routes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [`DELETE ${basePath}api/sources/:id`, `GET ${basePath}api/events`, `POST ${basePath}api/demo/routes/:id/fault`, `GET ${basePath}metrics`, `HEAD ${basePath}healthz`, `GET ${staticWildcard}`, `GET ${basePath}api/home`, `GET ${basePath}api/sources/:id/items/:itemId/image`, `POST ${basePath}api/play`, `GET ${basePath}api/play/:session/stream`, `GET ${basePath}api/play/:session/hls/:name`, `POST ${basePath}api/notifications/targets/:id/test`]) {
      expect(names).toContain(expected);
    }
    expect(routes.length).toBeGreaterThan(25);

    let protectedCount = 0;
    for (const route of routes) {
      const path = concretePath(route.url, sourceId);
      const label = `${route.method} ${path}`;
      if (open.has(`${route.method} ${route.url}`) || route.url === staticWildcard) {
        // Open: answered without a key (never 401/403/429).
        const res = await app.inject(request(route.method, path));
        expect([401, 403, 429], label).not.toContain(res.statusCode);
        continue;
      }
      protectedCount++;
      const noKey = await app.inject(request(route.method, path));
      expect(noKey.statusCode, `${label} without a key`).toBe(401);
      const wrongKey = await app.inject(request(route.method, path, { 'x-api-key': `${KEY}x` }));
      expect(wrongKey.statusCode, `${label} with a wrong key`).toBe(401);
      const wrongBearer = await app.inject(request(route.method, path, { authorization: 'Bearer 0123456789abcdef0123456789abcdef' }));
      expect(wrongBearer.statusCode, `${label} with a wrong bearer`).toBe(401);
      for (const variant of variants(path, basePath)) {
        const res = await app.inject(request(route.method, variant));
        expect(res.statusCode, `${route.method} ${variant} without a key`).toBe(401);
        expect(res.body).not.toContain(sourceId);
      }
      // And the key opens it (the route is real, not a 404 in disguise). As a stream: SSE never ends.
      const withKey = await app.inject({ ...request(route.method, path, { 'x-api-key': KEY }), payloadAsStream: true });
      withKey.stream().destroy();
      expect(withKey.statusCode, `${label} with the key`).not.toBe(401);
    }
    expect(protectedCount).toBeGreaterThan(15);
  });

  it('keeps the open list open and unmatched paths outside the API answerable', async () => {
    const { app } = await keyedApp({ basePath, webDir });
    const get = (url: string) => app.inject(request('GET', url));
    expect((await get(`${basePath}healthz`)).statusCode).toBe(200);
    expect((await get(`${basePath}api/session`)).json()).toEqual({ authRequired: true, authenticated: false });
    expect((await app.inject({ ...request('POST', `${basePath}api/session`), payload: { apiKey: KEY } })).statusCode).toBe(200);
    expect((await app.inject(request('DELETE', `${basePath}api/session`))).statusCode).toBe(204);
    expect((await get(basePath)).body).toContain('UI');
    expect((await get(`${basePath}index.html`)).statusCode).toBe(200);
    expect((await get(`${basePath}assets/app.js`)).body).toContain('marquee');
    const spa = await get(`${basePath}sources/src1`);
    expect(spa.statusCode).toBe(200);
    expect(spa.body).toContain('UI');
    expect((await get(`${basePath}missing.js`)).statusCode).toBe(404);
  });

  it('answers 401, not a 404 or the SPA page, for unknown paths under the API without a key', async () => {
    const { app } = await keyedApp({ basePath, webDir });
    for (const path of ['api/nonexistent', '%61pi/nonexistent', 'API/sources', 'api', 'api/', 'api/sources.json', 'metrics/', '%6Detrics', 'assets/../api/sources']) {
      const res = await app.inject(request('GET', `${basePath}${path}`));
      expect(res.statusCode, path).toBe(401);
      expect(res.headers['cache-control'], path).toBe(path.includes('etrics') ? undefined : 'no-store');
    }
  });
});
