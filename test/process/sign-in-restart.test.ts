// Sign-ins in progress survive a restart (issue 13 item 4): a Plex PIN and a Jellyfin Quick Connect
// request are started against the simulators through a real `marquee serve`, the user approves
// both while Marquee is restarted on the same data dir, and the new process finishes both sign-ins
// and adds the two sources. No answer and no log line carries the secrets on the way.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiPlexPin, ApiPlexPinState, ApiQuickConnectStart, ApiQuickConnectState, ApiSource } from '../../src/api/types.js';
import { type AppProcess, startApp, startSimulator } from '../support/app-process.js';
import { Cleanup, simControl } from '../support/process-harness.js';
import { waitUntil } from '../support/wait.js';


describe('sign-ins in progress across a restart of `marquee serve`', () => {
  const cleanup = new Cleanup();
  const apps: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.kill9()));
    await cleanup.run();
  }, 30_000);

  it('finishes a Plex PIN and a Quick Connect request begun before the restart, and adds both sources', { timeout: 120_000 }, async () => {
    const work = cleanup.tempDir('marquee-signin-restart-');
    const dataDir = join(work, 'data');
    const { line } = await startSimulator(cleanup, work, {
        plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }] },
        control: { host: '127.0.0.1', port: 0 },
        servers: [
          { id: 'restart-plex', kind: 'plex', name: 'Restart Plex', owner: 'demo', routes: [{ id: 'restart-plex-local', kind: 'local', host: '127.0.0.61', port: 0 }] },
          {
            id: 'restart-jf',
            kind: 'jellyfin',
            name: 'Restart Jellyfin',
            users: [{ name: 'alice', password: 'pw-restart-7f2c', admin: true }],
            routes: [{ id: 'restart-jf-local', kind: 'local', host: '127.0.0.62', port: 0 }],
          },
        ],
      });
    const plexServer = line.servers.find((s) => s.id === 'restart-plex')!;
    const jellyfinServer = line.servers.find((s) => s.id === 'restart-jf')!;
    const env = { MARQUEE_PLEX_TV_URL: line.plexTv, LOG_LEVEL: 'debug' };
    const answers: string[] = [];
    const call = async <T>(app: AppProcess, method: string, path: string, body?: unknown) => {
      const res = await app.request<T>(method, path, body);
      answers.push(JSON.stringify(res.body));
      return res;
    };

    const first = await startApp({ dataDir, env, name: 'marquee serve (before)' }, (app) => apps.push(app));
    const pinRes = await call<ApiPlexPin>(first, 'POST', 'api/plex/pins');
    expect(pinRes.status).toBe(201);
    const pin = pinRes.body;
    const qcRes = await call<ApiQuickConnectStart>(first, 'POST', 'api/jellyfin/quickconnect', { url: jellyfinServer.routes[0]!.url });
    expect(qcRes.status).toBe(201);
    const qc = qcRes.body;
    expect((await call<ApiPlexPinState>(first, 'GET', `api/plex/pins/${pin.id}`)).body).toEqual({ state: 'pending' });
    expect((await call<ApiQuickConnectState>(first, 'GET', `api/jellyfin/quickconnect/${qc.handle}`)).body).toEqual({ state: 'pending' });
    expect((await first.stop()).code).toBe(0);

    // The user approves both on plex.tv and on the Jellyfin server while Marquee restarts.
    await simControl(line, 'POST', `/plex/pins/${pin.id}/approve`, {});
    await simControl(line, 'POST', `/jellyfin/quickconnect/${qc.code}/approve`, { username: 'alice' });

    const second = await startApp({ dataDir, env, name: 'marquee serve (after)' }, (app) => apps.push(app));
    const plexState = await waitUntil(
      async () => {
        const res = await call<ApiPlexPinState>(second, 'GET', `api/plex/pins/${pin.id}`);
        expect(res.status, 'the PIN is still known after the restart').toBe(200);
        return res.body.state === 'authorized' ? res.body : undefined;
      },
      { what: 'the Plex PIN to be authorized after the restart', timeoutMs: 20_000 },
    );
    expect(plexState.state === 'authorized' && plexState.servers.map((s) => s.serverId)).toEqual([plexServer.machineId]);
    const plexAdded = await call<ApiSource>(second, 'POST', 'api/sources', { kind: 'plex', pinId: pin.id, serverId: plexServer.machineId });
    expect(plexAdded.status).toBe(201);

    const qcState = await waitUntil(
      async () => {
        const res = await call<ApiQuickConnectState>(second, 'GET', `api/jellyfin/quickconnect/${qc.handle}`);
        expect(res.status, 'the Quick Connect request is still known after the restart').toBe(200);
        return res.body.state === 'authorized' ? res.body : undefined;
      },
      { what: 'Quick Connect to be authorized after the restart', timeoutMs: 20_000 },
    );
    expect(qcState).toMatchObject({ state: 'authorized', serverId: jellyfinServer.machineId, userName: 'alice' });
    const jellyfinAdded = await call<ApiSource>(second, 'POST', 'api/sources', { kind: 'jellyfin', quickConnectHandle: qc.handle });
    expect(jellyfinAdded.status).toBe(201);

    // Both sources work with the credentials the finished sign-ins gave them.
    await waitUntil(
      async () => {
        const list = (await second.request<ApiSource[]>('GET', 'api/sources')).body;
        return list.length === 2 && list.every((s) => s.status === 'connected') ? list : undefined;
      },
      { what: 'both added sources to be connected', timeoutMs: 30_000 },
    );

    const plexToken = (await simControl<{ token: string }>(line, 'GET', '/plex/token?username=demo')).token;
    expect(plexToken.length).toBeGreaterThanOrEqual(8);
    const corpus = [answers.join('\n'), first.stdout, first.stderr, second.stdout, second.stderr].join('\n');
    expect(corpus).not.toContain(plexToken);
    expect((await second.stop()).code).toBe(0);
  });
});
