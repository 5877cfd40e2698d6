// Route selection policy: rank probe answers and decide, from partial results, whether a choice can
// be made now. Pure: the caller tracks time and passes elapsed milliseconds in.
import { ROUTE_KIND_PREFERENCE, type ProbeResult, type Route } from './types.js';

export type OkProbeResult = Extract<ProbeResult, { ok: true }>;

/** Preference key of a route: kind first (local > remote > relay), then its priority. Lower is better. */
export function routeRank(route: Route): [number, number] {
  const kindIndex = ROUTE_KIND_PREFERENCE.indexOf(route.kind);
  return [kindIndex < 0 ? ROUTE_KIND_PREFERENCE.length : kindIndex, route.priority];
}

/** Negative when `a` is preferred to `b` by kind and priority alone (latency not considered). */
export function compareRoutes(a: Route, b: Route): number {
  const [ak, ap] = routeRank(a);
  const [bk, bp] = routeRank(b);
  return ak - bk || ap - bp;
}

/**
 * The successful answers, best first: local > remote > relay, then route priority, then latency.
 * Results for routes that are not in `routes` are ignored; failed results never appear.
 */
export function rankResults(routes: readonly Route[], results: readonly ProbeResult[]): OkProbeResult[] {
  const byId = new Map(routes.map((route) => [route.id, route]));
  const ok: Array<{ result: OkProbeResult; route: Route }> = [];
  for (const result of results) {
    const route = byId.get(result.routeId);
    if (result.ok && route) ok.push({ result, route });
  }
  ok.sort((a, b) => compareRoutes(a.route, b.route) || a.result.latencyMs - b.result.latencyMs);
  return ok.map((entry) => entry.result);
}

/** The best successful answer, or null when every route failed. Never picks a failed route. */
export function pickBest(routes: readonly Route[], results: readonly ProbeResult[]): OkProbeResult | null {
  return rankResults(routes, results)[0] ?? null;
}

/** A probe answer together with when it arrived, measured from the start of the selection. */
export interface Arrival {
  result: ProbeResult;
  elapsedMs: number;
}

export interface EarlyDecisionInput {
  routes: readonly Route[];
  arrivals: readonly Arrival[];
  /** Milliseconds since the selection started. */
  elapsedMs: number;
  /** How long to wait, after the first good answer, for a better route still pending. */
  graceMs: number;
  /**
   * Routes on probation (src/core/return-policy.ts): preferred to the current route but not yet
   * proven stable. They are chosen only when every other route has answered and none of them is
   * good — a held route's answer never wins while the current route may still answer.
   */
  held?: ReadonlySet<string>;
}

export type EarlyDecision =
  | { decided: true; chosen: OkProbeResult | null }
  /** Not yet; when `recheckInMs` is set, the grace period ends then and the caller should ask again. */
  | { decided: false; recheckInMs?: number };

/**
 * Decide from partial results. A choice is final when
 * - every route has answered (chosen may be null: "no route", never a stale URL), or
 * - the best good answer so far cannot be beaten by any route still pending, or
 * - a good answer exists and the grace period since the first good answer has passed.
 * A pending route of equal kind and priority cannot beat the best answer either: latency breaks
 * that tie, and a route still pending will answer later (slower) than the one already in.
 */
export function decideEarly(input: EarlyDecisionInput): EarlyDecision {
  const held = input.held;
  if (!held || held.size === 0) return decideAmong(input);
  const isHeld = (id: string) => held.has(id);
  const free = decideAmong({
    ...input,
    routes: input.routes.filter((r) => !isHeld(r.id)),
    arrivals: input.arrivals.filter((a) => !isHeld(a.result.routeId)),
  });
  // Undecided (a free route may still answer) or a free route answered: the held ones wait.
  if (!free.decided || free.chosen) return free;
  // Every free route failed: the held routes are all that is left, chosen by the usual rules.
  return decideAmong({
    ...input,
    routes: input.routes.filter((r) => isHeld(r.id)),
    arrivals: input.arrivals.filter((a) => isHeld(a.result.routeId)),
  });
}

function decideAmong(input: EarlyDecisionInput): EarlyDecision {
  const { routes, arrivals, elapsedMs, graceMs } = input;
  const answered = new Set(arrivals.map((a) => a.result.routeId));
  const pending = routes.filter((route) => !answered.has(route.id));
  const best = pickBest(routes, arrivals.map((a) => a.result));
  if (pending.length === 0) return { decided: true, chosen: best };
  if (!best) return { decided: false };

  const bestRoute = routes.find((route) => route.id === best.routeId);
  const betterPossible = bestRoute !== undefined && pending.some((route) => compareRoutes(route, bestRoute) < 0);
  if (!betterPossible) return { decided: true, chosen: best };

  let firstOkAt = Number.POSITIVE_INFINITY;
  for (const arrival of arrivals) {
    if (arrival.result.ok && arrival.elapsedMs < firstOkAt) firstOkAt = arrival.elapsedMs;
  }
  const graceEndsAt = firstOkAt + Math.max(0, graceMs);
  if (elapsedMs >= graceEndsAt) return { decided: true, chosen: best };
  return { decided: false, recheckInMs: graceEndsAt - elapsedMs };
}
