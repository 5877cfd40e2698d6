// Cable pulled on the current route while a kept-alive connection is open (issue 7, real network
// faults): inside a private network namespace, nft drops every packet to and from the local route
// of a simulated Plex server. Marquee must not hang on the silent kept-alive connection, and the
// remote route must carry on.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/core/types.js';
import { runInNetns } from '../support/net/netns.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios', 'cable-pulled.ts');
const PROBE_TIMEOUT_MS = 1_500;

type TimedProbe = ProbeResult & { elapsedMs: number };
interface CablePulledResult {
  localBefore: TimedProbe[];
  connectionsToLocalBefore: number;
  table: string;
  localAfter: TimedProbe;
  remoteAfter: TimedProbe;
  connectionsToLocalAfter: number;
}

describe('cable pulled on the local route (nft drop in a private namespace)', () => {
  it('a probe on the kept-alive local connection ends at the timeout; remote still answers', async () => {
    const r = await runInNetns<CablePulledResult>(scenario, { probeTimeoutMs: PROBE_TIMEOUT_MS });

    // Before: local answers over pooled keep-alive connections.
    expect(r.localBefore.map((p) => p.ok)).toEqual([true, true, true]);
    expect(r.connectionsToLocalBefore).toBeGreaterThanOrEqual(1);
    expect(r.connectionsToLocalBefore).toBeLessThan(r.localBefore.length);
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ drop/);

    // After the cut: a timeout, bounded by the probe timeout — not a hang, not a false "ok".
    expect(r.localAfter.ok).toBe(false);
    if (!r.localAfter.ok) expect(r.localAfter.error.code).toBe('timeout');
    expect(r.localAfter.elapsedMs).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 50);
    expect(r.localAfter.elapsedMs).toBeLessThan(PROBE_TIMEOUT_MS + 1_000);
    // It was the kept-alive connection that went silent: no new connection was opened to local.
    expect(r.connectionsToLocalAfter).toBe(r.connectionsToLocalBefore);

    // The other route is untouched.
    expect(r.remoteAfter.ok).toBe(true);
    expect(r.remoteAfter.elapsedMs).toBeLessThan(PROBE_TIMEOUT_MS);
  });
});
