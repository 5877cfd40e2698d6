// Both backends' LibraryBrowser against the protocol-faithful simulators (sim/), over loopback:
// every browse method, as the library layer calls it. The fakes in plex/browse.test.ts and
// jellyfin/browse.test.ts pin the requests; this file proves the two sides understand each other
// (paging through a whole library, incremental sync, children, hubs, search, images, music).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibraryItem } from '../core/library.js';
import type { Route } from '../core/types.js';
import { createSimulation, type Simulation } from '../../sim/index.js';
import { createSafeAxios } from './axios.js';
import { HttpClient } from './http.js';
import { JellyfinBackend, jellyfinDeviceId } from './jellyfin/backend.js';
import { PlexBackend } from './plex/backend.js';
import type { BackendTarget, Credentials, ItemPage, LibraryBrowser, MediaBackend, RouteContext } from './types.js';

const INSTALL = 'marquee-browse-install-0001';
const opts = { timeoutMs: 5000 };
const MOVIES = 130; // pages of 50: 50 + 50 + 30 (the last one partial)
const SHOWS = 12;
const ARTISTS = 6;

let sim: Simulation;
let http: HttpClient;

beforeAll(async () => {
  sim = await createSimulation({
    plexTv: { accounts: [{ username: 'demo' }] },
    servers: [
      {
        id: 'lr',
        kind: 'plex',
        name: 'Living-room Plex',
        owner: 'demo',
        routes: [{ id: 'lr-local', kind: 'local', host: '127.0.0.2' }],
        libraries: [
          { title: 'Movies', type: 'movie', itemCount: MOVIES },
          { title: 'TV Shows', type: 'show', itemCount: SHOWS },
          { title: 'Music', type: 'artist', itemCount: ARTISTS },
          { title: 'Photos', type: 'photo', itemCount: 9 },
        ],
      },
      {
        id: 'jf',
        kind: 'jellyfin',
        name: 'Home Jellyfin',
        users: [{ name: 'demo', password: 'pw', admin: true }],
        routes: [{ id: 'jf-local', kind: 'local', host: '127.0.0.6' }],
        libraries: [
          { name: 'Movies', collectionType: 'movies', itemCount: MOVIES },
          { name: 'Shows', collectionType: 'tvshows', itemCount: SHOWS },
          { name: 'Music', collectionType: 'music', itemCount: ARTISTS },
          { name: 'Mixed', itemCount: 15 },
        ],
      },
    ],
  });
  http = new HttpClient();
});

afterAll(async () => {
  await http?.close();
  await sim?.close();
});

const routeOf = (id: string): Route => {
  for (const s of sim.servers) for (const r of s.routes) if (r.id === id) return { id: r.id, url: r.url, kind: r.kind, priority: 0 };
  throw new Error(id);
};
const machineId = (id: string) => sim.servers.find((s) => s.id === id)?.machineId ?? '';

interface Side {
  name: 'plex' | 'jellyfin';
  simId: 'lr' | 'jf';
  backend: () => MediaBackend & { browse: LibraryBrowser };
  call: () => RouteContext;
  /** Library titles as the config names them. */
  libs: { movies: string; shows: string; music: string };
}

const plexSide: Side = {
  name: 'plex',
  simId: 'lr',
  backend: () => new PlexBackend({ http, clientIdentifier: INSTALL, plexTvUrl: sim.plexTvUrl }),
  call: () => ({ target: { kind: 'plex', serverId: machineId('lr') }, route: routeOf('lr-local'), credentials: { token: sim.plexTv.serverToken('lr') } }),
  libs: { movies: 'Movies', shows: 'TV Shows', music: 'Music' },
};

const jellyfinSide: Side = {
  name: 'jellyfin',
  simId: 'jf',
  backend: () => new JellyfinBackend({ axios: createSafeAxios(http), installId: INSTALL }),
  call: () => {
    const target: BackendTarget = { kind: 'jellyfin', serverId: machineId('jf') };
    const deviceId = jellyfinDeviceId(INSTALL, target.serverId);
    const credentials: Credentials = { token: sim.jellyfin('jf').issueToken('demo', deviceId), userId: sim.jellyfin('jf').user('demo').id, deviceId };
    return { target, route: routeOf('jf-local'), credentials };
  },
  libs: { movies: 'Movies', shows: 'Shows', music: 'Music' },
};

