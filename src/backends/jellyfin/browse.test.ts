// JellyfinLibraryBrowser (through @jellyfin/sdk over the safe axios) against a local fake Jellyfin
// answering fixtures validated against the Jellyfin 10.11 OpenAPI document: requests asserted
// (paths, query, Authorization header, no token in any URL), answers mapped, failures classified.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JELLYFIN_SPEC, OpenApiValidator } from '../../../sim/openapi-validator.js';
import { JF_LIBRARY, JF_USER, JPEG_HEAD, PNG_1X1, jfEpisode, jfId, jfMovie, jfQueryResult, jfSeason, jfSeries } from '../../../test/support/library-fixtures.js';
import { createSafeAxios } from '../axios.js';
import { HttpClient } from '../http.js';
import type { RouteContext } from '../types.js';
import { JellyfinBackend } from './backend.js';

const TOKEN = 'jellyfinbrowsesecrettoken0000001';
const SERVER_ID = '0123456789abcdef0123456789abcdef';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let spec: OpenApiValidator;
beforeAll(() => {
  spec = new OpenApiValidator(JELLYFIN_SPEC);
});

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
async function fakeJellyfin(routes: Record<string, Handler>) {
  const seen: { path: string; url: string; query: URLSearchParams; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, url: req.url ?? '', query: url.searchParams, headers: req.headers });
    const handler = routes[url.pathname];
    if (!handler) return void (res.writeHead(404), res.end());
    if (!(req.headers.authorization ?? '').includes(`Token="${TOKEN}"`)) return void (res.writeHead(401), res.end());
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
const json = (body: unknown): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

function browser() {
  const http = new HttpClient();
  cleanups.push(() => http.close());
  return new JellyfinBackend({ axios: createSafeAxios(http), installId: 'install' }).browse;
}
const ctx = (url: string): RouteContext => ({
  target: { kind: 'jellyfin', serverId: SERVER_ID },
  route: { id: 'r', url, kind: 'local', priority: 0 },
  credentials: { token: TOKEN, userId: JF_USER, deviceId: 'd'.repeat(32) },
});
const opts = { timeoutMs: 2000 };
function expectValid(path: string, body: unknown) {
  expect(spec.validate(path, 'get', 200, body).errors).toEqual([]);
}
function expectNoTokenInUrls(seen: { url: string }[]) {
  expect(seen.length).toBeGreaterThan(0);
  for (const s of seen) expect(s.url).not.toContain(TOKEN);
}
const all = (q: URLSearchParams, key: string) => q.getAll(key).flatMap((v) => v.split(','));

