import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let child: ChildProcess;
let line: { control: string; plexTv: string; servers: { id: string; kind: string; name: string; machineId: string; routes: { id: string; url: string; kind: string }[] }[] };

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--config', 'sim/example.json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sim exited early with ${code}`)));
  });
  line = JSON.parse(first);
});
afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const post = (path: string, body: unknown) => fetch(`${line.control}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('npm run sim', () => {
  it('prints one JSON line with control, plexTv and every server with its route URLs', () => {
    expect(line.control).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.plexTv).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.servers.map((s) => [s.id, s.kind, s.routes.map((r) => r.kind)])).toEqual([
      ['living-room', 'plex', ['local', 'remote', 'relay']],
      ['friends-plex', 'plex', ['remote']],
      ['jellyfin-home', 'jellyfin', ['local', 'remote']],
    ]);
    expect(line.servers[0]!.name).toBe('Living-room Plex');
    for (const r of line.servers.flatMap((s) => s.routes)) expect(r.url).toMatch(/^http:\/\/127\.0\.0\.\d+:\d+$/);
  });

  it('drives route and server faults through the control API', async () => {
    const local = line.servers[0]!.routes[0]!;
    expect((await post(`/routes/${local.id}/fault`, { mode: 'refuse' })).status).toBe(200);
    await expect(fetch(`${local.url}/identity`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    const routes = (await (await fetch(`${line.control}/routes`)).json()) as { id: string; mode: string; listening: boolean }[];
    expect(routes.find((r) => r.id === local.id)).toMatchObject({ mode: 'refuse', listening: false });
    await post(`/routes/${local.id}/fault`, { mode: 'up' });
    expect((await fetch(`${local.url}/identity`)).status).toBe(200);
    expect((await post(`/routes/${local.id}/fault`, { mode: 'sideways' })).status).toBe(400);
    expect((await post('/routes/nope/fault', { mode: 'up' })).status).toBe(404);

    const jf = line.servers[2]!;
    expect((await post(`/servers/${jf.id}/fault`, { mode: 'stop' })).status).toBe(200);
    await expect(fetch(`${jf.routes[0]!.url}/System/Info/Public`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await post(`/servers/${jf.id}/fault`, { mode: 'up' });
    expect((await fetch(`${jf.routes[0]!.url}/System/Info/Public`)).status).toBe(200);
  });

  it('approves a Plex PIN and a Jellyfin Quick Connect code through the control API', async () => {
    const headers = { Accept: 'application/json', 'X-Plex-Client-Identifier': 'cli-test', 'X-Plex-Product': 'CLI test' };
    const pin = (await (await fetch(`${line.plexTv}/api/v2/pins`, { method: 'POST', headers })).json()) as { id: number };
    expect((await post(`/plex/pins/${pin.id}/approve`, {})).status).toBe(200);
    const polled = (await (await fetch(`${line.plexTv}/api/v2/pins/${pin.id}`, { headers })).json()) as { authToken: string };
    expect(polled.authToken).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect((await fetch(`${line.plexTv}/api/v2/user?X-Plex-Token=${polled.authToken}`, { headers })).status).toBe(200);

    const jfUrl = line.servers[2]!.routes[0]!.url;
    const auth = 'MediaBrowser Client="CLI", Device="Test", DeviceId="cli-qc", Version="1.0"';
    const qc = (await (await fetch(`${jfUrl}/QuickConnect/Initiate`, { method: 'POST', headers: { Authorization: auth } })).json()) as { Code: string; Secret: string };
    expect((await post(`/jellyfin/quickconnect/${qc.Code}/approve`, {})).status).toBe(200);
    const state = (await (await fetch(`${jfUrl}/QuickConnect/Connect?secret=${qc.Secret}`)).json()) as { Authenticated: boolean };
    expect(state.Authenticated).toBe(true);
    expect((await post('/jellyfin/quickconnect/999999x/approve', {})).status).toBe(404);
  });

  it('exits cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
