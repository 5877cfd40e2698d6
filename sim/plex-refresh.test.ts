// plex.tv faults for routes and tokens that refresh (issue 13 §3): connections that change, a
// per-server token the owner rotates. Answers checked against the resources schema transcribed from
// PROTOCOLS §1.4 (plex.tv is not in the Plex OpenAPI document).
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
