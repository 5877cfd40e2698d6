// Calls over the route the engine chose, with request failover (issue 14). A request that dies with
// its route (refused/reset, timeout, dns, tls, wrong server) makes the engine check the source NOW;
// the request waits for that check (bounded by the call's deadline) and is retried once on the route
// it chose: a click never fails because a route died while another works. Failures the server
// itself gave (404/500, a rejected token, a garbled body) are not the route's fault: no retry.
import type { BrowseResult, MediaBackend } from '../backends/types.js';
import type { ProbeError, ProbeErrorCode, SourceKind, SourceStatus } from '../core/types.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import type { CheckWaitResult, Engine, RoutedCaller, RoutedOutcome, RouteUse, SourceSnapshot } from './engine-types.js';

/** The codes that say the route died, not that the server answered badly. */
const ROUTE_DEATH: ReadonlySet<ProbeErrorCode> = new Set(['refused', 'timeout', 'dns', 'tls', 'wrong_server']);

export function isRouteDeath(error: ProbeError): boolean {
  return ROUTE_DEATH.has(error.code);
}

/** How a failover ended, for metrics: retried on the route the check chose; offline (nothing answers); failed. */
export type FailoverOutcome = 'retried' | 'offline' | 'failed';

export interface RoutedCallerOptions {
  engine: Pick<Engine, 'getSource' | 'getCredentials' | 'checkNowAndWait'>;
  backends: Record<SourceKind, MediaBackend>;
  clock?: Clock;
  /** A call's deadline when the caller gives none (default 15 s). */
  defaultTimeoutMs?: number;
  /** Every failover (a route died under a call), with how it ended (metrics). */
  onFailover?(sourceKind: SourceKind, outcome: FailoverOutcome): void;
}

const DEFAULT_TIMEOUT_MS = 15_000;

type Attempt<T> = { ok: true; value: T } | { ok: false; error: ProbeError; ended?: 'deadline' | 'aborted' };

export class EngineRoutedCaller implements RoutedCaller {
  private readonly clock: Clock;
  /** One check per dead route shared by every call that saw it die (keyed source + route). */
  private readonly failovers = new Map<string, Promise<CheckWaitResult | null>>();

  constructor(private readonly options: RoutedCallerOptions) {
    this.clock = options.clock ?? realClock;
  }

