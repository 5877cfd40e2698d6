// The check planner: per source, which check the monitor runs next and how — a full or a light one,
// an early check with the short timeout, a re-run owed after the check in flight, a suspicion still
// outstanding, libraries to be retried. The status reducer (reducer.ts) decides what a check's
// outcome *means*; this machine decides what the monitor *does* about checks. Pure: no clock, no
// timers, no I/O; the monitor (src/monitor/connection-monitor.ts) feeds it events and executes the
// actions it returns, in order.
import type { CheckKind, PlannedCheck } from './scheduling.js';
import type { MonitorSettings } from './settings.js';

export interface CheckPlanner {
  /** A check loop of this source is in flight: the per-source mutex (never two checks at once). */
  checking: boolean;
  /** The check in flight is an early check: a pong timeout must not cancel it, it is the answer. */
  earlyRunning: boolean;
  /** A full check was asked for while one was in flight: exactly one more runs right after it. */
  rerun: boolean;
  /** The push channel went silent: the next full check uses the shorter suspect timeout. */
  silenceSuspected: boolean;
  /** The push channel is overdue: the next full check is an early check (early-suspect timeout). */
  overdueSuspected: boolean;
  /** Libraries got no answer once: the routes were re-checked before calling the libraries broken. */
  librariesRetried: boolean;
  /** The push channel is open: light checks run at the longer push-open tick. */
  pushOpen: boolean;
}

export function initialCheckPlanner(): CheckPlanner {
  return { checking: false, earlyRunning: false, rerun: false, silenceSuspected: false, overdueSuspected: false, librariesRetried: false, pushOpen: false };
}

/** Which timeout a probe runs with: the configured one, the push-lost suspect one, or the early one. */
export type ProbeTimeoutKind = 'configured' | 'suspect' | 'early';

/**
 * What the monitor tells the planner. The monitor only sends the events that may start a check
 * (`check_requested`, `timer_fired`, `plan_changed`) while it runs and the source is known: the
 * lifecycle (start/stop/remove) stays in the executor.
 */
export type PlannerEvent =
  /** checkNow, changed routes, an overdue channel: a full check now, coalesced with one in flight. */
  | { type: 'check_requested' }
  /** The timer of the planned check fired. */
  | { type: 'timer_fired'; kind: CheckKind }
  /** The reducer planned the next check anew outside a check (push lost, network changed, new credentials). */
  | { type: 'plan_changed'; next: PlannedCheck; now: number }
  | { type: 'push_opened' }
  | { type: 'push_closed' }
  /** The channel closed or timed out (`announced`: the server said why, e.g. restarting). */
  | { type: 'push_lost'; announced: boolean; reachable: boolean }
  /** A ping went unanswered longer than the channel's round trip allows. */
  | { type: 'push_overdue'; reachable: boolean }
  /** The overdue channel answered after all (a busy server, not a silence). */
  | { type: 'pong_late' }
  /** A check of the loop is about to probe (after the semaphore and the credentials). */
  | { type: 'probe_starting'; kind: CheckKind; configuredTimeoutMs: number }
  /** That check ended (answered, cancelled or failed). */
  | { type: 'check_ended' }
  /** A check of the loop returned; `halted`: the monitor stopped or the source was removed meanwhile. */
  | { type: 'check_done'; ran: CheckKind; next: PlannedCheck; now: number; halted: boolean }
  /** The check loop is over (also after an error). */
  | { type: 'loop_ended' }
  /** Libraries fetched after a check; `networkLevel`: the answer may be the route's fault (no answer at all, or a token refused there): re-check the routes once first. */
  | { type: 'libraries_answered'; ok: boolean; networkLevel: boolean }
  | { type: 'stopped' };

export type PlannerAction =
  /** Start a check loop with this check (the source was idle; cancel its timer). */
  | { do: 'run'; kind: CheckKind }
  /** The loop in flight runs one more check, of this kind. */
  | { do: 'next'; kind: CheckKind }
  /** Abort the probes of the source's check in flight (they wait on a route that went silent, or the early check lost its reason). */
  | { do: 'cancel_running' }
  /** Ask for a full check now (the executor gates it on its lifecycle, then sends `check_requested`). */
  | { do: 'request_full' }
  /** Arm the timer for the reducer's planned check. */
  | { do: 'schedule' }
  /** Plan the idle source's periodic check afresh: its cadence changed. */
  | { do: 'replan' }
  /** Probe with this timeout. */
  | { do: 'probe'; timeout: ProbeTimeoutKind; timeoutMs: number }
  /** Hand the libraries' answer to the reducer (otherwise the routes are re-checked first). */
  | { do: 'report_libraries' };

