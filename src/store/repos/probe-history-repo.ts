import type { ProbeErrorCode, ProbeResult } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { probeErrorCodeSchema } from '../validation.js';
import { deleteInBatches } from './status-repo.js';

export interface ProbeRecord {
  id: number;
  routeId: string;
  at: number;
  ok: boolean;
  code: ProbeErrorCode | null;
  latencyMs: number | null;
}

/** Every probe result, with bounded retention (per route and by age). */
export class ProbeHistoryRepo {
  /** Routes written since the last prune: only they can be over the per-route cap. */
  private readonly touched = new Set<string>();

  constructor(private readonly ctx: StoreContext) {}

  /** One transaction for the batch. Never throws; buffered while storage is degraded. */
  appendMany(results: readonly ProbeResult[]): void {
    if (results.length === 0) return;
    const rows = results.map((r) => ({
      routeId: r.routeId,
      at: r.at,
      ok: r.ok,
      code: r.ok ? null : r.error.code,
      latencyMs: r.ok ? Math.round(r.latencyMs) : null,
    }));
    for (const r of rows) this.touched.add(r.routeId);
    this.ctx.guard.background('probes.appendMany', () => {
      // Results for routes removed meanwhile would fail the foreign key and sink the whole batch.
      const known = this.ctx.statement('SELECT 1 FROM routes WHERE id = ?');
      const insert = this.ctx.statement('INSERT INTO probe_history (route_id, at, ok, code, latency_ms) VALUES (?, ?, ?, ?, ?)');
      const insertAll = () => {
        for (const r of rows) {
          if (known.get(r.routeId) !== undefined) insert.run(r.routeId, r.at, r.ok ? 1 : 0, r.code, r.latencyMs);
        }
      };
      // One row is atomic by itself; only a batch needs its own savepoint.
      if (rows.length === 1) insertAll();
      else this.ctx.transaction(insertAll);
    });
  }

  /** Newest first. */
  recent(routeId: string, limit = 30): ProbeRecord[] {
    this.ctx.guard.flush();
    const rows = this.ctx
      .statement('SELECT id, route_id AS routeId, at, ok, code, latency_ms AS latencyMs FROM probe_history WHERE route_id = ? ORDER BY id DESC LIMIT ?')
      .all(routeId, limit) as Array<{ id: number; routeId: string; at: number; ok: number; code: string | null; latencyMs: number | null }>;
    return rows.map((r) => ({ ...r, ok: r.ok === 1, code: r.code === null ? null : (probeErrorCodeSchema.safeParse(r.code).data ?? 'malformed') }));
  }

  /** Latencies for a sparkline, oldest first; failures are null. */
  recentLatencies(routeId: string, limit = 30): (number | null)[] {
    return this.recent(routeId, limit)
      .reverse()
      .map((r) => (r.ok ? r.latencyMs : null));
  }

  /** Sparkline data for every route of a source in one query: routeId -> latencies, oldest first. */
  recentLatenciesForSource(sourceId: string, perRoute = 30): Map<string, (number | null)[]> {
    this.ctx.guard.flush();
    const rows = this.ctx
      .statement(
        `SELECT route_id AS routeId, ok, latency_ms AS latencyMs FROM (
           SELECT p.route_id, p.ok, p.latency_ms, p.id,
                  ROW_NUMBER() OVER (PARTITION BY p.route_id ORDER BY p.id DESC) AS n
           FROM probe_history p JOIN routes r ON r.id = p.route_id
           WHERE r.source_id = ?
         ) WHERE n <= ? ORDER BY id ASC`,
      )
      .all(sourceId, perRoute) as Array<{ routeId: string; ok: number; latencyMs: number | null }>;
    const out = new Map<string, (number | null)[]>();
    for (const r of rows) {
      const list = out.get(r.routeId) ?? [];
      list.push(r.ok === 1 ? r.latencyMs : null);
      out.set(r.routeId, list);
    }
    return out;
  }

  /**
   * Deletes results older than `olderThan`, then caps each route written since the last prune
   * at `keepPerRoute` (all routes when `allRoutes`). Returns the number of rows deleted. In steps
   * of one batch or a few hundred routes, for maintenance that yields.
   */
  *pruneSteps(options: { keepPerRoute: number; olderThan: number; batchSize: number; allRoutes?: boolean }): Generator<void, number> {
    const { keepPerRoute, olderThan, batchSize } = options;
    this.ctx.guard.flush();
    let deleted = yield* deleteInBatches(this.ctx, batchSize, (limit) =>
      this.ctx.statement('DELETE FROM probe_history WHERE id IN (SELECT id FROM probe_history WHERE at < ? LIMIT ?)').run(olderThan, limit).changes,
    );
    const routeIds = options.allRoutes ? (this.ctx.sqlite.prepare('SELECT DISTINCT route_id FROM probe_history').pluck().all() as string[]) : [...this.touched];
    this.touched.clear();
    let sinceYield = 0;
    for (const routeId of routeIds) {
      if (++sinceYield >= 200) {
        sinceYield = 0;
        yield;
      }
      let cutoff: number | undefined;
      try {
        cutoff = this.ctx.statement('SELECT id FROM probe_history WHERE route_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?').pluck().get(routeId, keepPerRoute - 1) as number | undefined;
      } catch {
        continue;
      }
      if (cutoff === undefined) continue;
      deleted += yield* deleteInBatches(this.ctx, batchSize, (limit) =>
        this.ctx.statement('DELETE FROM probe_history WHERE id IN (SELECT id FROM probe_history WHERE route_id = ? AND id < ? LIMIT ?)').run(routeId, cutoff, limit).changes,
      );
    }
    return deleted;
  }

  count(): number {
    this.ctx.guard.flush();
    return this.ctx.sqlite.prepare('SELECT count(*) FROM probe_history').pluck().get() as number;
  }
}