  async call<T>(
    sourceId: string,
    run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RoutedOutcome<T>> {
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const start = this.clock.now();
    const deadline = start + timeoutMs;
    const first = this.currentUse(this.options.engine.getSource(sourceId));
    if (!first.ok) return first;

    // The first try gets half the budget: a route that hangs leaves the other half for the check and the retry.
    const attempt = await this.attempt(first.use, run, start + Math.ceil(timeoutMs / 2), options.signal);
    if (attempt.ok) return { ok: true, value: attempt.value, routeId: first.use.route.id, routeKind: first.use.route.kind, retried: false };
    if (attempt.ended === 'aborted') return failed(`the request was cancelled`, attempt.error);
    if (!isRouteDeath(attempt.error)) return failed(attempt.error.message, attempt.error);

    // The route died under this call: ask the engine which route works now, within what is left.
    const name = first.use.source.name;
    const kind = first.use.source.kind;
    const remaining = deadline - this.clock.now();
    if (remaining <= 0 || options.signal?.aborted) {
      this.options.onFailover?.(kind, 'failed');
      return failed(`${name} did not answer on its ${first.use.route.kind} route within ${seconds(timeoutMs)} (${attempt.error.message})`, attempt.error);
    }
    const checked = await abortable(this.sharedCheck(sourceId, first.use.route.id, remaining), options.signal);
    if (checked === 'aborted') return failed('the request was cancelled', attempt.error);
    if (!checked) return { ok: false, reason: 'unknown_source', message: `no source with id "${sourceId.slice(0, 80)}"` };
    const next = this.currentUse(checked.snapshot);
    if (!next.ok) {
      this.options.onFailover?.(kind, next.reason === 'offline' ? 'offline' : 'failed');
      return next.reason === 'offline' ? { ...next, message: `${next.message}: its ${first.use.route.kind} route stopped answering (${attempt.error.message}) and no other route answers`, error: attempt.error } : next;
    }
    if (!checked.completed && next.use.route.id === first.use.route.id) {
      this.options.onFailover?.(kind, 'failed');
      return failed(`${name} stopped answering on its ${first.use.route.kind} route (${attempt.error.message}) and the check of its other routes did not finish within the request's ${seconds(timeoutMs)}`, attempt.error);
    }
    // Once, on the route the check chose (the same one if it came back).
    const retry = await this.attempt(next.use, run, deadline, options.signal);
    this.options.onFailover?.(kind, retry.ok ? 'retried' : 'failed');
    if (retry.ok) return { ok: true, value: retry.value, routeId: next.use.route.id, routeKind: next.use.route.kind, retried: true };
    if (retry.ended === 'aborted') return failed('the request was cancelled', retry.error);
    return failed(`${name} failed on its ${first.use.route.kind} route (${attempt.error.message}) and again on its ${next.use.route.kind} route (${retry.error.message})`, retry.error);
  }

  /** The check every call that saw this route die waits for: one per source and dead route. */
  private sharedCheck(sourceId: string, routeId: string, timeoutMs: number): Promise<CheckWaitResult | null> {
    const key = `${sourceId}\u0000${routeId}`;
    const existing = this.failovers.get(key);
    if (existing) return existing;
    const wait = this.options.engine.checkNowAndWait(sourceId, timeoutMs).finally(() => this.failovers.delete(key));
    this.failovers.set(key, wait);
    return wait;
  }

  private currentUse(snapshot: SourceSnapshot | null): { ok: true; use: RouteUse } | Extract<RoutedOutcome<never>, { ok: false }> {
    if (!snapshot) return { ok: false, reason: 'unknown_source', message: 'no such source' };
    const { source, status } = snapshot;
    if (status.state !== 'connected' && status.state !== 'sync_failed') return { ok: false, reason: 'offline', message: `${source.name} ${offlineWords(status)}` };
    const route = source.routes.find((r) => r.id === status.routeId);
    const credentials = this.options.engine.getCredentials(source.id);
    const backend = this.options.backends[source.kind];
    if (!route || !credentials || !backend) return { ok: false, reason: 'offline', message: `${source.name} has no usable route right now` };
    return { ok: true, use: { source, backend, route, credentials, target: { kind: source.kind, serverId: source.serverId } } };
  }

  /**
   * One try, bounded by the deadline and the caller's signal whatever `run` does. The signal given
   * to `run` aborts on failure, deadline or the caller's abort — not on success, so a body still
   * streaming (media) lives on until the caller aborts it.
   */
  private attempt<T>(use: RouteUse, run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>, deadline: number, outer?: AbortSignal): Promise<Attempt<T>> {
    const controller = new AbortController();
    // AbortSignal.any holds its sources weakly: a long-lived caller signal (a library sync's) does
    // not collect one listener per successful call, yet a streaming body still ends with it.
    const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    return new Promise<Attempt<T>>((resolve) => {
      let done = false;
      let timer: TimerHandle | null = null;
      const onOuterAbort = () => finish({ ok: false, error: { code: 'timeout', message: 'cancelled' }, ended: 'aborted' });
      const finish = (result: Attempt<T>) => {
        if (done) return;
        done = true;
        if (timer !== null) this.clock.clearTimeout(timer);
        outer?.removeEventListener('abort', onOuterAbort);
        if (!result.ok) controller.abort();
        resolve(result);
      };
      if (outer?.aborted) return finish({ ok: false, error: { code: 'timeout', message: 'cancelled' }, ended: 'aborted' });
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      const left = deadline - this.clock.now();
      timer = this.clock.setTimeout(() => finish({ ok: false, error: { code: 'timeout', message: `no answer within ${seconds(left)}` }, ended: 'deadline' }), Math.max(0, left));
      run(use, signal).then(
        (result) => finish(result.ok ? { ok: true, value: result.value } : { ok: false, error: result.error }),
        (error: unknown) => finish({ ok: false, error: { code: 'malformed', message: error instanceof Error ? error.message : 'the request failed' } }),
      );
    });
  }
}

function failed(message: string, error?: ProbeError): RoutedOutcome<never> {
  return { ok: false, reason: 'failed', message, ...(error ? { error } : {}) };
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | 'aborted'> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    });
  });
}

function seconds(ms: number): string {
  return ms >= 1_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.max(0, Math.round(ms))} ms`;
}

function offlineWords(status: Exclude<SourceStatus, { state: 'connected' | 'sync_failed' }>): string {
  switch (status.state) {
    case 'connecting':
      return 'is still being checked (no verified route yet)';
    case 'reconnecting':
      return `is offline for now (reconnecting${status.lastError ? `: ${status.lastError.message}` : ''})`;
    case 'disconnected':
      return `is offline${status.lastError ? ` (${status.lastError.message})` : ''}`;
    case 'auth_required':
      return 'needs signing in again';
  }
}
