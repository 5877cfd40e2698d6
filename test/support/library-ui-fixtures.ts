// Fixture answers for the library API (issue 14) while its server routes are built elsewhere:
// browser tests answer `<base>api/home`, `…/libraries/…`, `…/items/…` and `api/search` with these
// through Playwright's `context.route`, on top of the real runtime for everything else. Every body
// is parsed with the committed zod schemas before it is sent, so the fixtures cannot drift from
// the wire contract (a wrong field fails the test, not the UI).
import type { BrowserContext, Route } from 'playwright-core';
import type { ApiHome, ApiItem, ApiItemDetail, ApiLibraryInfo, ApiLibraryItems, ApiSearch, ApiSearchSource, ApiSourceAvailability } from '../../src/api/types.js';
import { apiHomeSchema, apiItemDetailSchema, apiLibraryInfoSchema, apiLibraryItemsSchema, apiSearchSchema } from '../../src/api/responses.js';
import type { LibraryType } from '../../src/core/types.js';

/** Valid blurhashes (from the BlurHash reference), so placeholders are really decoded. */
export const BLURHASHES = ['LEHV6nWB2yk8pyo0adR*.7kCMdnj', 'LKO2?U%2Tw=w]~RBVZRi};RPxuwH', 'L6PZfSi_.AyE_3t7t7R**0o#DgR4', 'LGF5]+Yk^6#M@-5c,1J5@[or[Q6.'];
export const GENRES = ['Drama', 'Comedy', 'Documentary', 'Science fiction'];

export interface FixtureSource {
  id: string;
  name: string;
}

export interface FixtureLibrary {
  source: FixtureSource;
  id: string;
  name: string;
  type: LibraryType;
  total: number;
  /** Away since this epoch (offline banner, play disabled); null when online. */
  offlineSince: number | null;
}

const itemId = (libraryId: string, n: number) => `${libraryId}-m${n}`;

/** `<base>api/sources/{id}/items/{itemId}/image?kind=…&v=1`, as the server writes it. */
export function imageUrl(base: string, sourceId: string, id: string, kind: 'poster' | 'backdrop' = 'poster'): string {
  return `${base}api/sources/${encodeURIComponent(sourceId)}/items/${encodeURIComponent(id)}/image?kind=${kind}&v=1`;
}

/** The n-th movie of a library (n from 1): deterministic title, year, genre, watched state, resume, blurhash on most. */
export function movieItem(base: string, library: FixtureLibrary, n: number): ApiItem {
  const id = itemId(library.id, n);
  const durationMs = (85 + (n % 60)) * 60_000;
  return {
    id,
    sourceId: library.source.id,
    sourceName: library.source.name,
    libraryId: library.id,
    type: 'movie',
    title: `Film ${String(n).padStart(5, '0')}`,
    subtitle: null,
    year: 1960 + (n % 64),
    imageUrl: n % 11 === 0 ? null : imageUrl(base, library.source.id, id),
    blurhash: n % 5 === 0 ? null : BLURHASHES[n % BLURHASHES.length]!,
    watched: n % 4 === 0,
    resumeMs: n % 4 === 1 ? Math.round(durationMs * 0.4) : null,
    durationMs,
    addedAt: Date.UTC(2024, 0, 1) + n * 3_600_000,
    rating: Math.round(((n * 37) % 100) / 10) / 1,
    playable: true,
    offline: library.offlineSince !== null,
  };
}

export function libraryInfo(library: FixtureLibrary): ApiLibraryInfo {
  return apiLibraryInfoSchema.parse({
    id: library.id,
    sourceId: library.source.id,
    sourceName: library.source.name,
    name: library.name,
    type: library.type,
    total: library.total,
    genres: GENRES,
    years: Array.from({ length: 64 }, (_, i) => 2023 - i),
    offline: library.offlineSince !== null,
    offlineSince: library.offlineSince,
    sync: { state: 'synced', syncedAt: Date.now() - 60_000 },
  } satisfies ApiLibraryInfo);
}

/**
 * A page of the library as the server would answer it: `filter=unwatched` keeps the items not
 * watched, `genre` every fourth, `year` those of that year; `order=desc` reverses. Computed, not
 * stored, so a 50,000-item library costs nothing until asked.
 */
