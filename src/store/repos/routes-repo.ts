import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ProbeErrorCode, ProbeResult, Route, RouteKind, RouteOrigin } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { routes, sources } from '../schema.js';
import { probeErrorCodeSchema, routeKindSchema, routeOriginSchema } from '../validation.js';
import { routeUrlSchema } from './sources-repo.js';

export interface RouteRecord extends Route {
  sourceId: string;
  /** Where the address came from (the user, the server itself, plex.tv). */
  origin: RouteOrigin;
  lastResult: 'ok' | ProbeErrorCode | null;
  /** Plain words from ProbeError.message; never a token. */
  lastError: string | null;
  latencyMs: number | null;
  checkedAt: number | null;
  /** Kept with `force`, not yet seen answering as this server: never probed with the token. */
  pending: boolean;
}

export interface NewRouteRecord {
  url: string;
  kind: RouteKind;
  priority: number;
  origin: RouteOrigin;
  pending: boolean;
}

const newRouteSchema = z.object({
  url: routeUrlSchema,
  kind: routeKindSchema,
  priority: z.number().int(),
  origin: routeOriginSchema,
  pending: z.boolean(),
});

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

  /**
   * Adds one route to a source (configuration write: durable, throws StoreUnavailableError on a
   * storage fault). Null when the source does not exist (any more).
   */
  add(sourceId: string, input: NewRouteRecord): RouteRecord | null {
    const valid = newRouteSchema.parse(input);
    const id = randomUUID();
    return this.ctx.guard.foreground('routes.add', () =>
      this.ctx.durably(() => {
        if (!this.ctx.db.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).get()) return null;
        this.ctx.db.insert(routes).values({ id, sourceId, ...valid }).run();
        return { id, sourceId, ...valid, lastResult: null, lastError: null, latencyMs: null, checkedAt: null };
      }),
    );
  }

  /** Removes one route of a source (its probe history goes with it). False when there is none. */
  remove(sourceId: string, routeId: string): boolean {
    return this.ctx.guard.foreground('routes.remove', () =>
      this.ctx.durably(() => this.ctx.db.delete(routes).where(and(eq(routes.id, routeId), eq(routes.sourceId, sourceId))).run().changes > 0),
    );
  }

  /** New kinds and priorities for some routes of a source, in one transaction. */
  reorder(sourceId: string, changes: ReadonlyArray<{ id: string; kind: RouteKind; priority: number }>): void {
    if (changes.length === 0) return;
    this.ctx.guard.foreground('routes.reorder', () =>
      this.ctx.durably(() => {
        for (const c of changes) {
          this.ctx.db
            .update(routes)
            .set({ kind: routeKindSchema.parse(c.kind), priority: c.priority })
            .where(and(eq(routes.id, c.id), eq(routes.sourceId, sourceId)))
            .run();
        }
      }),
    );
  }

  /** A pending route answered as its server: from now on it is probed like any other. */
  markVerified(sourceId: string, routeId: string): boolean {
    return this.ctx.guard.foreground('routes.markVerified', () =>
      this.ctx.durably(() => this.ctx.db.update(routes).set({ pending: false }).where(and(eq(routes.id, routeId), eq(routes.sourceId, sourceId))).run().changes > 0),
    );
  }

  /** Sources that have routes kept with `force` and not yet verified. */
  sourcesWithPendingRoutes(): string[] {
    this.ctx.guard.flush();
    return this.ctx.db.selectDistinct({ sourceId: routes.sourceId }).from(routes).where(eq(routes.pending, true)).all().map((r) => r.sourceId);
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
        pending: row.pending,
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
