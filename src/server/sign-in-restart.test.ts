// Sign-ins in progress live in the store (issue 13 item 4): an app rebuilt on the same database
// finishes a Plex PIN and a Quick Connect request started by the previous one, and no answer on
// the way carries a secret (account token, per-server token, Quick Connect secret).
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from '../store/index.js';
import { makeTempDir } from '../../test/support/store.js';
import { buildApp } from './app.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, JELLYFIN_SERVER_ID, PLEX_SERVER_ID, SECRETS, testConfig } from '../../test/support/server-fakes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const json = { 'content-type': 'application/json' };

/** One "process": a store on `dir` and an app over it, closed in that order. */
async function start(dir: string, engine: FakeEngine, plex: FakePlexSignIn, jellyfin: FakeJellyfinSignIn): Promise<{ app: FastifyInstance; store: Store; stop(): Promise<void> }> {
  const store = openDatabase({ dataDir: dir, maintenanceIntervalMs: 0 });
  const app = await buildApp({ engine, plexSignIn: plex, jellyfinSignIn: jellyfin, config: testConfig(), signInSessions: store.signIns });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
    store.close();
  };
  cleanups.push(stop);
  return { app, store, stop };
}

describe('sign-ins in progress across a restart', () => {
  it('finishes a Plex PIN and a Quick Connect request after the app was rebuilt on the same database', async () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const engine = new FakeEngine();
    const plex = new FakePlexSignIn();
    const jellyfin = new FakeJellyfinSignIn();
    const answers: string[] = [];
    const call = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, payload?: object) => {
      const res = await app.inject({ method, url, ...(payload ? { headers: json, payload } : {}) });
      answers.push(res.body);
      return res;
    };

    const first = await start(t.dir, engine, plex, jellyfin);
    const pin = (await call(first.app, 'POST', '/api/plex/pins')).json<{ id: number }>();
    const qc = (await call(first.app, 'POST', '/api/jellyfin/quickconnect', { url: 'http://127.0.0.3:8096' })).json<{ handle: string }>();
    expect((await call(first.app, 'GET', `/api/plex/pins/${pin.id}`)).json()).toEqual({ state: 'pending' });
    expect((await call(first.app, 'GET', `/api/jellyfin/quickconnect/${qc.handle}`)).json()).toEqual({ state: 'pending' });
    // The PIN is approved in the previous process (account token and servers stored), the code after the restart.
    plex.authorize(pin.id);
    expect((await call(first.app, 'GET', `/api/plex/pins/${pin.id}`)).json()).toMatchObject({ state: 'authorized' });
    await first.stop();

    const second = await start(t.dir, engine, plex, jellyfin);
    // plex.tv forgets the PIN now: the stored authorization alone must carry the sign-in through.
    plex.pinStates.clear();
    const state = (await call(second.app, 'GET', `/api/plex/pins/${pin.id}`)).json<{ state: string; servers: Array<{ serverId: string }> }>();
    expect(state.state).toBe('authorized');
    expect(state.servers.map((s) => s.serverId)).toEqual([PLEX_SERVER_ID]);
    const plexAdded = await call(second.app, 'POST', '/api/sources', { kind: 'plex', pinId: pin.id, serverId: PLEX_SERVER_ID });
    expect(plexAdded.statusCode).toBe(201);
    // The per-server token from the stored authorization reached the engine.
    expect(engine.getCredentials(plexAdded.json<{ id: string }>().id)).toEqual({ token: SECRETS.plexServerToken, accountToken: SECRETS.plexAccountToken });

    jellyfin.quickConnectAuthorized = true;
    expect((await call(second.app, 'GET', `/api/jellyfin/quickconnect/${qc.handle}`)).json()).toMatchObject({ state: 'authorized', serverId: JELLYFIN_SERVER_ID });
    const jellyfinAdded = await call(second.app, 'POST', '/api/sources', { kind: 'jellyfin', quickConnectHandle: qc.handle });
    expect(jellyfinAdded.statusCode).toBe(201);
    expect(engine.getCredentials(jellyfinAdded.json<{ id: string }>().id)?.token).toBe(SECRETS.jellyfinToken);

    const all = answers.join('\n');
    for (const secret of [SECRETS.plexAccountToken, SECRETS.plexServerToken, SECRETS.quickConnectSecret, SECRETS.jellyfinToken]) {
      expect(all).not.toContain(secret);
    }
  });

  it('forgets a sign-in whose time ran out, also across a restart', async () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const plex = new FakePlexSignIn();
    const first = await start(t.dir, new FakeEngine(), plex, new FakeJellyfinSignIn());
    const pin = (await first.app.inject({ method: 'POST', url: '/api/plex/pins' })).json<{ id: number }>();
    // Expire it in the database as time would.
    first.store.sqlite.prepare("UPDATE sign_in_sessions SET expires_at = ? WHERE kind = 'plex_pin'").run(Date.now() - 1);
    await first.stop();
    const second = await start(t.dir, new FakeEngine(), plex, new FakeJellyfinSignIn());
    expect((await second.app.inject(`/api/plex/pins/${pin.id}`)).statusCode).toBe(404);
    // Opening the store pruned it.
    expect(second.store.sqlite.prepare('SELECT count(*) FROM sign_in_sessions').pluck().get()).toBe(0);
  });
});
