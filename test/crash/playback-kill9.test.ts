// Issue 15, watch state never lost: a real Marquee process holds progress reports in its outbox
// (the Jellyfin server is away) and is killed with SIGKILL; after the restart, with the server back,
// every waiting report is delivered — and none twice, not after another restart either. What the
// server saw is read from the simulator's own report log.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiPlaySession, ApiSource } from '../../src/api/types.js';
import { startApp, startSimulator, type AppProcess } from '../support/app-process.js';
import { FAST_MONITOR } from '../support/fast-monitor.js';
import { Cleanup, simControl } from '../support/process-harness.js';
import { sleep, waitUntil } from '../support/wait.js';

const LAUNCHER = join(import.meta.dirname, 'launch-app.ts');
const SERVER = 'kill9-jf';
const USER = { name: 'alice', password: 'pw-kill9-play-3c1d' };
interface SimReport {
  call: string;
  itemId: string | null;
  positionMs: number | null;
  state: string | null;
  accepted: boolean;
}

const cleanup = new Cleanup();
const apps: AppProcess[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.kill9()));
  await cleanup.run();
}, 30_000);

describe('progress reports survive kill -9 (issue 15)', () => {
  it('reports queued while the server is away are delivered after a crash and a restart, none twice', { timeout: 150_000 }, async () => {
    const work = cleanup.tempDir('marquee-play-kill9-');
    const dataDir = join(work, 'data');
    const { line } = await startSimulator(cleanup, work, {
      plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }] },
      control: { host: '127.0.0.1', port: 0 },
      servers: [
        {
          id: SERVER,
          kind: 'jellyfin',
          name: 'Kill9 Jellyfin',
          users: [{ name: USER.name, password: USER.password, admin: true }],
          routes: [{ id: `${SERVER}-local`, kind: 'local', host: '127.0.0.63', port: 0 }],
          libraries: [{ name: 'Films', collectionType: 'movies' }],
        },
      ],
    });
    const serverUrl = line.servers.find((s) => s.id === SERVER)!.routes[0]!.url;
    const launch = (name: string) => startApp({ dataDir, script: LAUNCHER, name, env: { LOG_LEVEL: 'info', MARQUEE_TEST_MONITOR: JSON.stringify(FAST_MONITOR) } }, (a) => apps.push(a));
    const reports = () => simControl<SimReport[]>(line, 'GET', `/servers/${SERVER}/playback-reports`);
    const sourceState = async (app: AppProcess) => (await app.request<ApiSource[]>('GET', 'api/sources')).body[0]?.status;

    // Two movies of the server (asked the way any client would).
    const auth = await fetch(`${serverUrl}/Users/AuthenticateByName`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'MediaBrowser Client="test", Device="test", DeviceId="kill9-test", Version="1.0"' },
      body: JSON.stringify({ Username: USER.name, Pw: USER.password }),
    });
    const { AccessToken: token, User: user } = (await auth.json()) as { AccessToken: string; User: { Id: string } };
    const itemsRes = await fetch(`${serverUrl}/Items?recursive=true&includeItemTypes=Movie&limit=2&userId=${user.Id}`, { headers: { authorization: `MediaBrowser Token="${token}"` } });
    const movies = ((await itemsRes.json()) as { Items: { Id: string }[] }).Items.map((i) => i.Id);
    expect(movies).toHaveLength(2);

    // 1. Marquee with the server added; two players start while it is up.
    const first = await launch('marquee (before the crash)');
    const added = await first.request<ApiSource>('POST', 'api/sources', { kind: 'jellyfin', url: serverUrl, username: USER.name, password: USER.password });
    expect(added.status).toBe(201);
    const sourceId = added.body.id;
    await waitUntil(async () => ((await sourceState(first)) === 'connected' ? true : undefined), { timeoutMs: 20_000, what: 'the server connected' });
    const sessions: string[] = [];
    for (const itemId of movies) {
      const created = await first.request<ApiPlaySession>('POST', 'api/play', { sourceId, itemId, startMs: 1_000 });
      expect(created.status).toBe(201);
      sessions.push(created.body.id);
    }
    await waitUntil(async () => ((await reports()).filter((r) => r.call === 'POST /Sessions/Playing').length === 2 ? true : undefined), { timeoutMs: 10_000, what: 'both starts reported' });
    await simControl(line, 'DELETE', `/servers/${SERVER}/playback-reports`);

    // 2. The server goes away; the players report on; one leaves. All of it waits in the outbox.
    await simControl(line, 'POST', `/servers/${SERVER}/fault`, { mode: 'stop' });
    await waitUntil(async () => ((await sourceState(first)) !== 'connected' ? true : undefined), { timeoutMs: 20_000, what: 'the server seen away' });
    for (const positionMs of [20_000, 30_000, 40_000]) {
      for (const [i, id] of sessions.entries()) {
        const res = await first.request('POST', `api/play/${id}/progress`, { positionMs: positionMs + i * 500, state: 'playing' });
        expect(res.status).toBe(204);
      }
    }
    expect((await first.request('DELETE', `api/play/${sessions[1]}`)).status).toBe(204);

    // 3. kill -9 while those reports are queued; the server comes back while Marquee is down.
    await first.kill9();
    await simControl(line, 'POST', `/servers/${SERVER}/fault`, { mode: 'up' });
    expect(await reports()).toEqual([]);

    // 4. The restart delivers what waited: movie 0's last progress, movie 1's stop at its last position.
    const second = await launch('marquee (after the crash)');
    const delivered = await waitUntil(
      async () => {
        const seen = await reports();
        return seen.length >= 2 ? seen : undefined;
      },
      { timeoutMs: 30_000, what: 'the queued reports delivered after the restart' },
    );
    await sleep(2_000);
    const afterRestart = await reports();
    expect(afterRestart).toHaveLength(delivered.length);
    expect(afterRestart.every((r) => r.accepted)).toBe(true);
    expect(afterRestart.map((r) => [r.call, r.itemId, r.positionMs])).toEqual([
      ['POST /Sessions/Playing/Progress', movies[0], 40_000],
      ['POST /Sessions/Playing/Stopped', movies[1], 40_500],
    ]);
    await second.stop();

    // 5. A clean restart sends nothing again.
    const third = await launch('marquee (clean restart)');
    await waitUntil(async () => ((await sourceState(third)) === 'connected' ? true : undefined), { timeoutMs: 20_000, what: 'the server connected again' });
    await sleep(2_000);
    expect(await reports()).toEqual(afterRestart);
    await third.stop();
  });
});
