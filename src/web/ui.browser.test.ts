// The UI in a real browser (Debian Chromium via playwright-core) against the mock API in
// test/support/dev/mock-server.ts, served under a sub-path like MARQUEE_BASE_URL. The end-to-end tests
// against the real server and simulators live in test/; these pin the UI's own behaviour.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../../test/support/chromium.js';
import { poll } from '../../test/support/wait.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../test/support/dev/mock-server';

const distIndex = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

let browser: Browser;
let mock: MockServer;
let context: BrowserContext | undefined;
let consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(distIndex)) {
    const { build } = await import('vite');
    await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)), logLevel: 'warn' });
  }
  browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  await mock?.close();
});

async function openApp(options: { apiKey?: string; width?: number; toastWindowMs?: number } = {}): Promise<Page> {
  mock = await startMockServer({ base: '/marquee/', apiKey: options.apiKey });
  context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 860 }, colorScheme: 'dark' });
  if (options.toastWindowMs !== undefined) {
    await context.addInitScript((ms) => window.localStorage.setItem('marquee:toastWindowMs', String(ms)), options.toastWindowMs);
  }
  const page = await context.newPage();
  consoleErrors = [];
  page.on('console', (m) => {
    // Expected HTTP errors (a wrong URL in the wizard, a deliberately dropped stream) are logged
    // by Chromium as "Failed to load resource"; anything else is a bug.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(mock.url);
  return page;
}

const status = (page: Page, id: string) => page.getByTestId(`source-status-${id}`);

describe('web UI (mock API, real browser)', () => {
  it('shows every source with its status and libraries, and the overall indicator', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('connected');
    await poll(() => status(page, 'jf-attic').getAttribute('data-state')).toBe('connected');
    expect(await status(page, 'plex-living').getAttribute('data-route-kind')).toBe('local');
    await poll(() => status(page, 'plex-cabin').getAttribute('data-route-kind')).toBe('remote');
    await poll(() => page.getByTestId('library-plex-living-2').textContent()).toContain('TV Shows');
    expect(await page.getByTestId('library-jf-attic-f1').textContent()).toContain('Films');
    // Cabin Plex only has remote routes: that is as good as it gets for it, so no nagging header,
    // but its badge still says "Remote" with the route hint.
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    expect(await status(page, 'plex-cabin').getAttribute('title')).toContain('Using a remote route');
    // Status is never colour alone: the visible label says it in words.
    expect(await status(page, 'plex-cabin').textContent()).toContain('Remote');
    expect(consoleErrors).toEqual([]);
  });

  it('says where each route came from: entered by you, reported by the server, from plex.tv', async () => {
    const page = await openApp();
    await page.goto(`${mock.url}#/sources/jf-attic`);
    const origin = (id: string) => page.getByTestId(`route-origin-${id}`);
    await poll(() => origin('jf-attic-local').textContent()).toBe('Reported by the server');
    expect(await origin('jf-attic-local').getAttribute('title')).toMatch(/only after the same server answered there/);
    expect(await origin('jf-attic-remote').textContent()).toBe('Entered by you');
    await page.goto(`${mock.url}#/sources/plex-living`);
    await poll(() => origin('plex-living-relay').textContent()).toBe('From plex.tv');
    expect(await origin('plex-living-relay').getAttribute('title')).toBe('Listed for this server by plex.tv');
    expect(consoleErrors).toEqual([]);
  });

  it('cutting the local route shows the remote warning and exactly one toast naming the server', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('local');
    mock.setRouteMode('plex-living-local', 'refuse');
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('remote');
    expect(await status(page, 'plex-living').getAttribute('title')).toBe('Using a remote route: more latency and limited bandwidth');
    await poll(() => page.locator('[data-sonner-toast]').count()).toBe(1);
    expect(await page.locator('[data-sonner-toast]').textContent()).toContain('Living-room Plex is now on a remote route');
    // The source's one toast slot (sonner id source-<id>).
    expect(await page.locator('[data-sonner-toast]').getAttribute('data-testid')).toBe('source-plex-living');
    await poll(() => page.getByTestId('live-region').textContent()).toContain('Living-room Plex is connected through a remote route');
  });

  it('stopping a server shows reconnecting with a countdown, and restoring rewrites the "lost" toast to "is back"', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('connected');
    mock.setServerMode('plex-living', 'stop');
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('reconnecting');
    await poll(() => status(page, 'plex-living').textContent()).toMatch(/Retry in \d+ s|Reconnecting/);
    const slot = page.getByTestId('source-plex-living');
    await poll(() => slot.textContent()).toContain('Living-room Plex lost its connection');
    // The element itself, to tell an in-place rewrite from a new toast.
    const element = await slot.elementHandle();
    mock.setServerMode('plex-living', 'up');
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 15_000).toBe('connected');
    // "lost" is sticky, so the server coming back rewrites that same toast: one toast, now true.
    await poll(() => element.textContent()).toContain('Living-room Plex is back');
    expect(await element.evaluate((el) => el.isConnected)).toBe(true);
    expect(await page.locator('[data-sonner-toast]', { hasText: 'Living-room Plex' }).count()).toBe(1);
    expect(await page.locator('[data-sonner-toast]', { hasText: 'lost its connection' }).count()).toBe(0);
  });

  it('a "lost" toast stays until closed; closed by hand, the return within the minute opens no new toast', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('connected');
    mock.setServerMode('plex-living', 'stop');
    const slot = page.getByTestId('source-plex-living');
    await poll(() => slot.textContent()).toContain('Living-room Plex lost its connection');
    // Past an ordinary toast's 6 s: 'lost' is sticky.
    await page.waitForTimeout(6_500);
    expect(await slot.count()).toBe(1);
    await slot.locator('[data-close-button]').click();
    await poll(() => slot.count()).toBe(0);
    // The UI reported the dismissal to the policy: nothing of the source is on screen, and a new
    // toast was opened less than a minute ago, so the return is told by the sidebar alone.
    mock.setServerMode('plex-living', 'up');
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 15_000).toBe('connected');
    await page.waitForTimeout(1_000);
    expect(await page.locator('[data-sonner-toast]').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  it('a flapping route yields one toast, rewritten to "unstable", not a storm, while the indicator keeps telling the truth', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('local');
    for (let i = 0; i < 6; i++) {
      const expected = i % 2 === 0 ? 'remote' : 'local';
      mock.setRouteMode('plex-living-local', i % 2 === 0 ? 'refuse' : 'up');
      await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe(expected);
    }
    // At most one new toast per source per minute: one element, now saying "unstable".
    const texts = await page.locator('[data-sonner-toast]').allTextContents();
    const aboutLivingRoom = texts.filter((t) => t.includes('Living-room Plex'));
    expect(aboutLivingRoom).toHaveLength(1);
    expect(aboutLivingRoom[0]).toContain('Living-room Plex is unstable');
    expect(await page.locator('[data-sonner-toast]', { hasText: 'Living-room Plex' }).getAttribute('data-testid')).toBe('source-plex-living');
  });

  it('revoking a token shows "sign-in needed" with a working "Sign in again" action', async () => {
    const page = await openApp();
    await poll(() => status(page, 'jf-attic').getAttribute('data-state'), 10_000).toBe('connected');
    mock.setServerMode('jf-attic', 'bad-token');
    await poll(() => status(page, 'jf-attic').getAttribute('data-state'), 10_000).toBe('auth_required');
    expect(await status(page, 'jf-attic').textContent()).toContain('Sign in needed');
    await page.getByTestId('sidebar-signin-jf-attic').click();
    await page.getByTestId('signin-dialog').getByTestId('jellyfin-username').fill('alice');
    await page.getByTestId('signin-dialog').getByTestId('jellyfin-password').fill('wrong');
    await page.getByTestId('signin-dialog').getByTestId('jellyfin-submit').click();
    await poll(() => page.getByTestId('form-error').textContent()).toContain('rejected that username or password');
    await page.getByTestId('jellyfin-password').fill('right');
    await page.getByTestId('jellyfin-submit').click();
    await poll(() => status(page, 'jf-attic').getAttribute('data-state'), 10_000).toBe('connected');
    expect(await page.getByTestId('signin-dialog').count()).toBe(0);
  });

  it('shows a banner when the link to Marquee drops, and resyncs from the snapshot when back', async () => {
    const page = await openApp();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('connected');
    mock.dropClients(2500);
    await poll(() => page.getByTestId('connection-banner').count(), 5_000).toBe(1);
    expect(await page.getByTestId('connection-banner').textContent()).toContain('Lost connection to Marquee — retrying…');
    // Meanwhile a change happens that the browser cannot see…
    mock.setServerMode('jf-attic', 'bad-token');
    // …and after reconnecting the snapshot shows it.
    await poll(() => page.getByTestId('connection-banner').count(), 20_000).toBe(0);
    await poll(() => status(page, 'jf-attic').getAttribute('data-state'), 10_000).toBe('auth_required');
  });

  it('adds a Jellyfin server through the wizard, with clear errors for a bad address and a wrong password', async () => {
    const page = await openApp();
    await page.getByTestId('add-source-button').click();
    await page.getByTestId('wizard-choose-jellyfin').click();
    await page.getByTestId('jellyfin-url-input').fill('http://bad.example:8096');
    await page.getByTestId('jellyfin-probe-submit').click();
    await poll(() => page.getByTestId('form-error').textContent()).toContain('Nothing answered at http://bad.example:8096');
    await page.getByTestId('jellyfin-url-input').fill('http://192.168.1.20:8096');
    await page.getByTestId('jellyfin-probe-submit').click();
    await poll(() => page.getByTestId('jellyfin-preview').textContent()).toContain('Jellyfin 10.10.3');
    await page.getByTestId('jellyfin-username').fill('alice');
    await page.getByTestId('jellyfin-password').fill('wrong');
    await page.getByTestId('jellyfin-submit').click();
    await poll(() => page.getByTestId('form-error').textContent()).toContain('rejected that username or password');
    await page.getByTestId('jellyfin-password').fill('secret');
    await page.getByTestId('jellyfin-submit').click();
    await poll(() => page.url()).toContain('#/sources/added-');
    await poll(() => page.locator('[data-testid^="sidebar-source-added-"]').textContent()).toContain('Garage Jellyfin');
  });

  it('adds a Plex server through the PIN flow', async () => {
    const page = await openApp();
    await page.goto(`${mock.url}#/add/plex`);
    const popup = page.context().waitForEvent('page');
    await page.getByTestId('plex-start').click();
    const tab = await popup;
    await poll(() => page.getByTestId('plex-pin-code').textContent()).toBe('X7KQ');
    await poll(() => tab.url()).toContain('mock-plex-auth');
    expect(await page.getByTestId('plex-auth-link').getAttribute('href')).toContain('mock-plex-auth');
    await page.getByTestId(`plex-server-option-${'d'.repeat(40)}`).waitFor({ timeout: 10_000 });
    await page.getByTestId('plex-add-server').click();
    await poll(() => page.locator('[data-testid^="sidebar-source-added-"]').textContent()).toContain('Basement Plex');
    expect(consoleErrors).toEqual([]);
  });

  it('removing a source: a slow answer does not pull the user back from the page they went on to', async () => {
    const page = await openApp();
    await poll(() => status(page, 'jf-attic').getAttribute('data-state'), 10_000).toBe('connected');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/sources/jf-attic', async (route) => {
      if (route.request().method() !== 'DELETE') return route.continue();
      await held;
      return route.continue();
    });
    await page.goto(`${mock.url}#/sources/jf-attic`);
    await page.getByTestId('remove-jf-attic').click();
    await page.getByTestId('remove-dialog').getByTestId('remove-confirm').click();
    // The user moves on while the removal is still on its way.
    await page.goto(`${mock.url}#/add/plex`);
    await page.getByTestId('plex-wizard').waitFor({ timeout: 10_000 });
    release();
    await poll(() => page.getByTestId('sidebar-source-jf-attic').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(new URL(page.url()).hash).toBe('#/add/plex');
    expect(await page.getByTestId('plex-wizard').isVisible()).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  it('asks for the API key when Marquee requires one', async () => {
    const page = await openApp({ apiKey: 'b41e7c09f3a6d25e8c1f7a4b' });
    await page.getByTestId('api-key-input').fill('nope');
    await page.getByTestId('api-key-submit').click();
    await poll(() => page.getByTestId('form-error').textContent()).toContain('not right');
    await page.getByTestId('api-key-input').fill('b41e7c09f3a6d25e8c1f7a4b');
    await page.getByTestId('api-key-submit').click();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('connected');
  });

  it('on a phone the sidebar is a menu behind a button', async () => {
    const page = await openApp({ width: 390 });
    await page.getByTestId('header-indicator').waitFor();
    expect(await page.getByTestId('sidebar').isVisible()).toBe(false);
    await page.getByTestId('nav-toggle').click();
    await poll(() => page.getByTestId('sidebar').isVisible()).toBe(true);
    expect(await page.getByTestId('nav-toggle').getAttribute('aria-expanded')).toBe('true');
    await page.getByTestId('nav-demo').click();
    await poll(() => page.getByTestId('demo-page').isVisible()).toBe(true);
    await poll(() => page.getByTestId('sidebar').isVisible()).toBe(false);
  });

  it('the demo panel drives faults through the demo endpoints', async () => {
    const page = await openApp();
    await page.goto(`${mock.url}#/demo`);
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('local');
    await page.getByTestId('demo-fault-plex-living-local-refuse').click();
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('remote');
    await page.getByTestId('demo-server-fault-plex-living-bad-token').click();
    await poll(() => status(page, 'plex-living').getAttribute('data-state'), 10_000).toBe('auth_required');
    await page.getByTestId('demo-server-fault-plex-living-up').click();
    await page.getByTestId('demo-fault-plex-living-local-up').click();
    await poll(() => status(page, 'plex-living').getAttribute('data-route-kind'), 10_000).toBe('local');
  });
});
