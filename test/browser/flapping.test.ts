// A flapping route in a real browser: the indicator follows every change at once, but the user is
// not buried in toasts. Default damping window (60 s): within it the same source toasts each kind
// of change at most once, and a source that goes back and forth gets ONE "unstable" toast, then
// silence (src/web/toast-policy.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/types.js';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, openBrowser, poll, startMarquee, toastKind, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';

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
  it('a route flapping for ~18 s yields at most one toast per kind plus one "unstable" toast, while the indicator follows every change', async () => {
    if (!marquee) throw new Error('no server');
    const events: EngineEvent[] = [];
    const unsubscribe = marquee.engine.subscribe((m) => {
      if (m.type === 'engine') events.push(m.message.event);
    });
    session = await openBrowser(marquee.url); // default 60 s toast window
    const { page, toasts, statusHistory, screenshot } = session;
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

    const about = (await toasts()).filter((t) => t.text.includes(LIVING_ROOM));
    const perKind = new Map<string, number>();
    for (const t of about) perKind.set(toastKind(t.text), (perKind.get(toastKind(t.text)) ?? 0) + 1);
    expect([...perKind.keys()].filter((k) => k.startsWith('other'))).toEqual([]);
    // One "unstable" toast, and at most one toast of each other kind, all within the one window.
    expect(perKind.get('unstable')).toBe(1);
    for (const [kind, count] of perKind) expect(count, `toasts of kind ${kind}`).toBe(1);
    expect(about.length).toBeLessThanOrEqual(3);
    expect(about.length).toBeLessThan(changes.length);
    // Once unstable, silence: nothing about this source after the "unstable" toast.
    expect(toastKind(about.at(-1)!.text)).toBe('unstable');
    expect(about.at(-1)!.type).toBe('warning');
    // Nothing about the servers that did not change.
    expect((await toasts()).filter((t) => t.text.includes(FRIENDS_PLEX) || t.text.includes(HOME_JELLYFIN))).toEqual([]);

    await poll(() => page.getByTestId('header-indicator').getAttribute('data-state')).toBe('ok');
    expect(session.consoleErrors).toEqual([]);
  }, 60_000);
});