function ok<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`browse failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

/** Every page of a library, `size` at a time, bounded by the first page's total. */
async function allPages(browse: LibraryBrowser, call: RouteContext, libraryId: string, size: number, changedSinceMs?: number): Promise<ItemPage[]> {
  const pages: ItemPage[] = [];
  for (let start = 0, guard = 0; guard < 100; guard++) {
    const page = ok(await browse.items(call, { libraryId, start, limit: size, ...(changedSinceMs !== undefined ? { changedSinceMs } : {}) }, opts));
    pages.push(page);
    start += page.items.length;
    if (page.items.length === 0 || start >= page.total) break;
  }
  return pages;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe.each([plexSide, jellyfinSide])('$name browse against the simulator', (side) => {
  let backend: MediaBackend & { browse: LibraryBrowser };
  let call: RouteContext;
  let libraryIds: Record<string, string>;

  beforeAll(async () => {
    backend = side.backend();
    call = side.call();
    const libs = await backend.libraries(call.target, call.route, call.credentials, opts);
    if (!libs.ok) throw new Error(libs.error.message);
    libraryIds = Object.fromEntries(libs.libraries.map((l) => [l.name, l.id]));
  });

  it('pages through a whole movie library, the last page partial, in title order, nothing twice', async () => {
    const pages = await allPages(backend.browse, call, libraryIds[side.libs.movies]!, 50);
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 30]);
    expect(pages.map((p) => p.start)).toEqual([0, 50, 100]);
    expect(pages.every((p) => p.total === MOVIES)).toBe(true);
    const items = pages.flatMap((p) => p.items);
    expect(new Set(items.map((i) => i.id)).size).toBe(MOVIES);
    expect(items.every((i) => i.type === 'movie' && i.libraryId === libraryIds[side.libs.movies])).toBe(true);
    const sortTitles = items.map((i) => i.sortTitle.toLowerCase());
    expect(sortTitles).toEqual([...sortTitles].sort((a, b) => a.localeCompare(b)));
    // What the grid needs on every card, as the library layer asks for it.
    const first = items[0]!;
    expect(first.poster?.path).toBeTruthy();
    expect(first.year).toBeGreaterThan(1900);
    expect(first.addedAt).toBeGreaterThan(Date.UTC(2019, 0));
    expect(first.genres.length).toBeGreaterThan(0);
    expect(first.overview).toBeTruthy();
    // Watched state and resume positions come through.
    expect(items.some((i) => i.watched)).toBe(true);
    expect(items.some((i) => !i.watched && (i.resumeMs ?? 0) > 0)).toBe(true);
    // A start past the end: an empty page that still tells the total.
    const past = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.movies]!, start: MOVIES + 10, limit: 50 }, opts));
    expect(past.items).toEqual([]);
    expect(past.total).toBe(MOVIES);
  });

  it('lists shows of a show library and albums (not artists) of a music library', async () => {
    const shows = (await allPages(backend.browse, call, libraryIds[side.libs.shows]!, 5)).flatMap((p) => p.items);
    expect(shows).toHaveLength(SHOWS);
    expect(new Set(shows.map((i) => i.type))).toEqual(new Set(['show']));
    const albums = (await allPages(backend.browse, call, libraryIds[side.libs.music]!, 7)).flatMap((p) => p.items);
    expect(albums.length).toBeGreaterThanOrEqual(ARTISTS); // 1–3 albums per artist
    expect(new Set(albums.map((i) => i.type))).toEqual(new Set(['album']));
    expect(new Set(albums.map((i) => i.id)).size).toBe(albums.length);
    expect(albums.every((a) => a.grandparentTitle ?? a.parentTitle ?? a.parentId)).toBeTruthy();
  });

  it('syncs incrementally: only the items changed since a moment, after touchItems', async () => {
    const libraryId = libraryIds[side.libs.movies]!;
    const before = Date.now();
    const changed = sim.library(side.simId).touchItems(side.libs.movies, 4);
    expect(changed).toHaveLength(4);
    const pages = await allPages(backend.browse, call, libraryId, 3, before);
    const ids = pages.flatMap((p) => p.items.map((i) => i.id));
    expect(new Set(ids)).toEqual(new Set(changed));
    expect(pages[0]!.total).toBe(4);
    // A moment in the future: nothing changed since.
    const none = ok(await backend.browse.items(call, { libraryId, start: 0, limit: 50, changedSinceMs: Date.now() + 5000 }, opts));
    expect(none.items).toEqual([]);
  });

  it('item detail with children: a movie (none), a show (seasons), a season (episodes), an album (tracks)', async () => {
    const movies = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.movies]!, start: 0, limit: 3 }, opts)).items;
    const movie = ok(await backend.browse.item(call, movies[0]!.id, opts));
    expect(movie.item).toMatchObject({ id: movies[0]!.id, type: 'movie', title: movies[0]!.title });
    expect(movie.item.cast.length).toBeGreaterThan(0);
    expect(movie.item.durationMs).toBeGreaterThan(0);
    expect(movie.children).toEqual([]);

    const showItem = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.shows]!, start: 0, limit: 1 }, opts)).items[0]!;
    const show = ok(await backend.browse.item(call, showItem.id, opts));
    expect(show.item.type).toBe('show');
    expect(show.children.length).toBeGreaterThanOrEqual(1);
    expect(show.children.every((c) => c.type === 'season' && c.parentId === showItem.id)).toBe(true);
    expect(show.children.map((c) => c.index)).toEqual(show.children.map((_, i) => i + 1));

    const season = ok(await backend.browse.item(call, show.children[0]!.id, opts));
    expect(season.item.type).toBe('season');
    expect(season.children.length).toBeGreaterThanOrEqual(6);
    expect(season.children.every((c) => c.type === 'episode' && c.parentId === show.children[0]!.id)).toBe(true);
    expect(season.children.map((c) => c.index)).toEqual(season.children.map((_, i) => i + 1));
    expect(season.children[0]!.grandparentTitle).toBe(show.item.title);

    const albumItem = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.music]!, start: 0, limit: 1 }, opts)).items[0]!;
    const album = ok(await backend.browse.item(call, albumItem.id, opts));
    expect(album.item.type).toBe('album');
    expect(album.children.length).toBeGreaterThanOrEqual(8);
    expect(album.children.every((c) => c.type === 'track')).toBe(true);
    expect(album.children.map((c) => c.index)).toEqual(album.children.map((_, i) => i + 1));

    // Up from an album to its artist, whose children are its albums.
    expect(album.item.parentId).toBeTruthy();
    const artist = ok(await backend.browse.item(call, album.item.parentId!, opts));
    expect(artist.item.type).toBe('artist');
    expect(artist.children.every((c) => c.type === 'album' && c.parentId === artist.item.id)).toBe(true);
    expect(artist.children.map((c) => c.id)).toContain(albumItem.id);
  });

  it('continue watching lists started items with their position; a resume set now comes first', async () => {
    const movies = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.movies]!, start: 0, limit: 20 }, opts)).items;
    const fresh = movies.find((m) => !m.watched && !m.resumeMs)!;
    expect(sim.library(side.simId).setResume(fresh.id, 42_000)).toBe(true);
    const list = ok(await backend.browse.continueWatching(call, 10, opts));
    expect(list.length).toBeGreaterThan(1);
    expect(list.length).toBeLessThanOrEqual(10);
    expect(list.every((i) => (i.resumeMs ?? 0) > 0 && !i.watched)).toBe(true);
    expect(list[0]).toMatchObject({ id: fresh.id, resumeMs: 42_000 });
  });

  it('recently added: newest first, at most the limit', async () => {
    const list = ok(await backend.browse.recentlyAdded(call, 8, opts));
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(8);
    const added = list.map((i) => i.addedAt ?? 0);
    expect(added).toEqual([...added].sort((a, b) => b - a));
  });

  it('search finds a movie by a word of its title, and an album', async () => {
    const movie = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.movies]!, start: 7, limit: 1 }, opts)).items[0]!;
    const found = ok(await backend.browse.search(call, movie.title, 20, opts));
    expect(found.map((i) => i.id)).toContain(movie.id);
    expect(found.length).toBeLessThanOrEqual(20);
    const album = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.music]!, start: 0, limit: 1 }, opts)).items[0]!;
    const albums = ok(await backend.browse.search(call, album.title, 20, opts));
    expect(albums.find((i) => i.id === album.id)?.type).toBe('album');
    expect(ok(await backend.browse.search(call, 'zzqqxx-no-such-title', 20, opts))).toEqual([]);
  });

  it('images: a poster resized by the server, typed and with matching magic bytes, and a backdrop', async () => {
    const movie: LibraryItem = ok(await backend.browse.items(call, { libraryId: libraryIds[side.libs.movies]!, start: 0, limit: 1 }, opts)).items[0]!;
    const poster = ok(await backend.browse.image(call, movie.poster!, { width: 200 }, opts));
    expect(poster.contentType).toBe('image/png');
    expect([...poster.bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const size = pngSize(poster.bytes);
    expect(size.width).toBeLessThanOrEqual(200);
    expect(size.width).toBeGreaterThan(50);
    expect(size.height).toBeGreaterThan(size.width); // a 2:3 poster
    expect(poster.etag).toBeTruthy();
    expect(movie.backdrop).not.toBeNull();
    const backdrop = ok(await backend.browse.image(call, movie.backdrop!, { width: 640, height: 360 }, opts));
    const wide = pngSize(backdrop.bytes);
    expect(wide.width).toBeGreaterThan(wide.height);
    expect(wide.width).toBeLessThanOrEqual(640);
    // Nothing but the server's own item images is fetched.
    const outside = await backend.browse.image(call, { kind: 'poster', path: 'http://127.0.0.9/x.png' }, { width: 100 }, opts);
    expect(outside).toMatchObject({ ok: false, error: { code: 'malformed' } });
  });

  it('a wrong token is a typed failure, never a throw, and the token is not in the message', async () => {
    const bad: RouteContext = { ...call, credentials: { ...call.credentials, token: 'not-the-token-0123456789' } };
    const r = await backend.browse.items(bad, { libraryId: libraryIds[side.libs.movies]!, start: 0, limit: 5 }, opts);
    expect(r).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(JSON.stringify(r)).not.toContain('not-the-token');
  });
});

describe('Jellyfin mixed library (no CollectionType)', () => {
  it('lists its movies and shows together', async () => {
    const backend = jellyfinSide.backend();
    const call = jellyfinSide.call();
    const libs = await backend.libraries(call.target, call.route, call.credentials, opts);
    if (!libs.ok) throw new Error(libs.error.message);
    const mixed = libs.libraries.find((l) => l.name === 'Mixed')!;
    const items = (await allPages(backend.browse, call, mixed.id, 4)).flatMap((p) => p.items);
    expect(items).toHaveLength(15);
    expect(new Set(items.map((i) => i.type))).toEqual(new Set(['movie', 'show']));
  });
});