describe('Jellyfin browse: items', () => {
  it('asks /Items for the library page (recursive, poster-grid types, SortName, fields, user data) and maps every field', async () => {
    const page = jfQueryResult([jfMovie(1), jfMovie(2, { UserData: { Played: true, PlaybackPositionTicks: 0, PlayCount: 1, IsFavorite: false, Key: '2', ItemId: jfId(0x1002) } })], 1234, 200);
    expectValid('/Items', page);
    const jf = await fakeJellyfin({ '/Items': json(page) });
    const r = await browser().items(ctx(jf.url), { libraryId: JF_LIBRARY, start: 200, limit: 2, changedSinceMs: Date.UTC(2024, 0, 2, 3, 4, 5) }, opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.total).toBe(1234);
    expect(r.value.start).toBe(200);
    expect(r.value.items[0]).toEqual({
      id: jfId(0x1001),
      libraryId: JF_LIBRARY,
      parentId: null,
      type: 'movie',
      title: 'Movie 1',
      sortTitle: 'movie 0001',
      year: 2001,
      addedAt: Date.UTC(2023, 10, 14, 22, 13, 20),
      updatedAt: null,
      rating: 7.2,
      durationMs: 5_400_000,
      overview: 'The story of movie 1.',
      genres: ['Drama'],
      cast: [],
      index: null,
      parentIndex: null,
      parentTitle: null,
      grandparentTitle: null,
      childCount: null,
      watched: false,
      resumeMs: 1_200_000,
      lastViewedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
      poster: { kind: 'poster', path: `/Items/${jfId(0x1001)}/Images/Primary`, tag: 'tag1' },
      backdrop: { kind: 'backdrop', path: `/Items/${jfId(0x1001)}/Images/Backdrop`, tag: 'bd1' },
      blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
    });
    expect(r.value.items[1]).toMatchObject({ watched: true, resumeMs: null });
    const q = jf.seen[0]?.query ?? new URLSearchParams();
    expect(q.get('userId')).toBe(JF_USER);
    expect(q.get('parentId')).toBe(JF_LIBRARY);
    expect(q.get('recursive')).toBe('true');
    expect(q.get('startIndex')).toBe('200');
    expect(q.get('limit')).toBe('2');
    expect(q.get('enableUserData')).toBe('true');
    expect(q.get('minDateLastSaved')).toBe('2024-01-02T03:04:05.000Z');
    expect(all(q, 'sortBy')).toEqual(['SortName']);
    expect(all(q, 'includeItemTypes')).toEqual(['Movie', 'Series', 'MusicAlbum', 'Photo', 'Video', 'MusicVideo']);
    expect(all(q, 'fields')).toEqual(expect.arrayContaining(['Overview', 'Genres', 'DateCreated', 'SortName']));
    expect(jf.seen[0]?.headers.authorization).toMatch(/^MediaBrowser Client="Marquee", Device="Marquee", DeviceId="d{32}", Version="[^"]+", Token="jellyfinbrowse/);
    expect(jf.seen[0]?.headers['x-emby-authorization']).toBeUndefined();
    expectNoTokenInUrls(jf.seen);
  });

  it('skips an unreadable item and counts it; all bad is malformed; a wrong envelope is malformed', async () => {
    let body: unknown = jfQueryResult([jfMovie(1), { Id: '../../etc', Type: 'Movie', Name: 'evil' }, { Name: 'no id' }, jfMovie(4)], 4);
    const jf = await fakeJellyfin({ '/Items': (_q, res) => json(body)(_q, res, new URL('http://x')) });
    const b = browser();
    const r = await b.items(ctx(jf.url), { libraryId: JF_LIBRARY, start: 0, limit: 4 }, opts);
    expect(r.ok && r.value.items.map((i) => i.title)).toEqual(['Movie 1', 'Movie 4']);
    expect(r.ok && r.value.skipped).toBe(2);
    body = jfQueryResult([{ Name: 'no id' }], 1);
    expect(await b.items(ctx(jf.url), { libraryId: JF_LIBRARY, start: 0, limit: 4 }, opts)).toMatchObject({ ok: false, error: { code: 'malformed' } });
    body = { Items: 'nope', TotalRecordCount: 1 };
    const wrong = await b.items(ctx(jf.url), { libraryId: JF_LIBRARY, start: 0, limit: 4 }, opts);
    expect(!wrong.ok && wrong.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/^127\.0\.0\.1:\d+: Jellyfin library items: unexpected answer from the server \(field Items\)$/) });
  });
});

