// PlexLibraryBrowser against a local fake PMS answering fixtures shaped like the real server's
// (each validated against the community spec where the path is in it): requests asserted (paths,
// query, headers, no token in any URL), answers mapped, failures classified.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiValidator, PLEX_SPEC } from '../../../sim/openapi-validator.js';
import { JPEG_HEAD, PNG_1X1, plexContainer, plexEpisode, plexHubs, plexMovie, plexSeason, plexShow } from '../../../test/support/library-fixtures.js';
import { HttpClient } from '../http.js';
import type { RouteContext } from '../types.js';
import { PlexBackend } from './backend.js';

const TOKEN = 'plex-browse-secret-token-77';
const SERVER_ID = 'c'.repeat(40);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let spec: OpenApiValidator;
beforeAll(() => {
  spec = new OpenApiValidator(PLEX_SPEC);
});

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
async function fakePms(routes: Record<string, Handler>) {
  const seen: { path: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, url: req.url ?? '', headers: req.headers });
    const handler = routes[url.pathname];
    if (!handler || req.headers['x-plex-token'] !== TOKEN) {
      res.writeHead(handler ? 401 : 404, { 'content-type': 'text/html' });
      return void res.end('<html><body>no</body></html>');
    }
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const json = (body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-plex-protocol': '1.0', ...headers });
  res.end(JSON.stringify(body));
};

function browser() {
  const http = new HttpClient();
  cleanups.push(() => http.close());
  return new PlexBackend({ http, clientIdentifier: 'install-1' }).browse;
}
const ctx = (url: string): RouteContext => ({ target: { kind: 'plex', serverId: SERVER_ID }, route: { id: 'r', url, kind: 'local', priority: 0 }, credentials: { token: TOKEN } });
const opts = { timeoutMs: 2000 };
const sections = { MediaContainer: { size: 2, Directory: [{ key: '1', title: 'Movies', type: 'movie' }, { key: '3', title: 'Music', type: 'artist' }] } };

function expectValid(path: string, body: unknown) {
  const v = spec.validate(path, 'get', 200, body);
  expect(v.errors).toEqual([]);
}
function expectNoTokenInUrls(seen: { url: string }[]) {
  expect(seen.length).toBeGreaterThan(0);
  for (const s of seen) expect(s.url).not.toContain(TOKEN);
}

