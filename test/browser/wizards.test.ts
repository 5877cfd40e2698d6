// Adding sources through the UI's wizards, in Chromium, against the real server and simulators:
// Jellyfin (URL -> preview -> password) with a second simulated Jellyfin server, and Plex through
// the PIN flow (the simulated user approves the PIN after 4 s, as in `marquee demo`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, parseSimConfig, type Simulation } from '../../sim/index.js';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { poll } from '../support/wait.js';

const ATTIC = 'Attic Jellyfin';

let marquee: MarqueeUnderTest;
let attic: Simulation;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee();
  attic = await createSimulation(
    parseSimConfig({
      servers: [
        {
          id: 'attic',
          kind: 'jellyfin',
          name: ATTIC,
          users: [{ name: 'alice', password: 'attic-password', admin: true }],
          routes: [{ id: 'attic-local', kind: 'local', host: '127.0.0.8', port: 0 }],
          libraries: [{ name: 'Documentaries', collectionType: 'movies' }, { name: 'Cartoons', collectionType: 'tvshows' }],
        },
      ],
    }),
  );
}, 60_000);

afterAll(async () => {
  await session?.close();
  await attic?.close();
  await marquee?.close();
});

afterEach(async () => {
  await session?.close();
  session = undefined;
});

/** The HTTP errors a test provokes on purpose show up as "Failed to load resource … status of N"; anything else is a bug. */
function unexpectedErrors(errors: string[], provoked: number[]): string[] {
  return errors.filter((e) => !provoked.some((status) => e.startsWith('Failed to load resource') && e.includes(`status of ${status}`)));
}

