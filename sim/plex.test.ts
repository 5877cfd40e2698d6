import { XMLParser } from 'fast-xml-parser';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSimulation, type Simulation } from './index.js';
import { OpenApiValidator, PLEX_SPEC } from './openapi-validator.js';
import { PLEX_HEADERS, smallConfig } from './test-fixtures.js';

const spec = new OpenApiValidator(PLEX_SPEC);
let sim: Simulation;
let local: string;
let friendUrl: string;

beforeAll(async () => {
  sim = await createSimulation(smallConfig());
  local = sim.servers.find((s) => s.id === 'plex-a')!.routes[0]!.url;
  friendUrl = sim.servers.find((s) => s.id === 'plex-b')!.routes[0]!.url;
});
afterAll(() => sim.close());

async function getJson(url: string, headers: Record<string, string> = PLEX_HEADERS) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type') ?? '', text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('Plex Media Server', () => {
  it('serves /identity without a token, valid against the spec, with the 40-hex machineIdentifier', async () => {
    const res = await getJson(`${local}/identity`);
    expect(res.status).toBe(200);
    expectValid(spec.validate('/identity', 'get', 200, res.body));
    expect(res.body.MediaContainer.machineIdentifier).toBe(sim.servers[0]!.machineId);
    expect(res.body.MediaContainer.machineIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });

  it('answers XML unless Accept asks for JSON, booleans as 1/0', async () => {
    const res = await fetch(`${local}/identity`);
    expect(res.headers.get('content-type')).toContain('xml');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await res.text());
    expect(doc.MediaContainer).toMatchObject({ size: '0', claimed: '1', machineIdentifier: sim.servers[0]!.machineId });
  });

  it('accepts the token as header or query on / and /library/sections[/all]; every body matches the spec', async () => {
    const token = sim.plexTv.accountToken('demo');
    const root = await getJson(`${local}/`, { ...PLEX_HEADERS, 'X-Plex-Token': token });
    expect(root.status).toBe(200);
    expectValid(spec.validate('/', 'get', 200, root.body));
    expect(root.body.MediaContainer.friendlyName).toBe('Living-room Plex');
    for (const path of ['/library/sections', '/library/sections/all']) {
      const res = await getJson(`${local}${path}?X-Plex-Token=${token}`);
      expect(res.status).toBe(200);
      expectValid(spec.validate('/library/sections/all', 'get', 200, res.body));
      expect(res.body.MediaContainer.Directory.map((d: { title: string }) => d.title)).toEqual(['Movies', 'TV Shows']);
      expect(res.body.MediaContainer.Directory[0]).toMatchObject({ key: '1', type: 'movie', Location: [{ id: 1, path: '/data/Movies' }] });
      expect(res.headers.get('x-plex-container-total-size')).toBe('2');
    }
    const xml = await fetch(`${local}/library/sections?X-Plex-Token=${token}`).then((r) => r.text());
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'Directory' }).parse(xml);
    expect(doc.MediaContainer.Directory).toHaveLength(2);
  });

  it('answers a missing or wrong token with 401 text/html and the real body', async () => {
    for (const url of [`${local}/`, `${local}/library/sections?X-Plex-Token=nope`]) {
      const res = await getJson(url);
      expect(res.status).toBe(401);
      expect(res.contentType).toContain('text/html');
      expect(res.text).toContain('<h1>401 Unauthorized</h1>');
    }
  });

  it('accepts a per-server accessToken only on its own server', async () => {
    const tokenA = sim.plexTv.serverToken('plex-a', 'demo');
    expect((await getJson(`${local}/?X-Plex-Token=${tokenA}`)).status).toBe(200);
    expect((await getJson(`${friendUrl}/?X-Plex-Token=${tokenA}`)).status).toBe(401);
  });

  it('can require a token on /identity', async () => {
    const strict = await createSimulation({
      plexTv: { accounts: [{ username: 'demo' }] },
      servers: [{ id: 'p', kind: 'plex', name: 'P', requireTokenForIdentity: true, routes: [{ id: 'p1', kind: 'local', host: '127.0.0.2', port: 0 }] }],
    });
    try {
      const url = strict.servers[0]!.routes[0]!.url;
      expect((await getJson(`${url}/identity`)).status).toBe(401);
      expect((await getJson(`${url}/identity?X-Plex-Token=${strict.plexTv.accountToken()}`)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('opens the notification WebSocket on both path spellings, answers pings and emits NotificationContainer frames', async () => {
    const token = sim.plexTv.accountToken('demo');
    for (const path of ['/:/websockets/notifications', '/:/websocket/notifications']) {
      const ws = new WebSocket(`${local.replace('http', 'ws')}${path}?X-Plex-Token=${token}`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const pong = new Promise((resolve) => ws.once('pong', resolve));
      ws.ping('hi');
      await pong;
      const frame = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
      expect(sim.server('plex-a').notify('timeline')).toBeGreaterThanOrEqual(1);
      const parsed = JSON.parse(await frame);
      expect(parsed.NotificationContainer).toMatchObject({ type: 'timeline', size: 1 });
      expect(parsed.NotificationContainer.TimelineEntry[0]).toHaveProperty('state');
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await closed;
    }
  });

  it('refuses a WebSocket upgrade with a bad token with 401', async () => {
    const ws = new WebSocket(`${local.replace('http', 'ws')}/:/websockets/notifications?X-Plex-Token=bad`);
    ws.on('error', () => {});
    const status = await new Promise<number>((resolve) =>
      ws.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      }),
    );
    expect(status).toBe(401);
  });
});

// plex.tv is not covered by the PMS OpenAPI document: these schemas transcribe PROTOCOLS.md §1.
const ajv = new Ajv({ allErrors: true });
const pinSchema = {
  type: 'object',
  required: ['id', 'code', 'product', 'trusted', 'qr', 'clientIdentifier', 'location', 'expiresIn', 'createdAt', 'expiresAt', 'authToken', 'newRegistration'],
  properties: {
    id: { type: 'integer' },
    code: { type: 'string' },
    trusted: { type: 'boolean' },
    expiresIn: { type: 'integer' },
    createdAt: { type: 'string', pattern: 'Z$' },
    expiresAt: { type: 'string', pattern: 'Z$' },
    authToken: { type: ['string', 'null'] },
    location: { type: 'object' },
  },
};
const connectionSchema = {
  type: 'object',
  required: ['protocol', 'address', 'port', 'uri', 'local', 'relay', 'IPv6'],
  properties: { protocol: { enum: ['http', 'https'] }, address: { type: 'string' }, port: { type: 'integer' }, uri: { type: 'string', pattern: '^https?://' }, local: { type: 'boolean' }, relay: { type: 'boolean' }, IPv6: { type: 'boolean' } },
};
const resourcesSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'product', 'productVersion', 'platform', 'clientIdentifier', 'createdAt', 'lastSeenAt', 'provides', 'ownerId', 'accessToken', 'owned', 'home', 'relay', 'presence', 'httpsRequired', 'publicAddressMatches', 'connections'],
    properties: { clientIdentifier: { type: 'string', pattern: '^[0-9a-f]{40}$' }, ownerId: { type: ['integer', 'null'] }, accessToken: { type: 'string' }, connections: { type: 'array', items: connectionSchema } },
  },
};
const validatePin = ajv.compile(pinSchema);
const validateResources = ajv.compile(resourcesSchema);

