// A Marquee engine for the playback tests: a temp-dir store, a ScriptedBackend (probes scripted,
// `ok` by default) whose media streams are real HTTP reads through a MediaFetcher, an optional
// PlaybackApi, and a started MarqueeEngine. Everything it opens is pushed onto the test's
// cleanups in opening order (they run reversed: engine, fetcher, store, temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaFetcher, mediaStreams } from '../../src/backends/media.js';
import type { PlaybackApi, RouteContext } from '../../src/backends/types.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import { realClock } from '../../src/monitor/clock.js';
import { MarqueeEngine } from '../../src/monitor/engine.js';
import { openDatabase, type Store } from '../../src/store/index.js';
import { ScriptedBackend } from './scripted-backend.js';

export type Cleanups = Array<() => Promise<void> | void>;

export interface MediaEngineOptions {
  kind: 'plex' | 'jellyfin';
  /** The auth headers a media request carries on a route (the server's own scheme). */
  mediaHeaders: (call: RouteContext) => Record<string, string>;
  playback?: PlaybackApi;
  settings?: MonitorSettingsInput;
  /** Temp-dir name prefix, so a leftover folder says which test made it. */
  dirPrefix: string;
  cleanups: Cleanups;
}

export interface MediaEngine {
  store: Store;
  backend: ScriptedBackend;
  engine: MarqueeEngine;
}

export async function startMediaEngine(options: MediaEngineOptions): Promise<MediaEngine> {
  const { cleanups } = options;
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = openDatabase({ dataDir: dir });
  cleanups.push(() => store.close());
  const backend = new ScriptedBackend(realClock, options.kind, { answer: 'ok', delayMs: 2 });
  const fetcher = new MediaFetcher();
  cleanups.push(() => fetcher.close());
  Object.assign(backend, { media: mediaStreams(fetcher, options.mediaHeaders), ...(options.playback ? { playback: options.playback } : {}) });
  const engine = new MarqueeEngine({
    store,
    backends: { plex: backend, jellyfin: backend },
    push: { enabled: false },
    watchNetwork: false,
    settings: options.settings ?? { probeTimeoutMs: 1_000, graceMs: 50 },
  });
  await engine.start();
  cleanups.push(() => engine.stop());
  return { store, backend, engine };
}

/**
 * A source on a local and a remote route (priority in that order), then up to 2 s for its first
 * check to connect it. The caller asserts which route it connected on where that matters.
 */
export async function addTwoRouteSource(
  engine: MarqueeEngine,
  source: { name: string; kind: 'plex' | 'jellyfin'; serverId: string; localUrl: string; remoteUrl: string; credentials: { token: string; userId?: string } },
) {
  const view = engine.addSource({
    name: source.name,
    kind: source.kind,
    serverId: source.serverId,
    routes: [
      { url: source.localUrl, kind: 'local', priority: 0 },
      { url: source.remoteUrl, kind: 'remote', priority: 1 },
    ],
    credentials: source.credentials,
  });
  for (let i = 0; i < 100 && engine.getSource(view.source.id)?.status.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 20));
  const [local, remote] = view.source.routes;
  return { view, local: local!, remote: remote! };
}
