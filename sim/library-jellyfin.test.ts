import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';
import { PNG_MAGIC, libraryConfig, pngSize } from './library-fixtures.js';
import { JELLYFIN_SPEC, OpenApiValidator } from './openapi-validator.js';
import { mediaBrowser } from './test-fixtures.js';

const spec = new OpenApiValidator(JELLYFIN_SPEC);
let sim: Simulation;
let base: string;
let auth: Record<string, string>;
let userId: string;
let views: Record<string, string>;

type Item = Record<string, unknown> & { Id: string; Name: string; Type: string; UserData: { Played: boolean; PlaybackPositionTicks: number; PlayCount: number; IsFavorite: boolean } };

beforeAll(async () => {
  sim = await createSimulation(libraryConfig());
  base = sim.servers.find((s) => s.id === 'jf-lib')!.routes[0]!.url;
  const token = sim.jellyfin('jf-lib').issueToken('demo');
  userId = sim.jellyfin('jf-lib').user('demo').id;
  auth = { Authorization: mediaBrowser({ token }) };
  const res = await get('/UserViews');
  views = Object.fromEntries((res.body.Items as Item[]).map((v) => [v.Name, v.Id]));
});
afterAll(() => sim.close());

async function get(path: string, headers = auth) {
  const res = await fetch(`${base}${path}`, { headers });
  const type = res.headers.get('content-type') ?? '';
  const buffer = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buffer, body: type.includes('json') && buffer.length ? JSON.parse(buffer.toString()) : undefined };
}

