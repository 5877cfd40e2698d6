// Runs inside a private network namespace (see test/net/both-kinds.test.ts).
// Plex (local 127.0.0.2, remote 127.0.0.3, relay 127.0.0.4) and Jellyfin (local 127.0.0.6, remote
// 127.0.0.7) in one engine (the harness's short cadences), both connected on their local routes
// with their push channels — kept-alive WebSockets — open. Then, with packet-level faults:
//   1. cut:  nft drop on both local routes at the same moment (the LAN cable of the host pulled);
//   2. dead: nft reject-with-reset on Jellyfin's remote route too (its public address dies);
//   3. clear: every rule removed.
// The scenario records each phase's events and the views; the test judges.
import type { EngineEvent, SourceKind } from '../../../src/core/types.js';
import type { ApiSource } from '../../../src/api/types.js';
import type { StoredHistoryEntry } from '../../../src/store/index.js';
import { EngineHarness, SIM_ROUTES } from '../../support/engine-harness.js';
import { runScenario } from '../../support/net/netns.js';
import { cleanup, clear, drop, listTable, reset } from '../../support/net/nft.js';
import { sleep } from '../../support/wait.js';

export interface PhaseRecord {
  /** Wall-clock ms when the phase's fault was applied. */
  at: number;
  events: EngineEvent[];
  views: Record<SourceKind, ApiSource>;
  table: string;
}

export interface BothKindsResult {
  sourceIds: Record<SourceKind, string>;
  before: { views: Record<SourceKind, ApiSource>; pushSocketsOnLocal: Record<SourceKind, number> };
  cut: PhaseRecord & { pushSocketsOnLocalAfter: Record<SourceKind, number> };
  dead: PhaseRecord;
  cleared: PhaseRecord;
  history: Record<SourceKind, StoredHistoryEntry[]>;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

const KINDS: SourceKind[] = ['plex', 'jellyfin'];

runScenario<{ waitMs: number }, BothKindsResult>(async ({ waitMs }) => {
  const h = await EngineHarness.start();
  try {
    await h.waitForSteadyState(20_000);
    const views = () => ({ plex: h.view('plex'), jellyfin: h.view('jellyfin') });
    const local = { plex: hostPort(h.sim.route(SIM_ROUTES.plexLocal).url), jellyfin: hostPort(h.sim.route(SIM_ROUTES.jellyfinLocal).url) };
    const jellyfinRemote = hostPort(h.sim.route(SIM_ROUTES.jellyfinRemote).url);
    const pushSockets = () => ({ plex: h.sim.route(SIM_ROUTES.plexLocal).openSockets, jellyfin: h.sim.route(SIM_ROUTES.jellyfinLocal).openSockets });
    const before = { views: views(), pushSocketsOnLocal: pushSockets() };
    const eventsSince = (mark: number) => h.events(mark).map(({ seq: _s, receivedAt: _r, ...e }) => e);

    // 1. Pull both LAN cables at once.
    let mark = h.mark();
    let at = Date.now();
    for (const kind of KINDS) drop(local[kind].host, local[kind].port);
    let table = listTable();
    await h.waitFor(
      'both sources connected via remote',
      () => KINDS.every((k) => h.view(k).status === 'connected' && h.view(k).route?.kind === 'remote'),
      waitMs,
    );
    const cut = { at, events: eventsSince(mark), views: views(), table, pushSocketsOnLocalAfter: pushSockets() };

    // 2. Jellyfin's remote address dies too (TCP resets); its local cable is still out.
    mark = h.mark();
    at = Date.now();
    reset(jellyfinRemote.host, jellyfinRemote.port);
    table = listTable();
    await h.waitFor('Jellyfin reconnecting', () => ['reconnecting', 'disconnected'].includes(h.view('jellyfin').status), waitMs);
    // Let a couple of retries run, so a Plex change (there must be none) would have time to show.
    await sleep(1_500);
    const dead = { at, events: eventsSince(mark), views: views(), table };

    // 3. Everything back.
    mark = h.mark();
    at = Date.now();
    clear();
    table = listTable();
    await h.waitForSteadyState(waitMs);
    const cleared = { at, events: eventsSince(mark), views: views(), table };

    return {
      sourceIds: { plex: h.sourceId('plex'), jellyfin: h.sourceId('jellyfin') },
      before,
      cut,
      dead,
      cleared,
      history: { plex: h.history('plex').filter((e) => e.at >= cut.at), jellyfin: h.history('jellyfin').filter((e) => e.at >= cut.at) },
    };
  } finally {
    cleanup();
    await h.close();
  }
});
