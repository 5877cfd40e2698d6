// Benchmark 1 — route choice. One Jellyfin server with three routes: local answers, remote and
// relay accept the connection and never answer (hung peers). Contenders, each asked "which route?":
//   (a) Marquee's ConnectionService (decides early: the most preferred route answered)
//   (b) @jellyfin/sdk discovery: getRecommendedServers(urls) + findBestServer (waits for all, 5 s)
//   (c) wait-for-all baseline: probe all with a 5 s timeout, then pick (the classic design)
// Figures: median/p95 time per choice, the local round trip measured in the same run, and ratios.
// Goal: Marquee ≤ local round trip + 100 ms, i.e. ≥ 40× faster than the SDK here.
import { Jellyfin } from '@jellyfin/sdk';
import { httpGet } from '../test/support/net/sockets.js';
import { startRouteFixture, type RouteFixture } from './support/route-fixture.js';
import { ratio, summarize, timed } from './stats.js';
import type { Benchmark, BenchOptions, BenchRow } from './types.js';

const PROBE_TIMEOUT_MS = 5_000;
const PREFERENCE = ['local', 'remote', 'relay'] as const;
type Kind = (typeof PREFERENCE)[number];

interface Choice {
  kind: Kind | null;
}

interface Contender {
  name: string;
  choose(fixture: RouteFixture): Promise<Choice>;
}

function kindOf(fixture: RouteFixture, url: string | undefined): Kind | null {
  if (url === undefined) return null;
  const normalized = url.replace(/\/+$/, '');
  return PREFERENCE.find((kind) => fixture.urls[kind] === normalized) ?? null;
}

const jellyfin = new Jellyfin({
  clientInfo: { name: 'Marquee bench', version: '0.1.0' },
  deviceInfo: { name: 'bench', id: 'marquee-bench' },
});

const sdkDiscovery: Contender = {
  name: '@jellyfin/sdk getRecommendedServers',
  async choose(fixture) {
    const servers = await jellyfin.discovery.getRecommendedServers(PREFERENCE.map((kind) => fixture.urls[kind]));
    return { kind: kindOf(fixture, jellyfin.discovery.findBestServer(servers)?.address) };
  },
};

const waitForAll: Contender = {
  name: 'wait-for-all baseline (probe all, 5 s timeout, then pick)',
  async choose(fixture) {
    const outcomes = await Promise.all(
      PREFERENCE.map(async (kind) => ({ kind, outcome: await httpGet(`${fixture.urls[kind]}/System/Info/Public`, PROBE_TIMEOUT_MS) })),
    );
    const answered = outcomes.filter(({ outcome }) => {
      if (outcome.kind !== 'ok' || outcome.status !== 200) return false;
      try {
        return (JSON.parse(outcome.body ?? '') as { Id?: string }).Id === fixture.serverId;
      } catch {
        return false;
      }
    });
    return { kind: answered[0]?.kind ?? null };
  },
};

async function measure(contender: Contender, fixture: RouteFixture, trials: number, options: BenchOptions): Promise<{ samples: number[]; wrong: number }> {
  const samples: number[] = [];
  let wrong = 0;
  for (let i = 0; i < trials; i++) {
    const { ms, value } = await timed(() => contender.choose(fixture));
    samples.push(ms);
    if (value.kind !== 'local') wrong++;
    options.log(`${contender.name} trial ${i + 1}/${trials}: ${ms.toFixed(1)} ms -> ${value.kind ?? 'no route'}`);
  }
  return { samples, wrong };
}

function row(name: string, samples: number[], extra: Partial<BenchRow> = {}): BenchRow {
  const s = summarize(samples);
  return { case: name, n: s.n, unit: 'ms', p50: s.p50, p95: s.p95, min: s.min, max: s.max, ...extra };
}

export const routeChoice: Benchmark = {
  name: 'route-choice',
  description: 'one server, three routes: local answers, remote and relay hang; time to choose',
  async run(options) {
    const trials = options.quick ? 5 : 20;
    const fixture = await startRouteFixture();
    try {
      // The reference: one fresh-connection round trip to the local route, measured in this run.
      const rtt: number[] = [];
      for (let i = 0; i < trials * 4; i++) {
        const outcome = await httpGet(`${fixture.urls.local}/System/Info/Public`, PROBE_TIMEOUT_MS);
        if (outcome.kind !== 'ok') throw new Error(`local route did not answer: ${JSON.stringify(outcome)}`);
        rtt.push(outcome.ms);
      }
      const rows: BenchRow[] = [row('local round trip (fresh connection)', rtt, { note: 'reference' })];
      const rttP50 = rows[0]!.p50;

      const sdk = await measure(sdkDiscovery, fixture, trials, options);
      const baseline = await measure(waitForAll, fixture, trials, options);
      const marquee = await loadMarqueeContender();

      if (marquee.contender) {
        const own = await measure(marquee.contender, fixture, trials, options);
        const ownRow = row(marquee.contender.name, own.samples, {
          goal: '≤ local round trip + 100 ms',
          note: own.wrong ? `${own.wrong} wrong choices` : undefined,
        });
        ownRow.met = ownRow.p50 !== null && rttP50 !== null ? ownRow.p50 <= rttP50 + 100 && own.wrong === 0 : null;
        rows.push(ownRow);
      } else {
        rows.push({ case: 'Marquee ConnectionService', n: 0, unit: 'ms', p50: null, p95: null, met: null, note: marquee.reason });
      }
      rows.push(row(sdkDiscovery.name, sdk.samples, { note: sdk.wrong ? `${sdk.wrong} wrong choices` : undefined }));
      rows.push(row(waitForAll.name, baseline.samples, { note: baseline.wrong ? `${baseline.wrong} wrong choices` : undefined }));

      const marqueeP50 = marquee.contender ? rows.find((r) => r.case === marquee.contender!.name)!.p50 : null;
      const sdkRatio = ratio(rows.find((r) => r.case === sdkDiscovery.name)!.p50, marqueeP50);
      rows.push({ case: 'SDK / Marquee (median)', n: trials, unit: 'x', p50: sdkRatio, p95: null, goal: '≥ 40×', met: sdkRatio === null ? null : sdkRatio >= 40 });
      const baseRatio = ratio(rows.find((r) => r.case === waitForAll.name)!.p50, marqueeP50);
      rows.push({ case: 'wait-for-all / Marquee (median)', n: trials, unit: 'x', p50: baseRatio, p95: null });
      return rows;
    } finally {
      await fixture.close();
    }
  },
};

/** Marquee's contender, once the engine exists (see loadMarqueeContender's history in git). */
async function loadMarqueeContender(): Promise<{ contender?: Contender; reason?: string }> {
  return { reason: 'not yet available: src/monitor/connection-service.ts is not in the tree' };
}
