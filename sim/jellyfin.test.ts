import { Jellyfin } from '@jellyfin/sdk';
import { getSystemApi } from '@jellyfin/sdk/lib/utils/api/system-api.js';
import { getUserViewApi } from '@jellyfin/sdk/lib/utils/api/user-view-api.js';
import { RecommendedServerInfoScore } from '@jellyfin/sdk/lib/models/recommended-server-info.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSimulation, parseSimConfig, type Simulation } from './index.js';
import { JELLYFIN_SPEC, OpenApiValidator } from './openapi-validator.js';
import { mediaBrowser, smallConfig } from './test-fixtures.js';

const spec = new OpenApiValidator(JELLYFIN_SPEC);
let sim: Simulation;
let base: string;

beforeAll(async () => {
  sim = await createSimulation(smallConfig());
  base = sim.servers.find((s) => s.id === 'jf')!.routes[0]!.url;
});
afterAll(() => sim.close());

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, headers: res.headers, body: type.includes('json') && text ? JSON.parse(text) : undefined };
}

async function signIn(deviceId = 'device-1', username = 'demo', password = 'secret pw') {
  const res = await call('/Users/AuthenticateByName', {
    method: 'POST',
    headers: { Authorization: mediaBrowser({ deviceId }), 'Content-Type': 'application/json' },
    body: JSON.stringify({ Username: username, Pw: password }),
  });
  expect(res.status).toBe(200);
  return res.body as { AccessToken: string; User: { Id: string }; ServerId: string };
}

function openSocket(token: string, route = base) {
  const ws = new WebSocket(`${route.replace('http', 'ws')}/socket?ApiKey=${token}&deviceId=device-1`);
  const messages: { MessageType: string; Data?: unknown }[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    messages.push(JSON.parse((d as Buffer).toString()));
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (type: string, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = messages.findIndex((m) => m.MessageType === type);
      if (i >= 0) return messages.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  return { ws, next, closed, opened: new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)))) };
}

describe('Jellyfin: anonymous endpoints', () => {
  it('serves /System/Info/Public, /System/Ping and /health as the spec says', async () => {
    const info = await call('/System/Info/Public');
    expect(info.status).toBe(200);
    expectValid(spec.validate('/System/Info/Public', 'get', 200, info.body));
    expect(info.body).toEqual({ LocalAddress: base, ServerName: 'Home Jellyfin', Version: '10.11.3', ProductName: 'Jellyfin Server', OperatingSystem: '', Id: sim.servers[2]!.machineId, StartupWizardCompleted: true });
    expect(info.body.Id).toMatch(/^[0-9a-f]{32}$/);
    const ping = await call('/System/Ping');
    expectValid(spec.validate('/System/Ping', 'get', 200, ping.body));
    expect(ping.body).toBe('Jellyfin Server');
    expect((await call('/system/ping', { method: 'POST' })).body).toBe('Jellyfin Server');
    expect((await call('/health')).text).toBe('Healthy');
    const qc = await call('/QuickConnect/Enabled');
    expectValid(spec.validate('/QuickConnect/Enabled', 'get', 200, qc.body));
    expect(qc.body).toBe(true);
  });

  it('reports the LocalAddress it is told to (another server, a link-local URL), else the route asked', async () => {
    const jf = sim.jellyfin('jf');
    const token = jf.issueToken();
    const infoWith = async () => {
      const pub = (await call('/System/Info/Public')).body as { LocalAddress: string };
      const full = (await call('/System/Info', { headers: { Authorization: mediaBrowser({ token }) } })).body as { LocalAddress: string };
      return [pub.LocalAddress, full.LocalAddress];
    };
    try {
      jf.setLocalAddress('http://169.254.169.254:8096');
      expect(await infoWith()).toEqual(['http://169.254.169.254:8096', 'http://169.254.169.254:8096']);
    } finally {
      jf.setLocalAddress(undefined);
    }
    expect(await infoWith()).toEqual([base, base]);
  });

  it('takes LocalAddress from the config', async () => {
    const config = smallConfig();
    const jfConfig = config.servers!.find((s) => s.kind === 'jellyfin' && s.id === 'jf');
    if (jfConfig?.kind !== 'jellyfin') throw new Error('fixture has no Jellyfin server jf');
    const other = await createSimulation({ ...config, servers: [{ ...jfConfig, localAddress: 'http://127.0.0.9:18096' }] });
    try {
      const res = await fetch(`${other.servers[0]!.routes[0]!.url}/System/Info/Public`);
      expect(((await res.json()) as { LocalAddress: string }).LocalAddress).toBe('http://127.0.0.9:18096');
    } finally {
      await other.close();
    }
    expect(() => parseSimConfig({ servers: [{ ...jfConfig, localAddress: 'ftp://x' }] })).toThrow();
  });
});

