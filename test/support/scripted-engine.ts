// The real engine and store over one scripted backend on a fake clock, push and the network watcher
// off: what a unit test of the engine's view, publishing or contract needs, without simulators or HTTP.
// The caller owns the teardown list (run it after each test) so every test cleans up what it made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarqueeEngine } from '../../src/monitor/engine.js';
import { openDatabase, type Store } from '../../src/store/index.js';
import { FakeClock } from './fake-clock.js';
import { ScriptedBackend } from './scripted-backend.js';

export interface ScriptedEngine {
  engine: MarqueeEngine;
  store: Store;
  clock: FakeClock;
  backend: ScriptedBackend;
}

export async function startScriptedEngine(cleanups: Array<() => Promise<void> | void>): Promise<ScriptedEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-scripted-'));
  const clock = new FakeClock();
  const store = openDatabase({ dataDir: dir, now: () => clock.now() });
  const backend = new ScriptedBackend(clock, 'plex');
  const engine = new MarqueeEngine({ store, backends: { plex: backend, jellyfin: backend }, clock, random: () => 0.5, push: { enabled: false }, watchNetwork: false });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => engine.stop());
  await engine.start();
  return { engine, store, clock, backend };
}

/** Loopback addresses nothing listens on: the scripted backend answers for them. */
export const SCRIPTED_LOCAL_URL = 'http://127.10.0.1:32400';
export const SCRIPTED_REMOTE_URL = 'http://127.11.0.1:32400';

/**
 * The scripted engine with one Plex source on a local and a remote route, after its first check
 * (1 s of fake time): with the backend's default answer it is connected on the local route.
 */
export async function startScriptedTwoRouteSource(cleanups: Array<() => Promise<void> | void>, serverId: string) {
  const ctx = await startScriptedEngine(cleanups);
  const view = ctx.engine.addSource({
    name: 'Living room',
    kind: 'plex',
    serverId,
    routes: [
      { url: SCRIPTED_LOCAL_URL, kind: 'local', priority: 0 },
      { url: SCRIPTED_REMOTE_URL, kind: 'remote', priority: 1 },
    ],
    credentials: { token: 'token-0123456789' },
  });
  await ctx.clock.advance(1_000);
  const [local, remote] = view.source.routes;
  return { ...ctx, id: view.source.id, local: local!, remote: remote! };
}