describe('Plex browse: items', () => {
  it('pages /library/sections/{id}/all with container headers and maps every field', async () => {
    const page = plexContainer([plexMovie(1), plexMovie(2, { viewCount: 1, lastViewedAt: 1_700_300_000 })], { totalSize: 250, offset: 100, librarySectionID: 1 });
    expectValid('/library/sections/{sectionId}/all', page);
    const pms = await fakePms({ '/library/sections': json(sections), '/library/sections/1/all': json(page) });
    const r = await browser().items(ctx(pms.url), { libraryId: '1', start: 100, limit: 2 }, opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.total).toBe(250);
    expect(r.value.start).toBe(100);
    expect(r.value.skipped).toBeUndefined();
    expect(r.value.items[0]).toEqual({
      id: '1001',
      libraryId: '1',
      parentId: null,
      type: 'movie',
      title: 'Movie 1',
      sortTitle: 'Movie 0001',
      year: 2001,
      addedAt: 1_700_000_001_000,
      updatedAt: 1_700_100_001_000,
      rating: 7.5,
      durationMs: 5_400_000,
      overview: 'The story of movie 1.',
      genres: ['Drama', 'Comedy'],
      cast: [{ name: 'Ann Actor', role: 'Herself' }],
      index: null,
      parentIndex: null,
      parentTitle: null,
      grandparentTitle: null,
      childCount: null,
      watched: false,
      resumeMs: null,
      lastViewedAt: null,
      poster: { kind: 'poster', path: '/library/metadata/1001/thumb/1700100000' },
      backdrop: { kind: 'backdrop', path: '/library/metadata/1001/art/1700100000' },
      blurhash: null,
    });
    expect(r.value.items[1]).toMatchObject({ watched: true, lastViewedAt: 1_700_300_000_000 });
    const call = pms.seen.find((s) => s.path === '/library/sections/1/all');
    expect(call?.headers['x-plex-container-start']).toBe('100');
    expect(call?.headers['x-plex-container-size']).toBe('2');
    expect(call?.headers['accept']).toBe('application/json');
    expect(call?.headers['x-plex-client-identifier']).toBe('install-1');
    expect(new URL(call?.url ?? '', 'http://x').searchParams.get('type')).toBeNull();
    expectNoTokenInUrls(pms.seen);
  });

  it('lists albums (type=9) of a music section, asks /library/sections once, and filters on updatedAt for incremental sync', async () => {
    const album = { ratingKey: '5000', type: 'album', title: 'Album', parentTitle: 'Band', parentRatingKey: '4999', leafCount: 12, thumb: '/library/metadata/5000/thumb/1' };
    const page = plexContainer([album], { totalSize: 1, offset: 0, librarySectionID: 3 });
    expectValid('/library/sections/{sectionId}/all', page);
    const pms = await fakePms({ '/library/sections': json(sections), '/library/sections/3/all': json(page) });
    const b = browser();
    const r1 = await b.items(ctx(pms.url), { libraryId: '3', start: 0, limit: 50, changedSinceMs: 1_700_000_100_500 }, opts);
    const r2 = await b.items(ctx(pms.url), { libraryId: '3', start: 50, limit: 50 }, opts);
    expect(r1.ok && r1.value.items[0]).toMatchObject({ id: '5000', type: 'album', libraryId: '3', parentId: '4999', grandparentTitle: null, parentTitle: 'Band', childCount: 12 });
    expect(r2.ok).toBe(true);
    expect(pms.seen.filter((s) => s.path === '/library/sections')).toHaveLength(1);
    const calls = pms.seen.filter((s) => s.path === '/library/sections/3/all').map((s) => new URL(s.url, 'http://x').searchParams);
    expect(calls[0]?.get('type')).toBe('9');
    // "at or after" 1_700_000_100.5 s → Plex's strict "after" one second earlier.
    expect(calls[0]?.get('updatedAt>>')).toBe('1700000099');
    expect(calls[1]?.get('updatedAt>>')).toBeNull();
    expectNoTokenInUrls(pms.seen);
  });

  it('skips an unreadable item and counts it; a page of only bad items is malformed, naming the server', async () => {
    let metadata: unknown[] = [plexMovie(1), { ratingKey: '', type: 'movie' }, plexMovie(3)];
    const pms = await fakePms({ '/library/sections': json(sections), '/library/sections/1/all': (_q, res) => json(plexContainer(metadata, { totalSize: 3 }))(_q, res, new URL('http://x')) });
    const r = await browser().items(ctx(pms.url), { libraryId: '1', start: 0, limit: 3 }, opts);
    expect(r.ok && r.value.items.map((i) => i.id)).toEqual(['1001', '1003']);
    expect(r.ok && r.value.skipped).toBe(1);
    metadata = [{ title: 5 }, 'x'];
    const bad = await browser().items(ctx(pms.url), { libraryId: '1', start: 0, limit: 3 }, opts);
    expect(bad).toMatchObject({ ok: false, error: { code: 'malformed' } });
    expect(!bad.ok && bad.error.message).toMatch(/^127\.0\.0\.1:\d+: Plex library items: .*none of its 2 items/);
  });

  it('returns a page that lies about its total as it is (the caller bounds its loop)', async () => {
    const pms = await fakePms({ '/library/sections': json(sections), '/library/sections/1/all': json(plexContainer([], { totalSize: 5000, offset: 0 })) });
    const r = await browser().items(ctx(pms.url), { libraryId: '1', start: 400, limit: 100 }, opts);
    expect(r).toEqual({ ok: true, value: { items: [], total: 5000, start: 0 } });
  });
});