describe('Jellyfin: sign-in and tokens', () => {
  it('signs in by name with an AuthenticationResult valid against the spec', async () => {
    const res = await call('/Users/AuthenticateByName', {
      method: 'POST',
      headers: { Authorization: mediaBrowser({ deviceId: 'spec-check' }), 'Content-Type': 'application/json' },
      body: JSON.stringify({ Username: 'demo', Pw: 'secret pw' }),
    });
    expect(res.status).toBe(200);
    expectValid(spec.validate('/Users/AuthenticateByName', 'post', 200, res.body));
    expect(res.body.AccessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body.ServerId).toBe(sim.servers[2]!.machineId);
    expect(res.body.SessionInfo.DeviceId).toBe('spec-check');
    expect(res.text).not.toContain('null');
  });

  it('rejects a wrong password with 401 and a missing device header with 400, both "Error processing request."', async () => {
    const wrong = await call('/Users/AuthenticateByName', { method: 'POST', headers: { Authorization: mediaBrowser(), 'Content-Type': 'application/json' }, body: JSON.stringify({ Username: 'demo', Pw: 'nope' }) });
    expect([wrong.status, wrong.text, wrong.type]).toEqual([401, 'Error processing request.', 'text/plain; charset=utf-8']);
    const noHeader = await call('/Users/AuthenticateByName', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Username: 'demo', Pw: 'secret pw' }) });
    expect([noHeader.status, noHeader.text]).toEqual([400, 'Error processing request.']);
  });

  it('parses the Authorization header like the server: any scheme case, optional quotes, URL-encoded values', async () => {
    const { AccessToken } = await signIn('parse-check');
    for (const header of [`mediabrowser Token=${AccessToken}`, `MEDIABROWSER Client=x, Token="${AccessToken}"`, `MediaBrowser Device="A%20B", Token="${encodeURIComponent(AccessToken)}"`]) {
      expect((await call('/Users/Me', { headers: { Authorization: header } })).status).toBe(200);
    }
    expect((await call(`/Users/Me?ApiKey=${AccessToken}`)).status).toBe(200);
    expect((await call('/Users/Me', { headers: { Authorization: `Bearer ${AccessToken}` } })).status).toBe(401);
    // Legacy forms are ignored by default (12.0 behaviour).
    expect((await call('/Users/Me', { headers: { 'X-Emby-Token': AccessToken } })).status).toBe(401);
    expect((await call(`/Users/Me?api_key=${AccessToken}`)).status).toBe(401);
    expect((await call('/Users/Me', { headers: { 'X-Emby-Authorization': `MediaBrowser Token="${AccessToken}"` } })).status).toBe(401);
    expect((await call('/Users/Me', { headers: { Authorization: `Emby Token="${AccessToken}"` } })).status).toBe(401);
  });

  it('accepts the legacy forms when legacyAuth is on', async () => {
    const legacy = await createSimulation({ servers: [{ id: 'old', kind: 'jellyfin', name: 'Old', legacyAuth: true, routes: [{ id: 'old1', kind: 'local', host: '127.0.0.8', port: 0 }] }] });
    try {
      const url = legacy.servers[0]!.routes[0]!.url;
      const token = legacy.jellyfin('old').issueToken();
      for (const init of <RequestInit[]>[{ headers: { 'X-Emby-Token': token } }, { headers: { 'X-Emby-Authorization': `MediaBrowser Token="${token}"` } }, { headers: { Authorization: `Emby Token="${token}"` } }]) {
        expect((await fetch(`${url}/Users/Me`, init)).status).toBe(200);
      }
      expect((await fetch(`${url}/Users/Me?api_key=${token}`)).status).toBe(200);
    } finally {
      await legacy.close();
    }
  });

  it('serves /System/Info, /Users/Me, /UserViews and /Users/{id}/Views, valid against the spec; 401 with an empty body without a token', async () => {
    const { AccessToken, User } = await signIn('views-check');
    const auth = { headers: { Authorization: mediaBrowser({ token: AccessToken, deviceId: 'views-check' }) } };
    const info = await call('/System/Info', auth);
    expectValid(spec.validate('/System/Info', 'get', 200, info.body));
    expect(info.body.Id).toBe(sim.servers[2]!.machineId);
    const me = await call('/Users/Me', auth);
    expectValid(spec.validate('/Users/Me', 'get', 200, me.body));
    expect(me.body.Id).toBe(User.Id);
    const views = await call('/UserViews', auth);
    expectValid(spec.validate('/UserViews', 'get', 200, views.body));
    expect(views.body.Items.map((i: { Name: string; CollectionType?: string }) => [i.Name, i.CollectionType])).toEqual([['Movies', 'movies'], ['Mixed', undefined]]);
    expect(views.body.Items[1]).not.toHaveProperty('CollectionType');
    const legacyViews = await call(`/Users/${User.Id}/Views`, auth);
    expectValid(spec.validateComponent('BaseItemDtoQueryResult', legacyViews.body));
    expect(legacyViews.body.TotalRecordCount).toBe(2);
    for (const path of ['/System/Info', '/Users/Me', '/UserViews']) {
      const res = await call(path);
      expect([res.status, res.text]).toEqual([401, '']);
    }
  });

  it('revokes the old token when the same DeviceId signs in again, closing its socket with 1000', async () => {
    const first = await signIn('relogin');
    const socket = openSocket(first.AccessToken);
    await socket.opened;
    const second = await signIn('relogin');
    expect((await socket.closed).code).toBe(1000);
    expect((await call(`/Users/Me?ApiKey=${first.AccessToken}`)).status).toBe(401);
    expect((await call(`/Users/Me?ApiKey=${second.AccessToken}`)).status).toBe(200);
  });

  it('logs out with 204, revoking the token and closing its socket with 1000', async () => {
    const { AccessToken } = await signIn('logout');
    const socket = openSocket(AccessToken);
    await socket.opened;
    const res = await call('/Sessions/Logout', { method: 'POST', headers: { Authorization: mediaBrowser({ token: AccessToken, deviceId: 'logout' }) } });
    expect(res.status).toBe(204);
    expect((await socket.closed).code).toBe(1000);
    expect((await call(`/Users/Me?ApiKey=${AccessToken}`)).status).toBe(401);
  });
});