describe('Jellyfin browse: item detail and children', () => {
  it('a series comes with its seasons, a season with its episodes (seasonId), a movie alone', async () => {
    const series = { ...jfSeries(), People: [{ Name: 'Ann Actor', Role: 'Lead', Type: 'Actor', Id: jfId(9) }, { Name: 'Dee Rector', Type: 'Director', Id: jfId(10) }] };
    const seasons = jfQueryResult([jfSeason(1), jfSeason(2)]);
    const episodes = jfQueryResult([jfEpisode(1), jfEpisode(2)]);
    expectValid('/Items/{itemId}', series);
    expectValid('/Shows/{seriesId}/Seasons', seasons);
    expectValid('/Shows/{seriesId}/Episodes', episodes);
    const jf = await fakeJellyfin({
      [`/Items/${jfId(0x2000)}`]: json(series),
      [`/Shows/${jfId(0x2000)}/Seasons`]: json(seasons),
      [`/Items/${jfId(0x2001)}`]: json(jfSeason(1)),
      [`/Shows/${jfId(0x2000)}/Episodes`]: json(episodes),
      [`/Items/${jfId(0x1001)}`]: json(jfMovie(1)),
    });
    const b = browser();
    const show = await b.item(ctx(jf.url), jfId(0x2000), opts);
    expect(show.ok && show.value.item).toMatchObject({ type: 'show', watched: true, childCount: 2, cast: [{ name: 'Ann Actor', role: 'Lead' }] });
    expect(show.ok && show.value.children.map((c) => [c.type, c.index, c.parentId, c.grandparentTitle])).toEqual([
      ['season', 1, jfId(0x2000), 'The Show'],
      ['season', 2, jfId(0x2000), 'The Show'],
    ]);
    const season = await b.item(ctx(jf.url), jfId(0x2001), opts);
    expect(season.ok && season.value.children.map((c) => [c.type, c.index, c.parentIndex, c.parentId, c.parentTitle, c.resumeMs, c.backdrop?.path])).toEqual([
      ['episode', 1, 1, jfId(0x2001), 'Season 1', 600_000, `/Items/${jfId(0x2000)}/Images/Backdrop`],
      ['episode', 2, 1, jfId(0x2001), 'Season 1', 600_000, `/Items/${jfId(0x2000)}/Images/Backdrop`],
    ]);
    const movie = await b.item(ctx(jf.url), jfId(0x1001), opts);
    expect(movie.ok && movie.value.children).toEqual([]);
    expect(jf.seen.map((s) => s.path)).toEqual([
      `/Items/${jfId(0x2000)}`,
      `/Shows/${jfId(0x2000)}/Seasons`,
      `/Items/${jfId(0x2001)}`,
      `/Shows/${jfId(0x2000)}/Episodes`,
      `/Items/${jfId(0x1001)}`,
    ]);
    expect(jf.seen[3]?.query.get('seasonId')).toBe(jfId(0x2001));
    expect(jf.seen.every((s) => s.query.get('userId') === JF_USER)).toBe(true);
    expectNoTokenInUrls(jf.seen);
  });

  it('an album lists its tracks through /Items?parentId', async () => {
    const album = { Name: 'Album', Id: jfId(0x5000), Type: 'MusicAlbum', AlbumArtist: 'Band', AlbumArtists: [{ Name: 'Band', Id: jfId(0x4999) }], ChildCount: 2 };
    const tracks = jfQueryResult([1, 2].map((n) => ({ Name: `Track ${n}`, Id: jfId(0x5000 + n), Type: 'Audio', IndexNumber: n, AlbumId: jfId(0x5000), Album: 'Album', AlbumArtist: 'Band', RunTimeTicks: 1_800_000_000 })));
    expectValid('/Items', tracks);
    const jf = await fakeJellyfin({ [`/Items/${jfId(0x5000)}`]: json(album), '/Items': json(tracks) });
    const r = await browser().item(ctx(jf.url), jfId(0x5000), opts);
    expect(r.ok && r.value.item).toMatchObject({ type: 'album', parentId: jfId(0x4999), grandparentTitle: 'Band', childCount: 2 });
    expect(r.ok && r.value.children.map((c) => [c.type, c.index, c.parentId, c.parentTitle, c.grandparentTitle, c.durationMs])).toEqual([
      ['track', 1, jfId(0x5000), 'Album', 'Band', 180_000],
      ['track', 2, jfId(0x5000), 'Album', 'Band', 180_000],
    ]);
    expect(jf.seen[1]?.query.get('parentId')).toBe(jfId(0x5000));
  });
});

describe('Jellyfin browse: home rows and search', () => {
  it('continue watching is /UserItems/Resume (videos), recently added /Items/Latest (a bare array)', async () => {
    const resume = jfQueryResult([jfEpisode(3), jfMovie(1)]);
    const latest = [jfMovie(7), jfSeries()];
    expectValid('/UserItems/Resume', resume);
    expectValid('/Items/Latest', latest);
    const jf = await fakeJellyfin({ '/UserItems/Resume': json(resume), '/Items/Latest': json(latest) });
    const b = browser();
    const cw = await b.continueWatching(ctx(jf.url), 1, opts);
    expect(cw.ok && cw.value.map((i) => [i.type, i.resumeMs])).toEqual([['episode', 600_000]]);
    const ra = await b.recentlyAdded(ctx(jf.url), 10, opts);
    expect(ra.ok && ra.value.map((i) => i.type)).toEqual(['movie', 'show']);
    expect(jf.seen[0]?.query.get('mediaTypes')).toBe('Video');
    expect(jf.seen[0]?.query.get('limit')).toBe('1');
    expect(jf.seen[1]?.query.get('limit')).toBe('10');
    expect(jf.seen[1]?.query.get('userId')).toBe(JF_USER);
  });

  it('search asks /Items with searchTerm, recursively, for media kinds', async () => {
    const found = jfQueryResult([jfMovie(1), jfEpisode(1)]);
    const jf = await fakeJellyfin({ '/Items': json(found) });
    const r = await browser().search(ctx(jf.url), 'movie & "more"', 20, opts);
    expect(r.ok && r.value.map((i) => i.type)).toEqual(['movie', 'episode']);
    const q = jf.seen[0]?.query ?? new URLSearchParams();
    expect(q.get('searchTerm')).toBe('movie & "more"');
    expect(q.get('recursive')).toBe('true');
    expect(all(q, 'includeItemTypes')).toEqual(['Movie', 'Series', 'Episode', 'MusicArtist', 'MusicAlbum', 'Audio', 'Photo']);
  });
});

