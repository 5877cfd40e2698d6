// Browsing through Marquee's HTTP API against the simulators (issue 14), the real runtime with the
// engine's routed caller:
// - request failover: the local route is cut (refused, or hung) right before an item page is
//   asked; the same API call answers 200, read live over the remote route;
// - offline browsing: the server stops; library pages and item pages come from the cache with
//   `offline: true`, posters from the image cache; it comes back, the cache refreshes in place and
//   an SSE `library` event arrives.
// Push is off and the light checks are slow, so only the API call itself makes the engine notice a cut.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimConfig } from '../../sim/index.js';
import type { ApiItem, ApiItemDetail, ApiLibraryUpdate, ApiSource } from '../../src/api/types.js';
import { toApiSource } from '../../src/server/views.js';
import { SseReader } from '../support/process-harness.js';
import { startTestRuntime, type TestRuntime } from '../support/start.js';
import { waitUntil } from '../support/wait.js';

const SIM: SimConfig = {
  plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo', token: 'demo-plex-account-token-0001' }] },
  control: { host: '127.0.0.1', port: 0 },
  servers: [
    {
      id: 'living-room',
      kind: 'plex',
      name: 'Living-room Plex',
      owner: 'demo',
      routes: [
        { id: 'living-room-local', kind: 'local', host: '127.0.0.2', port: 0 },
        { id: 'living-room-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
      ],
      libraries: [
        { title: 'Movies', type: 'movie', itemCount: 40 },
        { title: 'TV Shows', type: 'show', itemCount: 8 },
      ],
    },
    {
      id: 'jellyfin-home',
      kind: 'jellyfin',
      name: 'Home Jellyfin',
      users: [{ name: 'demo', password: 'demo-password-0001', admin: true }],
      routes: [
        { id: 'jellyfin-home-local', kind: 'local', host: '127.0.0.6', port: 0 },
        { id: 'jellyfin-home-remote', kind: 'remote', host: '127.0.0.7', port: 0 },
      ],
      libraries: [
        { name: 'Movies', collectionType: 'movies', itemCount: 40 },
        { name: 'Shows', collectionType: 'tvshows', itemCount: 8 },
      ],
    },
  ],
};

const SIM_OF: Record<string, { server: string; local: string }> = {
  'Living-room Plex': { server: 'living-room', local: 'living-room-local' },
  'Home Jellyfin': { server: 'jellyfin-home', local: 'jellyfin-home-local' },
};

let dir: string;
let rt: TestRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marquee-library-engine-'));
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(SIM));
  rt = await startTestRuntime({
    demo: { simConfigPath: join(dir, 'sim.json') },
    dataDir: join(dir, 'data'),
    listen: true,
    push: { enabled: false },
    // Slow light checks: a cut route is found by the API call that dies on it, not by the monitor.
    monitor: {
      baseTickMs: 60_000,
      probeTimeoutMs: 1_500,
      suspectProbeTimeoutMs: 1_000,
      backoff: { initialMs: 300, factor: 2, capMs: 1_500, minDelayMs: 300 },
      disconnectAfterAttempts: 2,
      // Back to local soon after a test restores it (checks of the preferred route only).
      returnCheckMs: 300,
      returnHoldMs: 0,
      returnMinSuccesses: 1,
    },
  });
  await waitUntil(() => sources().length === 2 && sources().every((s) => s.status === 'connected' && s.route?.kind === 'local'), { what: 'both sources connected via local', timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sources = (): ApiSource[] => rt.engine.listSources().map(toApiSource);
const source = (name: string): ApiSource => sources().find((s) => s.name === name)!;

async function get<T>(path: string): Promise<{ status: number; body: T; headers: Headers; bytes: Buffer }> {
  const res = await fetch(new URL(path.replace(/^\//, ''), rt.url!), { signal: AbortSignal.timeout(20_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, bytes, body: (type.includes('json') ? JSON.parse(bytes.toString()) : undefined) as T };
}

/** The library's first page once the first sync filled the cache. */
async function cachedPage(sourceId: string, libraryId: string): Promise<{ items: ApiItem[]; total: number; offline: boolean }> {
  return waitUntil(
    async () => {
      const page = await get<{ items: ApiItem[]; total: number; offline: boolean }>(`/api/sources/${sourceId}/libraries/${libraryId}/items?limit=100`);
      return page.status === 200 && page.body.items.length > 0 && page.body;
    },
    { what: `library ${libraryId} synced`, timeoutMs: 30_000 },
  );
}

describe.sequential('library browsing through the API, against the simulators', () => {
  for (const mode of ['refuse', 'hang'] as const) {
    it(`request failover: an item page asked right after the local route was cut (${mode}) answers 200 from the remote route`, async () => {
      for (const name of Object.keys(SIM_OF)) {
        const src = source(name);
        await rt.simulation!.route(SIM_OF[name]!.local).fault({ mode: 'up' });
        await waitUntil(() => source(name).status === 'connected' && source(name).route?.kind === 'local', { what: `${name} back on local`, timeoutMs: 20_000, detail: () => JSON.stringify(source(name).route) });
        const shows = src.libraries.find((l) => l.type === 'show')!;
        const page = await cachedPage(src.id, shows.id);
        // A show not opened before: the answer's children can only come from the server, live.
        const show = page.items[mode === 'refuse' ? 0 : 1]!;
        await rt.simulation!.route(SIM_OF[name]!.local).fault({ mode });
        expect(source(name).route?.kind).toBe('local');
        const asked = Date.now();
        const detail = await get<ApiItemDetail>(`/api/sources/${src.id}/items/${encodeURIComponent(show.id)}`);
        expect(detail.status, `${name}: ${JSON.stringify(detail.body)}`).toBe(200);
        expect(detail.body.children.length).toBeGreaterThan(0);
        expect(detail.body.children.every((c) => c.type === 'season')).toBe(true);
        expect(detail.body.fetchedAt).toBeGreaterThanOrEqual(asked);
        expect(detail.body.offline).toBe(false);
        // The call itself made the engine move.
        expect(source(name).route?.kind).toBe('remote');
      }
      for (const name of Object.keys(SIM_OF)) await rt.simulation!.route(SIM_OF[name]!.local).fault({ mode: 'up' });
    }, 60_000);
  }

  it('offline browsing: a stopped server browses from the cache (items, item page, poster); back up, the cache refreshes in place and an SSE library event arrives', async () => {
    const name = 'Living-room Plex';
    const src = source(name);
    const movies = src.libraries.find((l) => l.type === 'movie')!;
    const online = await cachedPage(src.id, movies.id);
    expect(online.offline).toBe(false);
    const movie = online.items[0]!;
    // Visit the item page and its poster while online: both are cached.
    expect((await get<ApiItemDetail>(`/api/sources/${src.id}/items/${encodeURIComponent(movie.id)}`)).status).toBe(200);
    const poster = await get(movie.imageUrl!);
    expect(poster.status).toBe(200);

    await rt.simulation!.server(SIM_OF[name]!.server).fault({ mode: 'stop' });
    // No push and slow light checks: ask the engine to look now (a user's next click would too).
    rt.engine.checkNow(src.id);
    await waitUntil(async () => (await get<{ offline: boolean }>(`/api/sources/${src.id}/libraries/${movies.id}/items?limit=5`)).body.offline, { what: `${name} offline`, timeoutMs: 30_000, detail: () => source(name).status });
    const away = await get<{ items: ApiItem[]; total: number; offline: boolean; offlineSince: number | null }>(`/api/sources/${src.id}/libraries/${movies.id}/items?limit=100`);
    expect(away.status).toBe(200);
    expect(away.body).toMatchObject({ offline: true, total: online.total });
    expect(away.body.offlineSince).toBeGreaterThan(0);
    expect(away.body.items.map((i) => i.id)).toEqual(online.items.map((i) => i.id));
    expect(away.body.items.every((i) => i.offline)).toBe(true);
    const detail = await get<ApiItemDetail>(`/api/sources/${src.id}/items/${encodeURIComponent(movie.id)}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: movie.id, title: movie.title, offline: true });
    const cachedPoster = await get(movie.imageUrl!);
    expect(cachedPoster.status).toBe(200);
    expect(cachedPoster.headers.get('content-type')).toBe(poster.headers.get('content-type'));
    expect(cachedPoster.bytes.equals(poster.bytes)).toBe(true);

    // Back: the stream says the library was refreshed, and a change made while away shows in place.
    const sse = await SseReader.open(new URL('api/events', rt.url!).href);
    try {
      const changed = rt.simulation!.library(SIM_OF[name]!.server).touchItems('Movies', 3);
      await rt.simulation!.server(SIM_OF[name]!.server).fault({ mode: 'up' });
      rt.engine.checkNow(src.id);
      // The refresh of the Movies library, done, with the three changes made while it was away.
      const refreshedEvent = (m: { event: string; data: string }) => {
        if (m.event !== 'library') return false;
        const update = JSON.parse(m.data) as ApiLibraryUpdate;
        return update.sourceId === src.id && update.libraryId === movies.id && update.sync.state === 'synced' && update.changed >= changed.length;
      };
      await waitUntil(() => sse.messages.some(refreshedEvent), {
        what: 'an SSE library event: the Movies library refreshed with the changes',
        timeoutMs: 30_000,
        detail: () => sse.messages.map((m) => m.event).join(','),
      });
      const refreshed = await waitUntil(
        async () => {
          const page = await get<{ items: ApiItem[]; offline: boolean }>(`/api/sources/${src.id}/libraries/${movies.id}/items?limit=100`);
          return !page.body.offline && page.body;
        },
        { what: `${name} online again`, timeoutMs: 30_000 },
      );
      expect(refreshed.items.every((i) => !i.offline)).toBe(true);
      await waitUntil(
        async () => {
          const page = await get<{ items: ApiItem[] }>(`/api/sources/${src.id}/libraries/${movies.id}/items?limit=100`);
          const titles = new Map(page.body.items.map((i) => [i.id, i.title] as const));
          const before = new Map(online.items.map((i) => [i.id, i] as const));
          // touchItems changes titles or watched state; at least one of the three moved in the cache.
          return changed.some((id) => titles.get(id) !== before.get(id)?.title || page.body.items.find((i) => i.id === id)?.watched !== before.get(id)?.watched);
        },
        { what: 'the changes made while away in the cache', timeoutMs: 30_000 },
      );
    } finally {
      sse.close();
    }
  }, 120_000);
});
