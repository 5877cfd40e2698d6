// Properties of the check planner over random event sequences (fast-check), driven through a model
// of the monitor that executes its actions the way src/monitor/connection-monitor.ts does: one
// check loop per source, `request_full` gated on the lifecycle, checks that run, probe, end.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialCheckPlanner, stepPlanner, type CheckPlanner, type PlannerAction, type PlannerEvent } from './check-planner.js';
import type { CheckKind } from './scheduling.js';
import { SETTINGS } from '../../test/support/core-fixtures.js';

type Command =
  | { c: 'check_now' }
  | { c: 'timer'; kind: CheckKind }
  | { c: 'plan'; due: boolean }
  | { c: 'push'; open: boolean }
  | { c: 'push_lost'; announced: boolean; reachable: boolean }
  | { c: 'overdue'; reachable: boolean }
  | { c: 'pong_late' }
  | { c: 'probe' }
  | { c: 'libraries'; ok: boolean; networkLevel: boolean }
  | { c: 'finish'; escalate: boolean }
  | { c: 'stop' }
  | { c: 'start' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Command>({ c: 'check_now' }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constant('timer' as const), kind: fc.constantFrom<CheckKind>('full', 'light') }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('plan' as const), due: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('push' as const), open: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('push_lost' as const), announced: fc.boolean(), reachable: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constant('overdue' as const), reachable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constant<Command>({ c: 'pong_late' }) },
  { weight: 6, arbitrary: fc.constant<Command>({ c: 'probe' }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constant('libraries' as const), ok: fc.boolean(), networkLevel: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ c: fc.constant('finish' as const), escalate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant<Command>({ c: 'stop' }) },
  { weight: 1, arbitrary: fc.constant<Command>({ c: 'start' }) },
);

const NOW = 1_000;

/** What happened, for the properties to judge. */
type Trace =
  | { t: 'event'; event: PlannerEvent; before: CheckPlanner; after: CheckPlanner; actions: PlannerAction[]; accepted: boolean; running: boolean }
  | { t: 'loop_started'; kind: CheckKind }
  | { t: 'check_started'; kind: CheckKind };

/** The monitor, reduced to what the planner steers. */
class Model {
  planner = initialCheckPlanner();
  running = true;
  /** The check loop in flight: the kind of its current check, whether that one probed, whether it was cancelled. */
  loop: { kind: CheckKind; probed: boolean; cancelled: boolean } | null = null;
  readonly trace: Trace[] = [];

  dispatch(event: PlannerEvent): PlannerAction[] {
    const before = this.planner;
    const step = stepPlanner(before, event, SETTINGS);
    this.planner = step.planner;
    this.trace.push({ t: 'event', event, before, after: step.planner, actions: step.actions, accepted: step.accepted, running: this.running });
    for (const action of step.actions) {
      if (action.do === 'run') {
        // THE mutex: the planner never starts a loop while one is in flight.
        expect(this.loop).toBeNull();
        this.loop = { kind: action.kind, probed: false, cancelled: false };
        this.trace.push({ t: 'loop_started', kind: action.kind }, { t: 'check_started', kind: action.kind });
      }
      if (action.do === 'cancel_running' && this.loop) this.loop.cancelled = true;
      if (action.do === 'request_full') this.requestFull();
    }
    return step.actions;
  }

  requestFull(): void {
    if (this.running) this.dispatch({ type: 'check_requested' });
  }

  apply(command: Command): void {
    switch (command.c) {
      case 'check_now':
        return this.requestFull();
      case 'timer':
        if (this.running) this.dispatch({ type: 'timer_fired', kind: command.kind });
        return;
      case 'plan':
        if (this.running) this.dispatch({ type: 'plan_changed', next: { kind: 'full', at: command.due ? NOW : NOW + 10 }, now: NOW });
        return;
      case 'push':
        this.dispatch({ type: command.open ? 'push_opened' : 'push_closed' });
        return;
      case 'push_lost':
        this.dispatch({ type: 'push_lost', announced: command.announced, reachable: command.reachable });
        // The reducer then plans a full check now for a silent loss of a reachable source; an
        // announced loss makes it reconnecting (a full retry later); unreachable: the plan stays.
        if (this.running) this.dispatch({ type: 'plan_changed', next: { kind: 'full', at: command.reachable && !command.announced ? NOW : NOW + 10 }, now: NOW });
        return;
      case 'overdue':
        this.dispatch({ type: 'push_overdue', reachable: command.reachable });
        return;
      case 'pong_late':
        this.dispatch({ type: 'pong_late' });
        return;
      case 'probe':
        // A cancelled check returns before it probes (stale after the semaphore or credentials).
        if (!this.loop || this.loop.probed || this.loop.cancelled || !this.running) return;
        this.loop.probed = true;
        this.dispatch({ type: 'probe_starting', kind: this.loop.kind, configuredTimeoutMs: SETTINGS.probeTimeoutMs });
        return;
      case 'libraries':
        if (!this.loop?.probed || this.loop.cancelled) return;
        this.dispatch({ type: 'libraries_answered', ok: command.ok, networkLevel: command.networkLevel });
        return;
      case 'finish':
        return this.finish(command.escalate);
      case 'stop':
        this.running = false;
        this.dispatch({ type: 'stopped' });
        if (this.loop) this.loop.cancelled = true;
        return;
      case 'start':
        this.running = true;
        return;
    }
  }

