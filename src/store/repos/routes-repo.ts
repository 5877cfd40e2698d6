import { asc, eq } from 'drizzle-orm';
import type { ProbeErrorCode, ProbeResult, Route, RouteOrigin } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { routes } from '../schema.js';
import { probeErrorCodeSchema, routeKindSchema, routeOriginSchema } from '../validation.js';

export interface RouteRecord extends Route {
  sourceId: string;
  /** Where the address came from (the user, the server itself, plex.tv). */
  origin: RouteOrigin;
  lastResult: 'ok' | ProbeErrorCode | null;
  /** Plain words from ProbeError.message; never a token. */
  lastError: string | null;
  latencyMs: number | null;
  checkedAt: number | null;
}

/** Each route's latest probe result. Monitor writes: never throw (see WriteGuard). */
export class RoutesRepo {
  constructor(private readonly ctx: StoreContext) {}

  recordResult(result: ProbeResult): void {
    this.ctx.guard.background('routes.recordResult', () => this.write(result), `route:${result.routeId}`);
  }

  /** One transaction for a whole check's results. */
  recordResults(results: readonly ProbeResult[]): void {
    if (results.length === 0) return;
    const batch = [...results];
    this.ctx.guard.background('routes.recordResults', () => this.ctx.transaction(() => batch.forEach((r) => this.write(r))));
  }

  listForSource(sourceId: string): RouteRecord[] {
    this.ctx.guard.flush();
    const rows = this.ctx.db.select().from(routes).where(eq(routes.sourceId, sourceId)).orderBy(asc(routes.priority), asc(routes.id)).all();
    const out: RouteRecord[] = [];
    for (const row of rows) {
      const kind = routeKindSchema.safeParse(row.kind);
      const origin = routeOriginSchema.safeParse(row.origin);
      const lastResult = row.lastResult === null || row.lastResult === 'ok' ? row.lastResult : probeErrorCodeSchema.safeParse(row.lastResult).data;
      if (!kind.success || !origin.success || lastResult === undefined) {
        const problem = !kind.success ? 'kind: invalid' : !origin.success ? 'origin: invalid' : 'last_result: invalid';
        this.ctx.logger.warn({ table: 'routes', id: row.id, problem }, 'skipping unreadable route row');
        continue;
      }
      out.push({
        id: row.id,
        sourceId: row.sourceId,
        url: row.url,
        kind: kind.data,
        priority: row.priority,
        origin: origin.data,
        lastResult,
        lastError: row.lastError,
        latencyMs: row.latencyMs,
        checkedAt: row.checkedAt,
      });
    }
    return out;
  }

  private write(result: ProbeResult): void {
    this.ctx
      .statement('UPDATE routes SET last_result = ?, last_error = ?, latency_ms = ?, checked_at = ? WHERE id = ?')
      .run(result.ok ? 'ok' : result.error.code, result.ok ? null : result.error.message, Math.round(result.latencyMs), result.at, result.routeId);
  }
}