function expectValid(result: { valid: boolean; errors: string[] }) {
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('Jellyfin library: /UserViews and /Items', () => {
  it('/UserViews carries the library ids, CollectionType and item counts', async () => {
    const res = await get('/UserViews');
    expectValid(spec.validate('/UserViews', 'get', 200, res.body));
    expect((res.body.Items as Item[]).map((v) => [v.Name, v['CollectionType'], v['ChildCount']])).toEqual([
      ['Movies', 'movies', 120],
      ['Shows', 'tvshows', 20],
      ['Music', 'music', 8],
      ['Mixed', undefined, 9],
    ]);
  });

  it('pages with startIndex/limit at exact boundaries, including past the end', async () => {
    const all = await get(`/Items?userId=${userId}&parentId=${views['Movies']}&sortBy=SortName&sortOrder=Ascending`);
    expectValid(spec.validate('/Items', 'get', 200, all.body));
    expect(all.body).toMatchObject({ TotalRecordCount: 120, StartIndex: 0 });
    const ids: string[] = [];
    for (let start = 0; start < 120; start += 50) {
      const page = await get(`/Items?parentId=${views['Movies']}&sortBy=SortName&startIndex=${start}&limit=50`);
      expect(page.body).toMatchObject({ TotalRecordCount: 120, StartIndex: start });
      expect(page.body.Items).toHaveLength(Math.min(50, 120 - start));
      ids.push(...(page.body.Items as Item[]).map((i) => i.Id));
    }
    expect(ids).toEqual((all.body.Items as Item[]).map((i) => i.Id));
    for (const start of [120, 5000]) {
      const past = await get(`/Items?parentId=${views['Movies']}&startIndex=${start}&limit=50`);
      expectValid(spec.validate('/Items', 'get', 200, past.body));
      expect(past.body).toEqual({ Items: [], TotalRecordCount: 120, StartIndex: start });
    }
  });

  it('sorts by SortName, DateCreated, ProductionYear and CommunityRating; fields add Overview, Genres, DateCreated, ImageBlurHashes', async () => {
    for (const [sortBy, field] of [['DateCreated', 'DateCreated'], ['ProductionYear', 'ProductionYear'], ['CommunityRating', 'CommunityRating']] as const) {
      const res = await get(`/Items?parentId=${views['Movies']}&sortBy=${sortBy}&sortOrder=Descending&fields=DateCreated`);
      const values = (res.body.Items as Item[]).map((i) => (field === 'DateCreated' ? Date.parse(i[field] as string) : (i[field] as number)));
      expect(values).toEqual([...values].sort((a, b) => b - a));
    }
    const res = await get(`/Items?parentId=${views['Movies']}&limit=5&fields=Overview,Genres,DateCreated,ImageBlurHashes,MediaSources,People`);
    expectValid(spec.validate('/Items', 'get', 200, res.body));
    const item = (res.body.Items as Item[])[0]!;
    expect(item).toMatchObject({ Type: 'Movie', Overview: expect.any(String), Genres: expect.any(Array), DateCreated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), RunTimeTicks: 180_000 * 10_000 });
    const tag = (item['ImageTags'] as { Primary: string }).Primary;
    const hash = (item['ImageBlurHashes'] as { Primary: Record<string, string> }).Primary[tag]!;
    // A 4×3 BlurHash: size flag "L", 1 + 1 + 4 + 2 × 11 characters of base 83.
    expect(hash).toMatch(/^L[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{27}$/);
    expect((item['People'] as unknown[]).length).toBe(3);
    const bare = (await get(`/Items?parentId=${views['Movies']}&limit=1`)).body.Items[0] as Item;
    expect(bare).not.toHaveProperty('Overview');
    expect(bare).not.toHaveProperty('ImageBlurHashes');
  });

  it('filters IsPlayed/IsUnplayed/IsResumable, genres, years, searchTerm and minDateLastSaved', async () => {
    const total = (await get(`/Items?parentId=${views['Movies']}`)).body.TotalRecordCount as number;
    const played = await get(`/Items?parentId=${views['Movies']}&filters=IsPlayed`);
    const unplayed = await get(`/Items?parentId=${views['Movies']}&filters=IsUnplayed`);
    expect(played.body.TotalRecordCount + unplayed.body.TotalRecordCount).toBe(total);
    expect((played.body.Items as Item[]).every((i) => i.UserData.Played)).toBe(true);
    const resumable = await get(`/Items?parentId=${views['Movies']}&filters=IsResumable`);
    expect(resumable.body.TotalRecordCount).toBeGreaterThan(0);
    expect((resumable.body.Items as Item[]).every((i) => i.UserData.PlaybackPositionTicks > 0)).toBe(true);
    const first = (await get(`/Items?parentId=${views['Movies']}&limit=1&fields=Genres`)).body.Items[0] as Item;
    const genre = (first['Genres'] as string[])[0]!;
    const byGenre = await get(`/Items?parentId=${views['Movies']}&genres=${encodeURIComponent(genre)}&fields=Genres`);
    expect((byGenre.body.Items as Item[]).every((i) => (i['Genres'] as string[]).includes(genre))).toBe(true);
    const byYear = await get(`/Items?parentId=${views['Movies']}&years=${String(first['ProductionYear'])}`);
    expect((byYear.body.Items as Item[]).every((i) => i['ProductionYear'] === first['ProductionYear'])).toBe(true);
    const word = first.Name.split(' ').at(-1)!;
    const search = await get(`/Items?searchTerm=${encodeURIComponent(word)}&recursive=true&includeItemTypes=Movie`);
    expect(search.body.TotalRecordCount).toBeGreaterThan(0);
    expect((search.body.Items as Item[]).every((i) => i.Name.toLowerCase().includes(word.toLowerCase()))).toBe(true);

    const since = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const changed = sim.library('jf-lib').touchItems('Movies', 3);
    // BaseItemDto has no DateLastSaved (the spec forbids extra members): the filter is the whole contract.
    const incremental = await get(`/Items?parentId=${views['Movies']}&minDateLastSaved=${encodeURIComponent(since)}`);
    expectValid(spec.validate('/Items', 'get', 200, incremental.body));
    expect((incremental.body.Items as Item[]).map((i) => i.Id).sort()).toEqual([...changed].sort());
  });

  it('recursive with includeItemTypes walks into shows and music; parentId of a series lists seasons', async () => {
    const episodes = await get(`/Items?parentId=${views['Shows']}&recursive=true&includeItemTypes=Episode&limit=10`);
    expectValid(spec.validate('/Items', 'get', 200, episodes.body));
    expect((episodes.body.Items as Item[]).every((i) => i.Type === 'Episode' && typeof i['SeriesId'] === 'string')).toBe(true);
    const tracks = await get(`/Items?parentId=${views['Music']}&recursive=true&includeItemTypes=Audio&limit=5`);
    expect((tracks.body.Items as Item[]).every((i) => i.Type === 'Audio' && typeof i['AlbumId'] === 'string')).toBe(true);
    const mixed = await get(`/Items?parentId=${views['Mixed']}`);
    expect(new Set((mixed.body.Items as Item[]).map((i) => i.Type))).toEqual(new Set(['Movie', 'Series']));
    const series = (await get(`/Items?parentId=${views['Shows']}&limit=1`)).body.Items[0] as Item;
    const seasons = await get(`/Items?parentId=${series.Id}`);
    expect((seasons.body.Items as Item[]).every((i) => i.Type === 'Season')).toBe(true);
  });
});

describe('Jellyfin library: array query parameters as the server binds them', () => {
  it('repeated keys (what @jellyfin/sdk sends) and one comma-separated key mean the same list', async () => {
    const repeated = await get(`/Items?parentId=${views['Mixed']}&recursive=true&includeItemTypes=Movie&includeItemTypes=Series&fields=Genres&fields=SortName&limit=100`);
    const comma = await get(`/Items?parentId=${views['Mixed']}&recursive=true&includeItemTypes=Movie,Series&fields=Genres,SortName&limit=100`);
    expectValid(spec.validate('/Items', 'get', 200, repeated.body));
    expect(repeated.body).toEqual(comma.body);
    const items = repeated.body.Items as Item[];
    expect(new Set(items.map((i) => i.Type))).toEqual(new Set(['Movie', 'Series']));
    // Both fields asked for are there, not only the first.
    expect(items.every((i) => Array.isArray(i['Genres']) && typeof i['SortName'] === 'string')).toBe(true);
    // A kind the library holds none of (Video) adds nothing and removes nothing.
    const withVideo = await get(`/Items?parentId=${views['Mixed']}&recursive=true&includeItemTypes=Movie&includeItemTypes=Series&includeItemTypes=Video&limit=100`);
    expect(withVideo.body.TotalRecordCount).toBe(repeated.body.TotalRecordCount);
    expect((await get(`/Items?parentId=${views['Mixed']}&recursive=true&includeItemTypes=Video`)).body.TotalRecordCount).toBe(0);
  });

  it('sortBy: the first known field wins, IndexNumber keeps natural order, a name that is no ItemSortBy is skipped (no 400)', async () => {
    const byDate = await get(`/Items?parentId=${views['Movies']}&sortBy=NotASortField&sortBy=DateCreated&sortOrder=Descending&fields=DateCreated&limit=20`);
    expect(byDate.status).toBe(200);
    const dates = (byDate.body.Items as Item[]).map((i) => Date.parse(i['DateCreated'] as string));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    const series = (await get(`/Items?parentId=${views['Shows']}&limit=1`)).body.Items[0] as Item;
    const season = (await get(`/Items?parentId=${series.Id}`)).body.Items[0] as Item;
    const episodes = await get(`/Items?parentId=${season.Id}&sortBy=ParentIndexNumber&sortBy=IndexNumber&sortBy=SortName`);
    expect(episodes.status).toBe(200);
    const numbers = (episodes.body.Items as Item[]).map((i) => i['IndexNumber'] as number);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it('artistIds lists the albums of an artist; minDateLastSaved keeps a change made later in the same second', async () => {
    const album = (await get(`/Items?parentId=${views['Music']}&recursive=true&includeItemTypes=MusicAlbum&limit=1`)).body.Items[0] as Item;
    const artistId = (album['AlbumArtists'] as { Id: string }[])[0]!.Id;
    const albums = await get(`/Items?artistIds=${artistId}&recursive=true&includeItemTypes=MusicAlbum`);
    expectValid(spec.validate('/Items', 'get', 200, albums.body));
    const found = albums.body.Items as Item[];
    expect(found.map((i) => i.Id)).toContain(album.Id);
    expect(found.every((i) => i.Type === 'MusicAlbum' && (i['AlbumArtists'] as { Id: string }[])[0]!.Id === artistId)).toBe(true);

    // A moment with milliseconds, then a change: the change is at or after it, so it is listed.
    const since = new Date(Date.now()).toISOString();
    const changed = sim.library('jf-lib').touchItems('Movies', 1);
    const incremental = await get(`/Items?parentId=${views['Movies']}&minDateLastSaved=${encodeURIComponent(since)}`);
    expect((incremental.body.Items as Item[]).map((i) => i.Id)).toContain(changed[0]);
  });
});

describe('Jellyfin library: detail, shows, resume, latest, search', () => {
  it('/Items/{id} (and the legacy /Users/{id}/Items/{id}) carry UserData and one MediaSource whose Id is the catalog partId', async () => {
    const catalog = sim.library('jf-lib').mediaCatalog();
    const movies = (await get(`/Items?parentId=${views['Movies']}&limit=10`)).body.Items as Item[];
    const codecs = new Set<string>();
    for (const movie of movies) {
      const detail = await get(`/Items/${movie.Id}?userId=${userId}`);
      expectValid(spec.validate('/Items/{itemId}', 'get', 200, detail.body));
      const playable = catalog.playable(movie.Id)!;
      const sources = detail.body.MediaSources as { Id: string; Container: string; MediaStreams: { Type: string; Codec: string }[] }[];
      expect(sources).toHaveLength(1);
      expect(sources[0]!.Id).toBe(playable.partId);
      const video = sources[0]!.MediaStreams.find((s) => s.Type === 'Video')!.Codec;
      expect(video).toBe(playable.variant === 'hevc-ac3' ? 'hevc' : 'h264');
      codecs.add(video);
      expect(detail.body.UserData).toMatchObject({ Played: expect.any(Boolean), PlaybackPositionTicks: expect.any(Number), PlayCount: expect.any(Number), IsFavorite: expect.any(Boolean) });
    }
    expect(codecs).toEqual(new Set(['h264', 'hevc']));
    const legacy = await get(`/Users/${userId}/Items/${movies[0]!.Id}`);
    expect(legacy.body.Id).toBe(movies[0]!.Id);
    expect((await get(`/Items/${'0'.repeat(32)}`)).status).toBe(404);
    expect((await get(`/Items/${movies[0]!.Id}`, {})).status).toBe(401);
  });

  it('/Shows/{id}/Seasons and /Episodes?seasonId= follow the series', async () => {
    const series = (await get(`/Items?parentId=${views['Shows']}&limit=1`)).body.Items[0] as Item;
    const seasons = await get(`/Shows/${series.Id}/Seasons?userId=${userId}`);
    expectValid(spec.validate('/Shows/{seriesId}/Seasons', 'get', 200, seasons.body));
    const season = (seasons.body.Items as Item[])[0]!;
    expect(season).toMatchObject({ Type: 'Season', IndexNumber: 1, SeriesId: series.Id });
    const episodes = await get(`/Shows/${series.Id}/Episodes?seasonId=${season.Id}&fields=MediaSources`);
    expectValid(spec.validate('/Shows/{seriesId}/Episodes', 'get', 200, episodes.body));
    expect((episodes.body.Items as Item[]).map((e) => e['IndexNumber'])).toEqual((episodes.body.Items as Item[]).map((_, i) => i + 1));
    expect((episodes.body.Items as Item[]).every((e) => e['SeasonId'] === season.Id && e['ParentIndexNumber'] === 1)).toBe(true);
    const everything = await get(`/Shows/${series.Id}/Episodes`);
    expect(everything.body.TotalRecordCount).toBeGreaterThanOrEqual(episodes.body.TotalRecordCount);
    expect((await get(`/Shows/${season.Id}/Seasons`)).status).toBe(404);
  });

  it('/UserItems/Resume, /Items/Latest (a bare array) and /Search/Hints match the spec', async () => {
    const resume = await get(`/UserItems/Resume?userId=${userId}&limit=5&mediaTypes=Video`);
    expectValid(spec.validate('/UserItems/Resume', 'get', 200, resume.body));
    expect(resume.body.Items.length).toBeGreaterThan(0);
    expect((resume.body.Items as Item[]).every((i) => i.UserData.PlaybackPositionTicks > 0)).toBe(true);
    const latest = await get(`/Items/Latest?userId=${userId}&parentId=${views['Movies']}&limit=7`);
    expectValid(spec.validate('/Items/Latest', 'get', 200, latest.body));
    expect(Array.isArray(latest.body)).toBe(true);
    expect(latest.body).toHaveLength(7);
    const name = (latest.body as Item[])[0]!.Name;
    const hints = await get(`/Search/Hints?searchTerm=${encodeURIComponent(name)}&limit=5`);
    expectValid(spec.validate('/Search/Hints', 'get', 200, hints.body));
    expect((hints.body.SearchHints as { Name: string }[]).some((h) => h.Name === name)).toBe(true);
  });
});

describe('Jellyfin images', () => {
  it('serves /Items/{id}/Images/Primary as a resized PNG with ETag and a long Cache-Control for a tagged URL', async () => {
    const movie = (await get(`/Items?parentId=${views['Movies']}&limit=1`)).body.Items[0] as Item;
    const tag = (movie['ImageTags'] as { Primary: string }).Primary;
    const res = await get(`/Items/${movie.Id}/Images/Primary?maxWidth=150&tag=${tag}&quality=90`, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toContain('max-age=31536000');
    expect(res.headers.get('etag')).toMatch(/^".+"$/);
    expect(res.buffer.subarray(0, 8)).toEqual(PNG_MAGIC);
    expect(pngSize(res.buffer)).toEqual({ width: 150, height: 225 });
    const backdropTag = (movie['BackdropImageTags'] as string[])[0]!;
    const backdrop = await get(`/Items/${movie.Id}/Images/Backdrop/0?maxHeight=90&tag=${backdropTag}`, {});
    expect(pngSize(backdrop.buffer)).toEqual({ width: 160, height: 90 });
  });

  it('404 for an unknown item, an unknown image type or a stale tag', async () => {
    const movie = (await get(`/Items?parentId=${views['Movies']}&limit=1`)).body.Items[0] as Item;
    expect((await get(`/Items/${'a'.repeat(32)}/Images/Primary`)).status).toBe(404);
    expect((await get(`/Items/${movie.Id}/Images/Primary?tag=${'0'.repeat(32)}`)).status).toBe(404);
    expect((await get(`/Items/${movie.Id}/Images/Logo`)).status).toBe(404);
  });
});

describe('Jellyfin library: deterministic across restarts', () => {
  it('the same config gives the same ids, names and blurhashes', async () => {
    const other = await createSimulation(libraryConfig());
    try {
      const otherBase = other.servers.find((s) => s.id === 'jf-lib')!.routes[0]!.url;
      const token = other.jellyfin('jf-lib').issueToken('demo');
      const path = `/Items?parentId=${views['Music']}&fields=ImageBlurHashes`;
      const theirs = await (await fetch(`${otherBase}${path}`, { headers: { Authorization: mediaBrowser({ token }) } })).json();
      const mine = (await get(path)).body;
      expect(theirs).toEqual(mine);
    } finally {
      await other.close();
    }
  });
});
