// Marquee with thousands of sources for UI tests and benchmarks of the sources page: the real
// runtime (store, engine, Fastify, SSE, the built web UI) listening on loopback, its backends
// replaced by scripted ones (the page is what is measured, not the servers). The sources are
// written to the data dir first, in one transaction (one by one, each durable, 2,000 took a
// minute), with a last-known status each — a mix of local, remote and relay routes, a few down
// or signed out — and monitoring off, so nothing changes while the page is measured: every detail
// request is the page's own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteKind, SourceStatus } from '../../src/core/types.js';
import { realClock } from '../../src/monitor/clock.js';
import { ScriptedBackend } from './scripted-backend.js';
import { openDatabase } from '../../src/store/index.js';
import { startTestRuntime, type TestRuntime } from './start.js';

export interface ManySources {
  url: string;
  runtime: TestRuntime;
  close(): Promise<void>;
}

function statusOf(i: number, routes: Array<{ id: string; kind: RouteKind }>, now: number): SourceStatus {
  const since = now - (i % 600) * 60_000;
  if (i % 17 === 5) return { state: 'disconnected', since, nextRetryAt: now + 30_000, attempt: 4, lastError: { code: 'refused', message: 'connection refused' } };
  if (i % 23 === 7) return { state: 'auth_required', since };
  const route = routes[i % 7 === 3 ? routes.length - 1 : 0]!;
  return { state: 'connected', routeId: route.id, routeKind: route.kind, latencyMs: 3 + (i % 40), since };
}

export async function startWithManySources(count: number, options: { webDir?: string } = {}): Promise<ManySources> {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-many-'));
  const dataDir = join(dir, 'data');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const store = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
    const now = Date.now();
    try {
      store.sqlite.transaction(() => {
        for (let i = 0; i < count; i++) {
          const plex = i % 2 === 0;
          const hex = i.toString(16).padStart(8, '0');
          const port = 10_000 + (i % 50_000);
          const source = store.sources.create({
            name: `${plex ? 'Plex' : 'Jellyfin'} server ${String(i).padStart(5, '0')}`,
            kind: plex ? 'plex' : 'jellyfin',
            serverId: plex ? hex.repeat(5) : hex.repeat(4),
            routes: [
              { url: `http://127.0.0.2:${port}`, kind: 'local', priority: 0 },
              ...(i % 3 === 0 ? [{ url: `https://127.0.0.3:${port}`, kind: 'remote' as const, priority: 0 }] : []),
              ...(plex && i % 4 === 0 ? [{ url: `https://127.0.0.4:${port}`, kind: 'relay' as const, priority: 0 }] : []),
            ],
            credentials: { token: `token-${i}-0123456789` },
            monitoring: { enabled: false },
          });
          store.status.save(source.id, statusOf(i, source.routes, now), { lastCheckedAt: now - 5_000 });
        }
      })();
    } finally {
      store.close();
    }
    const runtime = await startTestRuntime({
      listen: true,
      dataDir,
      env: options.webDir ? { MARQUEE_WEB_DIR: options.webDir } : {},
      backends: () => ({ plex: new ScriptedBackend(realClock, 'plex'), jellyfin: new ScriptedBackend(realClock, 'jellyfin') }),
    });
    if (!runtime.url) {
      await runtime.close();
      throw new Error('the runtime is not listening');
    }
    return {
      url: runtime.url,
      runtime,
      close: async () => {
        try {
          await runtime.close();
        } finally {
          remove();
        }
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}
