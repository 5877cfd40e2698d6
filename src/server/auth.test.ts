import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { createSessionValue, SESSION_MAX_AGE_S, sessionValueValid } from './auth.js';
import type { AppConfig } from './config.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, SECRETS, testConfig } from '../../test/support/server-fakes.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function setup(config: Partial<AppConfig> = {}) {
  const engine = new FakeEngine();
  const app = await buildApp({ engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig(config) });
  apps.push(app);
  const { id } = engine.addSource({ name: 'S', kind: 'jellyfin', serverId: 'b'.repeat(32), routes: [], credentials: { token: 't' } }).source;
  return { app, engine, sourceId: id };
}

const KEY = SECRETS.apiKey;
const HOST = 'marquee.lan:8844';

describe('with an API key', () => {
  it('requires the key or a session on /api and /metrics, not on /healthz or the UI', async () => {
    const { app } = await setup({ apiKey: KEY, host: '0.0.0.0' });
    const noKey = await app.inject({ url: '/api/sources', headers: { host: HOST } });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toEqual({ error: 'unauthorized', message: 'This Marquee needs its API key: send X-Api-Key, or sign in with POST /api/session.' });
    expect((await app.inject({ url: '/api/sources', headers: { host: HOST, 'x-api-key': 'wrong-key-wrong-key' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/sources', headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/sources', headers: { host: HOST, authorization: `Bearer ${KEY}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/events', headers: { host: HOST } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { host: HOST } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/healthz', headers: { host: HOST } })).statusCode).toBe(200);
    const ui = await app.inject({ url: '/', headers: { host: HOST } });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('UI not built: run npm run build:web');
  });

  it('turns the key into an HttpOnly SameSite=Strict session cookie the UI can use', async () => {
    const { app, sourceId } = await setup({ apiKey: KEY, host: '0.0.0.0' });
    const origin = `http://${HOST}`;
    expect((await app.inject({ url: '/api/session', headers: { host: HOST } })).json()).toEqual({ authRequired: true, authenticated: false });

    const wrong = await app.inject({ method: 'POST', url: '/api/session', headers: { host: HOST, origin }, payload: { apiKey: 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const login = await app.inject({ method: 'POST', url: '/api/session', headers: { host: HOST, origin }, payload: { apiKey: KEY } });
    expect(login.statusCode).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^marquee_session=v1\.\d+\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(KEY);
    const cookie = setCookie.split(';')[0]!;

    expect((await app.inject({ url: '/api/sources', headers: { host: HOST, cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/session', headers: { host: HOST, cookie } })).json()).toEqual({ authRequired: true, authenticated: true });
    // A browser POST carries Origin; with the session cookie it is allowed.
    expect((await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: HOST, cookie, origin } })).statusCode).toBe(202);
    // Without Origin, a cookie alone cannot change anything.
    const noOrigin = await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: HOST, cookie } });
    expect(noOrigin.statusCode).toBe(403);
    expect(noOrigin.json().error).toBe('origin_required');
    // A tampered cookie is worthless.
    const tampered = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await app.inject({ url: '/api/sources', headers: { host: HOST, cookie: tampered } })).statusCode).toBe(401);

    const logout = await app.inject({ method: 'DELETE', url: '/api/session', headers: { host: HOST, origin } });
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('marks the session cookie Secure when the public base URL is https, even over plain HTTP from the proxy', async () => {
    const login = async (config: Partial<AppConfig>, headers: Record<string, string> = {}) => {
      const { app } = await setup({ apiKey: KEY, host: '0.0.0.0', ...config });
      const origin = config.publicOrigin ?? `http://${HOST}`;
      const res = await app.inject({ method: 'POST', url: `${config.basePath ?? '/'}api/session`, headers: { host: HOST, origin, ...headers }, payload: { apiKey: KEY } });
      expect(res.statusCode).toBe(200);
      return String(res.headers['set-cookie']);
    };
    expect(await login({ publicOrigin: 'https://media.example.com', basePath: '/marquee/' })).toMatch(/; Path=\/marquee\/; .*; Secure$/);
    expect(await login({ publicOrigin: 'http://media.example.com' })).not.toContain('Secure');
    expect(await login({})).not.toContain('Secure');
    // A TLS-terminating proxy on loopback that says so still gets Secure without a base URL.
    expect(await login({}, { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
  });

  it('rejects cross-origin state-changing requests even with the key', async () => {
    const { app, sourceId } = await setup({ apiKey: KEY, host: '0.0.0.0' });
    const cross = await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: HOST, origin: 'https://evil.example', 'x-api-key': KEY } });
    expect(cross.statusCode).toBe(403);
    expect(cross.json()).toEqual({ error: 'cross_origin', message: 'Cross-origin requests may not change anything here.' });
    const nullOrigin = await app.inject({ method: 'DELETE', url: `/api/sources/${sourceId}`, headers: { host: HOST, origin: 'null', 'x-api-key': KEY } });
    expect(nullOrigin.statusCode).toBe(403);
    const fetchSite = await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: HOST, 'sec-fetch-site': 'cross-site', 'x-api-key': KEY } });
    expect(fetchSite.statusCode).toBe(403);
    const loginCsrf = await app.inject({ method: 'POST', url: '/api/session', headers: { host: HOST, origin: 'https://evil.example' }, payload: { apiKey: KEY } });
    expect(loginCsrf.statusCode).toBe(403);
    // Non-browser client: no Origin, key in the header.
    expect((await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(202);
  });

  it('accepts the public origin from MARQUEE_BASE_URL behind a proxy that rewrites Host', async () => {
    const { app, sourceId } = await setup({ apiKey: KEY, host: '0.0.0.0', publicOrigin: 'https://media.example.com' });
    const res = await app.inject({
      method: 'POST',
      url: `/api/sources/${sourceId}/check`,
      headers: { host: '127.0.0.1:8844', origin: 'https://media.example.com', 'x-api-key': KEY },
    });
    expect(res.statusCode).toBe(202);
  });

  it('session values expire and die with a changed key', () => {
    const now = 1_800_000_000_000;
    const value = createSessionValue(KEY, now);
    expect(sessionValueValid(value, KEY, now + 1000)).toBe(true);
    expect(sessionValueValid(value, KEY, now + SESSION_MAX_AGE_S * 1000 + 1)).toBe(false);
    expect(sessionValueValid(value, `${KEY}-rotated`, now)).toBe(false);
    expect(sessionValueValid('v1.garbage', KEY, now)).toBe(false);
  });
});

describe('without an API key (loopback)', () => {
  it('serves the API without auth but rejects cross-origin writes', async () => {
    const { app, sourceId } = await setup();
    const host = '127.0.0.1:8844';
    expect((await app.inject({ url: '/api/sources', headers: { host } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/session', headers: { host } })).json()).toEqual({ authRequired: false, authenticated: true });
    const cross = await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host, origin: 'http://evil.example' } });
    expect(cross.statusCode).toBe(403);
    expect(cross.json().error).toBe('cross_origin');
    const otherPort = await app.inject({ method: 'DELETE', url: `/api/sources/${sourceId}`, headers: { host, origin: 'http://127.0.0.1:3000' } });
    expect(otherPort.statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host, origin: `http://${host}` } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: `/api/sources/${sourceId}/check`, headers: { host: 'localhost:8844', origin: 'http://localhost:8844' } })).statusCode).toBe(202);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const { app } = await setup();
    const res = await app.inject({ url: '/api/sources', headers: { host: 'rebind.evil.example:8844' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('host_not_allowed');
    const rebindPost = await app.inject({ method: 'POST', url: '/api/plex/pins', headers: { host: 'rebind.evil.example:8844', origin: 'http://rebind.evil.example:8844' } });
    expect(rebindPost.statusCode).toBe(403);
  });
});
