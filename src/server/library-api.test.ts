// The library API through the real runtime (store, engine, library layer, app) with a scripted
// server that browses from a fake library: every answer validates against the contract, images
// carry their cache headers and 304, no request can name what is fetched, and no token reaches a body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { API_ERROR, API_ROUTES, SSE_EVENTS } from '../api/routes.js';
import { realClock } from '../monitor/clock.js';
import type { LibraryUpdate } from '../library/index.js';
import { toApiLibraryUpdate } from './library-views.js';
import { FakeBrowser, makeItem, makeItems } from '../../test/support/library.js';
import { ScriptedBackend } from '../../test/support/scripted-backend.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/start.js';
import { waitAtMost } from '../../test/support/wait.js';

const TOKEN = 'plex-token-must-never-leak-0123456789';
let rt: TestRuntime;
let sourceId: string;
const browser = new FakeBrowser();
const updates: LibraryUpdate[] = [];
const bodies: string[] = [];

function expectValid(schema: z.ZodType, value: unknown, what: string): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what} does not match the contract: ${JSON.stringify(result.error.issues.slice(0, 5))}`);
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await rt.app.inject({ method: 'GET', url, headers });
  bodies.push(res.body, JSON.stringify(res.headers));
  return res;
}

beforeAll(async () => {
  browser.libraries.set('lib-1', [...makeItems(120), makeItem(500, { type: 'show', title: 'Red Show', sortTitle: 'Red Show' })]);
  browser.details.set('item-500', { ok: true, value: { item: makeItem(500, { type: 'show', overview: 'A show', cast: [{ name: 'Lead' }] }), children: [makeItem(501, { type: 'season', index: 1, parentId: 'item-500' })] } });
  browser.continueRow = { ok: true, value: [makeItem(3, { lastViewedAt: 10 })] };
  browser.recentRow = { ok: true, value: [makeItem(4, { addedAt: 20 })] };
  const plex = Object.assign(new ScriptedBackend(realClock, 'plex'), { browse: browser });
  const jellyfin = Object.assign(new ScriptedBackend(realClock, 'jellyfin'), { browse: browser });
  rt = await startTestRuntime({ backends: () => ({ plex, jellyfin }), library: { ...(await import('../core/settings.js')).DEFAULT_LIBRARY_SETTINGS, pageSize: 50 } });
  rt.library.onUpdate((u) => updates.push(u));
  sourceId = rt.engine.addSource({ name: 'Living-room Plex', kind: 'plex', serverId: 'c'.repeat(40), routes: [{ url: 'http://127.10.0.1:32400', kind: 'local', priority: 0 }], credentials: { token: TOKEN } }).source.id;
  // Connected, libraries found, and the first sync done (it starts by itself on connect).
  expect(await waitAtMost(() => updates.some((u) => u.sourceId === sourceId && u.status.state === 'synced'), 10_000)).toBe(true);
}, 20_000);
afterAll(async () => rt?.close());

describe('library API through the real app', () => {
  it('library info and pages validate; sort, filter and paging work from the cache', async () => {
    const info = await get(`/api/sources/${sourceId}/libraries/lib-1`);
    expect(info.statusCode).toBe(200);
    expectValid(API_ROUTES.getLibrary.response, info.json(), 'library info');
    expect(info.json()).toMatchObject({ total: 121, offline: false, sync: { state: 'synced' } });

    const page = await get(`/api/sources/${sourceId}/libraries/lib-1/items?offset=5&limit=10&sort=year&filter=unwatched&order=asc`);
    expect(page.statusCode).toBe(200);
    expectValid(API_ROUTES.libraryItems.response, page.json(), 'library items');
    const body = page.json<{ items: Array<{ watched: boolean; imageUrl: string; sourceName: string }>; total: number }>();
    expect(body.items).toHaveLength(10);
    expect(body.items.every((i) => !i.watched && i.sourceName === 'Living-room Plex')).toBe(true);
    expect(body.items[0]!.imageUrl).toMatch(new RegExp(`^/api/sources/${sourceId}/items/item-\\d+/image\\?kind=poster&w=300&v=`));

    expect((await get(`/api/sources/${sourceId}/libraries/lib-1/items?limit=9999`)).statusCode).toBe(400);
    expect((await get(`/api/sources/${sourceId}/libraries/nope/items`)).statusCode).toBe(404);
  });

  it('an item page (live, with children), home and search validate', async () => {
    const item = await get(`/api/sources/${sourceId}/items/item-500`);
    expect(item.statusCode).toBe(200);
    expectValid(API_ROUTES.getItem.response, item.json(), 'item');
    expect(item.json()).toMatchObject({ overview: 'A show', children: [{ id: 'item-501', type: 'season' }], playable: false });

    const home = await get('/api/home');
    expectValid(API_ROUTES.home.response, home.json(), 'home');
    expect(home.json()).toMatchObject({ continueWatching: [{ id: 'item-3' }], recentlyAdded: [{ id: 'item-4' }], sources: [{ id: sourceId, state: 'online' }] });

    const search = await get('/api/search?q=red%20show&wait=2000');
    expectValid(API_ROUTES.search.response, search.json(), 'search');
    expect(search.json()).toMatchObject({ complete: true, results: [{ id: 'item-500', sourceId }], sources: [{ id: sourceId, state: 'done', count: 1 }] });
    expect((await get('/api/search?q=')).statusCode).toBe(400);
  });

  it('images: the bytes with ETag, private caching and nosniff; 304 on If-None-Match; nothing in the request names what is fetched', async () => {
    const url = `/api/sources/${sourceId}/items/item-7/image?kind=poster&w=200`;
    const first = await get(url);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('image/png');
    expect(first.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    const etag = String(first.headers.etag);
    expect((await get(url, { 'if-none-match': etag })).statusCode).toBe(304);

    // No URL or path from the client: unknown query keys are refused, unknown items are 404.
    const ssrf = await get(`/api/sources/${sourceId}/items/item-7/image?url=http://169.254.169.254/`);
    expect(ssrf.statusCode).toBe(400);
    expectValid(API_ERROR, ssrf.json(), 'refused image query');
    expect((await get(`/api/sources/${sourceId}/items/..%2F..%2Fetc/image`)).statusCode).toBe(400);
    expect((await get(`/api/sources/${sourceId}/items/item-9999/image`)).statusCode).toBe(404);
    const fetched = browser.calls.filter((c) => c.method === 'image').map((c) => (c.arg as { ref: { path: string } }).ref.path);
    expect(fetched).toEqual([makeItem(7).poster!.path]);
  });

  it('the SSE library event validates; no token in any body or header the browser got', () => {
    expect(updates.length).toBeGreaterThan(0);
    for (const u of updates) expectValid(SSE_EVENTS.library, toApiLibraryUpdate(u), 'SSE library');
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) {
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain('127.10.0.1');
      expect(body.toLowerCase()).not.toContain('x-plex-token');
    }
  });

  it('a sync that changes a library reaches an open event stream as `event: library`', async () => {
    const live = await startTestRuntime({ listen: true, backends: () => ({ plex: Object.assign(new ScriptedBackend(realClock, 'plex'), { browse: browser }), jellyfin: Object.assign(new ScriptedBackend(realClock, 'jellyfin'), { browse: browser }) }) });
    const controller = new AbortController();
    try {
      const res = await fetch(`${live.url!}api/events`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      const read = (async () => {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) return;
          text += new TextDecoder().decode(chunk.value);
          if (/event: library\ndata: .*\n\n/.test(text)) return;
        }
      })();
      live.engine.addSource({ name: 'Streamed Plex', kind: 'plex', serverId: 'd'.repeat(40), routes: [{ url: 'http://127.10.0.2:32400', kind: 'local', priority: 0 }], credentials: { token: TOKEN } });
      await Promise.race([read, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      const frame = /event: library\ndata: (.*)\n\n/.exec(text);
      expect(frame, text.slice(-500)).not.toBeNull();
      expectValid(SSE_EVENTS.library, JSON.parse(frame![1]!), 'SSE library frame');
      expect(JSON.parse(frame![1]!)).toMatchObject({ libraryId: 'lib-1', sync: { state: 'synced' }, changed: 121 });
      expect(text).not.toContain(TOKEN);
    } finally {
      controller.abort();
      await live.close();
    }
  }, 20_000);
});
