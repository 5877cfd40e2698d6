// Cable pulled on the current route while a kept-alive connection is open (issue 7, real network
// faults): inside a private network namespace, nft drops every packet to and from the local route
// of a simulated Plex server. Marquee's ConnectionService, with the real Plex backend, must move to
// the remote route without waiting for the silent local one, and the probe on the kept-alive
// local connection must end at the probe timeout instead of hanging.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/core/types.js';
import { runInNetns } from '../support/net/netns.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios', 'cable-pulled.ts');
const PROBE_TIMEOUT_MS = 2_000;
const GRACE_MS = 100;

type TimedProbe = ProbeResult & { elapsedMs: number };
interface SelectionSummary {
  chosenRouteId: string | null;
  results: ProbeResult[];
  elapsedMs: number;
}
interface CablePulledResult {
  routeIds: { local: string; remote: string };
  localBefore: TimedProbe[];
  before: SelectionSummary;
  connectionsToLocalBefore: number;
  table: string;
  after: SelectionSummary;
  settledAfter: ProbeResult[];
  localSettledMs: number;
  connectionsToLocalAfter: number;
  remoteAfter: TimedProbe;
}

describe('cable pulled on the local route (nft drop in a private namespace)', () => {
  it('selection moves to remote at once; the kept-alive local probe ends at the timeout', async () => {
    const r = await runInNetns<CablePulledResult>(scenario, { probeTimeoutMs: PROBE_TIMEOUT_MS, graceMs: GRACE_MS, fault: 'drop' });

    // Before: local answers over pooled keep-alive connections and is the one selected.
    expect(r.localBefore.map((p) => p.ok)).toEqual([true, true, true]);
    expect(r.before.chosenRouteId).toBe(r.routeIds.local);
    expect(r.connectionsToLocalBefore).toBeGreaterThanOrEqual(1);
    expect(r.connectionsToLocalBefore).toBeLessThan(r.localBefore.length + 1);
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ drop/);

    // After the cut: remote is chosen, decided long before the local probe's timeout — local was
    // still pending when the choice was made.
    expect(r.after.chosenRouteId).toBe(r.routeIds.remote);
    expect(r.after.elapsedMs).toBeLessThan(PROBE_TIMEOUT_MS / 2);
    expect(r.after.results.map((p) => p.routeId)).not.toContain(r.routeIds.local);

    // The local probe, in the background, ended as a timeout bounded by the probe timeout.
    const local = r.settledAfter.find((p) => p.routeId === r.routeIds.local)!;
    expect(local.ok).toBe(false);
    if (!local.ok) expect(local.error.code).toBe('timeout');
    expect(r.localSettledMs).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 50);
    expect(r.localSettledMs).toBeLessThan(PROBE_TIMEOUT_MS + 1_000);
    // It rode the kept-alive connection that went silent: no new connection was opened to local.
    expect(r.connectionsToLocalAfter).toBe(r.connectionsToLocalBefore);

    expect(r.remoteAfter.ok).toBe(true);
  });

  it('dead host (TCP reset) on local: its probe fails at once as refused and remote is chosen', async () => {
    const r = await runInNetns<CablePulledResult>(scenario, { probeTimeoutMs: PROBE_TIMEOUT_MS, graceMs: GRACE_MS, fault: 'reset' });
    expect(r.before.chosenRouteId).toBe(r.routeIds.local);
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ reject with tcp reset/);

    expect(r.after.chosenRouteId).toBe(r.routeIds.remote);
    const local = r.settledAfter.find((p) => p.routeId === r.routeIds.local)!;
    expect(local.ok).toBe(false);
    // A reset on the kept-alive connection or a refused reconnect — never a timeout.
    if (!local.ok) expect(local.error.code).toBe('refused');
    expect(r.localSettledMs).toBeLessThan(PROBE_TIMEOUT_MS / 2);
    expect(r.remoteAfter.ok).toBe(true);
  });
});
