// The scheduler for all sources. It executes what the pure core decides: the reducer says what the
// status is and when the next check runs; the check planner (core/check-planner.ts) says which check
// runs now, with which timeout, whether one more is owed and what to cancel. The monitor owns the
// timers, the I/O and the lifecycle (start/stop/remove): it runs checks (never two of one source at
// once, at most `maxConcurrentChecks` overall), feeds every outcome back into the reducer and reports.
import type { Credentials, MediaBackend } from '../backends/types.js';
import { initialCheckPlanner, stepPlanner, type CheckPlanner, type PlannerEvent, type PlannerStep } from '../core/check-planner.js';
import { initialMonitorState, type MonitorState } from '../core/monitor-state.js';
import type { Outcome } from '../core/outcomes.js';
import { redactProbeError } from '../core/redact.js';
import { reduce } from '../core/reducer.js';
import { tokenRejected } from '../core/route-refresh.js';
import {
  dueReturnChecks,
  heldRouteIds,
  initialReturnState,
  nextReturnCheckAt,
  observeReturnProbe,
  observeSelection,
  returnCheckFloorMs,
  shouldReturn,
  syncReturnState,
  type ReturnState,
} from '../core/return-policy.js';
import { effectiveSettings, replanPeriodicCheck, type CheckKind } from '../core/scheduling.js';
import { EngineMonitorSettingsSchema, type MonitorSettings, type MonitorSettingsInput } from '../core/settings.js';
import type { LossReason, ProbeResult, Route, Source, SourceKind, SourceStatus } from '../core/types.js';
import { clampDelay, realClock, type Clock, type TimerHandle } from './clock.js';
import { ConnectionService, formatSeconds } from './connection-service.js';
import { guardedCall } from './guarded-call.js';
import type { MonitorListener } from './monitor-listener.js';
import { Semaphore } from './semaphore.js';

export interface ConnectionMonitorOptions {
  getBackend(kind: SourceKind): MediaBackend | undefined;
  /** The source's secrets; null/undefined when none are stored (-> auth_required). */
  getCredentials(sourceId: string): Credentials | null | undefined | Promise<Credentials | null | undefined>;
  clock?: Clock;
  /** Uniform in [0, 1), for backoff jitter. Defaults to Math.random. */
  random?: () => number;
  settings?: MonitorSettingsInput;
  listener?: MonitorListener;
  service?: ConnectionService;
  /**
   * A full check found no route and a route rejecting the token: new credentials to retry the check
   * with once (Plex: the per-server token plex.tv hands out now), or null to let the rejection stand
   * (auth_required). Asked before the outcome is applied, so a silently rotated token never shows.
   */
  refreshCredentials?(sourceId: string, rejected: Credentials): Promise<Credentials | null>;
}

/** Last-known state loaded from the database at start-up: served at once, then re-verified. */
export interface InitialSourceState {
  status?: SourceStatus | null;
}

interface Entry {
  source: Source;
  state: MonitorState;
  /** Which check runs next and how (pure; `stepPlanner` decides, this class executes). */
  planner: CheckPlanner;
  timer: TimerHandle | null;
  /** Probation of the routes preferred to the current one (pure; `return-policy.ts` decides). */
  returning: ReturnState;
  /** The timer of the next return check, and whether one is in flight. */
  returnTimer: TimerHandle | null;
  returnChecking: boolean;
  /** Controllers of this source's checks whose probes may still run (stragglers included). */
  controllers: Set<AbortController>;
  removed: boolean;
}

/** Library failures that mean the route did not answer, not that the libraries are broken. */
const NETWORK_LEVEL: ReadonlySet<string> = new Set(['timeout', 'refused', 'dns', 'tls']);
/**
 * Libraries answers that say more about the route than about the libraries: no answer at all, or a
 * token refused there — which an impostor now behind the route also does. The routes are re-checked
 * (the probe tells a wrong server from a sign-in that is gone) before the answer is reported.
 */
const RECHECK_ROUTES_FIRST: ReadonlySet<string> = new Set([...NETWORK_LEVEL, 'unauthorized']);

