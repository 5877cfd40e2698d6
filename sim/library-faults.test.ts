// The search fault (only search endpoints hang or crawl), the Plex fidelity gaps of issue 14, and
// the cost of big generated libraries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';
import { libraryConfig } from './library-fixtures.js';
import { mediaBrowser, PLEX_HEADERS } from './test-fixtures.js';

let sim: Simulation;
let plex: string;
let jf: string;
let plexToken: string;
let jfAuth: Record<string, string>;

beforeAll(async () => {
  sim = await createSimulation(libraryConfig());
  plex = sim.servers.find((s) => s.id === 'plex-lib')!.routes[0]!.url;
  jf = sim.servers.find((s) => s.id === 'jf-lib')!.routes[0]!.url;
  plexToken = sim.plexTv.accountToken('demo');
  jfAuth = { Authorization: mediaBrowser({ token: sim.jellyfin('jf-lib').issueToken('demo') }) };
});
afterAll(() => sim.close());

/** 'timeout' if no answer within ms, else the status and how long it took. */
async function timed(url: string, headers: Record<string, string>, ms: number): Promise<{ status: number | 'timeout'; elapsed: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return { status: res.status, elapsed: Date.now() - started };
  } catch {
    return { status: 'timeout', elapsed: Date.now() - started };
  }
}

describe('search fault', () => {
  it('search-hang holds only the search endpoints of one server; probes, browsing and the other server answer; up clears it', async () => {
    const plexHeaders = { Accept: 'application/json', 'X-Plex-Token': plexToken };
    await sim.server('plex-lib').fault({ mode: 'search-hang' });
    expect(sim.server('plex-lib').searchFault).toEqual({ mode: 'hang' });
    expect(sim.server('plex-lib').mode).toBe('up');
    expect((await timed(`${plex}/hubs/search?query=the`, plexHeaders, 600)).status).toBe('timeout');
    expect((await timed(`${plex}/identity`, plexHeaders, 2000)).status).toBe(200);
    expect((await timed(`${plex}/library/sections/1/all?X-Plex-Container-Size=5`, plexHeaders, 2000)).status).toBe(200);
    expect((await timed(`${jf}/Search/Hints?searchTerm=the`, jfAuth, 2000)).status).toBe(200);

    // Through the control API, on Jellyfin: /Search/Hints and /Items?searchTerm hang, /Items without it does not.
    const res = await fetch(`${sim.controlUrl}/servers/jf-lib/fault`, { method: 'POST', body: JSON.stringify({ mode: 'search-hang' }) });
    expect(await res.json()).toMatchObject({ id: 'jf-lib', mode: 'up', searchFault: { mode: 'hang' } });
    expect((await timed(`${jf}/Search/Hints?searchTerm=the`, jfAuth, 600)).status).toBe('timeout');
    expect((await timed(`${jf}/Items?searchTerm=the&recursive=true`, jfAuth, 600)).status).toBe('timeout');
    expect((await timed(`${jf}/Items?recursive=true&limit=3`, jfAuth, 2000)).status).toBe(200);
    expect((await timed(`${jf}/System/Info/Public`, {}, 2000)).status).toBe(200);

    await sim.server('plex-lib').fault({ mode: 'up' });
    await sim.server('jf-lib').fault({ mode: 'up' });
    expect(sim.server('plex-lib').searchFault).toBeUndefined();
    expect((await timed(`${plex}/hubs/search?query=the`, plexHeaders, 2000)).status).toBe(200);
    expect((await timed(`${jf}/Search/Hints?searchTerm=the`, jfAuth, 2000)).status).toBe(200);
  });

  it('search-slow delays the search answer by delayMs', async () => {
    await sim.server('plex-lib').fault({ mode: 'search-slow', delayMs: 400 });
    const slow = await timed(`${plex}/hubs/search?query=the`, { Accept: 'application/json', 'X-Plex-Token': plexToken }, 5000);
    expect(slow.status).toBe(200);
    expect(slow.elapsed).toBeGreaterThanOrEqual(390);
    const browse = await timed(`${plex}/library/sections/1/all?X-Plex-Container-Size=5`, { Accept: 'application/json', 'X-Plex-Token': plexToken }, 5000);
    expect(browse.elapsed).toBeLessThan(390);
    await sim.server('plex-lib').fault({ mode: 'up' });
  });
});