describe('Jellyfin: token revocation by an administrator or the control API', () => {
  it('DELETE /Devices?id= (admin) ends that device session; revokeToken does the same for one token', async () => {
    const victim = await signIn('to-remove', 'kid', 'kid');
    const socket = openSocket(victim.AccessToken);
    await socket.opened;
    const kid = await signIn('kid-self', 'kid', 'kid');
    expect((await call('/Devices?id=to-remove', { method: 'DELETE', headers: { Authorization: mediaBrowser({ token: kid.AccessToken, deviceId: 'kid-self' }) } })).status).toBe(403);
    const admin = await signIn('admin-device');
    const res = await call('/Devices?id=to-remove', { method: 'DELETE', headers: { Authorization: mediaBrowser({ token: admin.AccessToken, deviceId: 'admin-device' }) } });
    expect(res.status).toBe(204);
    expect((await socket.closed).code).toBe(1000);
    expect((await call(`/Users/Me?ApiKey=${victim.AccessToken}`)).status).toBe(401);

    expect(sim.jellyfin('jf').revokeToken(kid.AccessToken)).toBe(true);
    expect((await call(`/Users/Me?ApiKey=${kid.AccessToken}`)).status).toBe(401);
  });
});

describe('Jellyfin: Quick Connect', () => {
  it('initiates (400 without the device header), polls, is approved and signs in', async () => {
    expect((await call('/QuickConnect/Initiate', { method: 'POST' })).status).toBe(400);
    const init = await call('/QuickConnect/Initiate', { method: 'POST', headers: { Authorization: mediaBrowser({ deviceId: 'qc-device' }) } });
    expect(init.status).toBe(200);
    expectValid(spec.validate('/QuickConnect/Initiate', 'post', 200, init.body));
    expect(init.body.Code).toMatch(/^\d{6}$/);
    expect(init.body.Secret).toMatch(/^[0-9A-F]{64}$/);
    expect(init.body.Authenticated).toBe(false);

    const poll = () => call(`/QuickConnect/Connect?secret=${init.body.Secret}`);
    const pending = await poll();
    expectValid(spec.validate('/QuickConnect/Connect', 'get', 200, pending.body));
    expect(pending.body.Authenticated).toBe(false);
    const early = await call('/Users/AuthenticateWithQuickConnect', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Secret: init.body.Secret }) });
    expect(early.status).toBe(404);

    sim.jellyfin('jf').approveQuickConnect(init.body.Code, 'kid');
    expect((await poll()).body.Authenticated).toBe(true);
    const auth = await call('/Users/AuthenticateWithQuickConnect', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Secret: init.body.Secret }) });
    expect(auth.status).toBe(200);
    expectValid(spec.validate('/Users/AuthenticateWithQuickConnect', 'post', 200, auth.body));
    expect(auth.body.User.Name).toBe('kid');
    expect((await call(`/Users/Me?ApiKey=${auth.body.AccessToken}`)).body.Name).toBe('kid');

    const unknown = await call('/QuickConnect/Connect?secret=' + 'A'.repeat(64));
    expect(unknown.status).toBe(404);
    expectValid(spec.validate('/QuickConnect/Connect', 'get', 404, unknown.body));
    expect((await call('/Users/AuthenticateWithQuickConnect', { method: 'POST' })).status).toBe(400);
  });

  it('lets a signed-in client authorize a code over HTTP', async () => {
    const init = await call('/QuickConnect/Initiate', { method: 'POST', headers: { Authorization: mediaBrowser({ deviceId: 'qc-2' }) } });
    const { AccessToken } = await signIn('qc-approver');
    const res = await call(`/QuickConnect/Authorize?code=${init.body.Code}`, { method: 'POST', headers: { Authorization: mediaBrowser({ token: AccessToken, deviceId: 'qc-approver' }) } });
    expect([res.status, res.body]).toEqual([200, true]);
    expectValid(spec.validate('/QuickConnect/Authorize', 'post', 200, res.body));
    expect((await call(`/QuickConnect/Authorize?code=000000x`, { method: 'POST', headers: { Authorization: mediaBrowser({ token: AccessToken, deviceId: 'qc-approver' }) } })).status).toBe(404);
  });
});

