// The library UI (issue 14, web half) in Debian's Chromium: Home, a library grid from the sidebar,
// an item page (show → seasons → episodes), search with one source still searching, an offline
// library, and a 50,000-item grid scrolled end to end. The real runtime (under the sub-path
// /marquee, as with MARQUEE_BASE_URL) serves the UI, the sidebar and the event stream; the library
// API itself is answered from fixtures validated against the committed zod schemas
// (test/support/library-ui-fixtures.ts) until its server routes land.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiItem, ApiItemDetail, ApiSource } from '../../src/api/types.js';
import { join } from 'node:path';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, SCREENSHOT_DIR, openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import {
  home,
  movieItem,
  routeLibraryApi,
  searchAnswer,
  showTree,
  type FixtureLibrary,
  type LibraryApiFixture,
  type RecordedRequest,
} from '../support/library-ui-fixtures.js';
import { poll, waitUntil } from '../support/wait.js';

const BASE = '/marquee/';

let marquee: MarqueeUnderTest;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee({ args: ['--base-url', '/marquee'] });
  // The fixtures sit on the real sources' real library ids.
  await waitUntil(() => marquee.sources().length === 3 && marquee.sources().every((s) => s.libraries.length > 0), { what: 'every source with its libraries', timeoutMs: 30_000 });
}, 60_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

afterEach(async () => {
  await session?.close();
  session = undefined;
});

interface World {
  living: ApiSource;
  friend: ApiSource;
  jellyfin: ApiSource;
  movies: FixtureLibrary;
  offlineMovies: FixtureLibrary;
  huge: FixtureLibrary;
  showId: string;
  details: Map<string, ApiItemDetail>;
}

/** Fixture libraries on the real sources' real library ids (so the sidebar links lead to them). */
function world(): World {
  const byName = (name: string) => marquee.sources().find((s) => s.name === name)!;
  const living = byName(LIVING_ROOM);
  const friend = byName(FRIENDS_PLEX);
  const jellyfin = byName(HOME_JELLYFIN);
  const lib = (source: ApiSource, index: number, total: number, offlineSince: number | null): FixtureLibrary => ({
    source: { id: source.id, name: source.name },
    id: source.libraries[index]!.id,
    name: source.libraries[index]!.name,
    type: source.libraries[index]!.type,
    total,
    offlineSince,
  });
  const shows = living.libraries.find((l) => l.type === 'show') ?? living.libraries[1]!;
  const showId = 'show-lighthouse';
  const details = new Map([...showTree(BASE, { id: living.id, name: living.name }, shows.id, showId, 'The Lighthouse Signal')].map(([id, d]) => [`${living.id}/${id}`, d]));
  return {
    living,
    friend,
    jellyfin,
    movies: lib(living, 0, 1_234, null),
    // Away since 09:30 today: browsed from the cache.
    offlineMovies: lib(friend, 0, 240, new Date(new Date().setHours(9, 30, 0, 0)).getTime()),
    huge: lib(jellyfin, 0, 50_000, null),
    showId,
    details,
  };
}

function fixtureFor(w: World, search?: LibraryApiFixture['search']): LibraryApiFixture {
  const episode = w.details.get(`${w.living.id}/${w.showId}-s1e3`)!;
  const { overview: _o, genres: _g, cast: _c, index: _i, parentIndex: _pi, parentId: _p, parentTitle: _pt, grandparentTitle: _gt, childCount: _cc, children: _ch, backdropUrl: _b, fetchedAt: _f, offlineSince: _os, ...episodeCard } = episode;
  return {
    libraries: [w.movies, w.offlineMovies, w.huge],
    details: w.details,
    home: () =>
      home(
        [episodeCard, movieItem(BASE, w.huge, 5), movieItem(BASE, w.offlineMovies, 9), movieItem(BASE, w.movies, 13)],
        [movieItem(BASE, w.movies, 1_234), movieItem(BASE, w.huge, 49_999), movieItem(BASE, w.offlineMovies, 240), movieItem(BASE, w.movies, 1_233), movieItem(BASE, w.huge, 49_998), movieItem(BASE, w.movies, 1_232)],
        [
          { id: w.living.id, name: w.living.name, state: 'online', offlineSince: null },
          { id: w.jellyfin.id, name: w.jellyfin.name, state: 'online', offlineSince: null },
          { id: w.friend.id, name: w.friend.name, state: 'offline', offlineSince: w.offlineMovies.offlineSince },
        ],
      ),
    search,
  };
}