describe('Jellyfin browse: images', () => {
  const ref = { kind: 'poster' as const, path: `/Items/${jfId(0x1001)}/Images/Primary`, tag: 'tag1' };

  it('asks /Items/{id}/Images/Primary with maxWidth, tag and quality; token only in the header; ETag passed', async () => {
    const jf = await fakeJellyfin({
      [`/Items/${jfId(0x1001)}/Images/Primary`]: (_q, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', etag: 'W/"x1"' });
        res.end(JPEG_HEAD);
      },
    });
    const r = await browser().image(ctx(jf.url), ref, { width: 320 }, opts);
    expect(r).toMatchObject({ ok: true, value: { contentType: 'image/jpeg', etag: 'W/"x1"' } });
    expect(r.ok && Buffer.from(r.value.bytes).equals(JPEG_HEAD)).toBe(true);
    expect(Object.fromEntries(jf.seen[0]?.query ?? [])).toEqual({ maxWidth: '320', quality: '90', tag: 'tag1' });
    expectNoTokenInUrls(jf.seen);
  });

  it('refuses SVG, mislabelled bytes and more than 8 MB; a foreign ref is refused without a request', async () => {
    let mode: 'svg' | 'mislabelled' | 'huge' = 'svg';
    const jf = await fakeJellyfin({
      [`/Items/${jfId(0x1001)}/Images/Primary`]: (_q, res) => {
        if (mode === 'svg') return void (res.writeHead(200, { 'content-type': 'image/svg+xml' }), res.end('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'));
        if (mode === 'mislabelled') return void (res.writeHead(200, { 'content-type': 'image/webp' }), res.end(PNG_1X1));
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(9 * 1024 * 1024) });
        res.write(PNG_1X1);
        res.on('error', () => undefined);
      },
    });
    const b = browser();
    const svg = await b.image(ctx(jf.url), ref, { width: 100 }, opts);
    expect(!svg.ok && svg.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/not a JPEG, PNG, WebP or GIF image \("image\/svg\+xml"\)/) });
    mode = 'mislabelled';
    const mislabelled = await b.image(ctx(jf.url), ref, { width: 100 }, opts);
    expect(!mislabelled.ok && mislabelled.error.message).toMatch(/a PNG image labelled "image\/webp"/);
    mode = 'huge';
    const huge = await b.image(ctx(jf.url), ref, { width: 100 }, opts);
    expect(!huge.ok && huge.error).toMatchObject({ code: 'too_large', message: expect.stringMatching(/more than 8 MB$/) });
    const before = jf.seen.length;
    for (const path of ['/Items/x/Images/Primary/../../../System/Info', 'http://10.0.0.1/Items/a/Images/Primary', '/Users/Me']) {
      expect(await b.image(ctx(jf.url), { kind: 'poster', path }, { width: 100 }, opts)).toMatchObject({ ok: false, error: { code: 'malformed' } });
    }
    expect(jf.seen.length).toBe(before);
  });
});

describe('Jellyfin browse: failures are classified', () => {
  it('timeout, refused, 401, 500 and truncated JSON, in words without the token', async () => {
    const { createServer: createNetServer } = await import('node:net');
    const sockets: Socket[] = [];
    const silent = createNetServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => (sockets.forEach((s) => s.destroy()), new Promise<void>((r) => silent.close(() => r()))));
    const hung = await browser().continueWatching(ctx(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`), 5, { timeoutMs: 300 });
    expect(hung).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/no answer within 0.3 s/) } });

    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await browser().search(ctx(`http://127.0.0.1:${port}`), 'x', 5, opts);
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });

    const jf = await fakeJellyfin({
      '/Items/Latest': (_q, res) => (res.writeHead(500), res.end()),
      '/UserItems/Resume': (_q, res) => (res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"Items":[{"Id":')),
    });
    const b = browser();
    const unauthorized = await b.continueWatching({ ...ctx(jf.url), credentials: { token: 'other', userId: JF_USER } }, 5, opts);
    expect(unauthorized).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
    const e500 = await b.recentlyAdded(ctx(jf.url), 5, opts);
    expect(e500).toMatchObject({ ok: false, error: { code: 'http_error', status: 500 } });
    const truncated = await b.continueWatching(ctx(jf.url), 5, opts);
    expect(!truncated.ok && truncated.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/^127\.0\.0\.1:\d+: /) });
    for (const r of [hung, refused, unauthorized, e500, truncated]) expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});
