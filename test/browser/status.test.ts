// The UI in Debian's Chromium against the real Marquee server and the simulators: what the user
// sees when routes are cut and restored and when a sign-in is revoked. One server for the file;
// each test gets a fresh browser profile (fresh toast damping) and starts from every source on its
// best route.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, openBrowser, startMarquee, toastKind, toastsTooClose, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { poll } from '../support/wait.js';

let marquee: MarqueeUnderTest;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee();
}, 60_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

beforeEach(async () => {
  await marquee.restoreAll();
});

afterEach(async () => {
  // Every page must stay free of console errors, whatever the scenario.
  const errors = session?.consoleErrors ?? [];
  await session?.close();
  session = undefined;
  expect(errors).toEqual([]);
});

const statusOf = (id: string) => session!.page.getByTestId(`source-status-${id}`);
/** Toasts created about a server (each record is one NEW toast; `text` is what it says now). */
const toastsAbout = async (name: string) => (await session!.toasts()).filter((t) => t.texts.some((text) => text.includes(name)));
/** What the toasts about a server say now. */
const kindsAbout = async (name: string) => (await toastsAbout(name)).map((t) => toastKind(t.text));

async function open(): Promise<BrowserSession> {
  session = await openBrowser(`${marquee.url}#/sources`);
  await poll(() => session!.page.getByTestId('header-indicator').getAttribute('data-state'), 15_000).toBe('ok');
  return session;
}