describe('Jellyfin: WebSocket', () => {
  it('sends ForceKeepAlive on connect, replies to KeepAlive, and refuses a bad token with 403', async () => {
    const { AccessToken } = await signIn('ws-1');
    const socket = openSocket(AccessToken);
    await socket.opened;
    const force = await socket.next('ForceKeepAlive');
    expect(force.Data).toBe(3); // 60 s x scale 0.05
    expectValid(spec.validateComponent('ForceKeepAliveMessage', force));
    expect(force).toHaveProperty('MessageId', expect.stringMatching(/^[0-9a-f]{32}$/));
    socket.ws.send(JSON.stringify({ MessageType: 'KeepAlive' }));
    expectValid(spec.validateComponent('OutboundKeepAliveMessage', await socket.next('KeepAlive')));
    expect(sim.server('jf').notify('LibraryChanged')).toBeGreaterThanOrEqual(1);
    const changed = await socket.next('LibraryChanged');
    expect(changed.Data).toHaveProperty('ItemsAdded');
    expectValid(spec.validateComponent('LibraryChangedMessage', changed));
    socket.ws.close();
    await socket.closed;

    const bad = new WebSocket(`${base.replace('http', 'ws')}/socket?ApiKey=${'0'.repeat(32)}`);
    bad.on('error', () => {});
    const rejected = await new Promise<{ status: number; type: string }>((resolve) =>
      bad.once('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
        req.destroy();
      }),
    );
    expect(rejected.status).toBe(403);
    expect(rejected.type).toContain('text/plain');
  });

  it('resends ForceKeepAlive to a quiet client and aborts a silent one without a close frame (scaled timers)', async () => {
    const { AccessToken } = await signIn('ws-silent');
    const socket = openSocket(AccessToken);
    await socket.opened;
    await socket.next('ForceKeepAlive');
    const started = Date.now();
    await socket.next('ForceKeepAlive', 5000); // resent after ~45 s x 0.05
    const { code } = await socket.closed; // aborted after ~60 s x 0.05
    expect(code).toBe(1006);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(1500);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('keeps a client that sends KeepAlive', async () => {
    const { AccessToken } = await signIn('ws-alive');
    const socket = openSocket(AccessToken);
    await socket.opened;
    const timer = setInterval(() => socket.ws.send(JSON.stringify({ MessageType: 'KeepAlive' })), 500);
    await new Promise((r) => setTimeout(r, 4500));
    clearInterval(timer);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
    await socket.closed;
  });
});

describe('Jellyfin: startup mode', () => {
  it('answers 503 + Retry-After while starting, except the anonymous checks', async () => {
    sim.jellyfin('jf').setStartup(true);
    try {
      const info = await call('/System/Info/Public');
      expect(info.status).toBe(200);
      expect(info.body.StartupWizardCompleted).toBe(false);
      expect((await call('/health')).status).toBe(200);
      const users = await call('/Users/Me');
      expect(users.status).toBe(503);
      expect(spec.documentsStatus('/Users/Me', 'get', 503)).toBe(true);
      expect(users.type).toContain('text/html');
      expect(users.headers.get('retry-after')).toBe('5');
    } finally {
      sim.jellyfin('jf').setStartup(false);
    }
  });
});

describe('@jellyfin/sdk against the simulator', () => {
  const jellyfin = new Jellyfin({ clientInfo: { name: 'Marquee Test', version: '1.0.0' }, deviceInfo: { name: 'Vitest', id: 'sdk-device' } });

  it('gets public info, signs in by name and lists user views', async () => {
    const api = jellyfin.createApi(base);
    const info = await getSystemApi(api).getPublicSystemInfo();
    expect(info.data.Id).toBe(sim.servers[2]!.machineId);
    const auth = await api.authenticateUserByName('demo', 'secret pw');
    expect(auth.data.AccessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(api.accessToken).toBe(auth.data.AccessToken);
    const views = await getUserViewApi(api).getUserViews();
    expect(views.data.Items?.map((i) => i.Name)).toEqual(['Movies', 'Mixed']);
  });

  it('discovers the server through getRecommendedServerCandidates', async () => {
    const candidates = await jellyfin.discovery.getRecommendedServerCandidates(base);
    const best = jellyfin.discovery.findBestServer(candidates);
    expect(best?.address.replace(/\/$/, '')).toBe(base);
    expect(best?.score).toBeGreaterThanOrEqual(RecommendedServerInfoScore.GOOD);
    expect(best?.systemInfo?.Id).toBe(sim.servers[2]!.machineId);
  });
});
