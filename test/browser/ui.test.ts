// The UI's own behaviour in Debian's Chromium, against the REAL Marquee — Fastify app, engine,
// store, backends — over the simulators (`marquee demo` through test/support/browser.ts), served
// under a sub-path as with MARQUEE_BASE_URL. status/flapping/wizards.test.ts prove the main chain
// (fault → probe → event → SSE → sidebar and toasts); this file pins the rest of what the user
// does and sees: where routes came from, the countdown, a sticky toast closed by hand, the lost
// link to Marquee, renaming and removing, the API key form, the phone menu and the demo panel.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { poll } from '../support/wait.js';

// Retries at least 1.5 s apart: "reconnecting" with its countdown stays on screen long enough to read.
const SLOW_RETRIES = { backoff: { initialMs: 2_000, factor: 2, capMs: 4_000, minDelayMs: 1_500 } };

let marquee: MarqueeUnderTest;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee({ args: ['--base-url', '/marquee'], monitor: SLOW_RETRIES });
}, 60_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

beforeEach(async () => {
  await marquee.restoreAll();
});

afterEach(async () => {
  await session?.close();
  session = undefined;
});

/**
 * Console errors other than Chromium's "Failed to load resource" lines, which a test provokes on
 * purpose (a wrong password or key, a dropped event stream); anything else is a bug.
 */
/** The servers page (the home page is the library UI's since issue 14; these tests are about the servers). */
const SOURCES_PAGE = '#/sources';

const unexpectedErrors = (s: BrowserSession) => s.consoleErrors.filter((e) => !e.startsWith('Failed to load resource'));

async function open(hash = SOURCES_PAGE, options: { width?: number; on?: MarqueeUnderTest } = {}): Promise<BrowserSession> {
  const target = options.on ?? marquee;
  session = await openBrowser(`${target.url}${hash}`, options.width ? { width: options.width } : {});
  return session;
}

async function openConnected(hash = SOURCES_PAGE, options: { width?: number } = {}): Promise<BrowserSession> {
  const s = await open(hash, options);
  await poll(() => s.page.getByTestId('header-indicator').getAttribute('data-state'), 15_000).toBe('ok');
  return s;
}

const statusOf = (id: string) => session!.page.getByTestId(`source-status-${id}`);

