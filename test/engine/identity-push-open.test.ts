// Issue 13 item 2: a route that starts answering as a different server while its push channel
// stays open (a proxy or NAT now pointing elsewhere; the old socket still reaches the old server).
// The pongs keep proving the old server alive, so only a request on the route can tell: the light
// check of the current route while the channel is open — every `pushOpenTickMs` (default 15 s; it
// was 60 s, ~37 s on average to notice). Plex and Jellyfin together, the simulators' `wrong-identity`
// fault (open WebSockets are left alone), the default push-open tick and no early re-selection.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_SETTINGS } from '../../src/core/settings.js';
import type { SourceKind } from '../../src/core/types.js';
import { EngineHarness, SIM_ROUTES, TEST_SETTINGS } from '../support/engine-harness.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const TICK_MS = DEFAULT_MONITOR_SETTINGS.pushOpenTickMs;

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The cadence this test holds the engine to (the default tick): the old 60 s fails it. */
const GOAL_MS = 15_000;
/** The push-open light check before issue 13: a swap right after a check went unseen this long. */
const OLD_TICK_MS = 60_000;

describe('a different server behind the current route while its push channel stays open', () => {
  it('is noticed by the next push-open light check (≤ 15 s after the previous one), as wrong_server, and the source moves to remote', async () => {
    expect(TICK_MS).toBeLessThanOrEqual(GOAL_MS);
    // Full re-selections far away, so only the push-open light check can notice.
    const far = { local: 3_600_000, remote: 3_600_000, relay: 3_600_000, unknown: 1_000 };
    h = await EngineHarness.start({ settings: { ...TEST_SETTINGS, pushOpenTickMs: TICK_MS, reselectMs: far } });
    await h.waitForSteadyState(15_000);
    const harness = h;
    const steadyAt = Date.now();

    // The channel stays open on local until the check notices: sample the view meanwhile.
    const pushWhileOnLocal = new Set<string>();
    const sampler = setInterval(() => {
      for (const kind of KINDS) {
        const v = harness.view(kind);
        if (v.route?.kind === 'local') pushWhileOnLocal.add(v.push);
      }
    }, 100);
    try {
      await Promise.all(
        KINDS.map(async (kind) => {
          const localId = harness.routeId(kind, LOCAL[kind]);
          // Swap right after a check of local with the channel open: the next one is a whole tick away.
          await harness.waitFor(`a push-open check of ${kind} local`, () => harness.probesOf(localId, steadyAt).length > 0, GOAL_MS + 3_000);
          const swapped = harness.mark();
          const swappedAt = Date.now();
          await harness.sim.route(LOCAL[kind]).fault({ mode: 'wrong-identity' });
          const changed = await harness.waitForEvent(kind, 'ConnectionChanged', { from: swapped, where: (e) => e.routeKind === 'remote', timeoutMs: OLD_TICK_MS });
          // One tick, plus the light check that fails and the full check it escalates to — with room
          // for a loaded machine, yet well short of the old 60 s tick (the figure itself is not timed here).
          expect(changed.receivedAt - swappedAt, kind).toBeLessThan(OLD_TICK_MS * 0.75);
          const local = harness.detail(kind).routes.find((r) => r.id === localId)!;
          expect(local.lastResult, kind).toBe('wrong_server');
          expect(harness.eventsOf(kind, 'ConnectionLost', swapped), kind).toEqual([]);
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    // Not a channel loss: the push channel on local was open all along until the move.
    expect([...pushWhileOnLocal]).toEqual(['open']);
  }, 120_000);
});
