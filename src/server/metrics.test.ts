// /metrics reads every source once per scrape (issue 13 item 5): at 10,000 sources building the
// view of all of them is the scrape's main cost, and the two per-source gauges used to read twice.
import { describe, expect, it } from 'vitest';
import type { ApiSource } from '../api/types.js';
import { createMetrics } from './metrics.js';

function source(n: number, connected: boolean): ApiSource {
  return {
    id: `s${n}`,
    name: `Server ${n}`,
    kind: n % 2 === 0 ? 'plex' : 'jellyfin',
    status: connected ? 'connected' : 'disconnected',
    route: connected ? { id: `r${n}`, kind: 'local', url: `http://127.0.0.2:${8000 + n}`, latencyMs: 20 + n } : null,
    lastCheckedAt: null,
    nextCheckAt: null,
    since: null,
    push: 'off',
    libraries: [],
  };
}

describe('metrics', () => {
  it('reads the sources once per scrape and fills both per-source gauges from that read', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let reads = 0;
    const sources = [source(1, true), source(2, false), source(3, true)];
    metrics.setSourceReader(() => {
      reads++;
      return sources;
    });
    const text = await metrics.render();
    expect(reads).toBe(1);
    expect(text).toContain('marquee_source_status{source_id="s2",name="Server 2",kind="plex",state="disconnected"} 1');
    expect(text).toContain('marquee_source_route_latency_seconds{source_id="s3",name="Server 3",kind="jellyfin",route_kind="local"} 0.023');
    expect(text).not.toContain('marquee_source_route_latency_seconds{source_id="s2"');

    // Every scrape is a fresh read: a change between scrapes shows in the next one.
    sources.push(source(4, true));
    const next = await metrics.render();
    expect(reads).toBe(2);
    expect(next).toContain('source_id="s4"');
  });

  it('two overlapping scrapes each read once', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let reads = 0;
    metrics.setSourceReader(() => {
      reads++;
      return [source(1, true)];
    });
    const [a, b] = await Promise.all([metrics.render(), metrics.render()]);
    expect(reads).toBe(2);
    expect(a).toContain('source_id="s1"');
    expect(b).toContain('source_id="s1"');
  });
});
