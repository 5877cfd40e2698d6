// The player page (issue 15) in Debian's Chromium against the real runtime and the simulators,
// through the real play API: POST /api/play decides over the engine's route, direct play goes
// through Marquee's own byte proxy to the simulated Living-room Plex (a cut route is a real cut),
// subtitles come from the server, an HEVC item plays through hls.js over Marquee's HLS proxy, and
// what the server saw (start, progress, pause, seek, one stop) is read from the simulator's log.
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureClips, type PlaybackReport } from '../../sim/index.js';
import { LIVING_ROOM, openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { longestStall } from '../support/stall.js';
import { poll, sleep, waitUntil } from '../support/wait.js';

let marquee: MarqueeUnderTest;
let session: BrowserSession | undefined;

/** Simulated Living-room Plex movies (sim/library-model.ts: key = library ordinal × 10⁸ + index × 1000; part = key × 10 + 2). */
const H264_ITEM = '100000000';
const HEVC_ITEM = '100004000';

beforeAll(async () => {
  await ensureClips();
  marquee = await startMarquee();
}, 180_000);

afterAll(async () => {
  await session?.close();
  await marquee?.close();
});

beforeEach(async () => {
  await marquee.restoreAll();
});

afterEach(async () => {
  const errors = session?.consoleErrors ?? [];
  await session?.close();
  session = undefined;
  expect(errors).toEqual([]);
});

async function openPlayer(itemId: string, options: { beforeLoad?: (context: BrowserContext) => Promise<void> } = {}): Promise<BrowserSession> {
  const sourceId = marquee.sourceId(LIVING_ROOM);
  session = await openBrowser(`${marquee.url}#/sources`, options.beforeLoad ? { beforeLoad: options.beforeLoad } : {});
  await session.page.goto(new URL(`play/${sourceId}/${itemId}`, marquee.url).toString());
  await session.page.getByTestId('player-page').waitFor();
  // Headless Chromium may refuse to autoplay sound without a gesture: press Play like a user would.
  await waitUntil(() => session!.page.getByTestId('player-page').getAttribute('data-state').then((s) => s === 'playing' || s === 'paused'), { what: 'the player to start or wait for Play', timeoutMs: 20_000 });
  if ((await session.page.getByTestId('player-page').getAttribute('data-state')) === 'paused') await session.page.getByTestId('player-play').click();
  await poll(() => session!.page.getByTestId('player-page').getAttribute('data-state'), 20_000).toBe('playing');
  return session;
}

const currentTime = () => session!.page.evaluate(() => document.querySelector<HTMLMediaElement>('[data-testid="player-media"]')!.currentTime);

/** What the simulated Living-room Plex received for an item: its timeline calls, oldest first. */
const timelineOf = (itemId: string): PlaybackReport[] =>
  marquee.sim
    .server('living-room')
    .playbackReports()
    .filter((r) => r.itemId === itemId && r.call.endsWith('/:/timeline'));

/** Samples currentTime every 100 ms in the page, and records every `error` event of the media element. */
async function startSampler(): Promise<void> {
  await session!.page.evaluate(() => {
    const media = document.querySelector<HTMLMediaElement>('[data-testid="player-media"]')!;
    const w = window as unknown as { __samples: { at: number; t: number }[]; __mediaErrors: string[] };
    w.__samples = [];
    w.__mediaErrors = [];
    media.addEventListener('error', () => w.__mediaErrors.push(String(media.error?.message ?? media.error?.code)));
    setInterval(() => w.__samples.push({ at: performance.now(), t: media.currentTime }), 100);
  });
}

async function samples(): Promise<{ samples: { at: number; t: number }[]; errors: string[] }> {
  return session!.page.evaluate(() => {
    const w = window as unknown as { __samples: { at: number; t: number }[]; __mediaErrors: string[] };
    return { samples: w.__samples, errors: w.__mediaErrors };
  });
}

describe('player page', () => {
  it('direct play (H.264 through the byte proxy): resumes at the server position, subtitles, keys, seek bar, progress the server saw, one stop', async () => {
    expect(marquee.sim.library('living-room').mediaCatalog().playable(H264_ITEM)?.variant).toBe('h264-aac');
    marquee.sim.library('living-room').setResume(H264_ITEM, 60_000);
    marquee.sim.server('living-room').clearPlaybackReports();
    await openPlayer(H264_ITEM);
    const page = session!.page;
    await expect.poll(() => page.getByTestId('player-page').getAttribute('data-protocol')).toBe('file');
    // Resume: the server's saved position (Plex viewOffset), from the real POST /api/play.
    expect(await currentTime()).toBeGreaterThanOrEqual(59.5);
    await expect.poll(() => page.getByTestId('player-connection').textContent()).toContain('Living-room Plex · local · direct play');
    const id = (await page.getByTestId('player-page').getAttribute('data-session-id'))!;
    const streamUrl = await page.evaluate(() => document.querySelector<HTMLMediaElement>('[data-testid="player-media"]')!.currentSrc);
    expect(new URL(streamUrl).pathname).toMatch(new RegExp(`/api/play/${id}/stream$`));
    // The server heard the start at the resume position.
    await expect.poll(() => timelineOf(H264_ITEM)[0]?.positionMs).toBe(60_000);
    expect(timelineOf(H264_ITEM)[0]!.state).toBe('playing');

    // Subtitles: the server's track as WebVTT through Marquee, shown when chosen, with cues.
    const firstTrack = await page.getByTestId('player-subtitles').locator('option').nth(1).getAttribute('value');
    expect(firstTrack).not.toBeNull();
    await page.getByTestId('player-subtitles').selectOption(firstTrack);
    await expect
      .poll(() => page.evaluate(() => {
        const track = document.querySelector<HTMLVideoElement>('video')!.textTracks[0];
        return track ? `${track.mode}:${track.cues?.length ?? 0}` : 'none';
      }))
      .toMatch(/^showing:[1-9]\d*$/);
    await page.getByTestId('player-seek').focus();

    // Keys: → jumps 10 s (the server hears the new position), space pauses (a paused report), m mutes.
    const before = await currentTime();
    await page.keyboard.press('ArrowRight');
    await expect.poll(currentTime).toBeGreaterThanOrEqual(before + 9);
    await expect.poll(() => timelineOf(H264_ITEM).some((r) => r.state === 'playing' && (r.positionMs ?? 0) >= Math.floor((before + 9) * 1000))).toBe(true);
    await page.keyboard.press('m');
    await expect.poll(() => page.evaluate(() => document.querySelector<HTMLMediaElement>('video')!.muted)).toBe(true);
    await page.keyboard.press(' ');
    await poll(() => page.getByTestId('player-page').getAttribute('data-state')).toBe('paused');
    const pausedAt = await currentTime();
    await expect.poll(() => timelineOf(H264_ITEM).at(-1)?.state).toBe('paused');
    expect(timelineOf(H264_ITEM).at(-1)!.positionMs).toBeGreaterThanOrEqual(Math.floor(pausedAt * 1000) - 1_000);
    expect(timelineOf(H264_ITEM).at(-1)!.positionMs).toBeLessThanOrEqual(Math.ceil(pausedAt * 1000) + 1_000);
    // Typing in the header search does not drive the player.
    await page.getByTestId('search-input').fill('f m');
    expect(await page.getByTestId('player-page').getAttribute('data-state')).toBe('paused');
    await page.getByTestId('search-input').fill('');

    // The seek bar: a click two thirds along goes to about 2:00 of 3:00.
    const bar = (await page.getByTestId('player-seek').boundingBox())!;
    await page.getByTestId('player-seek').click({ position: { x: (bar.width * 2) / 3, y: bar.height / 2 } });
    await expect.poll(currentTime).toBeGreaterThanOrEqual(112);
    expect(await currentTime()).toBeLessThan(128);
    await page.getByTestId('player-play').click();
    await poll(() => page.getByTestId('player-page').getAttribute('data-state')).toBe('playing');
    await expect.poll(() => timelineOf(H264_ITEM).some((r) => r.state === 'playing' && (r.positionMs ?? 0) >= 112_000)).toBe(true);
    await session!.screenshot('player-local');

    // Leaving the page: the server hears exactly one stop, near where it was; the session is gone.
    const leftAt = await currentTime();
    await page.getByRole('link', { name: 'Back to the item' }).click();
    await expect.poll(() => timelineOf(H264_ITEM).filter((r) => r.state === 'stopped').length).toBe(1);
    await sleep(1_500);
    const stops = timelineOf(H264_ITEM).filter((r) => r.state === 'stopped');
    expect(stops).toHaveLength(1);
    expect(Math.abs(stops[0]!.positionMs! - leftAt * 1000)).toBeLessThan(2_000);
    expect(timelineOf(H264_ITEM).every((r) => r.accepted)).toBe(true);
    expect((await fetch(new URL(`api/play/${id}`, marquee.url))).status).toBe(404);
  }, 90_000);

  it('leaving mid-play, in the app or by unloading: one DELETE carries the position, and the server\'s one stop is where the page left (±0.5 s), also when the DELETE would overtake a separate report', async () => {
    const sent: { method: string; path: string; body: string | null }[] = [];
    for (const how of ['in-app link', 'pagehide'] as const) {
      marquee.sim.library('living-room').setResume(H264_ITEM, 30_000);
      marquee.sim.server('living-room').clearPlaybackReports();
      sent.length = 0;
      await openPlayer(H264_ITEM, {
        beforeLoad: async (context) => {
          // A separate stopped report, if the page sent one, is held back: the DELETE gets there first.
          await context.route('**/api/play/*/progress', async (route) => {
            if (route.request().postData()?.includes('"stopped"')) await sleep(1_500);
            await route.continue().catch(() => undefined);
          });
          context.on('request', (r) => {
            const path = new URL(r.url()).pathname;
            if (path === '/api/play' || (path.startsWith('/api/play/') && (r.method() === 'DELETE' || path.endsWith('/progress')))) sent.push({ method: r.method(), path, body: r.postData() });
          });
        },
      });
      const page = session!.page;
      const id = (await page.getByTestId('player-page').getAttribute('data-session-id'))!;
      // A cold load of the player asks for its session once (at boot, before the app renders).
      expect(sent.filter((r) => r.path === '/api/play').map((r) => r.method)).toEqual(['POST']);
      // Seconds past the start report: the last position the server heard is well behind the player.
      await expect.poll(currentTime, { timeout: 15_000 }).toBeGreaterThan(34);
      // Where the page is at the moment it leaves, read in the same task that starts leaving.
      const leftAt = await page.evaluate((viaLink) => {
        const t = document.querySelector<HTMLMediaElement>('[data-testid="player-media"]')!.currentTime;
        if (viaLink) document.querySelector<HTMLAnchorElement>('.back-link')!.click();
        else setTimeout(() => void (location.href = 'about:blank'), 0);
        return t;
      }, how === 'in-app link');
      await expect.poll(() => timelineOf(H264_ITEM).filter((r) => r.state === 'stopped').length, { timeout: 10_000 }).toBe(1);
      await sleep(2_000);
      const stops = timelineOf(H264_ITEM).filter((r) => r.state === 'stopped');
      console.log(`left (${how}) at ${leftAt.toFixed(2)} s; the server's stop says ${(stops[0]!.positionMs! / 1000).toFixed(2)} s`);
      expect(stops, how).toHaveLength(1);
      expect(Math.abs(stops[0]!.positionMs! - leftAt * 1000), how).toBeLessThanOrEqual(500);
      expect(timelineOf(H264_ITEM).every((r) => r.accepted)).toBe(true);
      // One request on leaving: the DELETE with the position, no separate stopped report. (A
      // keepalive request sent while the page unloads is not in Playwright's request log: there the
      // server's record above is the proof.)
      expect(sent.filter((r) => r.body?.includes('"stopped"')), how).toEqual([]);
      if (how === 'in-app link') {
        const deletes = sent.filter((r) => r.method === 'DELETE');
        expect(deletes.map((r) => r.path)).toEqual([`/api/play/${id}`]);
        expect(Math.abs((JSON.parse(deletes[0]!.body ?? '{}') as { positionMs?: number }).positionMs! - leftAt * 1000)).toBeLessThanOrEqual(500);
      }
      expect((await fetch(new URL(`api/play/${id}`, marquee.url))).status).toBe(404);
      const errors = session!.consoleErrors.splice(0);
      await session!.close();
      session = undefined;
      expect(errors, how).toEqual([]);
    }
  }, 120_000);

  it('Play on an item page asks for the play session as the click lands, before the player page is on screen, and the player takes that one session', async () => {
    const sourceId = marquee.sourceId(LIVING_ROOM);
    marquee.sim.library('living-room').setResume(H264_ITEM, 0);
    const posts: string[] = [];
    session = await openBrowser(`${marquee.url}item/${sourceId}/${H264_ITEM}`, {
      beforeLoad: async (context) => {
        context.on('request', (r) => {
          if (new URL(r.url()).pathname === '/api/play' && r.method() === 'POST') posts.push(r.postData() ?? '');
        });
        // When the page asks for a play session: was the player page already in the DOM?
        await context.addInitScript(() => {
          const w = window as unknown as { __playAsked: { playerOnScreen: boolean }[] };
          w.__playAsked = [];
          const original = window.fetch.bind(window);
          window.fetch = (input, init) => {
            const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
            if (init?.method === 'POST' && new URL(url, location.href).pathname.endsWith('/api/play')) w.__playAsked.push({ playerOnScreen: document.querySelector('[data-testid="player-page"]') !== null });
            return original(input, init);
          };
        });
      },
    });
    const page = session.page;
    await page.getByTestId('play-button').click();
    await page.getByTestId('player-page').waitFor();
    await poll(() => page.getByTestId('player-page').getAttribute('data-state'), 20_000).toMatch(/^(playing|paused)$/);
    const asked = await page.evaluate(() => (window as unknown as { __playAsked: { playerOnScreen: boolean }[] }).__playAsked);
    expect(asked).toEqual([{ playerOnScreen: false }]);
    expect(posts).toHaveLength(1);
    const id = await page.getByTestId('player-page').getAttribute('data-session-id');
    expect((await fetch(new URL(`api/play/${id}`, marquee.url))).status).toBe(200);
  }, 60_000);

  it('the local route is cut mid-play: the video keeps playing from where it was, no error, the line says remote', async () => {
    // Held near the clip's bitrate, so the browser cannot have buffered the file before the cut.
    await marquee.sim.route('living-room-local').fault({ mode: 'throttle', bytesPerSecond: 80_000 });
    marquee.sim.library('living-room').setResume(H264_ITEM, 0);
    marquee.sim.server('living-room').clearPlaybackReports();
    await openPlayer(H264_ITEM);
    await sleep(4_000);
    await startSampler();
    await sleep(1_000);
    const atCut = await currentTime();
    const bufferedAhead = await session!.page.evaluate(() => {
      const m = document.querySelector<HTMLMediaElement>('video')!;
      return m.buffered.length ? m.buffered.end(m.buffered.length - 1) - m.currentTime : 0;
    });
    await marquee.sim.route('living-room-local').fault({ mode: 'hang' });
    await sleep(14_000);
    const { samples: list, errors } = await samples();
    const after = list.filter((s) => s.at >= list[list.length - 1]!.at - 14_000);
    const stall = longestStall(after);
    console.log(`route cut at ${atCut.toFixed(1)} s with ${bufferedAhead.toFixed(1)} s buffered ahead: longest stall ${Math.round(stall)} ms`);
    expect(errors).toEqual([]);
    // Never back to the start, and well on: 14 s later it played on.
    expect(Math.min(...after.map((s) => s.t))).toBeGreaterThanOrEqual(atCut - 0.5);
    expect(after.at(-1)!.t).toBeGreaterThan(atCut + 8);
    expect(await session!.page.getByTestId('player-page').getAttribute('data-state')).toBe('playing');
    await expect.poll(() => session!.page.getByTestId('player-connection').textContent(), { timeout: 10_000 }).toContain('Living-room Plex · remote · direct play');
    // The server keeps hearing the position over the new route: a report past the cut, none lost.
    await expect.poll(() => timelineOf(H264_ITEM).some((r) => r.state === 'playing' && (r.positionMs ?? 0) > atCut * 1000 + 5_000), { timeout: 15_000 }).toBe(true);
    expect(timelineOf(H264_ITEM).every((r) => r.accepted)).toBe(true);
    await session!.screenshot('player-after-cut');
  }, 120_000);

  it('an HEVC item plays as HLS through hls.js via Marquee; on the relay the quality drops under the relay cap (Plex Pass unknown: 1 Mbps), the line says so, and it plays on', async () => {
    expect(marquee.sim.library('living-room').mediaCatalog().playable(HEVC_ITEM)?.variant).toBe('hevc-ac3');
    marquee.sim.library('living-room').setResume(HEVC_ITEM, 0);
    marquee.sim.server('living-room').clearPlaybackReports();
    const hlsRequests: string[] = [];
    await openPlayer(HEVC_ITEM, {
      beforeLoad: async (context) => {
        context.on('request', (r) => {
          if (r.url().includes('/hls/')) hlsRequests.push(r.url());
        });
      },
    });
    const page = session!.page;
    expect(await page.getByTestId('player-page').getAttribute('data-protocol')).toBe('hls');
    const start = await currentTime();
    await expect.poll(currentTime, { timeout: 15_000 }).toBeGreaterThan(start + 2);
    // The browser only ever asked Marquee: its playlist and segment URLs are Marquee's, token-free.
    expect(hlsRequests.length).toBeGreaterThan(1);
    for (const url of hlsRequests) {
      expect(new URL(url).origin).toBe(new URL(marquee.url).origin);
      expect(url).not.toMatch(/token|api_key/i);
    }
    await expect.poll(() => page.getByTestId('player-connection').textContent()).toMatch(/Living-room Plex · local · .*transcode/);
    await expect.poll(() => timelineOf(HEVC_ITEM)[0]?.state).toBe('playing');
    // Well into the item before the route goes: a restart at 0:00 could not hide.
    await expect.poll(currentTime, { timeout: 20_000 }).toBeGreaterThan(8);
    await startSampler();
    const beforeRelay = await currentTime();
    // Local and remote gone: the relay, and the quality follows it.
    await marquee.sim.route('living-room-local').fault({ mode: 'refuse' });
    await marquee.sim.route('living-room-remote').fault({ mode: 'refuse' });
    await expect.poll(() => page.getByTestId('player-connection').textContent(), { timeout: 30_000 }).toMatch(/Living-room Plex · relay · \d+ kbps transcode — relay: Plex caps relayed streams at 1 Mbps/);
    expect(await page.getByTestId('player-connection').getAttribute('data-route-kind')).toBe('relay');
    // The new transcode took over at the position: a few seconds on, the player is past where the
    // route went (a restart at 0:00 would be at ~3 s), with no media error.
    await sleep(3_000);
    const afterSwitch = await currentTime();
    expect(afterSwitch).toBeGreaterThanOrEqual(beforeRelay);
    await expect.poll(currentTime, { timeout: 20_000 }).toBeGreaterThan(afterSwitch + 2);
    const { samples: list, errors } = await samples();
    expect(errors).toEqual([]);
    // hls.js reattaching the new stream may read 0 for a moment before it seeks to its start position.
    const reset = list.filter((x) => x.t < beforeRelay - 1).length;
    console.log(`HLS local → relay at ${beforeRelay.toFixed(1)} s: ${afterSwitch.toFixed(1)} s 3 s later; ${reset} sample(s) read before the cut position while reattaching`);
    await session!.screenshot('player-relay');
  }, 120_000);
});