describe('Plex browse: item, home rows, search', () => {
  it('a show comes with its seasons (/children), a movie without a children call', async () => {
    const show = plexContainer([plexShow()], { librarySectionID: 2 });
    const seasons = plexContainer([plexSeason(1), plexSeason(2)], { parentTitle: 'The Show', librarySectionID: 2 });
    expectValid('/library/metadata/{ids}', show);
    expect(spec.validateComponent('mediaContainerWithMetadata', seasons).errors).toEqual([]);
    const pms = await fakePms({
      '/library/metadata/2000': json(show),
      '/library/metadata/2000/children': json(seasons),
      '/library/metadata/1001': json(plexContainer([plexMovie(1)])),
    });
    const b = browser();
    const r = await b.item(ctx(pms.url), '2000', opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.item).toMatchObject({ id: '2000', type: 'show', watched: true, childCount: 2, libraryId: '2' });
    expect(r.value.children.map((c) => [c.id, c.type, c.index, c.parentId, c.libraryId, c.childCount, c.watched, c.parentTitle])).toEqual([
      ['2001', 'season', 1, '2000', '2', 10, false, 'The Show'],
      ['2002', 'season', 2, '2000', '2', 10, false, 'The Show'],
    ]);
    const movie = await b.item(ctx(pms.url), '1001', opts);
    expect(movie.ok && movie.value.children).toEqual([]);
    expect(pms.seen.map((s) => s.path)).toEqual(['/library/metadata/2000', '/library/metadata/2000/children', '/library/metadata/1001']);
    expectNoTokenInUrls(pms.seen);
  });

  it('the detail and its children share one timeout (a hung /children does not double the wait)', async () => {
    const pms = await fakePms({
      '/library/metadata/2000': (_q, res) => void setTimeout(() => json(plexContainer([plexShow()]))(_q, res, new URL('http://x')), 300),
      '/library/metadata/2000/children': () => undefined,
    });
    const started = Date.now();
    const r = await browser().item(ctx(pms.url), '2000', { timeoutMs: 500 });
    const elapsed = Date.now() - started;
    expect(r).toMatchObject({ ok: false, error: { code: 'timeout' } });
    // 300 ms for the detail + what is left (200 ms) for the children; separate budgets would take 800 ms.
    expect(elapsed).toBeLessThan(700);
  });

  it('an empty /library/metadata answer is malformed; a 404 stays an http_error with its status', async () => {
    const pms = await fakePms({ '/library/metadata/9': json(plexContainer([])) });
    const r = await browser().item(ctx(pms.url), '9', opts);
    expect(r).toMatchObject({ ok: false, error: { code: 'malformed' } });
    const missing = await browser().item(ctx(pms.url), '10', opts);
    expect(missing).toMatchObject({ ok: false, error: { code: 'http_error', status: 404 } });
  });

  it('continue watching reads /hubs/continueWatching, and /library/onDeck where that is 404', async () => {
    const hub = plexHubs([{ type: 'mixed', items: [plexEpisode(1), plexMovie(2, { viewOffset: 1000 })] }]);
    expectValid('/hubs/continueWatching', hub);
    const withHub = await fakePms({ '/hubs/continueWatching': json(hub) });
    const r = await browser().continueWatching(ctx(withHub.url), 10, opts);
    expect(r.ok && r.value.map((i) => [i.id, i.type, i.resumeMs])).toEqual([
      ['3001', 'episode', 600_000],
      ['1002', 'movie', 1000],
    ]);
    expect(r.ok && r.value[0]).toMatchObject({ parentId: '2001', parentTitle: 'Season 1', grandparentTitle: 'The Show', index: 1, parentIndex: 1, lastViewedAt: 1_700_200_000_000 });
    expect(new URL(withHub.seen[0]?.url ?? '', 'http://x').searchParams.get('count')).toBe('10');
    const old = await fakePms({ '/library/onDeck': json(plexContainer([plexEpisode(2)])) });
    const r2 = await browser().continueWatching(ctx(old.url), 10, opts);
    expect(r2.ok && r2.value.map((i) => i.id)).toEqual(['3002']);
    expect(old.seen.map((s) => s.path)).toEqual(['/hubs/continueWatching', '/library/onDeck']);
  });

  it('recently added reads /library/recentlyAdded with the limit as container size', async () => {
    const pms = await fakePms({ '/library/recentlyAdded': json(plexContainer([plexMovie(1), plexSeason(1), plexMovie(2)])) });
    const r = await browser().recentlyAdded(ctx(pms.url), 2, opts);
    expect(r.ok && r.value.map((i) => i.id)).toEqual(['1001', '2001']);
    expect(pms.seen[0]?.headers['x-plex-container-size']).toBe('2');
  });

  it('search flattens the hubs, keeps media kinds only, at most limit', async () => {
    const hubs = plexHubs([
      { type: 'movie', items: [plexMovie(1)] },
      { type: 'actor', items: [{ ratingKey: '77', type: 'tag', title: 'Ann Actor' }] },
      { type: 'episode', items: [plexEpisode(1), plexEpisode(2)] },
    ]);
    expectValid('/hubs/search', hubs);
    const pms = await fakePms({ '/hubs/search': json(hubs) });
    const r = await browser().search(ctx(pms.url), 'movie & more', 2, opts);
    expect(r.ok && r.value.map((i) => i.id)).toEqual(['1001', '3001']);
    const q = new URL(pms.seen[0]?.url ?? '', 'http://x').searchParams;
    expect(q.get('query')).toBe('movie & more');
    expect(q.get('limit')).toBe('2');
  });
});