/** A JSON request to the app, as the UI makes it (same origin). */
async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${marquee.url}api/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('web UI against the real server (sub-path, simulators, Chromium)', () => {
  it('under a sub-path: every source with its status and libraries, and the overall indicator', async () => {
    expect(new URL(marquee.url).pathname).toBe('/marquee/');
    const { page, screenshot } = await openConnected();
    const living = marquee.sourceId(LIVING_ROOM);
    const friend = marquee.sourceId(FRIENDS_PLEX);
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    for (const id of [living, friend, jellyfin]) await poll(() => statusOf(id).getAttribute('data-state')).toBe('connected');
    expect(await statusOf(living).getAttribute('data-route-kind')).toBe('local');
    expect(await statusOf(jellyfin).getAttribute('data-route-kind')).toBe('local');
    // Friend's Plex only has a remote route: as good as it gets for it, so no nagging header, but
    // its badge still says "Remote" (in words, not colour alone) with the route hint.
    expect(await statusOf(friend).getAttribute('data-route-kind')).toBe('remote');
    expect(await statusOf(friend).getAttribute('title')).toContain('Using a remote route');
    expect(await statusOf(friend).textContent()).toContain('Remote');
    for (const source of marquee.sources()) {
      for (const library of source.libraries) await poll(() => page.getByTestId(`library-${source.id}-${library.id}`).textContent()).toBe(library.name);
    }
    await poll(() => page.getByTestId(`sidebar-source-${living}`).textContent()).toContain('TV Shows');
    await screenshot('ui-01-overview-sub-path');
    expect(session!.consoleErrors).toEqual([]);
  });

  it('stopping a server shows reconnecting with a countdown, and its return rewrites the "lost" toast to "is back"', async () => {
    const { page, screenshot } = await openConnected();
    const living = marquee.sourceId(LIVING_ROOM);
    await marquee.sim.server('living-room').fault({ mode: 'stop' });
    await poll(() => statusOf(living).getAttribute('data-state'), 15_000).toBe('reconnecting');
    await poll(() => statusOf(living).textContent()).toMatch(/Retry in \d+ s/);
    const slot = page.getByTestId(`source-${living}`);
    await poll(() => slot.textContent()).toContain('Living-room Plex lost its connection');
    await screenshot('ui-02-reconnecting-countdown');
    // The element itself, to tell an in-place rewrite from a new toast.
    const element = await slot.elementHandle();
    await marquee.sim.server('living-room').fault({ mode: 'up' });
    marquee.engine.checkNow(living);
    await poll(() => statusOf(living).getAttribute('data-state'), 15_000).toBe('connected');
    // "lost" is sticky, so the server coming back rewrites that same toast: one toast, now true.
    await poll(() => element.textContent()).toContain('Living-room Plex is back');
    expect(await element.evaluate((el) => el.isConnected)).toBe(true);
    expect(await page.locator('[data-sonner-toast]', { hasText: LIVING_ROOM }).count()).toBe(1);
    expect(await page.locator('[data-sonner-toast]', { hasText: 'lost its connection' }).count()).toBe(0);
    expect(unexpectedErrors(session!)).toEqual([]);
  });

  it('a "lost" toast stays until closed; closed by hand, the return within the minute opens no new toast', async () => {
    const { page } = await openConnected();
    const living = marquee.sourceId(LIVING_ROOM);
    await marquee.sim.server('living-room').fault({ mode: 'stop' });
    const slot = page.getByTestId(`source-${living}`);
    await poll(() => slot.textContent(), 15_000).toContain('Living-room Plex lost its connection');
    // Past an ordinary toast's 6 s: 'lost' is sticky.
    await page.waitForTimeout(6_500);
    expect(await slot.count()).toBe(1);
    await slot.locator('[data-close-button]').click();
    await poll(() => slot.count()).toBe(0);
    // The UI reported the dismissal to the policy: nothing of the source is on screen, and a new
    // toast was opened less than a minute ago, so the return is told by the sidebar alone.
    await marquee.sim.server('living-room').fault({ mode: 'up' });
    marquee.engine.checkNow(living);
    await poll(() => statusOf(living).getAttribute('data-state'), 15_000).toBe('connected');
    await page.waitForTimeout(1_000);
    expect(await page.locator('[data-sonner-toast]').count()).toBe(0);
    expect(await session!.sourceToasts(living)).toHaveLength(1);
    expect(unexpectedErrors(session!)).toEqual([]);
  });

  it('a revoked token shows "Sign in needed"; a wrong password is said in words, the right one brings the source back', async () => {
    const { page } = await openConnected();
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    await marquee.sim.server('jellyfin-home').fault({ mode: 'bad-token' });
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('auth_required');
    expect(await statusOf(jellyfin).textContent()).toContain('Sign in needed');
    await page.getByTestId(`sidebar-signin-${jellyfin}`).click();
    const dialog = page.getByTestId('signin-dialog');
    const user = marquee.sim.jellyfin('jellyfin-home').user();
    await dialog.getByTestId('jellyfin-username').fill(user.name);
    await dialog.getByTestId('jellyfin-password').fill('not-the-password');
    await dialog.getByTestId('jellyfin-submit').click();
    await poll(() => dialog.getByTestId('form-error').textContent(), 15_000).toContain('Wrong user name or password');
    await dialog.getByTestId('jellyfin-password').fill(user.password);
    await dialog.getByTestId('jellyfin-submit').click();
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('connected');
    expect(await page.getByTestId('signin-dialog').count()).toBe(0);
    expect(unexpectedErrors(session!)).toEqual([]);
  });

  it('shows a banner when the link to Marquee drops, and resyncs from the snapshot when back', async () => {
    const { page, screenshot } = await openConnected();
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    // Marquee goes away for the browser: open streams cut, new ones refused for a while.
    await page.route('**/api/events**', (route) => route.abort('connectionrefused'));
    marquee.dropConnections();
    await poll(() => page.getByTestId('connection-banner').count(), 10_000).toBe(1);
    expect(await page.getByTestId('connection-banner').textContent()).toContain('Lost connection to Marquee — retrying…');
    await screenshot('ui-03-connection-banner');
    // Meanwhile a change happens that the browser cannot see…
    await marquee.sim.server('jellyfin-home').fault({ mode: 'bad-token' });
    marquee.engine.checkNow(jellyfin);
    await poll(() => marquee.sources().find((s) => s.id === jellyfin)?.status, 15_000).toBe('auth_required');
    expect(await statusOf(jellyfin).getAttribute('data-state')).toBe('connected');
    // …and after reconnecting the snapshot shows it.
    await page.unroute('**/api/events**');
    await poll(() => page.getByTestId('connection-banner').count(), 20_000).toBe(0);
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 10_000).toBe('auth_required');
    expect(unexpectedErrors(session!)).toEqual([]);
  });

  it('on a phone the sidebar is a menu behind a button', async () => {
    const { page, screenshot } = await open(SOURCES_PAGE, { width: 390 });
    await page.getByTestId('header-indicator').waitFor();
    expect(await page.getByTestId('sidebar').isVisible()).toBe(false);
    await page.getByTestId('nav-toggle').click();
    await poll(() => page.getByTestId('sidebar').isVisible()).toBe(true);
    expect(await page.getByTestId('nav-toggle').getAttribute('aria-expanded')).toBe('true');
    await screenshot('ui-04-phone-menu');
    await page.getByTestId('nav-demo').click();
    await poll(() => page.getByTestId('demo-page').isVisible()).toBe(true);
    await poll(() => page.getByTestId('sidebar').isVisible()).toBe(false);
    expect(session!.consoleErrors).toEqual([]);
  });

  it('the demo panel drives faults through the demo endpoints', async () => {
    const { page, screenshot } = await openConnected('#/demo');
    const living = marquee.sourceId(LIVING_ROOM);
    const localRoute = marquee.engine.getSource(living)!.source.routes.find((r) => r.kind === 'local')!.id;
    await poll(() => statusOf(living).getAttribute('data-route-kind')).toBe('local');
    await page.getByTestId(`demo-fault-${localRoute}-refuse`).click();
    await poll(() => statusOf(living).getAttribute('data-route-kind'), 15_000).toBe('remote');
    await screenshot('ui-05-demo-panel-local-cut');
    // A revoked token: Jellyfin needs a new sign-in (a Plex server's token would be fetched anew from
    // plex.tv without the user, issue 13, so Plex would stay connected).
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    await page.getByTestId(`demo-server-fault-${jellyfin}-bad-token`).click();
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('auth_required');
    await page.getByTestId(`demo-server-fault-${jellyfin}-up`).click();
    await page.getByTestId(`demo-fault-${localRoute}-up`).click();
    // A fresh check (the card's "Check now" would do the same) instead of waiting for the schedule.
    marquee.engine.checkNow(living);
    await poll(() => statusOf(living).getAttribute('data-route-kind'), 15_000).toBe('local');
    expect(await statusOf(living).getAttribute('data-state')).toBe('connected');
    expect(session!.consoleErrors).toEqual([]);
  });

  it('renames a source through its card; the new name is the server\'s, everywhere', async () => {
    const friend = marquee.sourceId(FRIENDS_PLEX);
    const { page } = await openConnected(`#/sources/${friend}`);
    await page.getByTestId(`rename-${friend}`).click();
    const dialog = page.getByTestId('rename-dialog');
    await dialog.getByTestId('rename-input').fill('  Den Plex  ');
    await dialog.getByTestId('rename-save').click();
    await poll(() => page.getByTestId(`sidebar-source-${friend}`).textContent()).toContain('Den Plex');
    // The dialog closes once its save answered; on a loaded machine that may follow the SSE update.
    await poll(() => page.getByTestId('rename-dialog').count()).toBe(0);
    expect(marquee.engine.getSource(friend)!.source.name).toBe('Den Plex');
    // Back to its name for the tests that follow, through the same API the dialog used.
    expect((await api('PATCH', `sources/${friend}`, { name: FRIENDS_PLEX })).status).toBe(200);
    await poll(() => page.getByTestId(`sidebar-source-${friend}`).textContent()).toContain(FRIENDS_PLEX);
    expect(session!.consoleErrors).toEqual([]);
  });

  it('says where each route came from: entered by you, reported by the server, from plex.tv', async () => {
    // Home Jellyfin added again the way a user adds it: by its second address, while the server
    // reports its LAN address (which Marquee checks, then keeps as a server-reported route).
    const home = marquee.sim.servers.find((s) => s.id === 'jellyfin-home')!;
    const lan = home.routes.find((r) => r.kind === 'local')!.url;
    const typed = home.routes.find((r) => r.kind === 'remote')!.url;
    const user = marquee.sim.jellyfin('jellyfin-home').user();
    marquee.sim.jellyfin('jellyfin-home').setLocalAddress(lan);
    try {
      expect((await api('DELETE', `sources/${marquee.sourceId(HOME_JELLYFIN)}`)).status).toBe(204);
      const added = await api('POST', 'sources', { kind: 'jellyfin', url: typed, username: user.name, password: user.password });
      expect(added.status).toBe(201);
    } finally {
      marquee.sim.jellyfin('jellyfin-home').setLocalAddress(undefined);
    }
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    const routeId = (url: string) => marquee.engine.getSourceDetail(jellyfin)!.routes.find((r) => new URL(r.url).origin === new URL(url).origin)!.id;
    const { page, screenshot } = await openConnected(`#/sources/${jellyfin}`);
    const origin = (id: string) => page.getByTestId(`route-origin-${id}`);
    await poll(() => origin(routeId(lan)).textContent()).toBe('Reported by the server');
    expect(await origin(routeId(lan)).getAttribute('title')).toMatch(/only after the same server answered there/);
    expect(await origin(routeId(typed)).textContent()).toBe('Entered by you');
    await screenshot('ui-06-route-origins');
    const living = marquee.engine.getSource(marquee.sourceId(LIVING_ROOM))!.source;
    const relay = living.routes.find((r) => r.kind === 'relay')!.id;
    await page.goto(`${marquee.url}#/sources/${living.id}`);
    await poll(() => origin(relay).textContent()).toBe('From plex.tv');
    expect(await origin(relay).getAttribute('title')).toMatch(/^Listed for this server by plex.tv/);
    expect(session!.consoleErrors).toEqual([]);
  });

  // Last: it removes a demo source.
  it('removing a source: a slow answer does not pull the user back from the page they went on to', async () => {
    const friend = marquee.sourceId(FRIENDS_PLEX);
    const { page } = await openConnected(`#/sources/${friend}`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/sources/${friend}`, async (route) => {
      if (route.request().method() !== 'DELETE') return route.continue();
      await held;
      return route.continue();
    });
    await page.getByTestId(`remove-${friend}`).click();
    await page.getByTestId('remove-dialog').getByTestId('remove-confirm').click();
    // The user moves on while the removal is still on its way.
    await page.goto(`${marquee.url}#/add/plex`);
    await page.getByTestId('plex-wizard').waitFor({ timeout: 10_000 });
    release();
    await poll(() => page.getByTestId(`sidebar-source-${friend}`).count()).toBe(0);
    expect(marquee.engine.getSource(friend)).toBeNull();
    await page.waitForTimeout(300);
    expect(new URL(page.url()).hash).toBe('#/add/plex');
    expect(await page.getByTestId('plex-wizard').isVisible()).toBe(true);
    expect(session!.consoleErrors).toEqual([]);
  });
});

describe('web UI behind an API key (real server)', () => {
  let guarded: MarqueeUnderTest | undefined;
  afterAll(async () => {
    await guarded?.close();
  });

  it('asks for the API key, says when it is wrong, and lets the right one in', async () => {
    const apiKey = randomBytes(24).toString('hex');
    guarded = await startMarquee({ env: { MARQUEE_API_KEY: apiKey } });
    expect(guarded.config.apiKey).toBe(apiKey);
    const { page, screenshot } = await open(SOURCES_PAGE, { on: guarded });
    await page.getByTestId('api-key-input').fill('not-the-key-at-all');
    await page.getByTestId('api-key-submit').click();
    await poll(() => page.getByTestId('form-error').textContent()).toBe('That is not the API key of this Marquee.');
    await screenshot('ui-07-api-key-wrong');
    await page.getByTestId('api-key-input').fill(apiKey);
    await page.getByTestId('api-key-submit').click();
    const living = guarded.sourceId(LIVING_ROOM);
    await poll(() => page.getByTestId(`source-status-${living}`).getAttribute('data-state'), 15_000).toBe('connected');
    expect(unexpectedErrors(session!)).toEqual([]);
  }, 60_000);
});