describe('add-source wizards (real server, simulators, Chromium)', () => {
  it('adds a Jellyfin server through the wizard: clear errors, preview, then connected with its libraries', async () => {
    session = await openBrowser(`${marquee.url}#/add/jellyfin`);
    const { page, screenshot } = session;
    const atticUrl = attic.servers[0]!.routes[0]!.url;
    const wizard = page.getByTestId('jellyfin-wizard');
    // The probe is a POST with the address in a JSON body (the Origin rule applies to it).
    const probes: { method: string; url: string; body: string | null }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/jellyfin/probe')) probes.push({ method: r.method(), url: r.url(), body: r.postData() });
    });

    // Nothing answers at this address (a free loopback port): a clear error, no crash.
    await wizard.getByTestId('jellyfin-url-input').fill('http://127.0.0.9:9');
    await wizard.getByTestId('jellyfin-probe-submit').click();
    await poll(() => wizard.getByTestId('form-error').textContent(), 15_000).toMatch(/\S/);
    await screenshot('09-jellyfin-wizard-unreachable');

    await wizard.getByTestId('jellyfin-url-input').fill(atticUrl);
    await wizard.getByTestId('jellyfin-probe-submit').click();
    await poll(() => wizard.getByTestId('jellyfin-preview-name').textContent().catch(() => null)).toBe(ATTIC);
    expect(await wizard.getByTestId('jellyfin-already-added').count()).toBe(0);
    expect(probes.map((p) => [p.method, new URL(p.url).search, JSON.parse(p.body ?? 'null')])).toEqual([
      ['POST', '', { url: 'http://127.0.0.9:9' }],
      ['POST', '', { url: atticUrl }],
    ]);

    // Wrong password: said in words, and the wizard stays put.
    await wizard.getByTestId('jellyfin-username').fill('alice');
    await wizard.getByTestId('jellyfin-password').fill('not-the-password');
    await wizard.getByTestId('jellyfin-submit').click();
    await poll(() => wizard.getByTestId('form-error').textContent()).toContain('Wrong user name or password');
    await screenshot('10-jellyfin-wizard-wrong-password');

    await wizard.getByTestId('jellyfin-password').fill('attic-password');
    await screenshot('11-jellyfin-wizard-preview');
    await wizard.getByTestId('jellyfin-submit').click();

    await poll(() => marquee.sources().map((s) => s.name)).toContain(ATTIC);
    const id = marquee.sourceId(ATTIC);
    await poll(() => page.url()).toContain(`#/sources/${id}`);
    const status = page.getByTestId(`source-status-${id}`);
    await poll(() => status.getAttribute('data-state'), 15_000).toBe('connected');
    expect(await status.getAttribute('data-route-kind')).toBe('local');
    await poll(() => page.getByTestId(`sidebar-source-${id}`).locator('[data-testid^="library-"]').allTextContents(), 15_000).toEqual(
      expect.arrayContaining(['Documentaries', 'Cartoons']),
    );
    await expect(page.locator('[data-sonner-toast]', { hasText: `${ATTIC} added` }).count()).resolves.toBe(1);
    await screenshot('12-jellyfin-added');
    expect(unexpectedErrors(session.consoleErrors, [422])).toEqual([]);
  }, 60_000);

  it('an already-added Jellyfin server is flagged, and signing in to it again does not sign the existing source out', async () => {
    session = await openBrowser(`${marquee.url}#/add/jellyfin`);
    const { page, screenshot } = session;
    const home = marquee.sourceId(HOME_JELLYFIN);
    const homeRoute = marquee.sim.servers.find((s) => s.id === 'jellyfin-home')!.routes[0]!.url;
    const wizard = page.getByTestId('jellyfin-wizard');
    await wizard.getByTestId('jellyfin-url-input').fill(homeRoute);
    await wizard.getByTestId('jellyfin-probe-submit').click();
    await poll(() => wizard.getByTestId('jellyfin-already-added').isVisible().catch(() => false)).toBe(true);

    // The user signs in anyway, with the right password: refused before any sign-in reaches the server.
    const user = marquee.sim.jellyfin('jellyfin-home').user();
    await wizard.getByTestId('jellyfin-username').fill(user.name);
    await wizard.getByTestId('jellyfin-password').fill(user.password);
    await wizard.getByTestId('jellyfin-submit').click();
    await poll(() => wizard.getByTestId('form-error').textContent()).toContain(`${HOME_JELLYFIN} is already one of your sources`);
    await screenshot('13-jellyfin-wizard-already-added');

    // The existing source's token still works: a fresh check (HTTP + push) keeps it connected.
    marquee.engine.checkNow(home);
    await page.waitForTimeout(3_000);
    expect(marquee.sources().find((s) => s.id === home)?.status).toBe('connected');
    expect(await page.getByTestId(`source-status-${home}`).getAttribute('data-state')).toBe('connected');
    expect(marquee.sources().filter((s) => s.name === HOME_JELLYFIN)).toHaveLength(1);
    expect(unexpectedErrors(session.consoleErrors, [409])).toEqual([]);
  }, 60_000);

  it('adds a Plex server through the PIN flow (the simulated user approves the PIN)', async () => {
    session = await openBrowser(`${marquee.url}#/sources`);
    const { page, screenshot } = session;
    const friendServerId = marquee.sim.servers.find((s) => s.id === 'friends-plex')!.machineId;
    const livingServerId = marquee.sim.servers.find((s) => s.id === 'living-room')!.machineId;

    // Friend's Plex is already a demo source: remove it through its card first.
    const oldId = marquee.sourceId(FRIENDS_PLEX);
    await page.goto(`${marquee.url}#/sources/${oldId}`);
    await page.getByTestId(`remove-${oldId}`).click();
    await page.getByTestId('remove-dialog').getByTestId('remove-confirm').click();
    await poll(() => page.getByTestId(`sidebar-source-${oldId}`).count()).toBe(0);
    expect(marquee.sources().map((s) => s.name)).not.toContain(FRIENDS_PLEX);

    await page.goto(`${marquee.url}#/add/plex`);
    const wizard = page.getByTestId('plex-wizard');
    await wizard.getByTestId('plex-start').click();
    await poll(() => wizard.getByTestId('plex-pin-code').textContent().catch(() => '')).toMatch(/\S{4,}/);
    expect(await wizard.getByTestId('plex-auth-link').getAttribute('href')).toContain('/auth');
    await screenshot('14-plex-wizard-pin');

    // Approved after 4 s, polled every 2 s: the account's servers appear.
    const friendOption = wizard.getByTestId(`plex-server-option-${friendServerId}`);
    await friendOption.waitFor({ state: 'visible', timeout: 20_000 });
    await expect(wizard.getByTestId(`plex-server-option-${livingServerId}`).getAttribute('class')).resolves.toContain('disabled');
    await friendOption.click();
    await screenshot('15-plex-wizard-choose-server');
    await wizard.getByTestId('plex-add-server').click();

    await poll(() => marquee.sources().map((s) => s.name)).toContain(FRIENDS_PLEX);
    const id = marquee.sourceId(FRIENDS_PLEX);
    expect(id).not.toBe(oldId);
    await poll(() => page.url()).toContain(`#/sources/${id}`);
    const status = page.getByTestId(`source-status-${id}`);
    await poll(() => status.getAttribute('data-state'), 15_000).toBe('connected');
    expect(await status.getAttribute('data-route-kind')).toBe('remote');
    await poll(() => page.getByTestId(`sidebar-source-${id}`).locator('[data-testid^="library-"]').allTextContents(), 15_000).toEqual(['Films', 'Photos']);
    // A remote-only server: all is well in the header.
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    expect(marquee.sources().map((s) => s.name)).toEqual(expect.arrayContaining([FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM]));
    await screenshot('16-plex-added');
    expect(session.consoleErrors).toEqual([]);
  }, 60_000);
});