describe('Plex browse: images', () => {
  const ref = { kind: 'poster' as const, path: '/library/metadata/1001/thumb/1700100000' };

  it('asks /photo/:/transcode with the thumb path and size, token only in the header; passes the ETag', async () => {
    const pms = await fakePms({
      '/photo/:/transcode': (_q, res) => {
        res.writeHead(200, { 'content-type': 'image/png', etag: '"abc"', 'content-length': String(PNG_1X1.length) });
        res.end(PNG_1X1);
      },
    });
    const r = await browser().image(ctx(pms.url), ref, { width: 300 }, opts);
    expect(r).toMatchObject({ ok: true, value: { contentType: 'image/png', etag: '"abc"' } });
    expect(r.ok && Buffer.from(r.value.bytes).equals(PNG_1X1)).toBe(true);
    const q = new URL(pms.seen[0]?.url ?? '', 'http://x').searchParams;
    expect(Object.fromEntries(q)).toEqual({ url: ref.path, width: '300', height: '450', minSize: '1', upscale: '1' });
    expectNoTokenInUrls(pms.seen);
  });

  it('refuses HTML labelled as an image, a label that does not match the bytes, and a body over 8 MB', async () => {
    let mode: 'html' | 'mislabelled' | 'huge' = 'html';
    const pms = await fakePms({
      '/photo/:/transcode': (_q, res) => {
        if (mode === 'html') {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          return void res.end('<html>captive portal</html>');
        }
        if (mode === 'mislabelled') {
          res.writeHead(200, { 'content-type': 'image/png' });
          return void res.end(JPEG_HEAD);
        }
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        const chunk = Buffer.alloc(1024 * 1024, 0xff);
        let sent = 0;
        const pump = () => {
          while (sent < 9 && res.write(chunk)) sent++;
          if (sent >= 9) res.end();
          else res.once('drain', pump);
        };
        res.on('error', () => undefined);
        pump();
      },
    });
    const b = browser();
    const html = await b.image(ctx(pms.url), ref, { width: 100 }, opts);
    expect(html).toMatchObject({ ok: false, error: { code: 'malformed' } });
    expect(!html.ok && html.error.message).toMatch(/not a JPEG, PNG, WebP or GIF image \("image\/jpeg"\)/);
    mode = 'mislabelled';
    const mislabelled = await b.image(ctx(pms.url), ref, { width: 100 }, opts);
    expect(!mislabelled.ok && mislabelled.error).toMatchObject({ code: 'malformed', message: expect.stringMatching(/sent a JPEG image labelled "image\/png"/) });
    mode = 'huge';
    const huge = await b.image(ctx(pms.url), ref, { width: 100 }, { timeoutMs: 5000 });
    expect(!huge.ok && huge.error).toMatchObject({ code: 'too_large', message: expect.stringMatching(/answered with more than 8 MB$/) });
  });

  it('refuses a ref that is not a server path without sending anything', async () => {
    const pms = await fakePms({});
    for (const path of ['http://169.254.169.254/latest', '//evil.example/x', '/library/../../etc', 'relative/path']) {
      const r = await browser().image(ctx(pms.url), { kind: 'poster', path }, { width: 100 }, opts);
      expect(r).toMatchObject({ ok: false, error: { code: 'malformed' } });
    }
    expect(pms.seen).toEqual([]);
  });
});

describe('Plex browse: failures are classified', () => {
  it('timeout, refused, 401, 500 and a non-JSON body, each in words without the token', async () => {
    const { createServer: createNetServer } = await import('node:net');
    const silent = createNetServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (silent.close(() => r()), undefined)));
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const hung = await browser().recentlyAdded(ctx(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`), 5, { timeoutMs: 300 });
    expect(hung).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/no answer within 0.3 s/) } });

    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await browser().search(ctx(`http://127.0.0.1:${port}`), 'x', 5, opts);
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });

    const pms = await fakePms({
      '/library/metadata/1': json(plexContainer([plexMovie(1)])),
      '/library/recentlyAdded': (_q, res) => (res.writeHead(500), res.end('oops')),
      '/hubs/search': (_q, res) => (res.writeHead(200, { 'content-type': 'application/json' }), res.end('{"MediaContainer":')),
    });
    const b = browser();
    const unauthorized = await b.item({ ...ctx(pms.url), credentials: { token: 'wrong' } }, '1', opts);
    expect(unauthorized).toMatchObject({ ok: false, error: { code: 'unauthorized', status: 401 } });
    const e500 = await b.recentlyAdded(ctx(pms.url), 5, opts);
    expect(e500).toMatchObject({ ok: false, error: { code: 'http_error', status: 500 } });
    const truncated = await b.search(ctx(pms.url), 'x', 5, opts);
    expect(truncated).toMatchObject({ ok: false, error: { code: 'malformed', message: expect.stringMatching(/^127\.0\.0\.1:\d+: the server sent data that is not valid JSON$/) } });
    for (const r of [hung, refused, unauthorized, e500, truncated]) expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});