export function libraryPage(base: string, library: FixtureLibrary, params: URLSearchParams): ApiLibraryItems {
  const offset = Number(params.get('offset') ?? 0);
  const limit = Number(params.get('limit') ?? 100);
  const genre = params.get('genre');
  const year = params.get('year');
  const filter = params.get('filter');
  const desc = (params.get('order') ?? 'asc') === 'desc';
  // The matching item numbers, described by a predicate over 1..total (cheap up to 50,000).
  const matches = (n: number) =>
    (!genre || GENRES[n % GENRES.length] === genre) && (!year || 1960 + (n % 64) === Number(year)) && (filter !== 'unwatched' || n % 4 !== 0) && (filter !== 'watched' || n % 4 === 0);
  const numbers: number[] = [];
  if (!genre && !year && !filter) {
    const total = library.total;
    for (let i = offset; i < Math.min(total, offset + limit); i++) numbers.push(desc ? total - i : i + 1);
    return apiLibraryItemsSchema.parse(pageOf(base, library, numbers, total, offset));
  }
  const all: number[] = [];
  for (let n = 1; n <= library.total; n++) if (matches(n)) all.push(n);
  if (desc) all.reverse();
  return apiLibraryItemsSchema.parse(pageOf(base, library, all.slice(offset, offset + limit), all.length, offset));
}

function pageOf(base: string, library: FixtureLibrary, numbers: number[], total: number, offset: number): ApiLibraryItems {
  return {
    items: numbers.map((n) => movieItem(base, library, n)),
    total,
    offset,
    offline: library.offlineSince !== null,
    offlineSince: library.offlineSince,
    sync: { state: 'synced', syncedAt: Date.now() - 60_000 },
  };
}

/** A movie's detail page. */
export function movieDetail(base: string, library: FixtureLibrary, n: number): ApiItemDetail {
  const item = movieItem(base, library, n);
  return apiItemDetailSchema.parse({
    ...item,
    overview: `${item.title} follows a projectionist who keeps an old cinema running through one long winter. A quiet film about light, machines and the people who come to watch.`,
    genres: [GENRES[n % GENRES.length]!, 'Drama'].filter((g, i, all) => all.indexOf(g) === i),
    cast: [
      { name: 'Ada Lindqvist', role: 'Mira' },
      { name: 'Tomás Okafor', role: 'The projectionist' },
      { name: 'Juno Reyes' },
    ],
    index: null,
    parentIndex: null,
    parentId: null,
    parentTitle: null,
    grandparentTitle: null,
    childCount: null,
    children: [],
    backdropUrl: item.imageUrl ? imageUrl(base, item.sourceId, item.id, 'backdrop') : null,
    fetchedAt: Date.now(),
    offlineSince: library.offlineSince,
  } satisfies ApiItemDetail);
}

/** A show with 3 seasons (ids `<show>-s1`…), each season with 6 episodes (`<show>-s1e1`…). */
export function showTree(base: string, source: FixtureSource, libraryId: string, showId: string, title: string): Map<string, ApiItemDetail> {
  const details = new Map<string, ApiItemDetail>();
  const common = (id: string): Omit<ApiItem, 'type' | 'title' | 'subtitle' | 'playable' | 'durationMs' | 'resumeMs' | 'watched'> => ({
    id,
    sourceId: source.id,
    sourceName: source.name,
    libraryId,
    year: 2021,
    imageUrl: imageUrl(base, source.id, id),
    blurhash: BLURHASHES[id.length % BLURHASHES.length]!,
    addedAt: Date.UTC(2024, 5, 1),
    rating: 8.1,
    offline: false,
  });
  const detailOf = (item: ApiItem, extra: Partial<ApiItemDetail>): ApiItemDetail =>
    apiItemDetailSchema.parse({
      ...item,
      overview: null,
      genres: [],
      cast: [],
      index: null,
      parentIndex: null,
      parentId: null,
      parentTitle: null,
      grandparentTitle: null,
      childCount: null,
      children: [],
      backdropUrl: imageUrl(base, source.id, showId, 'backdrop'),
      fetchedAt: Date.now(),
      offlineSince: null,
      ...extra,
    } satisfies ApiItemDetail);
  const seasons: ApiItem[] = [];
  for (let s = 1; s <= 3; s++) {
    const seasonId = `${showId}-s${s}`;
    const episodes: ApiItem[] = [];
    for (let e = 1; e <= 6; e++) {
      const episodeId = `${showId}-s${s}e${e}`;
      const episode: ApiItem = {
        ...common(episodeId),
        type: 'episode',
        title: `Episode ${e}: ${['Arrival', 'The Long Night', 'Signals', 'Undertow', 'Static', 'Homecoming'][e - 1]}`,
        subtitle: `S${s} · E${e} — ${title}`,
        playable: true,
        durationMs: 44 * 60_000,
        resumeMs: s === 1 && e === 3 ? 21 * 60_000 + 7_000 : null,
        watched: s === 1 && e < 3,
      };
      episodes.push(episode);
      details.set(episodeId, detailOf(episode, { index: e, parentIndex: s, parentId: seasonId, parentTitle: `Season ${s}`, grandparentTitle: title, overview: `${title}, season ${s}, episode ${e}.` }));
    }
    const season: ApiItem = { ...common(seasonId), type: 'season', title: `Season ${s}`, subtitle: '6 episodes', playable: false, durationMs: null, resumeMs: null, watched: s > 1 ? false : false };
    seasons.push(season);
    details.set(seasonId, detailOf(season, { index: s, parentId: showId, parentTitle: title, childCount: 6, children: episodes }));
  }
  const show: ApiItem = { ...common(showId), type: 'show', title, subtitle: '3 seasons', playable: false, durationMs: null, resumeMs: null, watched: false };
  details.set(
    showId,
    detailOf(show, {
      overview: 'A lighthouse keeper on a northern island starts hearing a radio station that went off the air thirty years ago.',
      genres: ['Drama', 'Mystery'],
      cast: [{ name: 'Saoirse Brennan', role: 'Nell' }, { name: 'Kofi Mensah', role: 'Arthur' }],
      childCount: 3,
      children: seasons,
    }),
  );
  return details;
}

