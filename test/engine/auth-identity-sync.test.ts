// Issue 3 against the simulators, Plex and Jellyfin together: a revoked token is `auth_required`
// (never "disconnected") until the user signs in again; a different server at the local address is
// rejected as `wrong_server` and another route is used; libraries failing while the server is
// reachable is `sync_failed`, then `SyncRestored`.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import { EngineHarness, JELLYFIN_ID, JELLYFIN_NAME, PLEX_ID, PLEX_NAME, SIM_ROUTES } from '../support/engine-harness.js';
import { sleep } from '../support/wait.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const NAMES: Record<SourceKind, string> = { plex: PLEX_NAME, jellyfin: JELLYFIN_NAME };
const SERVER: Record<SourceKind, string> = { plex: PLEX_ID, jellyfin: JELLYFIN_ID };
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const REMOTE: Record<SourceKind, string> = { plex: SIM_ROUTES.plexRemote, jellyfin: SIM_ROUTES.jellyfinRemote };

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('engine against the simulators: auth, identity, libraries (issue 3)', () => {
  it('a revoked token is auth_required, not disconnected; new credentials connect again', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();
    const oldTokens = Object.fromEntries(KINDS.map((k) => [k, h!.engine.getCredentials(h!.sourceId(k))!.token]));

    const revoked = h.mark();
    // Plex: a rotated server token alone is refreshed silently from plex.tv (test/engine/refresh.test.ts);
    // the sign-in is gone only once plex.tv rejects the account token too.
    h.sim.plexTv.revokeAccount();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'bad-token' })));
    for (const kind of KINDS) {
      const auth = await h.waitForEvent(kind, 'AuthStatusChanged', { from: revoked, where: (e) => e.authRequired });
      expect(auth.sourceName).toBe(NAMES[kind]);
      const view = h.view(kind);
      expect(view.status).toBe('auth_required');
      expect(view.error).toBe(kind === 'plex' ? 'Plex no longer accepts the saved sign-in' : 'Jellyfin no longer accepts the saved sign-in');
      expect(view.route).toBeNull();
      expect(view.push).not.toBe('open');
      // A sign-in problem is not a lost connection: no reconnecting/disconnected on the way.
      expect(h.eventsOf(kind, 'ConnectionLost', revoked)).toEqual([]);
      expect(h.eventsOf(kind, 'Reconnecting', revoked)).toEqual([]);
      // Every route answered, but refused the token: all are "unauthorized", none "refused".
      for (const route of h.detail(kind).routes) expect(route.lastResult).toBe('unauthorized');
      // No event or view carries the token.
      expect(JSON.stringify(h.messages)).not.toContain(oldTokens[kind]);
    }
    // It stays auth_required over further checks (the "unknown" cadence retries the token).
    await sleep(1_500);
    for (const kind of KINDS) expect(h.view(kind).status).toBe('auth_required');

    const signedIn = h.mark();
    for (const kind of KINDS) expect(h.engine.updateCredentials(h.sourceId(kind), h.freshCredentials(kind))).toBe(true);
    for (const kind of KINDS) {
      const recovered = await h.waitForEvent(kind, 'AuthStatusChanged', { from: signedIn, where: (e) => !e.authRequired });
      expect(recovered.sourceName).toBe(NAMES[kind]);
      const view = await h.waitForView(kind, 'connected via local with push open', (v) => v.status === 'connected' && v.route?.kind === 'local' && v.push === 'open');
      expect(view.error).toBeUndefined();
      expect(view.libraries.length).toBe(3);
      expect(h.history(kind).map((e) => e.state)).toEqual(['connected', 'auth_required', 'connected']);
    }
  });

  it('a different server at the local address is rejected as wrong_server, and another route is used', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();

    const swapped = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode: 'wrong-identity' })));
    for (const kind of KINDS) {
      const changed = await h.waitForEvent(kind, 'ConnectionChanged', { from: swapped, where: (e) => e.routeKind === 'remote' });
      expect(changed.sourceName).toBe(NAMES[kind]);
      expect(changed.routeId).toBe(h.routeId(kind, REMOTE[kind]));
      const local = h.detail(kind).routes.find((r) => r.id === h!.routeId(kind, LOCAL[kind]))!;
      expect(local.lastResult).toBe('wrong_server');
      expect(local.lastError).toBe(kind === 'plex' ? 'the server at this address is a different Plex server' : 'the server at this address is a different Jellyfin server');
      const view = h.view(kind);
      expect(view.status).toBe('connected');
      expect(view.route?.kind).toBe('remote');
      // The impostor's libraries never replace ours.
      expect(view.libraries.map((l) => l.name)).not.toContain('Other Movies');
      expect(h.eventsOf(kind, 'ConnectionLost', swapped)).toEqual([]);
      expect(h.eventsOf(kind, 'AuthStatusChanged', swapped)).toEqual([]);
    }
    // Later checks keep rejecting the impostor: the source never goes back to it.
    await sleep(2_500);
    for (const kind of KINDS) {
      expect(h.view(kind).route?.kind).toBe('remote');
      expect(h.eventsOf(kind, 'ConnectionChanged', swapped).map((e) => e.routeKind)).toEqual(['remote']);
      expect(h.history(kind).map((e) => `${e.state}:${e.routeKind}`)).toEqual(['connected:local', 'connected:remote']);
    }
  });

  it('libraries failing while the server is reachable is sync_failed, then SyncRestored', async () => {
    h = await EngineHarness.start();
    await h.waitForSteadyState();

    // The simulators have no fault that breaks only the library endpoints (`malformed` damages the
    // probe's answers too), so the harness fails libraries() in front of the real backend.
    const failing = h.mark();
    for (const kind of KINDS) h.failLibraries(kind, { code: 'http_error', message: 'the server answered HTTP 500', status: 500 });
    for (const kind of KINDS) {
      const failed = await h.waitForEvent(kind, 'SyncFailed', { from: failing });
      expect(failed.sourceName).toBe(NAMES[kind]);
      expect(failed.error).toBe('the server answered HTTP 500');
      const view = h.view(kind);
      expect(view.status).toBe('sync_failed');
      expect(view.error).toBe('the libraries could not be loaded: the server answered HTTP 500');
      // Still reachable: the route and the push channel stay.
      expect(view.route?.kind).toBe('local');
      expect(view.push).toBe('open');
      // The last good libraries are still shown.
      expect(view.libraries.length).toBe(3);
      expect(h.eventsOf(kind, 'ConnectionLost', failing)).toEqual([]);
    }

    const fixed = h.mark();
    for (const kind of KINDS) h.failLibraries(kind, null);
    for (const kind of KINDS) {
      const restored = await h.waitForEvent(kind, 'SyncRestored', { from: fixed });
      expect(restored.sourceName).toBe(NAMES[kind]);
      expect(restored.libraryCount).toBe(3);
      const view = h.view(kind);
      expect(view.status).toBe('connected');
      expect(view.error).toBeUndefined();
      const history = h.history(kind);
      expect(history.map((e) => e.state)).toEqual(['connected', 'sync_failed', 'connected']);
      expect(history[1]!.detail).toBe('the server answered HTTP 500');
      expect(history[1]!.routeKind).toBe('local');
    }
  });
});