export interface PlannerStep {
  planner: CheckPlanner;
  actions: PlannerAction[];
  /** False: the event does not apply in this state and changed nothing. */
  accepted: boolean;
}

export type PlannerTimeouts = Pick<MonitorSettings, 'suspectProbeTimeoutMs' | 'earlySuspectTimeoutMs'>;

/** Apply one event. Never mutates its input. */
export function stepPlanner(planner: CheckPlanner, event: PlannerEvent, timeouts: PlannerTimeouts): PlannerStep {
  const p: CheckPlanner = { ...planner };
  const actions: PlannerAction[] = [];
  const done = (accepted = true): PlannerStep => ({ planner: accepted ? p : planner, actions: accepted ? actions : [], accepted });
  /** A full check now: after the one in flight if there is one (coalesced), else at once. */
  const fullCheckNow = (): void => {
    if (p.checking) p.rerun = true;
    else {
      p.checking = true;
      actions.push({ do: 'run', kind: 'full' });
    }
  };
  /** A check waiting on a route that just went silent would hold the confirming check back by up to a whole probe timeout; an early check is about to answer: keep it. */
  const cancelUnlessEarly = (): void => {
    if (p.checking && !p.earlyRunning) actions.push({ do: 'cancel_running' });
  };

  switch (event.type) {
    case 'check_requested':
      fullCheckNow();
      return done();
    case 'timer_fired':
      if (p.checking) return done(false);
      p.checking = true;
      actions.push({ do: 'run', kind: event.kind });
      return done();
    case 'plan_changed':
      if (event.next.at <= event.now) fullCheckNow();
      else if (!p.checking) actions.push({ do: 'schedule' });
      return done();
    case 'push_opened':
    case 'push_closed': {
      const open = event.type === 'push_opened';
      if (p.pushOpen === open) return done(false);
      p.pushOpen = open;
      // A check in flight plans its follow-up with the new cadence itself.
      if (!p.checking) actions.push({ do: 'replan' });
      return done();
    }
    case 'push_lost':
      // An announced loss (shutdown, restart) needs no probe to confirm it; a silent one does, quickly.
      if (!event.announced && event.reachable) p.silenceSuspected = true;
      cancelUnlessEarly();
      return done();
    case 'push_overdue':
      if (!event.reachable) return done(false);
      p.overdueSuspected = true;
      cancelUnlessEarly();
      actions.push({ do: 'request_full' });
      return done();
    case 'pong_late':
      // The check planned before the suspicion stays planned; only an early check is cancelled.
      p.overdueSuspected = false;
      if (p.earlyRunning) actions.push({ do: 'cancel_running' });
      return done();
    case 'probe_starting': {
      let timeout: ProbeTimeoutKind = 'configured';
      let timeoutMs = event.configuredTimeoutMs;
      if (event.kind === 'full' && p.overdueSuspected) {
        p.overdueSuspected = false;
        p.earlyRunning = true;
        timeout = 'early';
        timeoutMs = Math.min(timeoutMs, timeouts.earlySuspectTimeoutMs);
      } else if (event.kind === 'full' && p.silenceSuspected) {
        p.silenceSuspected = false;
        timeout = 'suspect';
        timeoutMs = Math.min(timeoutMs, timeouts.suspectProbeTimeoutMs);
      }
      actions.push({ do: 'probe', timeout, timeoutMs });
      return done();
    }
    case 'check_ended':
      p.earlyRunning = false;
      return done();
    case 'check_done':
      if (event.halted) return done();
      if (p.rerun) {
        p.rerun = false;
        actions.push({ do: 'next', kind: 'full' });
      } else if (event.ran === 'light' && event.next.kind === 'full' && event.next.at <= event.now) {
        // A failed light check escalates to a full check at once, in the same loop.
        actions.push({ do: 'next', kind: 'full' });
      }
      return done();
    case 'loop_ended':
      p.checking = false;
      p.earlyRunning = false;
      actions.push({ do: 'schedule' });
      return done();
    case 'libraries_answered':
      // No answer at all says more about the route than about the libraries: re-check the routes
      // once before calling a reachable server's libraries broken.
      if (!event.ok && event.networkLevel && !p.librariesRetried) {
        p.librariesRetried = true;
        p.rerun = true;
        return done();
      }
      p.librariesRetried = false;
      actions.push({ do: 'report_libraries' });
      return done();
    case 'stopped':
      p.rerun = false;
      return done();
  }
}
