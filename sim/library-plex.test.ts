import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';
import { PNG_MAGIC, libraryConfig, pngSize } from './library-fixtures.js';
import { OpenApiValidator, PLEX_SPEC } from './openapi-validator.js';

const spec = new OpenApiValidator(PLEX_SPEC);
let sim: Simulation;
let base: string;
let token: string;

beforeAll(async () => {
  sim = await createSimulation(libraryConfig());
  base = sim.servers.find((s) => s.id === 'plex-lib')!.routes[0]!.url;
  token = sim.plexTv.accountToken('demo');
});
afterAll(() => sim.close());

type Meta = Record<string, unknown> & { ratingKey: string; title: string; type: string };

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers: { Accept: 'application/json', 'X-Plex-Token': token, ...headers } });
  const text = await res.text();
  const body = res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, body, container: body?.MediaContainer as Record<string, unknown> & { Metadata?: Meta[]; size: number } };
}

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('Plex library: /library/sections/{id}/all', () => {
  it('pages with X-Plex-Container-Start/Size as headers or query, at exact boundaries, as the spec describes', async () => {
    const whole = await get('/library/sections/1/all');
    expectValid(spec.validate('/library/sections/{sectionId}/all', 'get', 200, whole.body));
    expect(whole.container.size).toBe(250);
    // Unpaged: no paging attributes in the container, only the headers.
    expect(whole.container).not.toHaveProperty('totalSize');
    expect(whole.headers.get('x-plex-container-total-size')).toBe('250');
    const allKeys = whole.container.Metadata!.map((m) => m.ratingKey);

    const keys: string[] = [];
    for (let start = 0; start < 250; start += 100) {
      const viaHeader = await get('/library/sections/1/all', { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': '100' });
      const viaQuery = await get(`/library/sections/1/all?X-Plex-Container-Start=${start}&X-Plex-Container-Size=100`);
      expectValid(spec.validate('/library/sections/{sectionId}/all', 'get', 200, viaHeader.body));
      expect(viaHeader.container).toMatchObject({ size: Math.min(100, 250 - start), totalSize: 250, offset: start });
      expect(viaQuery.container.Metadata!.map((m) => m.ratingKey)).toEqual(viaHeader.container.Metadata!.map((m) => m.ratingKey));
      expect(viaHeader.headers.get('x-plex-container-start')).toBe(String(start));
      keys.push(...viaHeader.container.Metadata!.map((m) => m.ratingKey));
    }
    expect(keys).toEqual(allKeys);
    for (const start of [250, 1000]) {
      const past = await get(`/library/sections/1/all?X-Plex-Container-Start=${start}&X-Plex-Container-Size=50`);
      expect(past.status).toBe(200);
      expect(past.container).toMatchObject({ size: 0, totalSize: 250, offset: start });
      expect(past.container).not.toHaveProperty('Metadata');
    }
    const zero = await get('/library/sections/1/all?X-Plex-Container-Start=0&X-Plex-Container-Size=0');
    expect(zero.container).toMatchObject({ size: 0, totalSize: 250 });
  });

  it('sorts by titleSort, addedAt, year, rating and updatedAt in both directions', async () => {
    const titles = (await get('/library/sections/1/all?sort=titleSort')).container.Metadata!.map((m) => ((m['titleSort'] as string | undefined) ?? m.title).toLowerCase());
    expect(titles).toEqual([...titles].sort((a, b) => a.localeCompare(b)));
    for (const field of ['addedAt', 'year', 'rating', 'updatedAt']) {
      const desc = (await get(`/library/sections/1/all?sort=${field}:desc`)).container.Metadata!.map((m) => m[field] as number);
      expect(desc).toEqual([...desc].sort((a, b) => b - a));
      const asc = (await get(`/library/sections/1/all?sort=${field}`)).container.Metadata!.map((m) => m[field] as number);
      expect(asc).toEqual([...asc].sort((a, b) => a - b));
    }
  });

  it('filters unwatched, genre and year; type=4 lists episodes; unknown section 404', async () => {
    const all = (await get('/library/sections/1/all')).container.Metadata!;
    const unwatched = (await get('/library/sections/1/all?unwatched=1')).container.Metadata!;
    expect(unwatched.length).toBeGreaterThan(0);
    expect(unwatched.length).toBeLessThan(all.length);
    expect(unwatched.every((m) => m['viewCount'] === undefined)).toBe(true);
    const genre = (all[0]!['Genre'] as { tag: string }[])[0]!.tag;
    const byGenre = (await get(`/library/sections/1/all?genre=${encodeURIComponent(genre)}`)).container.Metadata!;
    expect(byGenre.length).toBe(all.filter((m) => (m['Genre'] as { tag: string }[]).some((g) => g.tag === genre)).length);
    const year = all[0]!['year'] as number;
    const byYear = (await get(`/library/sections/1/all?year=${year}`)).container.Metadata!;
    expect(byYear.length).toBeGreaterThan(0);
    expect(byYear.every((m) => m['year'] === year)).toBe(true);
    const episodes = await get('/library/sections/2/all?type=4&X-Plex-Container-Size=5');
    expect(episodes.container.Metadata!.every((m) => m.type === 'episode')).toBe(true);
    expect((await get('/library/sections/99/all')).status).toBe(404);
  });

  it('updatedAt>>= (after, the date operator) returns exactly the items touchItems changed (incremental sync)', async () => {
    const since = Math.floor(Date.now() / 1000);
    const changed = sim.library('plex-lib').touchItems('TV Shows', 4);
    expect(changed).toHaveLength(4);
    // As a client sends it: the operator left of "=" URI-encoded.
    const res = await get(`/library/sections/2/all?updatedAt%3E%3E=${since - 1}`);
    expect(res.container.Metadata!.map((m) => m.ratingKey).sort()).toEqual([...changed].sort());
    expect(res.container.Metadata!.every((m) => (m['updatedAt'] as number) > since - 1)).toBe(true);
    // `>=` is an integer operator, not a date one: refused, never read as "after".
    expect((await get(`/library/sections/2/all?updatedAt>=${since}`)).status).toBe(400);
  });
});

describe('Plex library: metadata, children, hubs', () => {
  it('/library/metadata/{id}: detail with Media/Part ids from the MediaCatalog, codecs per variant; unknown 404', async () => {
    const catalog = sim.library('plex-lib').mediaCatalog();
    const movies = (await get('/library/sections/1/all?X-Plex-Container-Size=20')).container.Metadata!;
    let hevc = 0;
    for (const movie of movies) {
      const detail = await get(`/library/metadata/${movie.ratingKey}`);
      expectValid(spec.validate('/library/metadata/{ids}', 'get', 200, detail.body));
      const item = detail.container.Metadata![0]!;
      const media = (item['Media'] as { videoCodec: string; audioCodec: string; Part: { id: number; key: string; duration: number; Stream: unknown[] }[] }[])[0]!;
      const playable = catalog.playable(movie.ratingKey)!;
      expect(playable.durationMs).toBe(180_000);
      expect(media.Part[0]!.id).toBe(Number(playable.partId));
      expect(media.Part[0]!.key).toMatch(new RegExp(`^/library/parts/${playable.partId}/\\d+/file\\.mp4$`));
      expect(media.Part[0]!.Stream).toHaveLength(2);
      expect([media.videoCodec, media.audioCodec]).toEqual(playable.variant === 'hevc-ac3' ? ['hevc', 'ac3'] : ['h264', 'aac']);
      if (playable.variant === 'hevc-ac3') hevc++;
      expect(item).toMatchObject({ duration: 180_000, Role: expect.any(Array), Genre: expect.any(Array) });
    }
    expect(hevc).toBeGreaterThan(0);
    expect(hevc).toBeLessThan(movies.length);
    expect((await get('/library/metadata/123')).status).toBe(404);
    expect((await get('/library/metadata/100999000')).status).toBe(404);
  });

  it('/children: show → seasons → episodes, artist → albums → tracks (audio-aac)', async () => {
    const show = (await get('/library/sections/2/all?X-Plex-Container-Size=1')).container.Metadata![0]!;
    const seasons = await get(`/library/metadata/${show.ratingKey}/children`);
    expectValid(spec.validateComponent('mediaContainerWithMetadata', seasons.body));
    expect(seasons.container.Metadata!.every((m) => m.type === 'season' && m['parentRatingKey'] === show.ratingKey)).toBe(true);
    expect(seasons.container.size).toBe(show['childCount']);
    const episodes = await get(`/library/metadata/${seasons.container.Metadata![0]!.ratingKey}/children`);
    expect(episodes.container.Metadata!.map((m) => m['index'])).toEqual(episodes.container.Metadata!.map((_, i) => i + 1));
    expect(episodes.container.Metadata![0]).toMatchObject({ type: 'episode', grandparentRatingKey: show.ratingKey, duration: 180_000 });
    const artist = (await get('/library/sections/3/all?X-Plex-Container-Size=1')).container.Metadata![0]!;
    expect(artist.type).toBe('artist');
    const album = (await get(`/library/metadata/${artist.ratingKey}/children`)).container.Metadata![0]!;
    const track = (await get(`/library/metadata/${album.ratingKey}/children`)).container.Metadata![0]!;
    expect(track.type).toBe('track');
    expect(sim.library('plex-lib').mediaCatalog().playable(track.ratingKey)?.variant).toBe('audio-aac');
    expect(sim.library('plex-lib').mediaCatalog().playable(artist.ratingKey)).toBeNull();
  });

  it('/hubs/search, /hubs/continueWatching, /library/onDeck, /library/recentlyAdded match the spec', async () => {
    const movie = (await get('/library/sections/1/all?X-Plex-Container-Size=1')).container.Metadata![0]!;
    const word = movie.title.split(' ').at(-1)!;
    const search = await get(`/hubs/search?query=${encodeURIComponent(word)}&limit=5`);
    expectValid(spec.validate('/hubs/search', 'get', 200, search.body));
    const hubs = search.body.MediaContainer.Hub as { type: string; Metadata?: Meta[] }[];
    const movieHub = hubs.find((h) => h.type === 'movie')!;
    expect(movieHub.Metadata!.length).toBeGreaterThan(0);
    expect(movieHub.Metadata!.length).toBeLessThanOrEqual(5);
    expect(movieHub.Metadata!.every((m) => m.title.toLowerCase().includes(word.toLowerCase()))).toBe(true);

    const cw = await get('/hubs/continueWatching?count=5');
    expectValid(spec.validate('/hubs/continueWatching', 'get', 200, cw.body));
    const resumed = (cw.body.MediaContainer.Hub[0].Metadata ?? []) as Meta[];
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((m) => (m['viewOffset'] as number) > 0 && (m['viewOffset'] as number) < 180_000)).toBe(true);
    const onDeck = await get('/library/onDeck');
    expectValid(spec.validateComponent('mediaContainerWithMetadata', onDeck.body));
    const recent = await get('/library/recentlyAdded?X-Plex-Container-Start=0&X-Plex-Container-Size=10');
    expectValid(spec.validateComponent('mediaContainerWithMetadata', recent.body));
    const added = recent.container.Metadata!.map((m) => m['addedAt'] as number);
    expect(added).toEqual([...added].sort((a, b) => b - a));
  });

  it('setWatched and setResume show in viewCount / viewOffset and bump updatedAt', async () => {
    const movie = (await get('/library/sections/1/all?unwatched=1&X-Plex-Container-Size=1')).container.Metadata![0]!;
    expect(sim.library('plex-lib').setWatched(movie.ratingKey, true)).toBe(true);
    const watched = (await get(`/library/metadata/${movie.ratingKey}`)).container.Metadata![0]!;
    expect(watched['viewCount']).toBe(1);
    expect(watched['updatedAt']).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    expect(sim.library('plex-lib').setResume(movie.ratingKey, 42_000)).toBe(true);
    expect((await get(`/library/metadata/${movie.ratingKey}`)).container.Metadata![0]!['viewOffset']).toBe(42_000);
    expect(sim.library('plex-lib').setWatched('999', true)).toBe(false);
  });
});

describe('Plex images: /photo/:/transcode', () => {
  it('answers a PNG of a known thumb, resized into width×height, with ETag and Cache-Control', async () => {
    const movie = (await get('/library/sections/1/all?X-Plex-Container-Size=1')).container.Metadata![0]!;
    const url = `/photo/:/transcode?url=${encodeURIComponent(movie['thumb'] as string)}&width=200&height=300&minSize=1`;
    const res = await fetch(`${base}${url}`, { headers: { 'X-Plex-Token': token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toContain('max-age');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 8)).toEqual(PNG_MAGIC);
    expect(pngSize(body)).toEqual({ width: 200, height: 300 });
    expect(body.length).toBeGreaterThan(200);
    expect(body.length).toBeLessThan(20_000);
    const again = await fetch(`${base}${url}`, { headers: { 'X-Plex-Token': token } });
    expect(Buffer.from(await again.arrayBuffer())).toEqual(body);
    const small = await fetch(`${base}/photo/:/transcode?url=${encodeURIComponent(movie['art'] as string)}&width=320&height=320`, { headers: { 'X-Plex-Token': token } });
    const art = pngSize(Buffer.from(await small.arrayBuffer()));
    expect(art.width).toBe(320);
    expect(art.height).toBe(180);
    const huge = await fetch(`${base}/photo/:/transcode?url=${encodeURIComponent(movie['thumb'] as string)}&width=90000&height=90000`, { headers: { 'X-Plex-Token': token } });
    expect(Math.max(...Object.values(pngSize(Buffer.from(await huge.arrayBuffer()))))).toBeLessThanOrEqual(1500);
    expect((await fetch(`${base}${url}`, { headers: { 'X-Plex-Token': token, 'If-None-Match': etag } })).status).toBe(304);
  });

  it('refuses unknown items, foreign URLs and missing tokens', async () => {
    for (const target of ['/library/metadata/100999000/thumb/1', 'http://127.0.0.9/x.png', '/etc/passwd', '/library/metadata/100000000/banner/1']) {
      const res = await fetch(`${base}/photo/:/transcode?url=${encodeURIComponent(target)}&width=100&height=100`, { headers: { 'X-Plex-Token': token } });
      expect(res.status).toBe(404);
    }
    expect((await fetch(`${base}/photo/:/transcode?url=${encodeURIComponent('/library/metadata/100000000/thumb/1')}`)).status).toBe(401);
  });
});

describe('Plex library: deterministic across restarts', () => {
  it('a second simulation of the same config lists the same ids, titles and part ids', async () => {
    const other = await createSimulation(libraryConfig());
    try {
      const otherBase = other.servers.find((s) => s.id === 'plex-lib')!.routes[0]!.url;
      const headers = { Accept: 'application/json', 'X-Plex-Token': other.plexTv.accountToken('demo') };
      const mine = (await get('/library/sections/3/all')).container.Metadata!.map((m) => [m.ratingKey, m.title]);
      const theirs = (((await (await fetch(`${otherBase}/library/sections/3/all`, { headers })).json()) as { MediaContainer: { Metadata: Meta[] } }).MediaContainer.Metadata).map((m) => [m.ratingKey, m.title]);
      expect(theirs).toEqual(mine);
      expect(other.library('plex-lib').mediaCatalog().playable('100000000')).toEqual(sim.library('plex-lib').mediaCatalog().playable('100000000'));
    } finally {
      await other.close();
    }
  });
});
