// Benchmark 1 — route choice. One Jellyfin server with three routes: local answers, remote and
// relay accept the connection and never answer (hung peers). Contenders, each asked "which route?":
//   (a) Marquee's ConnectionService.select with the Jellyfin backend (decides early: the most
//       preferred route answered with the right identity and token)
//   (b) @jellyfin/sdk discovery: getRecommendedServers(urls) + findBestServer (waits for all, 5 s)
//   (c) wait-for-all baseline: probe all with a 5 s timeout, then pick (the classic design)
// Figures: median/p95 time per choice, the local round trip measured in the same run, and ratios.
// Goal: Marquee ≤ local round trip + 100 ms, i.e. ≥ 40× faster than the SDK here.
import { Jellyfin } from '@jellyfin/sdk';
import { createBackends } from '../src/backends/index.js';
import { DEFAULT_MONITOR_SETTINGS } from '../src/core/settings.js';
import type { Route } from '../src/core/types.js';
import { realClock } from '../src/monitor/clock.js';
import { ConnectionService } from '../src/monitor/connection-service.js';
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
  /** Untimed wait after a trial (e.g. for background probes), so trials stay independent. */
  settle?(): Promise<void>;
  close?(): Promise<void>;
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
  // One untimed warm-up (JIT, first connection), so every contender is measured warm.
  await contender.choose(fixture);
  await contender.settle?.();
  for (let i = 0; i < trials; i++) {
    const { ms, value } = await timed(() => contender.choose(fixture));
    samples.push(ms);
    if (value.kind !== 'local') wrong++;
    options.log(`${contender.name} trial ${i + 1}/${trials}: ${ms.toFixed(1)} ms -> ${value.kind ?? 'no route'}`);
    await contender.settle?.();
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
      const marquee = marqueeContender(fixture);
      let own: { samples: number[]; wrong: number };
      try {
        own = await measure(marquee, fixture, trials, options);
      } finally {
        await marquee.close?.();
      }

      const ownRow = row(marquee.name, own.samples, {
        goal: '≤ local round trip + 100 ms',
        note: own.wrong ? `${own.wrong} wrong choices` : undefined,
      });
      ownRow.met = ownRow.p50 !== null && rttP50 !== null ? ownRow.p50 <= rttP50 + 100 && own.wrong === 0 : null;
      rows.push(ownRow);
      rows.push(row(sdkDiscovery.name, sdk.samples, { note: sdk.wrong ? `${sdk.wrong} wrong choices` : undefined }));
      rows.push(row(waitForAll.name, baseline.samples, { note: baseline.wrong ? `${baseline.wrong} wrong choices` : undefined }));

      const marqueeP50 = ownRow.p50;
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

/**
 * Marquee: ConnectionService.select over the Jellyfin backend (the same code the monitor runs),
 * default per-route timeout (5 s) and grace period. The hung probes it leaves running in the
 * background are awaited between trials, untimed, so every trial starts from the same state.
 */
function marqueeContender(fixture: RouteFixture): Contender {
  const { backends, close } = createBackends({ clientIdentifier: 'marquee-bench' });
  const service = new ConnectionService({ clock: realClock });
  const routes: Route[] = PREFERENCE.map((kind, priority) => ({ id: fixture.routeIds[kind], url: fixture.urls[kind], kind, priority }));
  const kindById = new Map(routes.map((route) => [route.id, route.kind]));
  let pending: Promise<unknown> = Promise.resolve();
  return {
    name: 'Marquee ConnectionService.select',
    async choose() {
      const selection = await service.select(
        { kind: 'jellyfin', serverId: fixture.serverId, routes },
        backends.jellyfin,
        { token: fixture.token, userId: fixture.userId, deviceId: 'marquee-bench-device' },
        { timeoutMs: DEFAULT_MONITOR_SETTINGS.probeTimeoutMs, graceMs: DEFAULT_MONITOR_SETTINGS.graceMs },
      );
      pending = selection.settled;
      return { kind: selection.chosen ? (kindById.get(selection.chosen.routeId) ?? null) : null };
    },
    async settle() {
      await pending;
    },
    close,
  };
}