export class ConnectionMonitor {
  readonly settings: MonitorSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly service: ConnectionService;
  private readonly semaphore: Semaphore;
  private readonly entries = new Map<string, Entry>();
  /** Stragglers' `settled` promises, awaited by stop(). */
  private readonly stragglers = new Set<Promise<unknown>>();
  /** Check loops in flight, including those of sources removed meanwhile, awaited by stop(). */
  private readonly loops = new Set<Promise<void>>();
  private listener: MonitorListener;
  private started = false;
  /** Effective settings for the current number of sources (with and without an open push channel). */
  private scaled: { sources: number; unreachable: number; polling: MonitorSettings; pushOpen: MonitorSettings } | null = null;
  /** Sources reconnecting or disconnected now (the retry budget is shared by them). */
  private unreachable = 0;
  /** Sources on a less preferred route with better ones on probation (they share `maxReturnChecksPerS`). */
  private onProbation = 0;

  constructor(private readonly options: ConnectionMonitorOptions) {
    // Settings from the file were range-checked already; code (tests, bench) may pick fast cadences.
    this.settings = EngineMonitorSettingsSchema.parse(options.settings ?? {});
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.service = options.service ?? new ConnectionService({ clock: this.clock });
    this.semaphore = new Semaphore(this.settings.maxConcurrentChecks);
    this.listener = options.listener ?? {};
  }

  /** Replace the listener (e.g. once the engine has wired store and SSE). */
  setListener(listener: MonitorListener): void {
    this.listener = listener;
  }

  get isRunning(): boolean {
    return this.started;
  }

  // ---- sources ------------------------------------------------------------------------------

  /** Add a source (or update it if known). `initial` serves a stored status until re-verified. */
  addSource(source: Source, initial?: InitialSourceState): void {
    if (this.entries.has(source.id)) {
      this.updateSource(source);
      return;
    }
    const state = initialMonitorState({ id: source.id, name: source.name, kind: source.kind }, this.clock.now(), initial?.status ?? null);
    const entry: Entry = {
      source: cloneSource(source),
      state,
      planner: initialCheckPlanner(),
      timer: null,
      returning: initialReturnState(),
      returnTimer: null,
      returnChecking: false,
      controllers: new Set(),
      removed: false,
    };
    this.entries.set(source.id, entry);
    if (isUnreachable(state.status)) this.unreachable++;
    this.schedule(entry);
    this.syncReturn(entry);
  }

  /** Name, routes or monitoring settings changed. Changed routes are re-checked at once. */
  updateSource(source: Source): boolean {
    const entry = this.entries.get(source.id);
    if (!entry) return false;
    const previous = entry.source;
    entry.source = cloneSource(source);
    if (previous.name !== source.name) this.apply(entry, { type: 'renamed', name: source.name });
    const routesChanged = JSON.stringify(previous.routes) !== JSON.stringify(source.routes) || previous.serverId !== source.serverId;
    if (routesChanged) this.requestFullCheck(entry);
    else this.schedule(entry); // `enabled` may have changed
    this.syncReturn(entry);
    return true;
  }

