// Request failover against the simulators (issue 14): a library call made right after the local
// route was cut succeeds on the remote route within the same call — whether the local route refuses
// (connection refused/reset) or hangs — and is bounded by the call's timeout. Push is off so only
// the call itself can make the engine notice the cut.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import type { RouteUse } from '../../src/monitor/engine-types.js';
import { EngineHarness, SIM_ROUTES } from '../support/engine-harness.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const LOCAL: Record<SourceKind, string> = { plex: SIM_ROUTES.plexLocal, jellyfin: SIM_ROUTES.jellyfinLocal };
const REMOTE: Record<SourceKind, string> = { plex: SIM_ROUTES.plexRemote, jellyfin: SIM_ROUTES.jellyfinRemote };

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A real library call over the route the caller hands out (no own timeout: the caller bounds it). */
const libraries = (use: RouteUse, signal: AbortSignal) =>
  use.backend.libraries(use.target, use.route, use.credentials, { timeoutMs: 30_000, signal }).then((r) => (r.ok ? { ok: true as const, value: r.libraries } : r));

async function connectedOnLocal(harness: EngineHarness): Promise<void> {
  for (const kind of KINDS) await harness.waitForView(kind, 'connected via local', (v) => v.status === 'connected' && v.route?.kind === 'local');
}

describe('request failover against the simulators (issue 14)', () => {
  for (const mode of ['refuse', 'hang'] as const) {
    it(`a library call right after the local route was cut (${mode}) succeeds on the remote route in the same call`, async () => {
      h = await EngineHarness.start({ push: { enabled: false } });
      await connectedOnLocal(h);
      await Promise.all(KINDS.map((k) => h!.sim.route(LOCAL[k]).fault({ mode })));
      const timeoutMs = 6_000;
      const results = await Promise.all(
        KINDS.map(async (kind) => {
          // The engine has not noticed yet: the call starts on the dead local route.
          expect(h!.view(kind).route?.kind).toBe('local');
          const started = Date.now();
          const outcome = await h!.routedCaller.call(h!.sourceId(kind), libraries, { timeoutMs });
          return { kind, outcome, tookMs: Date.now() - started };
        }),
      );
      for (const { kind, outcome, tookMs } of results) {
        expect(outcome, `${kind}: ${outcome.ok ? '' : outcome.message}`).toMatchObject({ ok: true, routeKind: 'remote', retried: true, routeId: h.routeId(kind, REMOTE[kind]) });
        expect(outcome.ok && outcome.value.length).toBeGreaterThan(0);
        expect(h.view(kind).route?.kind).toBe('remote');
        // refuse: within a check's time; hang: the first try gets half the budget, then check + retry.
        expect(tookMs).toBeLessThan(mode === 'refuse' ? 2_500 : timeoutMs);
        if (mode === 'hang') expect(tookMs).toBeGreaterThanOrEqual(timeoutMs / 2 - 50);
      }
    });
  }

  it('every route cut: the call answers offline in words, within its timeout', async () => {
    h = await EngineHarness.start({ push: { enabled: false } });
    await connectedOnLocal(h);
    await Promise.all([SIM_ROUTES.jellyfinLocal, SIM_ROUTES.jellyfinRemote].map((r) => h!.sim.route(r).fault({ mode: 'refuse' })));
    const started = Date.now();
    const outcome = await h.routedCaller.call(h.sourceId('jellyfin'), libraries, { timeoutMs: 6_000 });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(outcome).toMatchObject({ ok: false, reason: 'offline' });
    expect(!outcome.ok && outcome.message).toMatch(/no other route answers/);
  });
});
