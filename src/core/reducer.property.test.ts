// Properties of the reducer over random outcome sequences (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs } from './backoff.js';
import { initialMonitorState, type MonitorState } from './monitor-state.js';
import type { Outcome } from './outcomes.js';
import { reduce } from './reducer.js';
import { parseMonitorSettings } from './settings.js';
import { SOURCE, T0 } from '../../test/support/core-fixtures.js';
import type { EngineEvent, LossReason, ProbeErrorCode, ProbeResult, Route, SourceStatus } from './types.js';

const SETTINGS = parseMonitorSettings();
const ROUTES: Route[] = [
  { id: 'a', url: 'http://127.0.0.2:1', kind: 'local', priority: 0 },
  { id: 'b', url: 'http://127.0.0.3:1', kind: 'remote', priority: 0 },
  { id: 'c', url: 'http://127.0.0.4:1', kind: 'relay', priority: 1 },
];
const ERROR_CODES: ProbeErrorCode[] = ['refused', 'timeout', 'dns', 'tls', 'http_error', 'unauthorized', 'wrong_server', 'malformed'];
const REASONS: LossReason[] = ['server_shutting_down', 'server_restarting', 'push_lost', 'network_changed'];

/** Token-like secrets, and the ways a careless backend could echo them into an error message. */
const tokenArb = fc.stringMatching(/^[A-Za-z0-9_-]{20,40}$/);
const leakyMessage = (token: string) =>
  fc.constantFrom(
    `GET http://127.0.0.2:32400/identity?X-Plex-Token=${token} failed`,
    `request with api_key=${token} refused`,
    `Authorization: MediaBrowser Client="Marquee", Token="${token}"`,
    `header X-Emby-Token: ${token}`,
    `Bearer ${token} rejected`,
    `access_token=${token}&x=1`,
  );

const routeIdArb = fc.constantFrom('a', 'b', 'c', 'gone');

function probeArb(message: fc.Arbitrary<string>): fc.Arbitrary<ProbeResult> {
  return fc.oneof(
    fc.record({ ok: fc.constant(true as const), routeId: routeIdArb, at: fc.nat(), latencyMs: fc.nat({ max: 10_000 }) }),
    fc.record({
      ok: fc.constant(false as const),
      routeId: routeIdArb,
      at: fc.nat(),
      latencyMs: fc.nat({ max: 10_000 }),
      error: fc.record({ code: fc.constantFrom(...ERROR_CODES), message }),
    }),
  );
}

function outcomeArb(message: fc.Arbitrary<string>): fc.Arbitrary<Outcome> {
  const jitter = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.constantFrom(Number.NaN, -1, 2, Infinity));
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ type: fc.constant('selection' as const), routes: fc.subarray(ROUTES), results: fc.array(probeArb(message), { maxLength: 4 }), chosenRouteId: fc.option(routeIdArb), jitter }) },
    { weight: 3, arbitrary: fc.record({ type: fc.constant('light_check' as const), result: probeArb(message) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('libraries' as const), routeId: routeIdArb, ok: fc.constant(true as const), libraryCount: fc.nat(50) }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('libraries' as const), routeId: routeIdArb, ok: fc.constant(false as const), error: fc.record({ code: fc.constantFrom(...ERROR_CODES), message }) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('push_lost' as const), reason: fc.option(fc.constantFrom(...REASONS), { nil: undefined }), jitter: fc.option(jitter, { nil: undefined }) }) },
    { weight: 1, arbitrary: fc.constantFrom<Outcome>({ type: 'network_changed' }, { type: 'credentials_updated' }, { type: 'credentials_missing' }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('renamed' as const), name: fc.constantFrom('Den Plex', '') }) },
  );
}

const stepsArb = (message: fc.Arbitrary<string>) => fc.array(fc.tuple(outcomeArb(message), fc.nat({ max: 120_000 })), { minLength: 1, maxLength: 40 });

function run(steps: Array<[Outcome, number]>, visit: (before: MonitorState, outcome: Outcome, after: MonitorState, events: EngineEvent[], now: number) => void, start?: SourceStatus): MonitorState {
  let now = T0;
  let state = initialMonitorState(SOURCE, now, start);
  for (const [outcome, dt] of steps) {
    now += dt;
    const { state: after, events } = reduce(state, outcome, now, SETTINGS);
    visit(state, outcome, after, events, now);
    state = after;
  }
  return state;
}

const EVENT_FIELDS: Record<EngineEvent['type'], string[]> = {
  ConnectionChanged: ['routeId', 'routeKind', 'previousRouteKind', 'latencyMs'],
  ConnectionLost: ['lastRouteKind', 'reason', 'error'],
  ConnectionRestored: ['routeId', 'routeKind', 'latencyMs', 'downForMs'],
  Reconnecting: ['attempt', 'nextRetryAt', 'reason'],
  AuthStatusChanged: ['authRequired'],
  SyncFailed: ['error'],
  SyncRestored: ['libraryCount'],
  StatusChanged: ['status', 'previous'],
};