describe('Plex fidelity (issue 14)', () => {
  it('the Plex server answers JSON as exactly application/json and sends X-Plex-Protocol: 1.0 on every answer', async () => {
    const headers = { Accept: 'application/json', 'X-Plex-Token': plexToken };
    for (const path of ['/identity', '/', '/library/sections', '/library/sections/1/all?X-Plex-Container-Size=1', '/library/metadata/100000000', '/hubs/search?query=a']) {
      const res = await fetch(`${plex}${path}`, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-plex-protocol')).toBe('1.0');
    }
    for (const [path, status] of [['/library/sections', 401], ['/nowhere', 404]] as const) {
      const res = await fetch(`${plex}${path}`, { headers: { Accept: 'application/json' } });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-plex-protocol')).toBe('1.0');
    }
    const xml = await fetch(`${plex}/identity`);
    expect(xml.headers.get('x-plex-protocol')).toBe('1.0');
    expect(xml.headers.get('content-type')).toContain('xml');
  });

  it('plex.tv answers XML unless Accept is exactly application/json', async () => {
    const exact = await fetch(`${sim.plexTvUrl}/api/v2/user`, { headers: { ...PLEX_HEADERS, 'X-Plex-Token': plexToken } });
    expect(exact.headers.get('content-type')).toContain('json');
    for (const accept of ['application/json, text/plain, */*', 'text/html,application/json;q=0.9', '*/*']) {
      const res = await fetch(`${sim.plexTvUrl}/api/v2/user`, { headers: { ...PLEX_HEADERS, Accept: accept, 'X-Plex-Token': plexToken } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('xml');
      expect(await res.text()).toMatch(/^<\?xml/);
    }
  });
});

describe('large libraries', () => {
  it('three 50,000-item libraries start cheaply and page at any offset', async () => {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const big = await createSimulation({
      plexTv: { accounts: [{ username: 'demo' }] },
      servers: [
        {
          id: 'big-plex',
          kind: 'plex',
          name: 'Big Plex',
          routes: [{ id: 'big-plex-local', kind: 'local', host: '127.0.0.2', port: 0 }],
          libraries: [
            { title: 'Movies', type: 'movie', itemCount: 50_000 },
            { title: 'Shows', type: 'show', itemCount: 50_000 },
            { title: 'Music', type: 'artist', itemCount: 50_000 },
          ],
        },
      ],
    });
    const startMs = performance.now() - started;
    try {
      const url = big.servers[0]!.routes[0]!.url;
      const headers = { Accept: 'application/json', 'X-Plex-Token': big.plexTv.accountToken('demo') };
      const firstStarted = performance.now();
      const first = (await (await fetch(`${url}/library/sections/1/all?X-Plex-Container-Start=0&X-Plex-Container-Size=100`, { headers })).json()) as { MediaContainer: unknown };
      const firstMs = performance.now() - firstStarted;
      const lastStarted = performance.now();
      const last = (await (await fetch(`${url}/library/sections/1/all?X-Plex-Container-Start=49950&X-Plex-Container-Size=100`, { headers })).json()) as { MediaContainer: unknown };
      const lastMs = performance.now() - lastStarted;
      expect(first.MediaContainer).toMatchObject({ size: 100, totalSize: 50_000, offset: 0 });
      expect(last.MediaContainer).toMatchObject({ size: 50, totalSize: 50_000, offset: 49_950 });
      const rssMb = Math.round((process.memoryUsage().rss - rssBefore) / 1e6);
      console.log(`3 × 50,000-item libraries: simulation ready in ${startMs.toFixed(0)} ms; first sorted page ${firstMs.toFixed(0)} ms (builds the sorted index), page at 49,950 ${lastMs.toFixed(0)} ms; RSS +${rssMb} MB`);
      // Generation is lazy: starting must not scale with the item count.
      expect(startMs).toBeLessThan(5000);
    } finally {
      await big.close();
    }
  });
});
