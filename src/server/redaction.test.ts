// Tokens and passwords must never appear in responses, SSE, logs or error messages.
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { createLogger, redactRequestUrl, scrubSecrets } from './logger.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, PLEX_SERVER_ID, SECRETS, testConfig } from '../../test/support/server-fakes.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(
    apps.splice(0).map((a) => {
      const closing = a.close();
      a.server.closeAllConnections();
      return closing;
    }),
  );
});

function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', destination: stream }) };
}

describe('secrets never leave the server', () => {
  it('keeps every token and password out of responses, SSE and logs', async () => {
    const { lines, logger } = captureLogs();
    const engine = new FakeEngine();
    const plex = new FakePlexSignIn();
    const jellyfin = new FakeJellyfinSignIn();
    const app = await buildApp({ engine, plexSignIn: plex, jellyfinSignIn: jellyfin, config: testConfig({ apiKey: SECRETS.apiKey, host: '0.0.0.0' }), logger });
    apps.push(app);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = base;
    const auth = { 'x-api-key': SECRETS.apiKey };
    const bodies: string[] = [];
    const send = async (init: InjectOptions) => {
      const res = await app.inject(init);
      bodies.push(res.body, JSON.stringify(res.headers));
      return res;
    };
    const host = new URL(base).host;
    const json = { 'content-type': 'application/json', host, origin };

    // SSE stream open throughout.
    const abort = new AbortController();
    const sse = await fetch(`${base}/api/events`, { headers: auth, signal: abort.signal });
    const sseReader = sse.body!.getReader();
    let sseText = '';
    const pump = (async () => {
      for (;;) {
        const { done, value } = await sseReader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return;
        sseText += new TextDecoder().decode(value);
      }
    })();

    // Plex sign-in and add.
    const pin = (await send({ method: 'POST', url: '/api/plex/pins', headers: { ...auth, host, origin } })).json();
    plex.authorize(pin.id);
    await send({ url: `/api/plex/pins/${pin.id}`, headers: { ...auth, host } });
    const plexSource = (await send({ method: 'POST', url: '/api/sources', headers: { ...json, ...auth }, payload: { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: pin.id } })).json();
    // Jellyfin: wrong password, right password, Quick Connect, sign in again.
    await send({ method: 'POST', url: '/api/sources', headers: { ...json, ...auth }, payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: `${SECRETS.jellyfinPassword}-wrong` } });
    const jf = (await send({ method: 'POST', url: '/api/sources', headers: { ...json, ...auth }, payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: SECRETS.jellyfinPassword } })).json();
    const qc = (await send({ method: 'POST', url: '/api/jellyfin/quickconnect', headers: { ...json, ...auth }, payload: { url: 'http://127.0.0.3:8096' } })).json();
    jellyfin.quickConnectAuthorized = true;
    await send({ url: `/api/jellyfin/quickconnect/${qc.handle}`, headers: { ...auth, host } });
    await send({ method: 'POST', url: `/api/sources/${jf.id}/signin`, headers: { ...json, ...auth }, payload: { username: 'alice', password: SECRETS.jellyfinPassword } });
    engine.setConnected(plexSource.id, 'local', 3);
    // Browser session: the key in a body, then a cookie.
    const login = await send({ method: 'POST', url: '/api/session', headers: json, payload: { apiKey: SECRETS.apiKey } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await send({ url: '/api/sources', headers: { cookie, host } });
    await send({ url: '/api/sources', headers: { cookie: `marquee_session=${SECRETS.apiKey}`, host } });
    // Secrets in headers and query strings of requests that fail.
    await send({ url: `/api/nothing?X-Plex-Token=${SECRETS.plexServerToken}&api_key=${SECRETS.apiKey}`, headers: { ...auth, host, 'x-plex-token': SECRETS.plexServerToken } });
    await send({ url: '/api/sources', headers: { host, authorization: `Bearer ${SECRETS.plexAccountToken}` } });
    await send({ method: 'POST', url: '/api/jellyfin/probe', headers: { ...json, ...auth }, payload: { url: `http://bob:${SECRETS.jellyfinPassword}@unreachable.test` } });
    // An internal error whose message and attached request config carry tokens.
    jellyfin.probe = async () => {
      const err = new Error(`upstream failed for http://127.0.0.3:8096/System/Info?api_key=${SECRETS.jellyfinToken}`) as Error & { config?: unknown };
      err.config = { headers: { 'X-Emby-Authorization': `MediaBrowser Token="${SECRETS.jellyfinToken}"` } };
      throw err;
    };
    const internal = await send({ method: 'POST', url: '/api/jellyfin/probe', headers: { ...json, ...auth }, payload: { url: 'http://127.0.0.3:8096' } });
    expect(internal.statusCode).toBe(500);
    // Structured fields logged by other code.
    logger.info({ credentials: { token: SECRETS.plexServerToken }, user: { password: SECRETS.jellyfinPassword }, headers: { 'x-plex-token': SECRETS.plexServerToken } }, 'structured');
    logger.warn(`plain message with X-Plex-Token=${SECRETS.plexServerToken}`);
    logger.debug({ params: { 'X-Plex-Token': SECRETS.plexServerToken }, body: { AccessToken: SECRETS.jellyfinToken, Pw: SECRETS.jellyfinPassword } }, 'upstream call');

    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await pump;

    const logs = lines.join('');
    // The test would be vacuous without logs of these requests.
    expect(logs).toContain('"msg":"request"');
    expect(logs).toContain('request failed');
    expect(logs).toContain('[redacted]');
    expect(sseText).toContain('event: snapshot');
    expect(sseText).toContain('ConnectionChanged');
    expect(engine.getCredentials(plexSource.id)?.token).toBe(SECRETS.plexServerToken);

    const everything = { logs, responses: bodies.join('\n'), sse: sseText };
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const [where, text] of Object.entries(everything)) {
        expect(text.includes(secret), `${name} leaked into ${where}`).toBe(false);
      }
    }
  });

  it('scrubs secrets hidden in free text', () => {
    expect(scrubSecrets('GET /library?X-Plex-Token=abc&x=1')).toBe('GET /library?X-Plex-Token=[redacted]&x=1');
    expect(scrubSecrets('MediaBrowser Client="x", Token="abc"')).toBe('MediaBrowser Client="x", Token="[redacted]"');
    expect(scrubSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(scrubSecrets('http://user:pw@host/')).toBe('http://[redacted]@host/');
    expect(scrubSecrets('x-api-key: abc123')).toBe('x-api-key: [redacted]');
    expect(redactRequestUrl('/api/jellyfin/probe?url=http%3A%2F%2Fbob%3Apw%40host&pw=1')).toBe(
      '/api/jellyfin/probe?url=http%3A%2F%2F%5Bredacted%5D%40host&pw=%5Bredacted%5D',
    );
  });
});