async function openWith(path: string, fixture: LibraryApiFixture): Promise<{ s: BrowserSession; requests: RecordedRequest[] }> {
  let requests: RecordedRequest[] = [];
  const s = await openBrowser(`${marquee.url.replace(/\/marquee\/$/, '')}${BASE}${path}`, {
    beforeLoad: async (context) => {
      requests = await routeLibraryApi(context, BASE, fixture);
    },
  });
  session = s;
  return { s, requests };
}

/** The viewport only: a full-page shot of a long grid is thousands (at 50,000 items, millions) of pixels tall. */
const viewportShot = (s: BrowserSession, name: string) => s.page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });

const itemRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path.endsWith('/items') && r.path.includes('/libraries/'));

describe('library UI (fixtures on the real runtime, sub-path /marquee)', () => {
  it('Home: Continue watching and Recently added merged across servers, each card naming its server; an away server’s cards marked offline', async () => {
    const w = world();
    const { s } = await openWith('', fixtureFor(w));
    const { page } = s;
    await page.getByTestId('home-page').waitFor();
    const continueRow = page.getByTestId('home-continue');
    await poll(() => continueRow.locator('a.item-card').count()).toBe(4);
    expect(await page.getByTestId('home-recent').locator('a.item-card').count()).toBe(6);
    // Cards are links named "Title (year) — Server".
    const episode = continueRow.getByRole('link', { name: `Episode 3: Signals (2021) — ${LIVING_ROOM}` });
    expect(await episode.count()).toBe(1);
    expect(await page.getByRole('link', { name: `Film 00005 (${1960 + 5}) — ${HOME_JELLYFIN}` }).count()).toBe(1);
    // Friend's Plex is away: its cached cards are marked offline, and a note says so.
    const offlineCard = continueRow.locator(`[data-testid="item-card-${w.friend.id}-${w.offlineMovies.id}-m9"]`);
    expect(await offlineCard.getAttribute('data-offline')).toBe('true');
    expect(await offlineCard.getAttribute('aria-label')).toContain('(offline)');
    expect(await page.getByTestId(`home-source-${w.friend.id}`).textContent()).toContain('offline since');
    // Resume progress shows on the episode in progress.
    expect(await episode.locator('.item-progress').count()).toBe(1);
    await page.waitForTimeout(400); // posters fade in
    await s.screenshot('library-01-home');
    expect(s.consoleErrors).toEqual([]);
  });

  it('a library from the sidebar: deep link under /marquee, virtualized grid with total, blurhash and lazy posters, sort and filter, survives a reload', async () => {
    const w = world();
    const { s, requests } = await openWith('#/sources', fixtureFor(w));
    const { page } = s;
    await page.getByTestId(`library-${w.living.id}-${w.movies.id}`).click();
    await page.getByTestId('library-page').waitFor();
    expect(new URL(page.url()).pathname).toBe(`${BASE}library/${w.living.id}/${w.movies.id}`);
    // Focus moves to the page heading on navigation.
    await poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await page.locator('h1').textContent()).toBe(w.movies.name);
    await poll(() => page.getByTestId('library-total').getAttribute('data-total')).toBe('1234');
    expect(await page.getByTestId('library-total').textContent()).toContain('1,234 items');
    const first = page.getByRole('link', { name: `Film 00001 (1961) — ${LIVING_ROOM}` });
    await first.waitFor();
    // Only the rows on screen are in the DOM (1,234 items, a few dozen cards).
    const rendered = await page.locator('[data-testid="library-grid"] [role="listitem"]').count();
    expect(rendered).toBeGreaterThan(6);
    expect(rendered).toBeLessThan(120);
    // Blurhash where the item has one, a neutral placeholder otherwise; posters load lazily.
    expect(await first.locator('.poster').getAttribute('data-placeholder')).toBe('blurhash');
    expect(await page.getByRole('link', { name: /^Film 00005 / }).locator('.poster').getAttribute('data-placeholder')).toBe('neutral');
    expect(await first.locator('img').getAttribute('loading')).toBe('lazy');
    expect(await first.locator('img').getAttribute('src')).toMatch(new RegExp(`^${BASE}api/sources/.+/image\\?kind=poster&v=1&w=\\d+$`));
    await poll(() => first.locator('img.loaded').count()).toBe(1);
    await viewportShot(s, 'library-02-grid');

    // Sort by year, descending by default for years; the request and the address say so.
    await page.getByTestId('library-sort').selectOption('year');
    await poll(() => new URL(page.url()).searchParams.get('sort')).toBe('year');
    expect(new URL(page.url()).searchParams.get('order')).toBe('desc');
    await poll(() => itemRequests(requests).some((r) => r.params.get('sort') === 'year' && r.params.get('order') === 'desc' && r.params.get('offset') === '0')).toBe(true);
    await page.getByRole('link', { name: /^Film 01234 / }).waitFor();
    // Filter by genre: the total follows (every fourth item is a Comedy in the fixture).
    await page.getByTestId('library-genre').selectOption('Comedy');
    await poll(() => page.getByTestId('library-total').getAttribute('data-total')).toBe('309');
    expect(await page.getByTestId('library-total').textContent()).toContain('of 1,234');
    await page.getByTestId('library-filter').selectOption('unwatched');
    await poll(() => itemRequests(requests).some((r) => r.params.get('filter') === 'unwatched' && r.params.get('genre') === 'Comedy')).toBe(true);

    // A reload keeps the page, its sort and its filters (the server's SPA fallback under the sub-path).
    await page.reload();
    await page.getByTestId('library-page').waitFor();
    expect(await page.getByTestId('library-sort').inputValue()).toBe('year');
    expect(await page.getByTestId('library-genre').inputValue()).toBe('Comedy');
    expect(await page.getByTestId('library-filter').inputValue()).toBe('unwatched');
    await poll(() => page.getByTestId('library-total').getAttribute('data-total')).not.toBe('');
    // Arrow keys move between cards.
    const firstCard = page.locator('[data-testid="library-grid"] [data-index="0"] a');
    await firstCard.focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.closest('[data-index]')?.getAttribute('data-index'))).toBe('1');
    expect(s.consoleErrors).toEqual([]);
  });

  it('item pages: a show → its seasons → episodes, with resume position and a Play/Resume link to the player', async () => {
    const w = world();
    const { s } = await openWith(`item/${w.living.id}/${w.showId}`, fixtureFor(w));
    const { page } = s;
    await page.getByTestId('item-page').locator('h1', { hasText: 'The Lighthouse Signal' }).waitFor();
    expect(await page.getByTestId('item-overview').textContent()).toContain('lighthouse keeper');
    expect(await page.getByTestId('item-genres').textContent()).toContain('Mystery');
    expect(await page.getByTestId('item-cast').textContent()).toContain('Saoirse Brennan');
    // A show is not playable itself: no Play button, its seasons are listed as links.
    expect(await page.getByTestId('play-button').count()).toBe(0);
    expect(await page.getByTestId('item-children').locator('a').count()).toBe(3);
    await page.waitForTimeout(300);
    await s.screenshot('library-03-item-show');
    await page.getByTestId(`child-${w.showId}-s1`).click();
    await page.locator('h1', { hasText: 'Season 1' }).waitFor();
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Season 1');
    expect(await page.getByTestId('item-children').locator('a').count()).toBe(6);
    expect(await page.getByTestId(`child-${w.showId}-s1e1`).textContent()).toContain('Watched');
    await page.getByTestId(`child-${w.showId}-s1e3`).click();
    await page.locator('h1', { hasText: 'Episode 3: Signals' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`${BASE}item/${w.living.id}/${w.showId}-s1e3`);
    expect(await page.getByTestId('item-state').textContent()).toBe('In progress — stopped at 21:07 of 44:00');
    const play = page.getByTestId('play-button');
    expect(await play.textContent()).toContain('Resume from 21:07');
    expect(await play.getAttribute('href')).toBe(`${BASE}play/${w.living.id}/${w.showId}-s1e3`);
    await s.screenshot('library-03b-item-episode');
    // Back goes to the season, as the History API recorded it.
    await page.goBack();
    await page.locator('h1', { hasText: 'Season 1' }).waitFor();
    expect(s.consoleErrors).toEqual([]);
  });

  it('search: "/" focuses the header box, results merge per server as they arrive, a slow server says "still searching", then "no answer"', async () => {
    const w = world();
    let slowServerAnswers = false;
    const results = (library: FixtureLibrary, numbers: number[]): ApiItem[] => numbers.map((n) => movieItem(BASE, library, n));
    const search: LibraryApiFixture['search'] = async (q, round) => {
      // The server waits a little for more answers each round.
      await new Promise((r) => setTimeout(r, round === 0 ? 50 : 300));
      const done = [
        { id: w.living.id, name: w.living.name, state: 'done' as const, count: 3 },
        { id: w.jellyfin.id, name: w.jellyfin.name, state: 'done' as const, count: 2 },
      ];
      const found = round === 0 ? results(w.movies, [11, 12, 13]) : [...results(w.movies, [11, 12, 13]), ...results(w.huge, [101, 202])];
      const friend = slowServerAnswers
        ? { id: w.friend.id, name: w.friend.name, state: 'timeout' as const, count: 0 }
        : { id: w.friend.id, name: w.friend.name, state: 'searching' as const, count: 0 };
      const sources = round === 0 ? [done[0]!, { ...done[1]!, state: 'searching' as const, count: 0 }, friend] : [...done, friend];
      return searchAnswer(q, found, sources, slowServerAnswers);
    };
    const { s, requests } = await openWith('#/sources', fixtureFor(w, search));
    const { page } = s;
    await page.getByTestId('sources-page').waitFor();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search-input');
    await page.keyboard.type('film', { delay: 40 });
    // Debounced: one search for the whole word, not one per letter.
    await page.getByTestId('search-page').waitFor();
    expect(new URL(page.url()).pathname).toBe(`${BASE}search`);
    expect(new URL(page.url()).searchParams.get('q')).toBe('film');
    // Typing goes on in the box (focus was not taken to the heading).
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search-input');
    await poll(() => page.getByTestId(`search-results-${w.jellyfin.id}`).locator('a.item-card').count()).toBe(2);
    expect(await page.getByTestId(`search-results-${w.living.id}`).locator('a.item-card').count()).toBe(3);
    expect(await page.getByTestId(`search-source-${w.friend.id}`).textContent()).toContain('still searching');
    expect(requests.filter((r) => r.path === 'search').every((r) => r.params.get('q') === 'film')).toBe(true);
    expect(await page.getByRole('link', { name: `Film 00101 (${1960 + (101 % 64)}) — ${HOME_JELLYFIN}` }).count()).toBe(1);
    await page.waitForTimeout(300);
    await s.screenshot('library-04-search-still-searching');
    // The slow server never answers: "no answer in time", the others' results stay.
    slowServerAnswers = true;
    await poll(() => page.getByTestId(`search-source-${w.friend.id}`).getAttribute('data-state'), 10_000).toBe('timeout');
    expect(await page.getByTestId(`search-source-${w.friend.id}`).textContent()).toContain('no answer');
    expect(await page.getByTestId('search-page').getAttribute('data-complete')).toBe('true');
    // "/" while typing in a field types a slash; Enter goes to the results at once, focus on the heading.
    await page.getByTestId('search-input').fill('');
    await page.getByTestId('search-input').pressSequentially('a/b');
    expect(await page.getByTestId('search-input').inputValue()).toBe('a/b');
    await page.keyboard.press('Enter');
    await poll(() => new URL(page.url()).searchParams.get('q')).toBe('a/b');
    await poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(s.consoleErrors).toEqual([]);
  });

  it('an offline library: "offline since" banner, cached cards browsable, Play disabled with the reason', async () => {
    const w = world();
    const { s } = await openWith(`library/${w.friend.id}/${w.offlineMovies.id}`, fixtureFor(w));
    const { page } = s;
    await page.getByTestId('offline-banner').waitFor();
    expect(await page.getByTestId('offline-banner').textContent()).toMatch(new RegExp(`${FRIENDS_PLEX} is offline since \\d{1,2}:30`));
    await poll(() => page.getByTestId('library-total').getAttribute('data-total')).toBe('240');
    const card = page.getByRole('link', { name: new RegExp(`^Film 00002 \\(1962\\) — ${FRIENDS_PLEX} \\(offline\\)`) });
    await card.waitFor();
    await page.waitForTimeout(300);
    await viewportShot(s, 'library-05-offline-library');
    await card.click();
    await page.locator('h1', { hasText: 'Film 00002' }).waitFor();
    const play = page.getByTestId('play-button');
    expect(await play.evaluate((el) => el.tagName)).toBe('BUTTON');
    expect(await play.isDisabled()).toBe(true);
    expect(await page.getByTestId('play-disabled-reason').textContent()).toContain('offline since');
    expect(await play.getAttribute('aria-describedby')).toBe('play-disabled-reason');
    await s.screenshot('library-05b-offline-item');
    expect(s.consoleErrors).toEqual([]);
  });

  it('a 50,000-item library scrolls end to end: a bounded DOM, pages fetched only where the scroll stops, long tasks recorded', async () => {
    const w = world();
    const { s, requests } = await openWith(`library/${w.jellyfin.id}/${w.huge.id}`, fixtureFor(w));
    const { page } = s;
    await poll(() => page.getByTestId('library-total').getAttribute('data-total')).toBe('50000');
    await page.getByRole('link', { name: /^Film 00001 / }).waitFor();
    await page.evaluate(() => {
      const box = window as unknown as { __longTasks: number[] };
      box.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) box.__longTasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const before = itemRequests(requests).length;
    // A steady wheel-like scroll through the first part, then a jump to the end (the scrollbar).
    const maxCards = await page.evaluate(async () => {
      let most = 0;
      for (let i = 0; i < 120; i++) {
        window.scrollBy(0, 700);
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        most = Math.max(most, document.querySelectorAll('[data-testid="library-grid"] [role="listitem"]').length);
      }
      return most;
    });
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.getByRole('link', { name: /^Film 50000 / }).waitFor({ timeout: 15_000 });
    const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    const fetched = itemRequests(requests).length - before;
    const worst = longTasks.length ? Math.max(...longTasks) : 0;
    console.log(`50,000-item grid: ${longTasks.length} long tasks while scrolling, worst ${worst.toFixed(0)} ms; most cards in the DOM ${maxCards}; ${fetched} page requests`);
    // Bounded DOM and far fewer requests than the 500 pages of the library.
    expect(maxCards).toBeLessThan(150);
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(60);
    await viewportShot(s, 'library-06-huge-grid-end');
    expect(s.consoleErrors).toEqual([]);
  });
});
