// The server's own hint (issue 14): a Plex `timeline`/`activity` or Jellyfin `LibraryChanged` frame
// on the push channel makes the library layer refresh that source's cache incrementally at once —
// not at the next periodic sync (15 min) — and a burst of hints costs one refresh per interval.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import type { LibraryUpdate } from '../../src/library/index.js';
import { EngineHarness, JELLYFIN_ID, PLEX_ID } from '../support/engine-harness.js';
import { sleep, waitUntil } from '../support/wait.js';

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SERVER: Record<SourceKind, string> = { plex: PLEX_ID, jellyfin: JELLYFIN_ID };
const MOVIES: Record<SourceKind, string> = { plex: 'Movies', jellyfin: 'Films' };
const DEBOUNCE_MS = 1_000;

async function everyLibrarySynced(harness: EngineHarness): Promise<void> {
  for (const kind of ['plex', 'jellyfin'] as const) {
    const id = harness.sourceId(kind);
    await waitUntil(
      () => {
        const libraries = harness.engine.getSource(id)?.libraries ?? [];
        return libraries.length > 0 && libraries.every((l) => harness.libraryLayer.sync.status(id, l.id).state === 'synced');
      },
      {
        what: `${kind}: every library synced once`,
        timeoutMs: 20_000,
        detail: () => JSON.stringify((harness.engine.getSource(id)?.libraries ?? []).map((l) => [l.id, harness.libraryLayer.sync.status(id, l.id)])),
      },
    );
  }
}

/** The engine's library id of a simulated library (the sim's id is the server's own). */
function libraryId(harness: EngineHarness, kind: SourceKind): string {
  const found = harness.sim.library(SERVER[kind]).libraries().find((l) => l.title === MOVIES[kind]);
  if (!found) throw new Error(`no ${MOVIES[kind]} on ${kind}`);
  return found.id;
}

describe("the push channel's library_changed hint refreshes the library cache (issue 14)", () => {
  it('a changed item reaches the cache within seconds of the hint, for Plex and Jellyfin; a burst of hints is debounced per source', async () => {
    h = await EngineHarness.start({ push: { libraryRefreshMinIntervalMs: DEBOUNCE_MS } });
    await h.waitForSteadyState(15_000);
    await everyLibrarySynced(h);
    const updates: Array<LibraryUpdate & { at: number }> = [];
    h.libraryLayer.onUpdate((u) => updates.push({ ...u, at: Date.now() }));

    for (const kind of ['plex', 'jellyfin'] as const) {
      const id = h.sourceId(kind);
      // The first touched item gets a new title; the hint is what tells Marquee.
      const [changed] = h.sim.library(SERVER[kind]).touchItems(MOVIES[kind], 2);
      expect(h.store.libraryCache.findItem(id, changed!)?.title).not.toMatch(/Director’s Cut/);
      await sleep(DEBOUNCE_MS + 100); // outside the previous hint's debounce window
      expect(kind === 'plex' ? h.sim.server(PLEX_ID).notify('timeline') : h.sim.server(JELLYFIN_ID).notify('LibraryChanged')).toBeGreaterThan(0);
      await waitUntil(() => h!.store.libraryCache.findItem(id, changed!)?.title.includes('Director’s Cut'), {
        what: `${kind}: the touched item's new title in the cache`,
        timeoutMs: 5_000,
        detail: () => JSON.stringify(updates.filter((u) => u.sourceId === id)),
      });
      const refresh = updates.find((u) => u.sourceId === id && u.libraryId === libraryId(h!, kind));
      expect(refresh?.status.state).toBe('synced');
      expect(refresh?.changed).toBeGreaterThanOrEqual(1);
    }

    // A burst: ten hints in 100 ms on the Plex channel → one refresh now, one trailing after the interval.
    const plex = h.sourceId('plex');
    const movies = libraryId(h, 'plex');
    await sleep(DEBOUNCE_MS + 100);
    const from = updates.length;
    for (let i = 0; i < 10; i++) {
      h.sim.server(PLEX_ID).notify(i % 2 === 0 ? 'timeline' : 'activity');
      await sleep(10);
    }
    await sleep(DEBOUNCE_MS * 2.5);
    const refreshes = updates.slice(from).filter((u) => u.sourceId === plex && u.libraryId === movies);
    expect(refreshes.length).toBeGreaterThanOrEqual(1);
    expect(refreshes.length).toBeLessThanOrEqual(2);
    if (refreshes.length === 2) expect(refreshes[1]!.at - refreshes[0]!.at).toBeGreaterThanOrEqual(DEBOUNCE_MS - 200);
  });
});
