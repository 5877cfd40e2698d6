import { describe, expect, it } from 'vitest';
import { initialCheckPlanner, stepPlanner, type CheckPlanner, type PlannerAction, type PlannerEvent } from './check-planner.js';
import { SETTINGS } from '../../test/support/core-fixtures.js';

const IDLE = initialCheckPlanner();
const CHECKING: CheckPlanner = { ...IDLE, checking: true };
const EARLY: CheckPlanner = { ...IDLE, checking: true, earlyRunning: true };
const NOW = 1_000_000;
const PROBE = (kind: 'full' | 'light'): PlannerEvent => ({ type: 'probe_starting', kind, configuredTimeoutMs: 5_000 });
const DONE = (ran: 'full' | 'light', due: boolean, halted = false): PlannerEvent => ({ type: 'check_done', ran, next: { kind: 'full', at: due ? NOW : NOW + 1 }, now: NOW, halted });

interface Row {
  name: string;
  before: CheckPlanner;
  event: PlannerEvent;
  actions: PlannerAction[];
  /** The fields that change (everything else stays as it was). */
  after?: Partial<CheckPlanner>;
  accepted?: boolean;
}

// THE planner's transition table, row by row: state before, event, actions in order, state after.
const TABLE: Row[] = [
  // Requests: one loop per source, later requests coalesce into one re-run.
  { name: 'checkNow while idle starts a full check', before: IDLE, event: { type: 'check_requested' }, actions: [{ do: 'run', kind: 'full' }], after: { checking: true } },
  { name: 'checkNow while checking owes one re-run', before: CHECKING, event: { type: 'check_requested' }, actions: [], after: { rerun: true } },
  { name: 'checkNow with a re-run owed owes still one', before: { ...CHECKING, rerun: true }, event: { type: 'check_requested' }, actions: [] },
  { name: 'the timer starts the planned check', before: IDLE, event: { type: 'timer_fired', kind: 'light' }, actions: [{ do: 'run', kind: 'light' }], after: { checking: true } },
  { name: 'a timer while checking is ignored', before: CHECKING, event: { type: 'timer_fired', kind: 'light' }, actions: [], accepted: false },
  { name: 'a plan due now runs at once', before: IDLE, event: { type: 'plan_changed', next: { kind: 'full', at: NOW }, now: NOW }, actions: [{ do: 'run', kind: 'full' }], after: { checking: true } },
  { name: 'a plan due now while checking is a re-run', before: CHECKING, event: { type: 'plan_changed', next: { kind: 'full', at: NOW }, now: NOW }, actions: [], after: { rerun: true } },
  { name: 'a later plan re-arms the timer', before: IDLE, event: { type: 'plan_changed', next: { kind: 'light', at: NOW + 5 }, now: NOW }, actions: [{ do: 'schedule' }] },
  { name: 'a later plan while checking waits for the loop', before: CHECKING, event: { type: 'plan_changed', next: { kind: 'light', at: NOW + 5 }, now: NOW }, actions: [] },
  // Push channel open/closed: the cadence changes.
  { name: 'push opened while idle re-plans', before: IDLE, event: { type: 'push_opened' }, actions: [{ do: 'replan' }], after: { pushOpen: true } },
  { name: 'push opened while checking: the check plans with the new cadence', before: CHECKING, event: { type: 'push_opened' }, actions: [], after: { pushOpen: true } },
  { name: 'push closed re-plans', before: { ...IDLE, pushOpen: true }, event: { type: 'push_closed' }, actions: [{ do: 'replan' }], after: { pushOpen: false } },
  { name: 'push opened twice changes nothing', before: { ...IDLE, pushOpen: true }, event: { type: 'push_opened' }, actions: [], accepted: false },
  // Push lost: a silent channel is confirmed quickly; a stuck check is cancelled, an early one kept.
  { name: 'silent loss while reachable: suspect timeout next', before: IDLE, event: { type: 'push_lost', announced: false, reachable: true }, actions: [], after: { silenceSuspected: true } },
  { name: 'silent loss cancels a check in flight', before: CHECKING, event: { type: 'push_lost', announced: false, reachable: true }, actions: [{ do: 'cancel_running' }], after: { silenceSuspected: true } },
  { name: 'silent loss keeps an early check (it is the answer)', before: EARLY, event: { type: 'push_lost', announced: false, reachable: true }, actions: [], after: { silenceSuspected: true } },
  { name: 'announced loss needs no suspect timeout', before: CHECKING, event: { type: 'push_lost', announced: true, reachable: true }, actions: [{ do: 'cancel_running' }] },
  { name: 'loss while unreachable needs no suspect timeout', before: IDLE, event: { type: 'push_lost', announced: false, reachable: false }, actions: [] },
  // Overdue channel: an early check of every route, unless already unreachable.
  { name: 'overdue while idle: early check requested', before: IDLE, event: { type: 'push_overdue', reachable: true }, actions: [{ do: 'request_full' }], after: { overdueSuspected: true } },
  { name: 'overdue while checking: cancel the stuck check, then request', before: CHECKING, event: { type: 'push_overdue', reachable: true }, actions: [{ do: 'cancel_running' }, { do: 'request_full' }], after: { overdueSuspected: true } },
  { name: 'overdue during an early check keeps it', before: EARLY, event: { type: 'push_overdue', reachable: true }, actions: [{ do: 'request_full' }], after: { overdueSuspected: true } },
  { name: 'overdue while unreachable is refused', before: IDLE, event: { type: 'push_overdue', reachable: false }, actions: [], accepted: false },
  { name: 'a late pong cancels the early check', before: EARLY, event: { type: 'pong_late' }, actions: [{ do: 'cancel_running' }] },
  { name: 'a late pong before the early check withdraws the suspicion', before: { ...CHECKING, overdueSuspected: true }, event: { type: 'pong_late' }, actions: [], after: { overdueSuspected: false } },
  // Probe timeouts: early beats suspect beats configured; light checks consume nothing.
  { name: 'full probe, no suspicion: configured timeout', before: CHECKING, event: PROBE('full'), actions: [{ do: 'probe', timeout: 'configured', timeoutMs: 5_000 }] },
  { name: 'full probe, overdue: early timeout', before: { ...CHECKING, overdueSuspected: true, silenceSuspected: true }, event: PROBE('full'), actions: [{ do: 'probe', timeout: 'early', timeoutMs: SETTINGS.earlySuspectTimeoutMs }], after: { overdueSuspected: false, earlyRunning: true } },
  { name: 'full probe, silent: suspect timeout', before: { ...CHECKING, silenceSuspected: true }, event: PROBE('full'), actions: [{ do: 'probe', timeout: 'suspect', timeoutMs: SETTINGS.suspectProbeTimeoutMs }], after: { silenceSuspected: false } },
  { name: 'light probe keeps the suspicions for the full check', before: { ...CHECKING, overdueSuspected: true, silenceSuspected: true }, event: PROBE('light'), actions: [{ do: 'probe', timeout: 'configured', timeoutMs: 5_000 }] },
  { name: 'a shorter configured timeout wins', before: { ...CHECKING, silenceSuspected: true }, event: { type: 'probe_starting', kind: 'full', configuredTimeoutMs: 700 }, actions: [{ do: 'probe', timeout: 'suspect', timeoutMs: 700 }], after: { silenceSuspected: false } },
  { name: 'the check ended: no longer early', before: EARLY, event: { type: 'check_ended' }, actions: [], after: { earlyRunning: false } },
  // After a check: the owed re-run, or a failed light check's escalation, runs in the same loop.
  { name: 'owed re-run runs next', before: { ...CHECKING, rerun: true }, event: DONE('full', false), actions: [{ do: 'next', kind: 'full' }], after: { rerun: false } },
  { name: 'failed light check escalates at once', before: CHECKING, event: DONE('light', true), actions: [{ do: 'next', kind: 'full' }] },
  { name: 'a due full plan after a full check waits for the timer', before: CHECKING, event: DONE('full', true), actions: [] },
  { name: 'nothing owed: the loop ends', before: CHECKING, event: DONE('light', false), actions: [] },
  { name: 'halted: the loop ends, the re-run stays owed', before: { ...CHECKING, rerun: true }, event: DONE('full', false, true), actions: [] },
  { name: 'loop ended: idle, timer armed', before: EARLY, event: { type: 'loop_ended' }, actions: [{ do: 'schedule' }], after: { checking: false, earlyRunning: false } },
  // Libraries: no answer at all re-checks the routes once before it is reported.
  { name: 'libraries without an answer: re-check the routes first', before: CHECKING, event: { type: 'libraries_answered', ok: false, networkLevel: true }, actions: [], after: { librariesRetried: true, rerun: true } },
  { name: 'libraries without an answer again: reported', before: { ...CHECKING, librariesRetried: true }, event: { type: 'libraries_answered', ok: false, networkLevel: true }, actions: [{ do: 'report_libraries' }], after: { librariesRetried: false } },
  { name: 'a server error on the libraries: reported at once', before: CHECKING, event: { type: 'libraries_answered', ok: false, networkLevel: false }, actions: [{ do: 'report_libraries' }] },
  { name: 'libraries ok: reported, retry forgotten', before: { ...CHECKING, librariesRetried: true }, event: { type: 'libraries_answered', ok: true, networkLevel: false }, actions: [{ do: 'report_libraries' }], after: { librariesRetried: false } },
  { name: 'stop forgets an owed re-run', before: { ...CHECKING, rerun: true, silenceSuspected: true }, event: { type: 'stopped' }, actions: [], after: { rerun: false } },
];

describe('check planner transition table', () => {
  it.each(TABLE)('$name', ({ before, event, actions, after, accepted }) => {
    const frozen = Object.freeze({ ...before });
    const step = stepPlanner(frozen, event, SETTINGS);
    expect(step.actions).toEqual(actions);
    expect(step.planner).toEqual({ ...before, ...after });
    expect(step.accepted).toBe(accepted ?? true);
    expect(frozen).toEqual(before); // never mutates its input
  });

  it('covers every event type', () => {
    const covered = new Set(TABLE.map((row) => row.event.type));
    const all: PlannerEvent['type'][] = ['check_requested', 'timer_fired', 'plan_changed', 'push_opened', 'push_closed', 'push_lost', 'push_overdue', 'pong_late', 'probe_starting', 'check_ended', 'check_done', 'loop_ended', 'libraries_answered', 'stopped'];
    expect([...covered].sort()).toEqual([...all].sort());
  });
});