describe('reducer properties', () => {
  it('is total: any sequence of outcomes yields a valid state with a finite next check', () => {
    fc.assert(
      fc.property(stepsArb(fc.string()), (steps) => {
        run(steps, (_before, _outcome, after) => {
          expect(['connecting', 'connected', 'reconnecting', 'disconnected', 'auth_required', 'sync_failed']).toContain(after.status.state);
          expect(Number.isFinite(after.next.at)).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('never reaches a route (connected / sync_failed) without an ok probe of that route in that check', () => {
    fc.assert(
      fc.property(stepsArb(fc.string()), (steps) => {
        run(steps, (before, outcome, after) => {
          const s = after.status;
          if (s.state !== 'connected' && s.state !== 'sync_failed') return;
          if (outcome.type === 'selection') {
            expect(outcome.results.some((r) => r.ok && r.routeId === s.routeId)).toBe(true);
            expect(outcome.routes.find((r) => r.id === s.routeId)?.kind).toBe(s.routeKind);
          } else {
            // Anything but a selection can only keep an existing route, never pick one.
            const b = before.status;
            expect(b.state === 'connected' || b.state === 'sync_failed').toBe(true);
            expect(b.state === 'connected' || b.state === 'sync_failed' ? b.routeId : null).toBe(s.routeId);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('retry delays stay within [0, min(cap, initial * factor^(n-1))], at the cap once disconnected, and reset on success', () => {
    fc.assert(
      fc.property(stepsArb(fc.string()), (steps) => {
        run(steps, (before, outcome, after, _events, now) => {
          const s = after.status;
          if (s.state === 'reconnecting' && before.status !== s && (before.status.state !== 'reconnecting' || before.status.nextRetryAt !== s.nextRetryAt)) {
            const delay = s.nextRetryAt - now;
            expect(delay).toBeGreaterThanOrEqual(0);
            expect(delay).toBeLessThanOrEqual(backoffCeilingMs(s.attempt, SETTINGS.backoff));
          }
          if (s.state === 'disconnected' && (before.status.state !== 'disconnected' || before.status.nextRetryAt !== s.nextRetryAt)) {
            expect(s.nextRetryAt - now).toBeGreaterThanOrEqual(0);
            expect(s.nextRetryAt - now).toBeLessThanOrEqual(SETTINGS.backoff.capMs);
            expect(s.attempt).toBeGreaterThan(SETTINGS.disconnectAfterAttempts);
          }
          // Success resets the count of failed attempts: the next failed full check is attempt 1 again.
          if (s.state === 'connected' && outcome.type === 'selection') {
            const lost = reduce(after, { type: 'selection', routes: ROUTES, results: [], chosenRouteId: null, jitter: 0.5 }, now, SETTINGS).state.status;
            expect(lost).toMatchObject({ state: 'reconnecting', attempt: 1 });
          }
          // The outage clock (the backoff's phase) runs exactly while the source is unreachable.
          const unreachable = s.state === 'reconnecting' || s.state === 'disconnected';
          expect(after.unreachableSince !== null).toBe(unreachable);
          if (unreachable && (before.status.state === 'reconnecting' || before.status.state === 'disconnected')) expect(after.unreachableSince).toBe(before.unreachableSince);
          // After a success, the next loss starts again at attempt 1.
          if ((before.status.state === 'connected' || before.status.state === 'sync_failed') && s.state === 'reconnecting') {
            expect(s.attempt).toBe(1);
            expect(s.nextRetryAt - now).toBeLessThanOrEqual(SETTINGS.backoff.initialMs);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('events carry only their declared fields, the source name and kind, and never a token', () => {
    fc.assert(
      fc.property(
        tokenArb.chain((token) => fc.tuple(fc.constant(token), stepsArb(leakyMessage(token)))),
        ([token, steps]) => {
          run(steps, (_before, _outcome, after, events) => {
            for (const event of events) {
              const allowed = new Set(['type', 'sourceId', 'sourceName', 'sourceKind', 'at', ...EVENT_FIELDS[event.type]]);
              for (const key of Object.keys(event)) expect(allowed.has(key), `${event.type}.${key}`).toBe(true);
              expect(event.sourceName.length).toBeGreaterThan(0);
              expect(event.sourceKind).toBe('plex');
              expect(JSON.stringify(event)).not.toContain(token);
            }
            expect(JSON.stringify(after.status)).not.toContain(token);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after a full check the next check is always in the future (no busy loop)', () => {
    fc.assert(
      fc.property(stepsArb(fc.string()), (steps) => {
        run(steps, (_before, outcome, after, _events, now) => {
          if (outcome.type === 'selection' || outcome.type === 'credentials_missing') expect(after.next.at).toBeGreaterThan(now);
          // Only a failed light check asks for an immediate follow-up, and it is always a full one.
          if (outcome.type === 'light_check' && after.next.at <= now) expect(after.next.kind).toBe('full');
        });
      }),
      { numRuns: 500 },
    );
  });

  it('every status change emits exactly one StatusChanged, and nothing else changes silently', () => {
    fc.assert(
      fc.property(stepsArb(fc.string()), (steps) => {
        run(steps, (before, _outcome, after, events) => {
          const changes = events.filter((e) => e.type === 'StatusChanged');
          if (before.status.state !== after.status.state) expect(changes).toHaveLength(1);
          expect(changes.length).toBeLessThanOrEqual(1);
          if (events.length > 0) expect(changes).toHaveLength(1);
        });
      }),
      { numRuns: 300 },
    );
  });
});
