// Both server kinds at once (issue 7, real network faults), inside a private network namespace
// (test/net/scenarios/both-kinds.ts): Plex and Jellyfin in one engine, each connected on its local
// route with its push channel (a kept-alive WebSocket) open.
//   cable pulled on both local routes at the same moment (nft drop) → both move to remote, neither
//   is ever reported lost (their remote routes answer);
//   dead host (TCP reset) on Jellyfin's remote route too → Jellyfin reconnecting, Plex untouched;
//   clear → both back on their local routes with their push channels open again.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent, SourceKind } from '../../src/core/types.js';
import { runInNetns } from '../support/net/netns.js';
import type { BothKindsResult } from './scenarios/both-kinds.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios', 'both-kinds.ts');
const KINDS: SourceKind[] = ['plex', 'jellyfin'];

const ofSource = (events: EngineEvent[], sourceId: string) => events.filter((e) => e.sourceId === sourceId);
const types = (events: EngineEvent[]) => events.map((e) => e.type);

describe('Plex and Jellyfin at once under packet-level faults (nft in a private namespace)', () => {
  let r: BothKindsResult;
  beforeAll(async () => {
    r = await runInNetns<BothKindsResult>(scenario, { waitMs: 15_000 }, { timeoutMs: 90_000 });
  }, 100_000);

  it('starts with both on local, push channels open over kept-alive connections', () => {
    for (const kind of KINDS) {
      expect(r.before.views[kind].status, kind).toBe('connected');
      expect(r.before.views[kind].route?.kind, kind).toBe('local');
      expect(r.before.views[kind].push, kind).toBe('open');
      expect(r.before.pushSocketsOnLocal[kind], kind).toBeGreaterThanOrEqual(1);
    }
  });

  it('cable pulled on both local routes at once: both move to remote, neither is reported lost', () => {
    expect(r.cut.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ drop/);
    expect(r.cut.table).toMatch(/ip daddr 127\.0\.0\.6 tcp dport \d+ drop/);
    for (const kind of KINDS) {
      const events = ofSource(r.cut.events, r.sourceIds[kind]);
      const changed = events.find((e) => e.type === 'ConnectionChanged');
      expect(changed, `${kind}: ${types(events).join(', ')}`).toBeDefined();
      if (changed?.type === 'ConnectionChanged') {
        expect(changed.previousRouteKind).toBe('local');
        expect(changed.routeKind).toBe('remote');
      }
      expect(types(events), kind).not.toContain('ConnectionLost');
      expect(types(events), kind).not.toContain('Reconnecting');
      const view = r.cut.views[kind];
      expect(view.status, kind).toBe('connected');
      expect(view.route?.kind, kind).toBe('remote');
    }
    // The silent local channels were given up (the server may not even have noticed yet: the
    // packets are dropped), and the events name the right servers.
    expect(ofSource(r.cut.events, r.sourceIds.plex).every((e) => e.sourceKind === 'plex')).toBe(true);
    expect(ofSource(r.cut.events, r.sourceIds.jellyfin).every((e) => e.sourceKind === 'jellyfin')).toBe(true);
  });

  it("dead host on Jellyfin's remote as well: Jellyfin reconnecting, Plex stays on remote", () => {
    expect(r.dead.table).toMatch(/ip daddr 127\.0\.0\.7 tcp dport \d+ reject with tcp reset/);
    const jellyfin = ofSource(r.dead.events, r.sourceIds.jellyfin);
    const lost = jellyfin.find((e) => e.type === 'ConnectionLost');
    expect(lost, types(jellyfin).join(', ')).toBeDefined();
    if (lost?.type === 'ConnectionLost') expect(lost.lastRouteKind).toBe('remote');
    expect(types(jellyfin)).toContain('Reconnecting');
    expect(['reconnecting', 'disconnected']).toContain(r.dead.views.jellyfin.status);
    expect(r.dead.views.jellyfin.route).toBeNull();
    expect(r.dead.views.jellyfin.push).toBe('off');

    // Plex: no status change at all while Jellyfin's public address died.
    const plex = ofSource(r.dead.events, r.sourceIds.plex);
    expect(types(plex).filter((t) => t !== 'SyncRestored')).toEqual([]);
    expect(r.dead.views.plex.status).toBe('connected');
    expect(r.dead.views.plex.route?.kind).toBe('remote');
  });

  it('clear: both back on local with push channels open; every step is in the history', () => {
    expect(r.cleared.table).not.toMatch(/drop|reset/);
    for (const kind of KINDS) {
      expect(r.cleared.views[kind].status, kind).toBe('connected');
      expect(r.cleared.views[kind].route?.kind, kind).toBe('local');
      expect(r.cleared.views[kind].push, kind).toBe('open');
    }
    const restored = ofSource(r.cleared.events, r.sourceIds.jellyfin).find((e) => e.type === 'ConnectionRestored');
    expect(restored).toBeDefined();
    const plexBack = ofSource(r.cleared.events, r.sourceIds.plex).find((e) => e.type === 'ConnectionChanged');
    expect(plexBack?.type === 'ConnectionChanged' && plexBack.routeKind).toBe('local');

    const steps = (kind: SourceKind) => {
      const out: string[] = [];
      for (const h of [...r.history[kind]].sort((a, b) => a.at - b.at || a.id - b.id)) {
        const step = h.state === 'connected' ? `connected/${h.routeKind}` : h.state;
        if (out.at(-1) !== step) out.push(step);
      }
      return out;
    };
    expect(steps('plex')).toEqual(['connected/remote', 'connected/local']);
    const jellyfinSteps = steps('jellyfin');
    expect(jellyfinSteps[0]).toBe('connected/remote');
    // A library refresh already running on the remote route when it died may fail first (seen
    // once in five runs): a true "connected, libraries not refreshed" for a moment.
    if (jellyfinSteps[1] === 'sync_failed') jellyfinSteps.splice(1, 1);
    expect(jellyfinSteps[1]).toBe('reconnecting');
    expect(jellyfinSteps.at(-1)).toBe('connected/local');
    // On the way back the remote route may answer before local does (both faults clear at once):
    // a true "connected on remote" for a moment, then local at the re-check. Never local early.
    const between = jellyfinSteps.slice(1, -1);
    expect(
      between.every((s) => s === 'reconnecting' || s === 'disconnected' || s === 'connected/remote' || s === 'sync_failed'),
      `jellyfin steps: ${jellyfinSteps.join(' -> ')}`,
    ).toBe(true);
  });
});