describe('plex.tv', () => {
  it('creates plain and strong PINs, requires Client-Identifier and Product, and hands out a token once approved', async () => {
    const plain = await fetch(`${sim.plexTvUrl}/api/v2/pins`, { method: 'POST', headers: PLEX_HEADERS });
    expect(plain.status).toBe(201);
    const pin = (await plain.json()) as { id: number; code: string; expiresIn: number; authToken: string | null };
    expect(validatePin(pin)).toBe(true);
    expect(pin.code).toMatch(/^[A-Z0-9]{4}$/);
    // expiresIn counts down from 900 s; a loaded machine may answer in the next second.
    expect(pin.expiresIn).toBeGreaterThanOrEqual(899);
    expect(pin.expiresIn).toBeLessThanOrEqual(900);
    expect(pin.authToken).toBeNull();

    const strong = await fetch(`${sim.plexTvUrl}/api/v2/pins?strong=true`, { method: 'POST', headers: PLEX_HEADERS }).then(async (r) => (await r.json()) as { id: number; code: string; expiresIn: number; authToken: string | null });
    expect(strong.code).toHaveLength(25);
    expect(strong.expiresIn).toBeGreaterThanOrEqual(1799);
    expect(strong.expiresIn).toBeLessThanOrEqual(1800);

    const { 'X-Plex-Product': _p, ...noProduct } = PLEX_HEADERS;
    const { 'X-Plex-Client-Identifier': _c, ...noClient } = PLEX_HEADERS;
    expect((await fetch(`${sim.plexTvUrl}/api/v2/pins`, { method: 'POST', headers: noProduct })).status).toBe(400);
    expect((await fetch(`${sim.plexTvUrl}/api/v2/pins`, { method: 'POST', headers: noClient })).status).toBe(400);

    const poll = () => fetch(`${sim.plexTvUrl}/api/v2/pins/${pin.id}`, { headers: PLEX_HEADERS }).then(async (r) => ({ status: r.status, body: (await r.json()) as { authToken: string | null } }));
    expect((await poll()).body.authToken).toBeNull();
    sim.plexTv.approvePin(pin.id);
    const claimed = await poll();
    expect(claimed.status).toBe(200);
    expect(claimed.body.authToken).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(claimed.body.authToken).toBe(sim.plexTv.accountToken('demo'));
    // Another client asking for the PIN learns nothing.
    const other = await fetch(`${sim.plexTvUrl}/api/v2/pins/${pin.id}`, { headers: { ...PLEX_HEADERS, 'X-Plex-Client-Identifier': 'someone-else' } });
    expect(other.status).toBe(404);
    sim.plexTv.expirePin(pin.id);
    expect((await poll()).status).toBe(404);
  });

  it('approves a PIN after a delay, and a plex.tv sign-out revokes the account tokens', async () => {
    const pin = (await (await fetch(`${sim.plexTvUrl}/api/v2/pins`, { method: 'POST', headers: PLEX_HEADERS })).json()) as { id: number; code: string; expiresIn: number; authToken: string | null };
    sim.plexTv.approvePin(pin.id, 'friend', 300);
    const poll = async () => ((await (await fetch(`${sim.plexTvUrl}/api/v2/pins/${pin.id}`, { headers: PLEX_HEADERS })).json()) as { id: number; code: string; expiresIn: number; authToken: string | null }).authToken;
    expect(await poll()).toBeNull();
    await new Promise((r) => setTimeout(r, 450));
    const friendToken = await poll();
    expect(friendToken).toBe(sim.plexTv.accountToken('friend'));
    expect((await getJson(`${sim.plexTvUrl}/api/v2/user?X-Plex-Token=${friendToken}`)).body.username).toBe('friend');
    const res = await fetch(`${sim.controlUrl}/plex/accounts/friend/revoke`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await getJson(`${sim.plexTvUrl}/api/v2/user?X-Plex-Token=${friendToken}`)).status).toBe(401);
    expect((await getJson(`${friendUrl}/?X-Plex-Token=${friendToken}`)).status).toBe(401);
  });

  it('checks tokens on /api/v2/user and /api/v2/ping with the real 401 body', async () => {
    const token = sim.plexTv.accountToken('demo');
    const ok = await getJson(`${sim.plexTvUrl}/api/v2/user`, { ...PLEX_HEADERS, 'X-Plex-Token': token });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ username: 'demo', authToken: token });
    expect((await getJson(`${sim.plexTvUrl}/api/v2/ping?X-Plex-Token=${token}`)).status).toBe(200);
    for (const path of ['/api/v2/user', '/api/v2/ping']) {
      const bad = await getJson(`${sim.plexTvUrl}${path}`, { ...PLEX_HEADERS, 'X-Plex-Token': 'invalid-token-xx' });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ errors: [{ code: 1001, message: 'User could not be authenticated', status: 401 }] });
    }
  });

  it('lists owned and shared servers with distinct accessTokens and honours includeRelay', async () => {
    const token = sim.plexTv.accountToken('demo');
    const withRelay = await getJson(`${sim.plexTvUrl}/api/v2/resources?includeHttps=1&includeRelay=1`, { ...PLEX_HEADERS, 'X-Plex-Token': token });
    expect(withRelay.status).toBe(200);
    expect(validateResources(withRelay.body)).toBe(true);
    const [own, shared] = withRelay.body;
    expect(own).toMatchObject({ name: 'Living-room Plex', owned: true, ownerId: null, presence: true, provides: 'server', clientIdentifier: sim.servers[0]!.machineId });
    expect(shared).toMatchObject({ name: "Friend's Plex", owned: false, sourceTitle: 'friend' });
    expect(shared.ownerId).toEqual(expect.any(Number));
    expect(own.accessToken).not.toBe(shared.accessToken);
    expect(own.connections.map((c: { local: boolean; relay: boolean }) => [c.local, c.relay])).toEqual([[true, false], [false, false], [false, true]]);
    expect(own.connections.map((c: { uri: string }) => c.uri)).toEqual(sim.servers[0]!.routes.map((r) => r.url));

    const noRelay = await getJson(`${sim.plexTvUrl}/api/v2/resources?includeHttps=1`, { ...PLEX_HEADERS, 'X-Plex-Token': token });
    expect(noRelay.body[0].connections.some((c: { relay: boolean }) => c.relay)).toBe(false);

    // The shared server accepts the accessToken plex.tv gave for it.
    expect((await getJson(`${friendUrl}/library/sections?X-Plex-Token=${shared.accessToken}`)).status).toBe(200);
    expect((await getJson(`${sim.plexTvUrl}/api/v2/resources`, { ...PLEX_HEADERS, 'X-Plex-Token': 'bad-token-xxxxx' })).status).toBe(401);
  });

  it('answers resources as XML without Accept json', async () => {
    const xml = await fetch(`${sim.plexTvUrl}/api/v2/resources?includeRelay=1&X-Plex-Token=${sim.plexTv.accountToken()}`).then((r) => r.text());
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'resource' || n === 'connection' }).parse(xml);
    expect(doc.resources.resource).toHaveLength(2);
    expect(doc.resources.resource[0].connections.connection[2]).toMatchObject({ relay: '1', local: '0' });
  });
});
