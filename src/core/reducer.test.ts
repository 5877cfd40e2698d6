import { describe, expect, it } from 'vitest';
import { initialMonitorState } from './monitor-state.js';
import type { OutcomeClass } from './outcomes.js';
import { classifyOutcome, reduce, TRANSITIONS } from './reducer.js';
import { LOCAL, NOW, OUTCOMES, REMOTE, SETTINGS, SOURCE, stateIn, T0 } from '../../test/support/core-fixtures.js';
import type { EngineEvent, SourceState } from './types.js';

const STATES: SourceState[] = ['connecting', 'connected', 'sync_failed', 'reconnecting', 'disconnected', 'auth_required'];

type Expect = readonly [after: SourceState, events: string, next?: 'full_now' | 'keep'];

// Every (outcome, state) pair: the status reached, the events in order ('' = none), and for some
// rows the next check ('full_now' = an immediate full check, 'keep' = the plan is unchanged).
const EXPECTED: Record<OutcomeClass, Record<SourceState, Expect>> = {
  selection_ok: {
    connecting: ['connected', 'ConnectionChanged StatusChanged'],
    connected: ['connected', 'ConnectionChanged StatusChanged'],
    sync_failed: ['sync_failed', 'ConnectionChanged StatusChanged'],
    reconnecting: ['connected', 'ConnectionRestored StatusChanged'],
    disconnected: ['connected', 'ConnectionRestored StatusChanged'],
    auth_required: ['connected', 'AuthStatusChanged StatusChanged'],
  },
  selection_unauthorized: {
    connecting: ['auth_required', 'AuthStatusChanged StatusChanged'],
    connected: ['auth_required', 'AuthStatusChanged StatusChanged'],
    sync_failed: ['auth_required', 'AuthStatusChanged StatusChanged'],
    reconnecting: ['auth_required', 'AuthStatusChanged StatusChanged'],
    disconnected: ['auth_required', 'AuthStatusChanged StatusChanged'],
    auth_required: ['auth_required', ''],
  },
  selection_failed: {
    connecting: ['reconnecting', 'Reconnecting StatusChanged'],
    connected: ['reconnecting', 'ConnectionLost Reconnecting StatusChanged'],
    sync_failed: ['reconnecting', 'ConnectionLost Reconnecting StatusChanged'],
    reconnecting: ['reconnecting', 'Reconnecting StatusChanged'],
    disconnected: ['disconnected', 'StatusChanged'],
    auth_required: ['reconnecting', 'ConnectionLost Reconnecting StatusChanged'],
  },
  light_ok: {
    connecting: ['connecting', ''],
    connected: ['connected', ''],
    sync_failed: ['sync_failed', ''],
    reconnecting: ['reconnecting', ''],
    disconnected: ['disconnected', ''],
    auth_required: ['auth_required', ''],
  },
  light_failed: {
    connecting: ['connecting', ''],
    connected: ['connected', '', 'full_now'],
    sync_failed: ['sync_failed', '', 'full_now'],
    reconnecting: ['reconnecting', ''],
    disconnected: ['disconnected', ''],
    auth_required: ['auth_required', ''],
  },
  libraries_ok: {
    connecting: ['connecting', '', 'keep'],
    connected: ['connected', '', 'keep'],
    sync_failed: ['connected', 'SyncRestored StatusChanged', 'keep'],
    reconnecting: ['reconnecting', '', 'keep'],
    disconnected: ['disconnected', '', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
  libraries_unauthorized: {
    connecting: ['connecting', '', 'keep'],
    connected: ['auth_required', 'AuthStatusChanged StatusChanged'],
    sync_failed: ['auth_required', 'AuthStatusChanged StatusChanged'],
    reconnecting: ['reconnecting', '', 'keep'],
    disconnected: ['disconnected', '', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
  libraries_failed: {
    connecting: ['connecting', '', 'keep'],
    connected: ['sync_failed', 'SyncFailed StatusChanged', 'keep'],
    sync_failed: ['sync_failed', 'StatusChanged', 'keep'],
    reconnecting: ['reconnecting', '', 'keep'],
    disconnected: ['disconnected', '', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
  server_going_away: {
    connecting: ['connecting', '', 'full_now'],
    connected: ['reconnecting', 'ConnectionLost Reconnecting StatusChanged'],
    sync_failed: ['reconnecting', 'ConnectionLost Reconnecting StatusChanged'],
    reconnecting: ['reconnecting', 'StatusChanged', 'keep'],
    disconnected: ['disconnected', 'StatusChanged', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
  push_lost: {
    connecting: ['connecting', '', 'keep'],
    connected: ['connected', '', 'full_now'],
    sync_failed: ['sync_failed', '', 'full_now'],
    reconnecting: ['reconnecting', '', 'keep'],
    disconnected: ['disconnected', '', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
  network_changed: {
    connecting: ['connecting', '', 'full_now'],
    connected: ['connected', '', 'full_now'],
    sync_failed: ['sync_failed', '', 'full_now'],
    reconnecting: ['reconnecting', '', 'full_now'],
    disconnected: ['disconnected', '', 'full_now'],
    auth_required: ['auth_required', '', 'full_now'],
  },
  credentials_updated: {
    connecting: ['connecting', '', 'full_now'],
    connected: ['connected', '', 'full_now'],
    sync_failed: ['sync_failed', '', 'full_now'],
    reconnecting: ['reconnecting', '', 'full_now'],
    disconnected: ['disconnected', '', 'full_now'],
    auth_required: ['auth_required', '', 'full_now'],
  },
  credentials_missing: {
    connecting: ['auth_required', 'AuthStatusChanged StatusChanged'],
    connected: ['auth_required', 'AuthStatusChanged StatusChanged'],
    sync_failed: ['auth_required', 'AuthStatusChanged StatusChanged'],
    reconnecting: ['auth_required', 'AuthStatusChanged StatusChanged'],
    disconnected: ['auth_required', 'AuthStatusChanged StatusChanged'],
    auth_required: ['auth_required', ''],
  },
  renamed: {
    connecting: ['connecting', '', 'keep'],
    connected: ['connected', '', 'keep'],
    sync_failed: ['sync_failed', '', 'keep'],
    reconnecting: ['reconnecting', '', 'keep'],
    disconnected: ['disconnected', '', 'keep'],
    auth_required: ['auth_required', '', 'keep'],
  },
};

const ROWS = (Object.keys(EXPECTED) as OutcomeClass[]).flatMap((outcomeClass) =>
  STATES.map((state) => ({ outcomeClass, state, expected: EXPECTED[outcomeClass][state] })),
);

describe('reducer transition table', () => {
  it('covers every row and column of TRANSITIONS', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(TRANSITIONS).sort());
    for (const row of Object.values(TRANSITIONS)) expect(Object.keys(row).sort()).toEqual([...STATES].sort());
  });

  it.each(ROWS)('$outcomeClass in $state', ({ outcomeClass, state, expected }) => {
    const before = stateIn(state);
    const outcome = OUTCOMES[outcomeClass];
    expect(classifyOutcome(before, outcome)).toBe(outcomeClass);
    const frozen = structuredClone(before);
    const { state: after, events } = reduce(before, outcome, NOW, SETTINGS);

    expect(before).toEqual(frozen); // pure: the input is not mutated
    expect(after.status.state).toBe(expected[0]);
    expect(events.map((e) => e.type).join(' ')).toBe(expected[1]);
    for (const event of events) {
      expect(event).toMatchObject({ sourceId: SOURCE.id, sourceName: outcomeClass === 'renamed' ? SOURCE.name : SOURCE.name, sourceKind: 'plex', at: NOW });
    }
    const status = events.find((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged');
    if (status) {
      expect(status.status).toEqual(after.status);
      expect(status.previous).toEqual(before.status);
    }
    if (expected[2] === 'full_now') expect(after.next).toEqual({ kind: 'full', at: NOW });
    if (expected[2] === 'keep') expect(after.next).toEqual(before.next);
  });
});

describe('reducer details', () => {
  it('connects through the chosen route, with its kind and latency', () => {
    const { state } = reduce(stateIn('connecting'), OUTCOMES.selection_ok, NOW, SETTINGS);
    expect(state.status).toEqual({ state: 'connected', routeId: REMOTE.id, routeKind: 'remote', latencyMs: 40, since: NOW });
    expect(state.next).toEqual({ kind: 'light', at: NOW + SETTINGS.baseTickMs });
  });

  it('re-verifying the same route after a restart emits nothing and keeps `since`', () => {
    const before = stateIn('connected');
    const { state, events } = reduce(before, { type: 'selection', routes: [LOCAL], results: [{ ok: true, routeId: LOCAL.id, at: NOW, latencyMs: 9 }], chosenRouteId: LOCAL.id, jitter: 0 }, NOW, SETTINGS);
    expect(events).toEqual([]);
    expect(state.status).toMatchObject({ state: 'connected', routeId: LOCAL.id, since: T0, latencyMs: 9 });
  });

  it('ConnectionChanged names the previous kind; ConnectionLost carries the last kind and the best route error', () => {
    const { events } = reduce(stateIn('connected'), OUTCOMES.selection_ok, NOW, SETTINGS);
    expect(events[0]).toMatchObject({ type: 'ConnectionChanged', routeKind: 'remote', previousRouteKind: 'local', latencyMs: 40 });
    const lost = reduce(stateIn('connected'), OUTCOMES.selection_failed, NOW, SETTINGS).events[0];
    expect(lost).toMatchObject({ type: 'ConnectionLost', lastRouteKind: 'local', error: { code: 'refused' } });
  });

  it('ConnectionRestored reports how long the source was down', () => {
    const { events } = reduce(stateIn('reconnecting'), OUTCOMES.selection_ok, NOW, SETTINGS);
    expect(events[0]).toMatchObject({ type: 'ConnectionRestored', routeKind: 'remote', downForMs: NOW - T0 });
  });

  it('reconnecting shows the attempt and a next retry within the backoff ceiling', () => {
    const { state, events } = reduce(stateIn('connected'), OUTCOMES.selection_failed, NOW, SETTINGS);
    expect(state.status).toMatchObject({ state: 'reconnecting', attempt: 1, since: NOW, lastRouteKind: 'local' });
    const s = state.status as Extract<typeof state.status, { state: 'reconnecting' }>;
    expect(s.nextRetryAt - NOW).toBe(550); // 100 ms floor + jitter 0.5 of the remaining 900 ms
    expect(events[1]).toMatchObject({ type: 'Reconnecting', attempt: 1, nextRetryAt: s.nextRetryAt });
    expect(state.next).toEqual({ kind: 'full', at: s.nextRetryAt });
  });

  it('disconnects after the configured number of failed attempts, then retries at the cap', () => {
    let state = stateIn('connected');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      state = reduce(state, OUTCOMES.selection_failed, NOW + i * 1000, SETTINGS).state;
      seen.push(`${state.status.state}:${'attempt' in state.status ? state.status.attempt : ''}`);
    }
    expect(seen).toEqual(['reconnecting:1', 'reconnecting:2', 'reconnecting:3', 'disconnected:4', 'disconnected:5', 'disconnected:6']);
    const s = state.status as Extract<typeof state.status, { state: 'disconnected' }>;
    expect(s.nextRetryAt - (NOW + 5000)).toBe(4275); // jitter 0.5 within [0.9, 1] of the 4.5 s recent cap
    expect(s.since).toBe(NOW + 3000);
  });

  it('an outage older than the recent window is retried at the long cap (30 s)', () => {
    let state = stateIn('connected');
    state = reduce(state, OUTCOMES.selection_failed, NOW, SETTINGS).state;
    const late = NOW + SETTINGS.backoff.recentWindowMs;
    for (let i = 0; i < 5; i++) state = reduce(state, OUTCOMES.selection_failed, late + i * 1000, SETTINGS).state;
    const s = state.status as Extract<typeof state.status, { state: 'disconnected' }>;
    expect(s.nextRetryAt - (late + 4000)).toBe(28_500); // jitter 0.5 within [27 s, 30 s]
  });

  it('a server going away carries its reason into ConnectionLost, Reconnecting and the status, and keeps it on retries', () => {
    const { state, events } = reduce(stateIn('connected'), OUTCOMES.server_going_away, NOW, SETTINGS);
    expect(events.map((e) => ('reason' in e ? e.reason : undefined))).toEqual(['server_restarting', 'server_restarting', undefined]);
    expect(state.status).toMatchObject({ state: 'reconnecting', reason: 'server_restarting' });
    const retry = reduce(state, OUTCOMES.selection_failed, NOW + 1000, SETTINGS).state;
    expect(retry.status).toMatchObject({ state: 'reconnecting', attempt: 2, reason: 'server_restarting' });
  });

  it('a lost push channel marks the reason used if the immediate check then fails; success clears it', () => {
    const suspected = reduce(stateIn('connected'), OUTCOMES.push_lost, NOW, SETTINGS).state;
    expect(suspected.pendingReason).toBe('push_lost');
    const lost = reduce(suspected, OUTCOMES.selection_failed, NOW + 10, SETTINGS);
    expect(lost.events[0]).toMatchObject({ type: 'ConnectionLost', reason: 'push_lost' });
    const fine = reduce(suspected, OUTCOMES.selection_ok, NOW + 10, SETTINGS).state;
    expect(fine.pendingReason).toBeNull();
  });

  it('auth_required names the rejected route and recovers with AuthStatusChanged(false)', () => {
    const { state } = reduce(stateIn('connected'), OUTCOMES.selection_unauthorized, NOW, SETTINGS);
    expect(state.status).toEqual({ state: 'auth_required', since: NOW, routeId: LOCAL.id });
    expect(state.next).toEqual({ kind: 'full', at: NOW + SETTINGS.reselectMs.unknown });
    const back = reduce(state, OUTCOMES.selection_ok, NOW + 1, SETTINGS).events;
    expect(back[0]).toMatchObject({ type: 'AuthStatusChanged', authRequired: false });
  });

  it('auth_required then unreachable then back: one AuthStatusChanged(false) and a ConnectionRestored', () => {
    let state = reduce(stateIn('connected'), OUTCOMES.selection_unauthorized, NOW, SETTINGS).state;
    state = reduce(state, OUTCOMES.selection_failed, NOW + 1, SETTINGS).state;
    expect(state.authRequired).toBe(true);
    const { events } = reduce(state, OUTCOMES.selection_ok, NOW + 2, SETTINGS);
    expect(events.map((e) => e.type)).toEqual(['AuthStatusChanged', 'ConnectionRestored', 'StatusChanged']);
  });

  it('a route answering as another server is only a failed route', () => {
    const { state } = reduce(stateIn('connecting'), { type: 'selection', routes: [LOCAL, REMOTE], results: [{ ok: false, routeId: LOCAL.id, at: NOW, latencyMs: 2, error: { code: 'wrong_server', message: 'another server', foundServerId: 'x' } }, { ok: true, routeId: REMOTE.id, at: NOW, latencyMs: 30 }], chosenRouteId: null, jitter: 0 }, NOW, SETTINGS);
    expect(state.status).toMatchObject({ state: 'connected', routeId: REMOTE.id, routeKind: 'remote' });
  });

  it('ignores a chosen route that failed and never connects without an ok result', () => {
    const { state } = reduce(stateIn('connected'), { type: 'selection', routes: [LOCAL], results: [{ ok: false, routeId: LOCAL.id, at: NOW, latencyMs: 1, error: { code: 'timeout', message: 'no answer' } }], chosenRouteId: LOCAL.id, jitter: 0 }, NOW, SETTINGS);
    expect(state.status.state).toBe('reconnecting');
  });

  it('a light check refreshes latency without an event; stale light results are escalated', () => {
    const { state, events } = reduce(stateIn('connected'), OUTCOMES.light_ok, NOW, SETTINGS);
    expect(events).toEqual([]);
    expect(state.status).toMatchObject({ latencyMs: 7 });
    const stale = reduce(stateIn('connected'), { type: 'light_check', result: { ok: true, routeId: REMOTE.id, at: NOW, latencyMs: 1 } }, NOW, SETTINGS);
    expect(stale.state.next).toEqual({ kind: 'full', at: NOW });
  });

  it('schedules the full re-selection by route kind', () => {
    const connectedAt = (route: typeof LOCAL) =>
      reduce(stateIn('connecting'), { type: 'selection', routes: [route], results: [{ ok: true, routeId: route.id, at: NOW, latencyMs: 1 }], chosenRouteId: route.id, jitter: 0 }, NOW, SETTINGS).state;
    // Walk light checks forward until a full check is planned.
    const fullAfter = (route: typeof LOCAL): number => {
      let state = connectedAt(route);
      for (let i = 0; i < 100 && state.next.kind === 'light'; i++) {
        state = reduce(state, { type: 'light_check', result: { ok: true, routeId: route.id, at: state.next.at, latencyMs: 1 } }, state.next.at, SETTINGS).state;
      }
      return state.next.at - NOW;
    };
    expect(fullAfter(LOCAL)).toBe(300_000);
    expect(fullAfter(REMOTE)).toBe(120_000);
    expect(fullAfter({ ...REMOTE, id: 'relay', kind: 'relay' })).toBe(30_000);
  });

  it('libraries results for another route than the current one are ignored', () => {
    const { state, events } = reduce(stateIn('connected'), { type: 'libraries', routeId: REMOTE.id, ok: false, error: { code: 'http_error', message: 'x' } }, NOW, SETTINGS);
    expect(events).toEqual([]);
    expect(state.status.state).toBe('connected');
  });

  it('counts failed attempts from the status alone, also for a status restored from the database', () => {
    const restored = initialMonitorState(SOURCE, NOW, { state: 'disconnected', since: T0, attempt: 7, nextRetryAt: NOW });
    expect(reduce(restored, OUTCOMES.selection_failed, NOW, SETTINGS).state.status).toMatchObject({ state: 'disconnected', attempt: 8 });
    // A stored attempt below 1 counts as one failed attempt (the outage is known to have begun).
    const odd = initialMonitorState(SOURCE, NOW, { state: 'reconnecting', since: T0, attempt: 0, nextRetryAt: NOW });
    expect(reduce(odd, OUTCOMES.selection_failed, NOW, SETTINGS).state.status).toMatchObject({ state: 'reconnecting', attempt: 2 });
    expect(reduce(stateIn('reconnecting'), OUTCOMES.selection_failed, NOW, SETTINGS).state.status).toMatchObject({ attempt: 2 });
  });

  it('rename changes the name carried by later events', () => {
    const renamed = reduce(stateIn('connected'), OUTCOMES.renamed, NOW, SETTINGS).state;
    const { events } = reduce(renamed, OUTCOMES.selection_failed, NOW, SETTINGS);
    expect(events.every((e) => e.sourceName === 'Den Plex')).toBe(true);
  });
});