describe('browser against the real server and simulators', () => {
  it('the sidebar shows the Plex and Jellyfin sources with their libraries; a remote-only server is not a warning', async () => {
    const { page, screenshot } = await open();
    const living = marquee.sourceId(LIVING_ROOM);
    const friend = marquee.sourceId(FRIENDS_PLEX);
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    const sidebar = page.getByTestId('sidebar');
    for (const name of [LIVING_ROOM, FRIENDS_PLEX, HOME_JELLYFIN]) await expect.poll(() => sidebar.textContent()).toContain(name);

    for (const [id, libraries] of [
      [living, ['Movies', 'TV Shows', 'Music']],
      [friend, ['Films', 'Photos']],
      [jellyfin, ['Movies', 'Shows', 'Mixed']],
    ] as const) {
      const group = page.getByTestId(`sidebar-source-${id}`);
      await poll(() => group.locator('[data-testid^="library-"]').allTextContents()).toEqual([...libraries]);
      expect(await statusOf(id).getAttribute('data-state')).toBe('connected');
    }
    // The API's libraries are exactly the ones shown (ids included).
    for (const source of marquee.sources()) {
      for (const library of source.libraries) await expect(page.getByTestId(`library-${source.id}-${library.id}`).textContent()).resolves.toBe(library.name);
    }
    expect(await statusOf(living).getAttribute('data-route-kind')).toBe('local');
    expect(await statusOf(jellyfin).getAttribute('data-route-kind')).toBe('local');
    // Friend's Plex has only a remote route: shown as "Remote" with the tooltip, yet all is well.
    expect(await statusOf(friend).getAttribute('data-route-kind')).toBe('remote');
    expect(await statusOf(friend).textContent()).toContain('Remote');
    expect(await statusOf(friend).getAttribute('title')).toContain('Using a remote route');
    expect(await statusOf(friend).getAttribute('class')).toContain('tone-ok');
    expect(await page.getByTestId('header-indicator').textContent()).toContain('All connected');
    expect(await session!.toasts()).toEqual([]);
    await screenshot('01-all-connected');
  });

  it("cutting a Plex server's local route shows the remote warning and exactly one toast", async () => {
    const { page, screenshot } = await open();
    const living = marquee.sourceId(LIVING_ROOM);
    await marquee.sim.route('living-room-local').fault({ mode: 'refuse' });
    await poll(() => statusOf(living).getAttribute('data-route-kind'), 15_000).toBe('remote');
    expect(await statusOf(living).getAttribute('data-state')).toBe('connected');
    expect(await statusOf(living).getAttribute('title')).toBe('Using a remote route: more latency and limited bandwidth');
    expect(await statusOf(living).getAttribute('class')).toContain('tone-warn');
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('degraded');
    expect(await page.getByTestId('header-indicator').textContent()).toContain(LIVING_ROOM);
    await poll(() => toastsAbout(LIVING_ROOM)).toHaveLength(1);
    const [toast] = await toastsAbout(LIVING_ROOM);
    expect(toast!.text).toContain('Living-room Plex is now on a remote route');
    expect(toast!.type).toBe('warning');
    expect(toast!.testId).toBe(`source-${living}`);
    await screenshot('02-local-route-cut-remote-warning');
    // Later checks on the remote route (several ticks and a failed re-selection) add no toast and
    // do not rewrite it.
    await page.waitForTimeout(4_000);
    expect(await session!.toasts()).toHaveLength(1);
    expect((await session!.toasts())[0]!.texts).toHaveLength(1);
    await poll(() => page.getByTestId('live-region').textContent()).toContain('Living-room Plex is connected through a remote route');
  });

  it('cutting all its routes shows reconnecting then disconnected; restoring shows connected and a "back" toast', async () => {
    const { page, screenshot, statusHistory } = await open();
    const living = marquee.sourceId(LIVING_ROOM);
    await Promise.all(marquee.simRouteIds('living-room').map((route) => marquee.sim.route(route).fault({ mode: 'refuse' })));

    // The page's recorder sees every state the badge took, however briefly (retries are >= 300 ms apart).
    await poll(async () => (await statusHistory(`source-status-${living}`)).some((r) => r.state === 'reconnecting'), 15_000).toBe(true);
    await screenshot('03-all-routes-cut-reconnecting');
    await poll(() => statusOf(living).getAttribute('data-state'), 20_000).toBe('disconnected');
    expect(await statusOf(living).textContent()).toContain('Disconnected');
    await poll(() => kindsAbout(LIVING_ROOM)).toContain('lost');
    // 'lost' stays on screen (sticky) until a later change rewrites it.
    expect((await toastsAbout(LIVING_ROOM)).filter((t) => toastKind(t.text) === 'lost').map((t) => t.type)).toEqual(['error']);
    await expect(page.locator('[data-sonner-toast]', { hasText: `${LIVING_ROOM} lost its connection` }).count()).resolves.toBe(1);
    // Libraries stay listed (last known) but marked stale.
    expect(await page.getByTestId(`sidebar-source-${living}`).locator('.library-list.stale').count()).toBe(1);
    // The card's route table tells the same truth: every route refused (it once stayed 'answering'
    // because each detail fetch was aborted by the next change of the source).
    const routeResults = () =>
      page.getByTestId(`source-card-${living}`).locator('[data-testid^="route-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-result')));
    await poll(routeResults, 10_000).toEqual(['refused', 'refused', 'refused']);
    await screenshot('04-all-routes-cut-disconnected');

    const states = (await statusHistory(`source-status-${living}`)).map((r) => r.state);
    const reconnecting = states.indexOf('reconnecting');
    expect(reconnecting).toBeGreaterThan(-1);
    expect(states.indexOf('disconnected')).toBeGreaterThan(reconnecting);

    await Promise.all(marquee.simRouteIds('living-room').map((route) => marquee.sim.route(route).fault({ mode: 'up' })));
    await poll(() => statusOf(living).getAttribute('data-state'), 20_000).toBe('connected');
    await poll(() => kindsAbout(LIVING_ROOM), 5_000).toContain('restored');
    await poll(() => statusOf(living).getAttribute('data-route-kind'), 15_000).toBe('local');
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    await screenshot('05-restored-connected');
    // The whole story is ONE toast (at most one new toast per source per minute), rewritten in
    // place as it went: (maybe "now on a remote/relay route" while the routes went down one by
    // one), lost, back (maybe "back on its local route" if it came back on another route first).
    // Not a flap: no "unstable". The 'lost' toast was still up when the server came back, so the
    // user is left with the truth: it is back.
    const about = await toastsAbout(LIVING_ROOM);
    expect(about.map((t) => t.testId)).toEqual([`source-${living}`]);
    expect(toastsTooClose(about, 60_000)).toEqual([]);
    const told = about[0]!.texts.map(toastKind);
    expect(told.filter((k) => k === 'lost' || k === 'restored'), JSON.stringify(about[0]!.texts)).toEqual(['lost', 'restored']);
    expect(new Set(told).size).toBe(told.length);
    expect(told.every((k) => ['remote', 'relay', 'lost', 'restored', 'local'].includes(k))).toBe(true);
    expect(['restored', 'local']).toContain(told.at(-1));
    expect(about[0]!.text).toContain(`${LIVING_ROOM} is back`);
  });

  it('a remote-only server that goes away and comes back is plainly "back" on its remote route, not a warning', async () => {
    const { page, screenshot } = await open();
    const friend = marquee.sourceId(FRIENDS_PLEX);
    await marquee.sim.route('friends-plex-remote').fault({ mode: 'refuse' });
    await poll(() => statusOf(friend).getAttribute('data-state'), 20_000).toBe('disconnected');
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('degraded');
    await marquee.sim.route('friends-plex-remote').fault({ mode: 'up' });
    await poll(() => statusOf(friend).getAttribute('data-state'), 20_000).toBe('connected');
    await poll(() => kindsAbout(FRIENDS_PLEX), 5_000).toContain('restored');
    // One toast: "lost its connection", rewritten in place to "is back".
    const about = await toastsAbout(FRIENDS_PLEX);
    expect(about).toHaveLength(1);
    expect(about[0]!.texts.map(toastKind)).toEqual(['lost', 'restored']);
    const back = about[0]!;
    expect(back.type).toBe('success');
    expect(back.text).toContain('Connected on its remote route');
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    expect(await statusOf(friend).getAttribute('class')).toContain('tone-ok');
    await screenshot('06-remote-only-server-back');
  });

  it('revoking the Jellyfin token shows "sign-in needed" with a "Sign in again" action', async () => {
    const { page, screenshot } = await open();
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    await marquee.sim.server('jellyfin-home').fault({ mode: 'bad-token' });
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('auth_required');
    expect(await statusOf(jellyfin).textContent()).toContain('Sign in needed');
    await expect(page.getByTestId(`sidebar-signin-${jellyfin}`).isVisible()).resolves.toBe(true);
    await poll(() => toastsAbout(`Sign in to ${HOME_JELLYFIN} again`)).toHaveLength(1);
    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('degraded');
    // The other sources are untouched.
    expect(await statusOf(marquee.sourceId(LIVING_ROOM)).getAttribute('data-state')).toBe('connected');
    await screenshot('07-jellyfin-sign-in-needed');

    // "Sign in again" in the sidebar opens the sign-in dialog for that source; signing in with the
    // user's password brings it back (the revocation only hit tokens minted before it).
    await page.getByTestId(`sidebar-signin-${jellyfin}`).click();
    const dialog = page.getByTestId('signin-dialog');
    await dialog.waitFor({ state: 'visible' });
    const user = marquee.sim.jellyfin('jellyfin-home').user();
    await dialog.getByTestId('jellyfin-username').fill(user.name);
    await dialog.getByTestId('jellyfin-password').fill(user.password);
    await screenshot('07b-jellyfin-sign-in-dialog');
    await dialog.getByTestId('jellyfin-submit').click();
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('connected');
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
    // Signed in again: the sticky "Sign in to … again" toast is no longer true, so it goes.
    await poll(() => page.locator('[data-sonner-toast]', { hasText: `Sign in to ${HOME_JELLYFIN} again` }).count()).toBe(0);
  });

  it('"Sign in again" by Quick Connect: the code approved on the Jellyfin server brings the source back', async () => {
    const { page, screenshot } = await open();
    const jellyfin = marquee.sourceId(HOME_JELLYFIN);
    await marquee.sim.server('jellyfin-home').fault({ mode: 'bad-token' });
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('auth_required');
    await page.getByTestId(`sidebar-signin-${jellyfin}`).click();
    const dialog = page.getByTestId('signin-dialog');
    await dialog.getByTestId('jellyfin-method-quickconnect').click();
    await dialog.getByTestId('jellyfin-qc-start').click();
    const code = dialog.getByTestId('jellyfin-qc-code');
    await poll(async () => ((await code.textContent().catch(() => null)) ?? '').trim()).toMatch(/^\d{6}$/);
    expect(await dialog.getByTestId('form-error').count()).toBe(0);
    await screenshot('07c-jellyfin-quick-connect-code');
    // The user approves the code on a device signed in to Jellyfin.
    marquee.sim.jellyfin('jellyfin-home').approveQuickConnect(((await code.textContent()) ?? '').trim());
    await poll(() => statusOf(jellyfin).getAttribute('data-state'), 15_000).toBe('connected');
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
    await poll(() => page.locator('[data-sonner-toast]', { hasText: `Signed in to ${HOME_JELLYFIN} again` }).count()).toBe(1);
  });
});