  /** The current check returns; the loop goes on if the planner says so. */
  finish(escalate: boolean): void {
    if (!this.loop) return;
    this.dispatch({ type: 'check_ended' });
    const ran = this.loop.kind;
    const actions = this.dispatch({ type: 'check_done', ran, next: { kind: 'full', at: escalate ? NOW : NOW + 10 }, now: NOW, halted: !this.running });
    const next = actions.find((a) => a.do === 'next');
    if (next) {
      this.loop = { kind: next.kind, probed: false, cancelled: false };
      this.trace.push({ t: 'check_started', kind: next.kind });
      return;
    }
    this.loop = null;
    this.dispatch({ type: 'loop_ended' });
  }

  /** Let every check run to its end, probing each (bounded: a loop runs at most two checks per owed request). */
  drain(): void {
    for (let i = 0; i < 20 && this.loop; i++) {
      this.apply({ c: 'probe' });
      this.finish(false);
    }
    expect(this.loop).toBeNull();
  }

  /** Drain, let the planned full check come due (a retry of an unreachable source is one), drain again. */
  settle(): void {
    this.drain();
    this.apply({ c: 'timer', kind: 'full' });
    this.drain();
  }
}

function run(commands: Command[]): Model {
  const model = new Model();
  for (const command of commands) {
    model.apply(command);
    // The planner's mutex flag is the model's loop, always.
    expect(model.planner.checking).toBe(model.loop !== null);
  }
  return model;
}

const commandsArb = fc.array(commandArb, { minLength: 1, maxLength: 60 });
const events = (trace: Trace[]) => trace.filter((e): e is Extract<Trace, { t: 'event' }> => e.t === 'event');

describe('check planner properties', () => {
  it('never two checks of a source at once: a loop starts only when none runs, and continues only from its own check', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const model = run(commands);
        model.drain();
        for (const e of events(model.trace)) {
          if (e.actions.some((a) => a.do === 'run')) expect(e.before.checking).toBe(false);
          if (e.actions.some((a) => a.do === 'next')) expect(e.event.type).toBe('check_done');
          expect(e.actions.filter((a) => a.do === 'run' || a.do === 'next').length).toBeLessThanOrEqual(1);
        }
        expect(model.planner.checking).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a full check requested during a check always runs right after it (coalesced into one), unless the monitor stopped', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const model = run(commands);
        model.drain();
        let owed = false;
        for (const e of events(model.trace)) {
          const asksFull = e.event.type === 'check_requested' || (e.event.type === 'plan_changed' && e.event.next.at <= e.event.now);
          if (asksFull && e.before.checking) owed = true;
          // Libraries that got no answer owe a re-check of the routes (once).
          if (e.event.type === 'libraries_answered' && !e.event.ok && e.event.networkLevel && !e.before.librariesRetried) owed = true;
          if (e.event.type === 'stopped') owed = false;
          if (e.event.type === 'check_done' && !e.event.halted) {
            if (owed) expect(e.actions).toEqual([{ do: 'next', kind: 'full' }]);
            owed = false;
          }
          expect(e.after.rerun).toBe(owed);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a suspicion resolves: the first full probe after it is early, or a late pong withdraws it; a running monitor always gets to that probe', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const model = run(commands);
        model.settle();
        let overdue = false;
        let silent = false;
        /** A suspicion raised while the monitor runs, with no stop since: its full check must have run. */
        let mustResolve = false;
        for (const e of events(model.trace)) {
          if (e.event.type === 'push_overdue' && e.accepted) {
            overdue = true;
            mustResolve = e.running;
          }
          if (e.event.type === 'stopped') mustResolve = false;
          if (e.event.type === 'push_lost' && !e.event.announced && e.event.reachable) silent = true;
          if (e.event.type === 'pong_late') overdue = false;
          if (e.event.type === 'probe_starting') {
            const probe = e.actions[0];
            expect(probe?.do).toBe('probe');
            if (probe?.do !== 'probe') continue;
            if (e.event.kind === 'light') expect(probe.timeout).toBe('configured');
            else {
              expect(probe.timeout).toBe(overdue ? 'early' : silent ? 'suspect' : 'configured');
              if (overdue) overdue = false;
              else silent = false;
            }
            expect(e.after.earlyRunning).toBe(probe.timeout === 'early');
          }
          expect(e.after.overdueSuspected).toBe(overdue);
          expect(e.after.silenceSuspected).toBe(silent);
        }
        if (mustResolve) expect(model.planner.overdueSuspected).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('only an early check survives a push loss, and a late pong cancels only an early check', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const model = run(commands);
        for (const e of events(model.trace)) {
          const cancels = e.actions.some((a) => a.do === 'cancel_running');
          if (e.event.type === 'push_lost') expect(cancels).toBe(e.before.checking && !e.before.earlyRunning);
          if (e.event.type === 'pong_late') expect(cancels).toBe(e.before.earlyRunning);
          if (e.before.earlyRunning) expect(e.before.checking).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('libraries without an answer are reported on the second try, never skipped twice in a row', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const model = run(commands);
        let skipped = false;
        for (const e of events(model.trace)) {
          if (e.event.type !== 'libraries_answered') continue;
          const reported = e.actions.some((a) => a.do === 'report_libraries');
          if (!reported) {
            expect(e.event.ok || !e.event.networkLevel).toBe(false);
            expect(skipped).toBe(false);
          }
          skipped = !reported;
        }
      }),
      { numRuns: 500 },
    );
  });
});
