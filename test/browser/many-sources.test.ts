// The sources page at scale (issue 13 item 5), in Debian's Chromium against the real runtime with
// 2,000 sources: only the cards on screen are rendered and only they fetch GET /api/sources/:id —
// on load, while scrolling slowly, and (almost not at all) while scrolling fast past thousands of
// cards. A sidebar link to the last source still brings its card into view and focuses it. The
// sidebar renders only the entries in view of its own scroll, and scrolls to the last one.
import { join } from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOT_DIR, openBrowser, type BrowserSession } from '../support/browser.js';
import { startWithManySources, type ManySources } from '../support/many-sources.js';
import { sleep, waitUntil } from '../support/wait.js';

const SOURCES = 2000;

let marquee: ManySources;
let session: BrowserSession;

beforeAll(async () => {
  marquee = await startWithManySources(SOURCES);
}, 120_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

const isDetailRequest = (request: Request) => request.method() === 'GET' && /\/api\/sources\/[^/?]+$/.test(new URL(request.url()).pathname);

describe(`the sources page with ${SOURCES} sources`, () => {
  it('renders and fetches details only for the cards on screen, on load and while scrolling', { timeout: 120_000 }, async () => {
    session = await openBrowser(`${marquee.url}#/sources`);
    const { page } = session;
    const details: string[] = [];
    page.on('request', (request) => {
      if (isDetailRequest(request)) details.push(new URL(request.url()).pathname);
    });
    // Counted from a fresh load, with the listener in place.
    await page.reload();
    const cards = page.locator('[data-testid^="source-card-"]:not([data-testid="source-card-list"])');
    await waitUntil(async () => (await cards.count()) > 0, { what: 'the first cards', timeoutMs: 30_000 });
    expect(await page.getByTestId('source-card-list').getAttribute('data-count')).toBe(String(SOURCES));

    /**
     * Waits until every card on screen shows its routes (its detail arrived) and then no detail
     * request was made for `quietMs`; returns how many there were in all.
     */
    const settled = async (quietMs = 800) => {
      await waitUntil(
        () =>
          page.evaluate(() => {
            const shown = [...document.querySelectorAll('article.source-card')];
            return shown.length > 0 && shown.every((card) => card.querySelector('[data-testid^="route-table-"]'));
          }),
        { what: 'every card on screen to show its routes', timeoutMs: 20_000, intervalMs: 100 },
      );
      let seen = -1;
      await waitUntil(
        async () => {
          if (details.length === seen) return true;
          seen = details.length;
          await sleep(quietMs);
          return false;
        },
        { what: 'detail requests to settle', timeoutMs: 20_000, intervalMs: 0 },
      );
      return details.length;
    };

    const onLoad = await settled();
    const rendered = await cards.count();
    // 1280×860: a few cards on screen, plus the overscan either side.
    expect(rendered).toBeGreaterThanOrEqual(2);
    expect(rendered).toBeLessThanOrEqual(12);
    expect(onLoad).toBeGreaterThanOrEqual(1);
    expect(onLoad).toBeLessThanOrEqual(rendered + 3);
    expect(new Set(details).size).toBe(details.length);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'many-sources-top.png') });

    // Slow scrolling: every stop fetches the cards it shows, nothing more.
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeGreaterThan(SOURCES * 200); // the list keeps its full height for the scrollbar
    let before = details.length;
    for (const fraction of [0.25, 0.5, 0.75]) {
      await page.evaluate((y) => window.scrollTo(0, y), Math.round(height * fraction));
      await settled();
      const shown = await cards.count();
      expect(shown).toBeLessThanOrEqual(12);
      // Cards measured in place may shift the range by a card or two while it settles.
      expect(details.length - before).toBeLessThanOrEqual(shown + 3);
      before = details.length;
    }
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'many-sources-middle.png') });

    // Fast scrolling past ~600 cards, one step per frame: cards that flash by ask for nothing.
    const start = details.length;
    await page.evaluate(async () => {
      for (let i = 0; i < 60; i++) {
        window.scrollBy(0, 4000);
        await new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
      }
    });
    await settled();
    const fastScroll = details.length - start;
    expect(fastScroll).toBeLessThanOrEqual(2 * (await cards.count()));

    // Scrolling back to the top: the remembered details show at once, without new requests.
    const beforeTop = details.length;
    await page.evaluate(() => window.scrollTo(0, 0));
    await settled();
    expect(details.length - beforeTop).toBe(0);
    expect(await cards.first().locator('[data-testid^="route-table-"]').count()).toBe(1);

    // The sidebar is virtualized too: a bounded number of entries, the first ones at the top of its scroll.
    const lastId = await page.evaluate(async () => {
      const res = await fetch('api/sources');
      const list = (await res.json()) as Array<{ id: string }>;
      return list[list.length - 1]!.id;
    });
    const sidebar = page.getByTestId('sidebar');
    const sidebarEntries = page.locator('[data-testid^="sidebar-source-"]');
    expect(await page.getByTestId('sidebar-sources').getAttribute('data-count')).toBe(String(SOURCES));
    const atTop = await sidebarEntries.count();
    expect(atTop).toBeGreaterThanOrEqual(5); // 860 px tall: ~10 entries in view
    expect(atTop).toBeLessThan(100);
    expect(await page.locator('[data-testid^="sidebar-source-"][data-index="0"]').isVisible()).toBe(true);
    // Scrolling the sidebar to its end (every entry measured on the way) shows its last entry (the
    // 2,000th, in the sidebar's order), with its status, inside the sidebar, and still a bounded
    // number of entries.
    const lastEntry = page.locator(`[data-testid^="sidebar-source-"][data-index="${SOURCES - 1}"]`);
    expect(await lastEntry.count()).toBe(0);
    /** The entry is rendered and wholly inside the sidebar's visible area. */
    const inSidebarView = async (entry: typeof lastEntry) => {
      if ((await entry.count()) === 0) return false;
      const [entryBox, sidebarBox] = [await entry.boundingBox(), await sidebar.boundingBox()];
      return !!entryBox && !!sidebarBox && entryBox.y >= sidebarBox.y && entryBox.y + entryBox.height <= sidebarBox.y + sidebarBox.height;
    };
    // Keyboard focus on an entry's link survives scrolling that entry out of view.
    await page.locator('[data-testid^="sidebar-source-"][data-index="1"] a').focus();
    await waitUntil(
      async () => {
        await sidebar.evaluate((el) => el.scrollTo(0, el.scrollHeight));
        return inSidebarView(lastEntry);
      },
      { what: 'the last source at the end of the sidebar', timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(await lastEntry.locator('.sidebar-source-name').textContent()).toMatch(/^(Plex|Jellyfin) server \d{5}$/);
    expect(await lastEntry.locator('[data-testid^="source-status-"]').getAttribute('data-state')).toBeTruthy();
    expect(await sidebarEntries.count()).toBeLessThan(100);
    expect(await page.evaluate(() => document.activeElement?.closest('[data-index]')?.getAttribute('data-index'))).toBe('1');
    // …followed by the "Add a server" button, not hidden behind the list.
    const [lastBox, addBox] = [await lastEntry.boundingBox(), await page.getByTestId('add-source-button').boundingBox()];
    expect(addBox!.y).toBeGreaterThanOrEqual(lastBox!.y + lastBox!.height);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'many-sources-sidebar-end.png') });
    await sidebar.evaluate((el) => el.scrollTo(0, 0));
    await waitUntil(async () => (await lastEntry.count()) === 0, { what: 'the sidebar back at its top', timeoutMs: 5_000 });

    // A link to the last source brings its card into view (below the sticky header) and focuses it;
    // the sidebar brings that source's entry into view, highlighted.
    await page.evaluate((id) => (window.location.hash = `#/sources/${encodeURIComponent(id)}`), lastId);
    const lastCard = page.getByTestId(`source-card-${lastId}`);
    await waitUntil(async () => (await lastCard.count()) === 1 && (await lastCard.evaluate((el) => el === document.activeElement)), {
      what: 'the last card to be shown and focused',
      timeoutMs: 10_000,
    });
    const box = await lastCard.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(55); // not under the 60 px header
    expect(box!.y).toBeLessThan(860);
    const activeEntry = page.getByTestId(`sidebar-source-${lastId}`);
    await waitUntil(() => inSidebarView(activeEntry), { what: "the last source's sidebar entry in view", timeoutMs: 10_000 });
    expect(await activeEntry.getAttribute('class')).toContain('active');
    expect(await activeEntry.locator('a[aria-current="page"]').count()).toBe(1);
    expect(await sidebarEntries.count()).toBeLessThan(100);
    await settled();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'many-sources-focused-last.png') });

    // Altogether a small fraction of the 2,000 detail reads the page used to make on load alone.
    expect(details.length).toBeLessThan(80);
    expect(session.consoleErrors).toEqual([]);
  });
});
