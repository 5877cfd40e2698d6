// Route racing: probe every route of a source in parallel and return as soon as the selection
// policy can decide — never waiting for hung routes, never answering with a route that failed.
import type { BackendTarget, Credentials, MediaBackend } from '../backends/types.js';
import { redactProbeError } from '../core/redact.js';
import { decideEarly, type Arrival, type OkProbeResult } from '../core/selection.js';
import type { ProbeErrorCode, ProbeResult, Route, Source } from '../core/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { guardedCall, type GuardEnd } from './guarded-call.js';

export interface SelectOptions {
  /** Per-route timeout, passed to the backend. */
  timeoutMs: number;
  /** How long to wait for a better route after a less preferred one answered. */
  graceMs: number;
  signal?: AbortSignal;
  /** Routes on probation: chosen only when no other route answers (see `decideEarly`). */
  held?: ReadonlySet<string>;
}

export interface Selection {
  /** The best route that answered OK, or null: "no route" (never a stale URL). */
  chosen: OkProbeResult | null;
  /** Results in by the time of the decision, in arrival order. */
  results: ProbeResult[];
  /** Every route's result (route order) once the stragglers have finished too. Never rejects. */
  settled: Promise<ProbeResult[]>;
  /** Milliseconds from start to decision. */
  elapsedMs: number;
}

export type SelectableSource = Pick<Source, 'kind' | 'serverId' | 'routes'>;

export interface ConnectionServiceOptions {
  clock: Clock;
  /** Slack past the backend's own timeout before the service gives up on it (default 250 ms). */
  deadlineMarginMs?: number;
}

export class ConnectionService {
  private readonly clock: Clock;
  private readonly marginMs: number;

  constructor(options: ConnectionServiceOptions) {
    this.clock = options.clock;
    this.marginMs = options.deadlineMarginMs ?? 250;
  }

  /** Probe all routes in parallel and decide early (see `decideEarly` in src/core/selection.ts). */
  select(source: SelectableSource, backend: MediaBackend, credentials: Credentials, options: SelectOptions): Promise<Selection> {
    const { clock } = this;
    const routes = [...source.routes];
    const target: BackendTarget = { kind: source.kind, serverId: source.serverId };
    const startedAt = clock.now();
    const arrivals: Arrival[] = [];

    return new Promise<Selection>((resolve) => {
      let decided = false;
      let graceTimer: TimerHandle | null = null;
      let settled: Promise<ProbeResult[]> = Promise.resolve([]);

      const decide = (chosen: OkProbeResult | null) => {
        decided = true;
        if (graceTimer !== null) clock.clearTimeout(graceTimer);
        graceTimer = null;
        resolve({ chosen, results: arrivals.map((a) => a.result), settled, elapsedMs: clock.now() - startedAt });
      };
      const evaluate = () => {
        if (decided) return;
        const decision = decideEarly({ routes, arrivals, elapsedMs: clock.now() - startedAt, graceMs: options.graceMs, ...(options.held ? { held: options.held } : {}) });
        if (decision.decided) decide(decision.chosen);
        else if (decision.recheckInMs !== undefined && graceTimer === null) {
          graceTimer = clock.setTimeout(() => {
            graceTimer = null;
            evaluate();
          }, decision.recheckInMs);
        }
      };

      settled = Promise.all(
        routes.map((route) =>
          this.probeRoute(target, route, backend, credentials, options).then((result) => {
            arrivals.push({ result, elapsedMs: clock.now() - startedAt });
            evaluate();
            return result;
          }),
        ),
      );
      evaluate(); // a source without routes is decided at once: no route
    });
  }

  /** Probe one route under a hard deadline; the result always names `route` and never throws. */
  probeRoute(target: BackendTarget, route: Route, backend: MediaBackend, credentials: Credentials, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ProbeResult> {
    const startedAt = this.clock.now();
    const failure = (code: ProbeErrorCode, message: string): ProbeResult => ({
      ok: false,
      routeId: route.id,
      at: this.clock.now(),
      latencyMs: Math.max(0, this.clock.now() - startedAt),
      error: { code, message },
    });
    const fallback = (end: GuardEnd): ProbeResult => {
      if (end.kind === 'aborted') return failure('timeout', 'the check was cancelled');
      if (end.kind === 'deadline') return failure('timeout', `no answer within ${formatSeconds(options.timeoutMs)}`);
      return failure('malformed', 'the probe failed unexpectedly');
    };
    return guardedCall(
      (signal) => backend.probe(target, route, credentials, { timeoutMs: options.timeoutMs, signal }),
      fallback,
      { clock: this.clock, deadlineMs: options.timeoutMs + this.marginMs, ...(options.signal ? { signal: options.signal } : {}) },
    ).then((result) => normalizeResult(result, route, failure, this.clock.now()));
  }
}

/** Trust but verify what a backend returned: right route id, sane shape, no secret in the text. */
function normalizeResult(result: unknown, route: Route, failure: (code: ProbeErrorCode, message: string) => ProbeResult, now: number): ProbeResult {
  if (!result || typeof result !== 'object') return failure('malformed', 'the probe returned nothing');
  const r = result as ProbeResult;
  const latencyMs = Number.isFinite(r.latencyMs) && r.latencyMs >= 0 ? r.latencyMs : 0;
  const at = Number.isFinite(r.at) ? r.at : now;
  if (r.ok === true) return { ...r, routeId: route.id, latencyMs, at };
  if (r.ok === false && r.error && typeof r.error.code === 'string') {
    return { ...r, routeId: route.id, latencyMs, at, error: redactProbeError({ ...r.error, message: String(r.error.message ?? '') }) };
  }
  return failure('malformed', 'the probe returned an unexpected value');
}

export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