  removeSource(sourceId: string): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    entry.removed = true;
    this.entries.delete(sourceId);
    if (isUnreachable(entry.state.status)) this.unreachable--;
    if (onProbation(entry.returning)) this.onProbation--;
    this.clearTimer(entry);
    this.clearReturnTimer(entry);
    for (const controller of entry.controllers) controller.abort();
    return true;
  }

  /** The reducer state (status + bookkeeping + next planned check). Replaced, never mutated. */
  getState(sourceId: string): MonitorState | undefined {
    return this.entries.get(sourceId)?.state;
  }

  getStatus(sourceId: string): SourceStatus | undefined {
    return this.entries.get(sourceId)?.state.status;
  }

  /** When the next check runs (null: none planned, e.g. monitoring disabled or monitor stopped). */
  nextCheckAt(sourceId: string): number | null {
    const entry = this.entries.get(sourceId);
    if (!entry || !this.started || entry.source.monitoring.enabled === false) return null;
    return entry.state.next.at;
  }

  isChecking(sourceId: string): boolean {
    return this.entries.get(sourceId)?.planner.checking === true;
  }

  /** Number of sources watched (the cadence budgets are shared by all of them). */
  get sourceCount(): number {
    return this.entries.size;
  }

  /**
   * The push channel of a source opened or closed. An open channel proves liveness with every pong,
   * so the source's next light check moves to the push-open tick (and back when it closes).
   */
  setPushOpen(sourceId: string, open: boolean): void {
    const entry = this.entries.get(sourceId);
    if (!entry) return;
    this.dispatch(entry, { type: open ? 'push_opened' : 'push_closed' });
  }

  // ---- triggers -----------------------------------------------------------------------------

  /** A full check now, coalesced with one in flight. False when the source is unknown. */
  checkNow(sourceId: string): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    this.requestFullCheck(entry);
    return true;
  }

  /**
   * The push channel closed or went silent (immediate full check), or the server announced it is
   * going away (`server_shutting_down` / `server_restarting`: reconnecting at once, with the reason).
   */
  pushLost(sourceId: string, reason?: LossReason): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    // A check waiting on the route that just went silent is cancelled; the full check the reducer
    // plans replaces it, with the short suspect timeout.
    this.dispatch(entry, { type: 'push_lost', announced: Boolean(reason), reachable: isReachable(entry.state.status) });
    this.apply(entry, { type: 'push_lost', ...(reason ? { reason } : {}), jitter: this.random() });
    this.followPlan(entry);
    return true;
  }

  /**
   * The push channel is overdue (a ping unanswered for a whole interval): check every route now
   * with the short early-suspect timeout, without changing the status — the check's outcome does.
   */
  suspect(sourceId: string): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    return this.dispatch(entry, { type: 'push_overdue', reachable: isReachable(entry.state.status) }).accepted;
  }

  /**
   * The overdue push channel answered after all (a slow pong on a busy server, not a silence): an
   * early check still waiting on the current route is cancelled before its short timeout could call
   * a live route dead. The check planned before the suspicion stays planned.
   */
  suspectCleared(sourceId: string): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    return this.dispatch(entry, { type: 'pong_late' }).actions.some((a) => a.do === 'cancel_running');
  }

  /** The user signed in again: try the new token at once. */
  credentialsUpdated(sourceId: string): boolean {
    const entry = this.entries.get(sourceId);
    if (!entry) return false;
    this.apply(entry, { type: 'credentials_updated' });
    this.followPlan(entry);
    return true;
  }

  /** The host's network changed: re-check every source at once (bounded by the concurrency limit). */
  networkChanged(): void {
    for (const entry of this.entries.values()) {
      this.apply(entry, { type: 'network_changed' });
      this.followPlan(entry);
    }
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) {
      this.schedule(entry);
      this.scheduleReturn(entry);
    }
  }

  /** Cancels timers, aborts probes, and waits for in-flight checks and stragglers to finish. */
  async stop(): Promise<void> {
    this.started = false;
    for (const entry of this.entries.values()) {
      this.clearTimer(entry);
      this.clearReturnTimer(entry);
      this.dispatch(entry, { type: 'stopped' });
      for (const controller of entry.controllers) controller.abort();
    }
    await Promise.allSettled([...this.loops, ...this.stragglers]);
  }

  // ---- scheduling ---------------------------------------------------------------------------

  private plannedSettings(pushOpen: boolean): MonitorSettings {
    const sources = this.entries.size;
    const unreachable = this.unreachable;
    if (this.scaled?.sources !== sources || this.scaled.unreachable !== unreachable) {
      this.scaled = {
        sources,
        unreachable,
        polling: effectiveSettings(this.settings, { sources, pushOpen: false, unreachable }),
        pushOpen: effectiveSettings(this.settings, { sources, pushOpen: true, unreachable }),
      };
    }
    return pushOpen ? this.scaled.pushOpen : this.scaled.polling;
  }

  /** Plans a connected, idle source's next periodic check afresh with its current cadence (see `replanPeriodicCheck`). */
  private replan(entry: Entry): void {
    const settings = this.plannedSettings(entry.planner.pushOpen);
    const next = replanPeriodicCheck(entry.state.status, entry.state.lastFullCheckAt, this.clock.now(), settings, settings !== this.settings, this.random);
    if (!next) return;
    entry.state = { ...entry.state, next };
    this.schedule(entry);
  }

  /** A full check now, coalesced with one in flight (nothing while stopped or once removed). */
  private requestFullCheck(entry: Entry): void {
    if (!this.started || entry.removed) return;
    this.dispatch(entry, { type: 'check_requested' });
  }

  /** After an outcome from outside a check: run now if the reducer planned it, else reschedule. */
  private followPlan(entry: Entry): void {
    if (!this.started || entry.removed) return;
    this.dispatch(entry, { type: 'plan_changed', next: entry.state.next, now: this.clock.now() });
  }

  /**
   * Feeds one event to the source's check planner and carries out the actions every caller carries
   * out the same way; the caller reads the others (`next`, `probe`, `report_libraries`) from the step.
   */
  private dispatch(entry: Entry, event: PlannerEvent): PlannerStep {
    const step = stepPlanner(entry.planner, event, this.settings);
    entry.planner = step.planner;
    for (const action of step.actions) {
      switch (action.do) {
        case 'run':
          this.clearTimer(entry);
          this.launch(entry, action.kind);
          break;
        case 'cancel_running':
          for (const controller of entry.controllers) controller.abort();
          break;
        case 'request_full':
          this.requestFullCheck(entry);
          break;
        case 'schedule':
          this.schedule(entry);
          break;
        case 'replan':
          this.replan(entry);
          break;
        case 'next':
        case 'probe':
        case 'report_libraries':
          break;
      }
    }
    return step;
  }

  private schedule(entry: Entry): void {
    this.clearTimer(entry);
    if (!this.started || entry.removed || entry.planner.checking || entry.source.monitoring.enabled === false) return;
    const next = entry.state.next;
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = null;
      if (this.started && !entry.removed) this.dispatch(entry, { type: 'timer_fired', kind: next.kind });
    }, clampDelay(next.at - this.clock.now()));
    this.notify(entry.source.id, (l) => l.onCheckScheduled?.(entry.source.id, next));
  }

  private clearTimer(entry: Entry): void {
    if (entry.timer !== null) this.clock.clearTimeout(entry.timer);
    entry.timer = null;
  }

  /** Starts the check loop the planner asked for (it marked the source as checking). */
  private launch(entry: Entry, kind: CheckKind): void {
    const loop = this.checkLoop(entry, kind)
      .catch((error: unknown) => this.notify(entry.source.id, (l) => l.onError?.(entry.source.id, error)))
      .finally(() => {
        this.loops.delete(loop);
        this.dispatch(entry, { type: 'loop_ended' });
      });
    this.loops.add(loop);
  }

  /** One check, then at most the follow-ups it calls for (a requested re-run, or a failed light check escalated). */
  private async checkLoop(entry: Entry, firstKind: CheckKind): Promise<void> {
    let kind = firstKind;
    for (;;) {
      await this.runCheck(entry, kind);
      const step = this.dispatch(entry, { type: 'check_done', ran: kind, next: entry.state.next, now: this.clock.now(), halted: !this.started || entry.removed });
      const next = step.actions.find((a) => a.do === 'next');
      if (!next) return;
      kind = next.kind;
    }
  }

  // ---- one check ----------------------------------------------------------------------------

  private async runCheck(entry: Entry, requested: CheckKind): Promise<void> {
    const controller = new AbortController();
    entry.controllers.add(controller);
    let stragglersPending = false;
    const release = await this.semaphore.acquire(controller.signal);
    if (!release) {
      entry.controllers.delete(controller);
      return;
    }
    const id = entry.source.id;
    const stale = () => !this.started || entry.removed || controller.signal.aborted;
    let announced: { kind: CheckKind; startedAt: number } | null = null;
    try {
      if (stale()) return;
      const startedAt = this.clock.now();
      const source = entry.source;
      const currentRoute = this.currentRoute(entry);
      const kind: CheckKind = requested === 'light' && currentRoute ? 'light' : 'full';
      this.notify(id, (l) => l.onCheckStarted?.(id, { kind, startedAt }));
      // Every started check reports its end, also when cancelled (pushLost, stop, removal).
      announced = { kind, startedAt };

      let credentials: Credentials | null | undefined;
      try {
        credentials = await this.options.getCredentials(id);
      } catch (error) {
        this.notify(id, (l) => l.onError?.(id, error));
        credentials = null;
      }
      if (stale()) return;
      const configuredTimeoutMs = source.monitoring.probeTimeoutMs ?? this.settings.probeTimeoutMs;
      const probe = this.dispatch(entry, { type: 'probe_starting', kind, configuredTimeoutMs }).actions.find((a) => a.do === 'probe');
      const timeoutMs = probe?.timeoutMs ?? configuredTimeoutMs;
      const backend = this.options.getBackend(source.kind);

      if (!credentials) {
        this.apply(entry, { type: 'credentials_missing' });
      } else if (!backend) {
        this.notify(id, (l) => l.onError?.(id, new Error(`no backend for ${source.kind}`)));
        const at = this.clock.now();
        const results: ProbeResult[] = source.routes.map((r) => ({ ok: false, routeId: r.id, at, latencyMs: 0, error: { code: 'malformed', message: `no ${source.kind} backend is available` } }));
        this.apply(entry, { type: 'selection', routes: source.routes, results, chosenRouteId: null, jitter: this.random() });
      } else if (kind === 'light' && currentRoute) {
        const target = { kind: source.kind, serverId: source.serverId };
        const result = await this.service.probeRoute(target, currentRoute, backend, credentials, { timeoutMs, signal: controller.signal });
        if (stale()) return;
        this.notify(id, (l) => l.onProbe?.(id, result, { check: 'light', late: false }));
        this.apply(entry, { type: 'light_check', result, jitter: this.random() });
        if (result.ok && entry.state.status.state === 'sync_failed') await this.fetchLibraries(entry, backend, credentials, controller.signal);
      } else {
        // Routes on probation answer, but a selection uses them only when nothing else does.
        const held = heldRouteIds(entry.returning, this.clock.now(), this.settings);
        const select = async (using: Credentials) => {
          const selection = await this.service.select(source, backend, using, { timeoutMs, graceMs: this.settings.graceMs, signal: controller.signal, held });
          if (stale()) return null;
          const reported = new Set(selection.results);
          for (const result of selection.results) this.notify(id, (l) => l.onProbe?.(id, result, { check: 'full', late: false }));
          stragglersPending = true;
          this.recordStragglers(entry, selection.settled, reported, controller);
          return selection;
        };
        let selection = await select(credentials);
        if (!selection) return;
        if (this.options.refreshCredentials && tokenRejected(selection.results)) {
          const fresh = await this.refreshedCredentials(id, credentials, controller.signal);
          if (stale()) return;
          if (fresh) {
            credentials = fresh;
            selection = await select(fresh);
            if (!selection) return;
          }
        }
        if (entry.returning.currentRouteId !== null) {
          const observations = selection.results.map((r) => ({ routeId: r.routeId, ok: r.ok, at: r.at, latencyMs: r.latencyMs }));
          this.setReturning(entry, observeSelection(entry.returning, observations, selection.chosen?.routeId ?? null, this.clock.now(), this.settings, this.random, this.returnFloorMs()));
        }
        this.apply(entry, { type: 'selection', routes: source.routes, results: selection.results, chosenRouteId: selection.chosen?.routeId ?? null, jitter: this.random() });
        const state = entry.state.status.state;
        if (state === 'connected' || state === 'sync_failed') await this.fetchLibraries(entry, backend, credentials, controller.signal);
      }
      if (stale()) return;
      const finishedAt = this.clock.now();
      announced = null;
      this.notify(id, (l) => l.onCheckCompleted?.(id, { kind, startedAt, finishedAt, state: entry.state }));
    } finally {
      if (announced) {
        const info = { ...announced, finishedAt: this.clock.now(), state: entry.state, cancelled: true };
        this.notify(id, (l) => l.onCheckCompleted?.(id, info));
      }
      this.dispatch(entry, { type: 'check_ended' });
      release();
      if (!stragglersPending) entry.controllers.delete(controller);
    }
  }

  /** New credentials after a rejected token (see `refreshCredentials`); null on none, an error or past the deadline. */
  private async refreshedCredentials(sourceId: string, rejected: Credentials, signal: AbortSignal): Promise<Credentials | null> {
    if (!this.options.refreshCredentials) return null;
    const refresh = (id: string, c: Credentials) => this.options.refreshCredentials?.(id, c) ?? Promise.resolve(null);
    // plex.tv is asked at most twice in a refresh (a JWT renewal, then resources), each within its timeout.
    const deadlineMs = 2 * this.settings.refresh.timeoutMs + 1_000;
    const result = await guardedCall(
      () => refresh(sourceId, rejected),
      (end) => {
        if (end.kind === 'threw') this.notify(sourceId, (l) => l.onError?.(sourceId, end.error));
        return null;
      },
      { clock: this.clock, deadlineMs, signal },
    );
    return result && typeof result.token === 'string' ? result : null;
  }

  /** Report the routes that answer after the decision; stop()/removeSource() abort them. */
  private recordStragglers(entry: Entry, settled: Promise<ProbeResult[]>, reported: Set<ProbeResult>, controller: AbortController): void {
    const id = entry.source.id;
    const done = settled.then((all) => {
      entry.controllers.delete(controller);
      if (entry.removed || controller.signal.aborted) return;
      for (const result of all) if (!reported.has(result)) this.notify(id, (l) => l.onProbe?.(id, result, { check: 'full', late: true }));
    });
    this.stragglers.add(done);
    void done.finally(() => this.stragglers.delete(done));
  }

  private async fetchLibraries(entry: Entry, backend: MediaBackend, credentials: Credentials, signal: AbortSignal): Promise<void> {
    const status = entry.state.status;
    if (status.state !== 'connected' && status.state !== 'sync_failed') return;
    const route = entry.source.routes.find((r) => r.id === status.routeId);
    if (!route) return;
    const id = entry.source.id;
    const timeoutMs = this.settings.librariesTimeoutMs;
    const fetchWith = (using: Credentials) => guardedCall(
      (child) => backend.libraries({ kind: entry.source.kind, serverId: entry.source.serverId }, route, using, { timeoutMs, signal: child }),
      (end) => ({
        ok: false as const,
        error:
          end.kind === 'threw'
            ? { code: 'malformed' as const, message: 'fetching libraries failed unexpectedly' }
            : { code: 'timeout' as const, message: end.kind === 'aborted' ? 'the check was cancelled' : `libraries did not arrive within ${formatSeconds(timeoutMs)}` },
      }),
      { clock: this.clock, deadlineMs: timeoutMs + 250, signal },
    );
    let result = await fetchWith(credentials);
    // The token may have been rotated between the probe and this call (a Plex server's per-server
    // token): like a full check, ask for the current one once before calling the sign-in gone.
    if (result && result.ok === false && result.error?.code === 'unauthorized' && this.options.refreshCredentials && !signal.aborted) {
      const fresh = await this.refreshedCredentials(id, credentials, signal);
      if (fresh && !signal.aborted) result = await fetchWith(fresh);
    }
    if (!this.started || entry.removed || signal.aborted) return;
    if (result && result.ok === true && Array.isArray(result.libraries)) {
      const libraries = result.libraries;
      this.dispatch(entry, { type: 'libraries_answered', ok: true, networkLevel: false });
      this.notify(id, (l) => l.onLibraries?.(id, libraries, route.id));
      this.apply(entry, { type: 'libraries', routeId: route.id, ok: true, libraryCount: libraries.length });
    } else {
      const error = result && result.ok === false && result.error ? redactProbeError(result.error) : { code: 'malformed' as const, message: 'libraries came back in an unexpected shape' };
      // No answer at all may be the route's fault: the planner then re-checks the routes first.
      const step = this.dispatch(entry, { type: 'libraries_answered', ok: false, networkLevel: RECHECK_ROUTES_FIRST.has(error.code) });
      if (!step.actions.some((a) => a.do === 'report_libraries')) return;
      this.apply(entry, { type: 'libraries', routeId: route.id, ok: false, error });
    }
  }

  // ---- back to the best route ----------------------------------------------------------------

  private returnFloorMs(): number {
    return returnCheckFloorMs(this.onProbation, this.settings.maxReturnChecksPerS);
  }

  /** Replace the source's probation state, keeping the install-wide count and the timer in step. */
  private setReturning(entry: Entry, next: ReturnState): void {
    if (next === entry.returning) return;
    this.onProbation += Number(onProbation(next)) - Number(onProbation(entry.returning));
    entry.returning = next;
    this.scheduleReturn(entry);
  }

  /** The status or routes changed: open, keep or close the preferred routes' windows. */
  private syncReturn(entry: Entry): void {
    if (entry.removed) return;
    this.setReturning(entry, syncReturnState(entry.returning, entry.source.routes, entry.state.status, this.clock.now(), this.settings, this.random, this.returnFloorMs()));
  }

  private scheduleReturn(entry: Entry): void {
    this.clearReturnTimer(entry);
    if (!this.started || entry.removed || entry.returnChecking || entry.source.monitoring.enabled === false) return;
    const at = nextReturnCheckAt(entry.returning);
    if (at === null) return;
    entry.returnTimer = this.clock.setTimeout(() => {
      entry.returnTimer = null;
      const run = this.runReturnCheck(entry)
        .catch((error: unknown) => this.notify(entry.source.id, (l) => l.onError?.(entry.source.id, error)))
        .finally(() => this.loops.delete(run));
      this.loops.add(run);
    }, clampDelay(at - this.clock.now()));
  }

  private clearReturnTimer(entry: Entry): void {
    if (entry.returnTimer !== null) this.clock.clearTimeout(entry.returnTimer);
    entry.returnTimer = null;
  }

  /**
   * Probe the preferred routes whose return check is due (one request each), record what they said,
   * and ask for a full selection once one of them has completed its hold-down window. The status
   * is not touched: only that selection switches routes.
   */
  private async runReturnCheck(entry: Entry): Promise<void> {
    if (entry.returnChecking) return;
    entry.returnChecking = true;
    const controller = new AbortController();
    entry.controllers.add(controller);
    let release: (() => void) | null = null;
    try {
      release = await this.semaphore.acquire(controller.signal);
      const stale = () => !this.started || entry.removed || controller.signal.aborted;
      if (!release || stale()) return;
      const id = entry.source.id;
      const onRoute = entry.returning.currentRouteId;
      const due = new Set(dueReturnChecks(entry.returning, this.clock.now()));
      const routes = entry.source.routes.filter((r) => due.has(r.id));
      if (routes.length === 0) return;
      const credentials = await this.options.getCredentials(id);
      const backend = this.options.getBackend(entry.source.kind);
      if (stale() || !credentials || !backend) return;
      const target = { kind: entry.source.kind, serverId: entry.source.serverId };
      const timeoutMs = entry.source.monitoring.probeTimeoutMs ?? this.settings.probeTimeoutMs;
      const results = await Promise.all(routes.map((route) => this.service.probeRoute(target, route, backend, credentials, { timeoutMs, signal: controller.signal })));
      // A result about another current route's probation (the source moved meanwhile) proves nothing.
      if (stale() || entry.returning.currentRouteId !== onRoute) return;
      let next = entry.returning;
      for (const result of results) {
        this.notify(id, (l) => l.onProbe?.(id, result, { check: 'return', late: false }));
        next = observeReturnProbe(next, { routeId: result.routeId, ok: result.ok, at: this.clock.now(), latencyMs: result.latencyMs }, this.settings, this.random(), this.returnFloorMs());
      }
      entry.returnChecking = false;
      this.setReturning(entry, next);
      if (shouldReturn(entry.returning, this.clock.now(), this.settings)) this.requestFullCheck(entry);
    } finally {
      release?.();
      entry.controllers.delete(controller);
      if (entry.returnChecking) {
        entry.returnChecking = false;
        // Nothing recorded (stopped, moved, no credentials): plan the next one as it was.
        if (this.started && !entry.removed && entry.returnTimer === null) this.scheduleReturn(entry);
      }
    }
  }

  private currentRoute(entry: Entry): Route | undefined {
    const status = entry.state.status;
    if (status.state !== 'connected' && status.state !== 'sync_failed') return undefined;
    return entry.source.routes.find((r) => r.id === status.routeId);
  }

  // ---- reducer and listener -----------------------------------------------------------------

  private apply(entry: Entry, outcome: Outcome): void {
    const { state, events } = reduce(entry.state, outcome, this.clock.now(), this.plannedSettings(entry.planner.pushOpen));
    this.unreachable += Number(isUnreachable(state.status)) - Number(isUnreachable(entry.state.status));
    entry.state = state;
    this.syncReturn(entry);
    if (events.length > 0) this.notify(entry.source.id, (l) => l.onEvents?.(entry.source.id, events, state));
  }

  private notify(sourceId: string, call: (listener: MonitorListener) => void): void {
    try {
      call(this.listener);
    } catch (error) {
      try {
        this.listener.onError?.(sourceId, error);
      } catch {
        // A listener that fails on its own error report has nowhere left to report to.
      }
    }
  }
}

function onProbation(state: ReturnState): boolean {
  return Object.keys(state.windows).length > 0;
}

function isReachable(status: SourceStatus): boolean {
  return status.state === 'connected' || status.state === 'sync_failed';
}

function isUnreachable(status: SourceStatus): boolean {
  return status.state === 'reconnecting' || status.state === 'disconnected';
}

function cloneSource(source: Source): Source {
  return { ...source, routes: source.routes.map((r) => ({ ...r })), monitoring: { ...source.monitoring } };
}
