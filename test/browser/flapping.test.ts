// A flapping route in a real browser: the indicator follows every change at once, but the user is
// not buried in toasts. Default damping window (60 s): a source has one toast slot, rewritten in
// place while on screen, and at most one NEW toast per minute (issues 5 and 7); a source that goes
// back and forth has its toast turned into "unstable", then silence (src/web/toast-policy.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/types.js';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, openBrowser, startMarquee, toastKind, toastsTooClose, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { poll } from '../support/wait.js';

let marquee: MarqueeUnderTest | undefined;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee();
}, 60_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

describe('flapping route (real server, simulators, Chromium)', () => {
  it('a route flapping for ~18 s yields ONE toast (rewritten in place, ending as "unstable"), while the indicator follows every change', async () => {
    if (!marquee) throw new Error('no server');
    const events: EngineEvent[] = [];
    const unsubscribe = marquee.engine.subscribe((m) => {
      if (m.type === 'engine') events.push(m.message.event);
    });
    session = await openBrowser(`${marquee.url}#/sources`); // default 60 s toast window
    const { page, toasts, sourceToasts, statusHistory, screenshot } = session;
    const living = marquee.sourceId(LIVING_ROOM);
    const badge = page.getByTestId(`source-status-${living}`);
    await poll(() => badge.getAttribute('data-route-kind'), 15_000).toBe('local');

    // refuse 1.5 s, up 1.5 s, …: the monitor falls back to remote and re-selects local again and again.
    await marquee.sim.route('living-room-local').fault({ mode: 'flap', periodMs: 1_500 });
    const flapStarted = Date.now();
    await page.locator('[data-sonner-toast]', { hasText: `${LIVING_ROOM} is unstable` }).waitFor({ timeout: 15_000 });
    await screenshot('08-flapping-route-unstable-toast');
    await page.waitForTimeout(Math.max(0, 18_000 - (Date.now() - flapStarted)));
    await marquee.sim.route('living-room-local').fault({ mode: 'up' });
    marquee.engine.checkNow(living);
    await poll(() => badge.getAttribute('data-route-kind'), 15_000).toBe('local');
    await page.waitForTimeout(1_500); // let the last events reach the page
    unsubscribe();

    // The flap was real: the engine reported many route changes of this source…
    const changes = events.filter((e) => e.sourceId === living && (e.type === 'ConnectionChanged' || e.type === 'ConnectionLost' || e.type === 'ConnectionRestored'));
    expect(changes.length).toBeGreaterThanOrEqual(4);
    // …and the sidebar showed them as they happened (the indicator is never damped).
    const kinds = (await statusHistory(`source-status-${living}`)).map((r) => r.routeKind);
    const shownChanges = kinds.filter((k, i) => i > 0 && k !== kinds[i - 1]).length;
    expect(shownChanges).toBeGreaterThanOrEqual(4);

    // At most one new toast per source per minute: the whole ~20 s story is ONE toast element
    // (sonner id source-<id>), whatever it said along the way.
    const about = (await toasts()).filter((t) => t.texts.some((text) => text.includes(LIVING_ROOM)));
    expect(about.map((t) => t.testId)).toEqual([`source-${living}`]);
    expect(await sourceToasts(living)).toHaveLength(1);
    expect(toastsTooClose(about, 60_000)).toEqual([]);
    const [slot] = about;
    const told = slot!.texts.map(toastKind);
    expect(told.filter((k) => k.startsWith('other')), JSON.stringify(slot!.texts)).toEqual([]);
    // Rewritten to "unstable" after a few changes, never before, and silent afterwards: it is the
    // last thing it said (the return to local after the flap is not told either).
    expect(told.at(-1), JSON.stringify(slot!.texts)).toBe('unstable');
    expect(told.indexOf('unstable')).toBe(told.length - 1);
    expect(slot!.type).toBe('warning');
    // Each change it told before that was a different truth, and there were fewer of them than changes.
    expect(told.length).toBeLessThanOrEqual(4);
    expect(told.length).toBeLessThan(changes.length);
    // Nothing about the servers that did not change.
    expect((await toasts()).filter((t) => t.text.includes(FRIENDS_PLEX) || t.text.includes(HOME_JELLYFIN))).toEqual([]);

    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    expect(session.consoleErrors).toEqual([]);
  }, 60_000);
});
