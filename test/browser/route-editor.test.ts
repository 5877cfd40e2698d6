// The route editor on the sources page (issue 13 item 1), in Chromium against the real runtime in
// demo mode: add a reverse proxy's address in front of Home Jellyfin — verified, answering — move it
// first so it becomes the route in use, keep an address that does not answer (pending), and remove
// both. Screenshots: test-results/browser/route-editor-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOME_JELLYFIN, openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { poll } from '../support/wait.js';

let marquee: MarqueeUnderTest;
let proxy: RecordingProxy;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee();
  proxy = await startRecordingProxy(marquee.sim.route('jellyfin-home-local').url, '127.0.0.9');
}, 60_000);

afterAll(async () => {
  await session?.close();
  await proxy?.close();
  await marquee?.close();
});

describe('route editor (real server, simulators, Chromium)', () => {
  it('adds an address, shows it verified and used once moved first, keeps a silent one as pending, removes both', async () => {
    const id = marquee.sourceId(HOME_JELLYFIN);
    session = await openBrowser(`${marquee.url}#/sources/${id}`);
    const { page, screenshot } = session;
    const card = page.getByTestId(`source-card-${id}`);
    await card.waitFor();
    const originalLocal = marquee.engine.getSource(id)!.source.routes.find((r) => r.kind === 'local')!;

    // Add the proxy's address; its kind comes from the address (loopback → local).
    await page.getByTestId(`route-url-${id}`).fill(`${proxy.url}/`);
    await page.getByTestId(`route-add-${id}`).click();
    await poll(() => page.getByTestId(`route-note-${id}`).textContent()).toMatch(/Added: Home Jellyfin answered there/);
    const added = () => marquee.engine.getSourceDetail(id)!.routes.find((r) => r.url === proxy.url);
    await poll(() => added()?.origin).toBe('user');
    const routeId = added()!.id;
    const row = page.getByTestId(`route-row-${routeId}`);
    await poll(() => row.count()).toBe(1);
    await poll(() => page.getByTestId(`route-origin-${routeId}`).textContent()).toBe('Added by you');
    // Verified and probed, but the wizard's local address is still tried first.
    await poll(() => row.getAttribute('data-result')).toBe('ok');
    await expect.poll(() => row.textContent()).toContain('Answering');
    expect((await row.getAttribute('class')) ?? '').not.toContain('in-use');
    expect(proxy.requests[0]).toMatchObject({ path: '/System/Info/Public' });
    await screenshot('route-editor-added');

    // Move it first among the local routes: the monitor re-selects at once and uses it.
    await page.getByTestId(`route-up-${routeId}`).click();
    await poll(() => marquee.sources().find((s) => s.id === id)?.route?.id, 10_000).toBe(routeId);
    await poll(async () => (await row.getAttribute('class')) ?? '', 10_000).toContain('in-use');
    await expect.poll(() => row.textContent()).toContain('In use');
    await poll(() => page.getByTestId(`current-route-${id}`).textContent()).toContain(proxy.url);
    // The table shows the new order: the proxy first, the wizard's local address after it.
    const rows = page.getByTestId(`route-table-${id}`).locator('tbody tr');
    await poll(() => rows.first().getAttribute('data-testid')).toBe(`route-row-${routeId}`);
    await poll(() => rows.nth(1).getAttribute('data-testid')).toBe(`route-row-${originalLocal.id}`);
    expect(await page.getByTestId(`route-up-${routeId}`).isDisabled()).toBe(true);
    await screenshot('route-editor-in-use');

    // An address where nothing answers: refused in words, then kept anyway as pending.
    const silent = 'http://127.0.0.10:9';
    await page.getByTestId(`route-url-${id}`).fill(silent);
    await page.getByTestId(`route-add-${id}`).click();
    await poll(() => page.getByTestId(`route-error-${id}`).textContent()).toMatch(/Nothing answered as a Jellyfin server at 127\.0\.0\.10:9/);
    await page.getByTestId(`route-force-${id}`).click();
    await poll(() => page.getByTestId(`route-note-${id}`).textContent()).toMatch(/used once Home Jellyfin answers there/);
    const pending = () => marquee.engine.getSourceDetail(id)!.routes.find((r) => r.url === silent);
    await poll(() => pending()?.pending).toBe(true);
    await poll(() => page.getByTestId(`route-pending-${pending()!.id}`).count()).toBe(1);
    expect(marquee.engine.getSource(id)!.source.routes.map((r) => r.url)).not.toContain(silent);
    await screenshot('route-editor-pending');

    // Remove both: the source goes back to the wizard's local address; nothing left to remove on plex.tv routes.
    await page.getByTestId(`route-remove-${pending()!.id}`).click();
    await poll(() => pending()).toBeUndefined();
    await page.getByTestId(`route-remove-${routeId}`).click();
    await poll(() => page.getByTestId(`route-row-${routeId}`).count()).toBe(0);
    await poll(() => marquee.sources().find((s) => s.id === id)?.route?.id, 10_000).toBe(originalLocal.id);
    await screenshot('route-editor-removed');

    // plex.tv routes can be moved, not removed: no remove button on them.
    const plexId = marquee.sourceId('Living-room Plex');
    const plexRoute = marquee.engine.getSource(plexId)!.source.routes[0]!;
    await page.goto(`${marquee.url}#/sources/${plexId}`);
    await page.getByTestId(`route-row-${plexRoute.id}`).waitFor();
    expect(await page.getByTestId(`route-remove-${plexRoute.id}`).count()).toBe(0);
    expect(await page.getByTestId(`route-up-${plexRoute.id}`).count()).toBe(1);

    // The only HTTP error provoked on purpose is the 422 of the silent address.
    expect(session.consoleErrors.filter((e) => !(e.startsWith('Failed to load resource') && e.includes('status of 422')))).toEqual([]);
  }, 90_000);
});