export function home(continueWatching: ApiItem[], recentlyAdded: ApiItem[], sources: ApiSourceAvailability[]): ApiHome {
  return apiHomeSchema.parse({ continueWatching, recentlyAdded, sources } satisfies ApiHome);
}

export function searchAnswer(query: string, results: ApiItem[], sources: ApiSearchSource[], complete: boolean): ApiSearch {
  return apiSearchSchema.parse({ query, results, sources, complete } satisfies ApiSearch);
}

/** A tiny SVG poster (real image bytes with the right content type): a coloured panel with the item id. */
export function posterSvg(id: string, kind: string): string {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  const hue = Math.abs(hash) % 360;
  const [w, h] = kind === 'backdrop' ? [640, 360] : [200, 300];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},55%,42%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},60%,18%)"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="${w * 0.7}" cy="${h * 0.3}" r="${h * 0.18}" fill="hsla(${(hue + 180) % 360},70%,70%,0.35)"/></svg>`;
}

export interface LibraryApiFixture {
  home?: () => ApiHome;
  libraries: FixtureLibrary[];
  /** Item details by `${sourceId}/${itemId}` (movies of `libraries` are answered without being listed). */
  details?: Map<string, ApiItemDetail>;
  search?: (query: string, round: number) => Promise<ApiSearch> | ApiSearch;
}

export interface RecordedRequest {
  path: string;
  params: URLSearchParams;
}

/**
 * Answers the library API under `base` (e.g. "/marquee/") from `fixture` through `context.route`,
 * and records every request it answered (the test can count pages fetched). Other API paths go to
 * the real server.
 */
export async function routeLibraryApi(context: BrowserContext, base: string, fixture: LibraryApiFixture): Promise<RecordedRequest[]> {
  const requests: RecordedRequest[] = [];
  const searchRounds = new Map<string, number>();
  const api = `${base}api/`;
  const json = (route: Route, body: unknown) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  const notFound = (route: Route, what: string) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'not_found', message: `${what} was not found` }) });
  const isLibraryApi = (url: URL) => {
    if (!url.pathname.startsWith(api)) return false;
    const rest = url.pathname.slice(api.length);
    return rest === 'home' || rest === 'search' || /^sources\/[^/]+\/(libraries|items)\//.test(rest);
  };
  await context.route(isLibraryApi, async (route) => {
    const url = new URL(route.request().url());
    const rest = url.pathname.slice(api.length).split('/').map(decodeURIComponent);
    requests.push({ path: url.pathname.slice(api.length), params: url.searchParams });
    if (rest[0] === 'home') return fixture.home ? json(route, fixture.home()) : notFound(route, 'home');
    if (rest[0] === 'search') {
      const q = url.searchParams.get('q') ?? '';
      const round = searchRounds.get(q) ?? 0;
      searchRounds.set(q, round + 1);
      return fixture.search ? json(route, await fixture.search(q, round)) : notFound(route, 'search');
    }
    const [, sourceId, kind, id, sub] = rest;
    if (kind === 'libraries') {
      const library = fixture.libraries.find((l) => l.source.id === sourceId && l.id === id);
      if (!library) return notFound(route, 'The library');
      return json(route, sub === 'items' ? libraryPage(base, library, url.searchParams) : libraryInfo(library));
    }
    if (kind === 'items' && sub === 'image') {
      return route.fulfill({ status: 200, contentType: 'image/svg+xml', headers: { 'cache-control': 'max-age=3600' }, body: posterSvg(id ?? '', url.searchParams.get('kind') ?? 'poster') });
    }
    if (kind === 'items' && id) {
      const listed = fixture.details?.get(`${sourceId}/${id}`);
      if (listed) return json(route, listed);
      const match = /^(.*)-m(\d+)$/.exec(id);
      const library = match ? fixture.libraries.find((l) => l.source.id === sourceId && l.id === match[1]) : undefined;
      if (library && match) return json(route, movieDetail(base, library, Number(match[2])));
    }
    return notFound(route, 'The item');
  });
  return requests;
}
