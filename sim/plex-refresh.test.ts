// plex.tv faults for routes and tokens that refresh (issue 13 §3): connections that change, a
// per-server token the owner rotates. Answers checked against the resources schema transcribed from
// PROTOCOLS §1.4 (plex.tv is not in the Plex OpenAPI document).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';
import { OpenApiValidator, PLEX_SPEC } from './openapi-validator.js';
import { PLEX_HEADERS } from './test-fixtures.js';

const spec = new OpenApiValidator(PLEX_SPEC);
const ajv = new Ajv({ strict: false });
const validateResources = ajv.compile({
  type: 'array',
  items: {
    type: 'object',
    required: ['clientIdentifier', 'accessToken', 'connections'],
    properties: {
      accessToken: { type: 'string' },
      connections: {
        type: 'array',
        items: {
          type: 'object',
          required: ['protocol', 'address', 'port', 'uri', 'local', 'relay', 'IPv6'],
          properties: { protocol: { enum: ['http', 'https'] }, port: { type: 'integer' }, uri: { type: 'string' }, local: { type: 'boolean' }, relay: { type: 'boolean' }, IPv6: { type: 'boolean' } },
        },
      },
    },
  },
});

let sim: Simulation | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(): Promise<Simulation> {
  sim = await createSimulation({
    plexTv: { accounts: [{ username: 'demo' }] },
    servers: [
      {
        id: 'p',
        kind: 'plex',
        name: 'P',
        routes: [
          { id: 'p-local', kind: 'local', host: '127.0.0.2', port: 0 },
          { id: 'p-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
          { id: 'p-new', kind: 'remote', host: '127.0.0.4', port: 0, listed: false },
        ],
      },
    ],
  });
  return sim;
}

async function resources(s: Simulation): Promise<{ accessToken: string; connections: { uri: string }[] }[]> {
  const res = await fetch(`${s.plexTvUrl}/api/v2/resources?includeHttps=1&includeRelay=1`, { headers: { ...PLEX_HEADERS, 'X-Plex-Token': s.plexTv.accountToken() } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { accessToken: string; connections: { uri: string }[] }[];
  expect(validateResources(body)).toBe(true);
  return body;
}

describe('plex.tv: connections and per-server tokens that change', () => {
  it('lists only the routes marked listed, and what the control API says from then on', async () => {
    const s = await start();
    const url = (id: string) => s.route(id).url;
    expect((await resources(s))[0]!.connections.map((c) => c.uri)).toEqual([url('p-local'), url('p-remote')]);
    // An unlisted route serves all the same (the address the server has, plex.tv does not know yet).
    const identity = await fetch(`${url('p-new')}/identity`, { headers: { accept: 'application/json' } });
    expect(spec.validate('/identity', 'get', 200, await identity.json()).valid).toBe(true);

    const changed = await fetch(`${s.controlUrl}/plex/servers/p/connections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ routes: ['p-local', 'p-new'] }) });
    expect(changed.status).toBe(200);
    expect((await resources(s))[0]!.connections.map((c) => c.uri)).toEqual([url('p-local'), url('p-new')]);
    const unknown = await fetch(`${s.controlUrl}/plex/servers/p/connections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ routes: ['nope'] }) });
    expect(unknown.status).toBe(404);
    s.plexTv.setConnections('p', null);
    expect((await resources(s))[0]!.connections.map((c) => c.uri)).toEqual([url('p-local'), url('p-remote')]);
  });

  it('a rotated per-server token: the old one gets 401 at the server, plex.tv hands out the new one, the account token still works', async () => {
    const s = await start();
    const local = s.route('p-local').url;
    const old = (await resources(s))[0]!.accessToken;
    const root = (token: string) => fetch(`${local}/`, { headers: { accept: 'application/json', 'X-Plex-Token': token } });
    const ok = await root(old);
    expect(ok.status).toBe(200);
    expect(spec.validate('/', 'get', 200, await ok.json()).valid).toBe(true);

    const rotated = await fetch(`${s.controlUrl}/plex/servers/p/rotate-token`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect((await root(old)).status).toBe(401);
    const fresh = (await resources(s))[0]!.accessToken;
    expect(fresh).not.toBe(old);
    expect(fresh).toBe(s.plexTv.serverToken('p'));
    expect((await root(fresh)).status).toBe(200);
    const user = await fetch(`${s.plexTvUrl}/api/v2/user`, { headers: { ...PLEX_HEADERS, 'X-Plex-Token': s.plexTv.accountToken() } });
    expect(user.status).toBe(200);
  });
});

// Transcribed from the Plex OpenAPI description ("Authenticating with Plex → JWT Authentication").
const validateNonce = ajv.compile({ type: 'object', required: ['nonce'], properties: { nonce: { type: 'string', minLength: 1 } } });
const validateToken = ajv.compile({ type: 'object', required: ['auth_token'], properties: { auth_token: { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' } } });
const validateErrors = ajv.compile({ type: 'object', required: ['errors'], properties: { errors: { type: 'array', minItems: 1, items: { type: 'object', required: ['code', 'message', 'status'] } } } });

describe('plex.tv JWT sign-in: device key, nonce, device-signed JWT, 7-day token, 498 once expired', () => {
  const CLIENT = 'jwt-test-device';
  const headers = (extra: Record<string, string> = {}) => ({ ...PLEX_HEADERS, 'X-Plex-Client-Identifier': CLIENT, 'content-type': 'application/json', ...extra });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const deviceJwt = (key: KeyObject, claims: Record<string, unknown>) => {
    const head = b64({ alg: 'EdDSA', typ: 'JWT' });
    const body = b64(claims);
    return `${head}.${body}.${sign(null, Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
  };
  const claims = (nonce: string) => ({ nonce, scope: 'username,email,friendly_name', aud: 'plex.tv', iss: CLIENT, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 });

  it('registers the key with a token, verifies the Ed25519 signature with it, and hands out an expiring JWT', async () => {
    const s = await start();
    const tv = s.plexTvUrl;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'EdDSA' };
    const nonce = async () => {
      const res = await fetch(`${tv}/api/v2/auth/nonce`, { headers: headers() });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { nonce: string };
      expect(validateNonce(body)).toBe(true);
      return body.nonce;
    };
    const exchange = (jwt: string) => fetch(`${tv}/api/v2/auth/token`, { method: 'POST', headers: headers(), body: JSON.stringify({ jwt }) });

    // Before registration, a signed JWT proves nothing.
    expect((await exchange(deviceJwt(privateKey, claims(await nonce())))).status).toBe(422);
    // Registration needs a valid token.
    expect((await fetch(`${tv}/api/v2/auth/jwk`, { method: 'POST', headers: headers({ 'X-Plex-Token': 'bad-token-xxxxxx' }), body: JSON.stringify({ jwk }) })).status).toBe(401);
    expect((await fetch(`${tv}/api/v2/auth/jwk`, { method: 'POST', headers: headers({ 'X-Plex-Token': s.plexTv.accountToken() }), body: JSON.stringify({ jwk: { kty: 'RSA' } }) })).status).toBe(400);
    expect((await fetch(`${tv}/api/v2/auth/jwk`, { method: 'POST', headers: headers({ 'X-Plex-Token': s.plexTv.accountToken() }), body: JSON.stringify({ jwk }) })).status).toBe(204);
    expect(s.plexTv.jwtRegistration(CLIENT)).toBe('demo');
    // The same key for another device: thumbprint taken.
    const taken = await fetch(`${tv}/api/v2/auth/jwk`, { method: 'POST', headers: headers({ 'X-Plex-Token': s.plexTv.accountToken(), 'X-Plex-Client-Identifier': 'another-device' }), body: JSON.stringify({ jwk }) });
    expect(taken.status).toBe(422);
    expect(validateErrors(await taken.json())).toBe(true);

    // Signed by another key: signature verification fails. Wrong issuer: refused.
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect((await exchange(deviceJwt(stranger, claims(await nonce())))).status).toBe(422);
    expect((await exchange(deviceJwt(privateKey, { ...claims(await nonce()), iss: 'someone-else' }))).status).toBe(422);
    // A good one, once: the nonce cannot be replayed.
    const n = await nonce();
    const good = await exchange(deviceJwt(privateKey, claims(n)));
    expect(good.status).toBe(200);
    const { auth_token: token } = (await good.json()) as { auth_token: string };
    expect(validateToken({ auth_token: token })).toBe(true);
    expect((await exchange(deviceJwt(privateKey, claims(n)))).status).toBe(422);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(7 * 86_400);

    // The JWT is used like any token: plex.tv and the owner's server accept it.
    const user = await fetch(`${tv}/api/v2/user`, { headers: headers({ 'X-Plex-Token': token }) });
    expect(user.status).toBe(200);
    const local = s.route('p-local').url;
    expect((await fetch(`${local}/`, { headers: { accept: 'application/json', 'X-Plex-Token': token } })).status).toBe(200);
    // Past its expiry: 498 with plex.tv's error body, at plex.tv and at the server.
    const expired = await fetch(`${s.controlUrl}/plex/accounts/demo/expire-jwt`, { method: 'POST' });
    expect(expired.status).toBe(200);
    const late = await fetch(`${tv}/api/v2/resources`, { headers: headers({ 'X-Plex-Token': token }) });
    expect(late.status).toBe(498);
    expect(validateErrors(await late.json())).toBe(true);
    expect((await fetch(`${local}/`, { headers: { accept: 'application/json', 'X-Plex-Token': token } })).status).toBe(498);
    // A fresh nonce and device JWT give a new token (the refresh), no account token needed.
    const renewed = await exchange(deviceJwt(privateKey, claims(await nonce())));
    expect(renewed.status).toBe(200);
    expect((await fetch(`${tv}/api/v2/user`, { headers: headers({ 'X-Plex-Token': ((await renewed.json()) as { auth_token: string }).auth_token }) })).status).toBe(200);
  });
});
