import { describe, expect, it } from 'vitest';
import { libraryQueryString, parseLibraryQuery } from './library-query';
import { parseLocation, routeUrl, type Route } from './router';
import { emptySearch, mergeSearch } from './search';
import type { ApiItem, ApiSearch } from '../../api/types';

describe('parseLocation', () => {
  it('reads path routes under the base path', () => {
    expect(parseLocation('/marquee/', '', '', '/marquee/')).toEqual({ page: 'home' });
    expect(parseLocation('/marquee', '', '', '/marquee/')).toEqual({ page: 'home' });
    expect(parseLocation('/marquee/library/s1/l%2F2', '?sort=year', '', '/marquee/')).toEqual({ page: 'library', sourceId: 's1', libraryId: 'l/2', search: 'sort=year' });
    expect(parseLocation('/item/s1/i9', '', '', '/')).toEqual({ page: 'item', sourceId: 's1', itemId: 'i9' });
    expect(parseLocation('/search', '?q=blade%20runner', '', '/')).toEqual({ page: 'search', query: 'blade runner' });
    expect(parseLocation('/play/s1/i9', '', '', '/')).toEqual({ page: 'play', sourceId: 's1', itemId: 'i9' });
    expect(parseLocation('/library/s1', '', '', '/').page).toBe('not-found');
    expect(parseLocation('/nothing/here', '', '', '/').page).toBe('not-found');
  });

  it('keeps the first UI’s hash routes, which win over the path', () => {
    expect(parseLocation('/marquee/', '', '#/', '/marquee/')).toEqual({ page: 'sources' });
    expect(parseLocation('/marquee/', '', '#/sources', '/marquee/')).toEqual({ page: 'sources' });
    expect(parseLocation('/marquee/library/a/b', '', '#/sources/abc', '/marquee/')).toEqual({ page: 'sources', sourceId: 'abc' });
    expect(parseLocation('/', '', '#/add/plex', '/')).toEqual({ page: 'add', addKind: 'plex' });
    expect(parseLocation('/', '', '#/demo', '/')).toEqual({ page: 'demo' });
    // An in-page anchor is not a route.
    expect(parseLocation('/', '', '#main', '/')).toEqual({ page: 'home' });
  });

  it('round-trips every route through its URL', () => {
    const routes: Route[] = [
      { page: 'home' },
      { page: 'library', sourceId: 'a b', libraryId: '7', search: 'sort=title&order=asc' },
      { page: 'item', sourceId: 's', itemId: 'x:1' },
      { page: 'search', query: 'a/b & c' },
      { page: 'play', sourceId: 's', itemId: 'i' },
      { page: 'sources', sourceId: 'id-1' },
      { page: 'add', addKind: 'jellyfin' },
      { page: 'demo' },
    ];
    for (const route of routes) {
      const url = new URL(routeUrl(route, '/marquee/'), 'http://x');
      expect(parseLocation(url.pathname, url.search, url.hash, '/marquee/')).toEqual(route);
    }
  });
});

describe('library query', () => {
  it('parses leniently and writes the defaults explicitly', () => {
    expect(parseLibraryQuery('')).toEqual({ sort: 'title', order: 'asc', filter: undefined, genre: undefined, year: undefined });
    expect(parseLibraryQuery('sort=added')).toMatchObject({ sort: 'added', order: 'desc' });
    expect(parseLibraryQuery('sort=bogus&order=up&filter=nope&year=12')).toMatchObject({ sort: 'title', order: 'asc', filter: undefined, year: undefined });
    expect(libraryQueryString({ sort: 'year', filter: 'unwatched', genre: 'Sci-Fi & Fantasy', year: 1999 })).toBe('sort=year&order=desc&filter=unwatched&genre=Sci-Fi+%26+Fantasy&year=1999');
    expect(parseLibraryQuery(libraryQueryString({ sort: 'rating', order: 'asc', genre: 'Drama' }))).toEqual({ sort: 'rating', order: 'asc', filter: undefined, genre: 'Drama', year: undefined });
  });
});

describe('mergeSearch', () => {
  const item = (sourceId: string, id: string, title = id): ApiItem => ({
    id, sourceId, sourceName: sourceId, libraryId: null, type: 'movie', title, subtitle: null, year: null, imageUrl: null, blurhash: null,
    watched: false, resumeMs: null, durationMs: null, addedAt: null, rating: null, playable: true, offline: false,
  });
  const answer = (results: ApiItem[], states: Record<string, ApiSearch['sources'][number]['state']>, complete: boolean, query = 'q'): ApiSearch => ({
    query, results, complete, sources: Object.entries(states).map(([id, state]) => ({ id, name: id, state, count: 0 })),
  });

  it('adds what arrives, never doubles a result, and takes the latest state of each source', () => {
    let view = emptySearch('q');
    view = mergeSearch(view, answer([item('a', '1')], { a: 'done', b: 'searching' }, false));
    view = mergeSearch(view, answer([item('a', '1', 'renamed'), item('b', '1')], { a: 'done', b: 'timeout' }, true));
    expect(view.results.map((r) => `${r.sourceId}/${r.id}/${r.title}`)).toEqual(['a/1/renamed', 'b/1/1']);
    expect(view.sources.map((s) => s.state)).toEqual(['done', 'timeout']);
    expect(view.complete).toBe(true);
  });

  it('ignores an answer for other words (a late reply after the user typed on)', () => {
    const view = emptySearch('new');
    expect(mergeSearch(view, answer([item('a', '1')], { a: 'done' }, true, 'old'))).toBe(view);
  });
});
