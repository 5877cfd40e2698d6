import { randomUUID } from 'node:crypto';
import { asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Credentials, RouteCandidate } from '../../backends/types.js';
import type { Route, Source, SourceKind, SourceMonitoringSettings } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { credentials, routes, sources } from '../schema.js';
import { credentialsSchema, monitoringSchema, parseJsonColumn, routeKindSchema, routeOriginSchema, sourceKindSchema } from '../validation.js';

export interface NewSourceRecord {
  /** Generated when absent. */
  id?: string;
  name: string;
  kind: SourceKind;
  serverId: string;
  /** Route ids are generated when absent. */
  routes: Array<RouteCandidate & { id?: string }>;
  credentials: Credentials;
  monitoring?: SourceMonitoringSettings;
  createdAt?: number;
}

/** http(s) base URL that carries no secret (tokens live only in the credentials table). */
export const routeUrlSchema = z.url({ protocol: /^https?$/ }).refine((text) => {
  const url = new URL(text);
  if (url.username || url.password) return false;
  return ![...url.searchParams.keys()].some((key) => /token|api_?key/i.test(key));
}, 'a route URL must not carry credentials');

const newSourceSchema = z.object({
  id: z.string().min(1).optional(),
  name: z.string().trim().min(1).max(200),
  kind: sourceKindSchema,
  serverId: z.string().min(1).max(200),
  routes: z.array(
    z.object({
      id: z.string().min(1).optional(),
      url: routeUrlSchema,
      kind: routeKindSchema,
      priority: z.number().int(),
      origin: routeOriginSchema.default('typed'),
    }),
  ),
  credentials: credentialsSchema,
  monitoring: monitoringSchema.optional(),
  createdAt: z.number().optional(),
});

type SourceRow = typeof sources.$inferSelect;
type RouteRow = typeof routes.$inferSelect;

/** Sources with their routes; creation stores the credentials in the same transaction. */
export class SourcesRepo {
  constructor(
    private readonly ctx: StoreContext,
    /** Told of every credentials row this repo writes or deletes (CredentialsRepo keeps rows it read). */
    private readonly credentialsChanged: (ref: string) => void = () => undefined,
  ) {}

  /** Throws a ZodError for invalid input and StoreUnavailableError when storage is unusable. */
  create(input: NewSourceRecord): Source {
    const valid = newSourceSchema.parse(input);
    const id = valid.id ?? randomUUID();
    const source: Source = {
      id,
      name: valid.name,
      kind: valid.kind,
      serverId: valid.serverId,
      credentialRef: `source:${id}`,
      monitoring: valid.monitoring ?? {},
      createdAt: valid.createdAt ?? this.ctx.now(),
      routes: valid.routes.map((r) => ({ id: r.id ?? randomUUID(), url: r.url, kind: r.kind, priority: r.priority })),
    };
    const payload = JSON.stringify(valid.credentials);
    this.ctx.guard.foreground('sources.create', () =>
      this.ctx.durably(() => {
        const { routes: sourceRoutes, ...row } = source;
        this.ctx.db
          .insert(sources)
          .values({ ...row, monitoring: JSON.stringify(source.monitoring) })
          .run();
        if (sourceRoutes.length > 0) {
          this.ctx.db
            .insert(routes)
            .values(sourceRoutes.map((r, i) => ({ ...r, sourceId: id, origin: valid.routes[i]?.origin ?? 'typed' })))
            .run();
        }
        this.credentialsChanged(source.credentialRef);
        this.ctx.db.insert(credentials).values({ ref: source.credentialRef, payload, updatedAt: this.ctx.now() }).run();
      }),
    );
    return { ...source, routes: sortRoutes(source.routes) };
  }

  get(id: string): Source | null {
    const row = this.ctx.db.select().from(sources).where(eq(sources.id, id)).get();
    if (!row) return null;
    const routeRows = this.ctx.db.select().from(routes).where(eq(routes.sourceId, id)).all();
    return this.toSource(row, routeRows);
  }

  /** Every readable source, oldest first; unreadable rows are skipped with a warning. */
  list(): Source[] {
    const rows = this.ctx.db.select().from(sources).orderBy(asc(sources.createdAt), asc(sources.id)).all();
    const routesBySource = new Map<string, RouteRow[]>();
    for (const r of this.ctx.db.select().from(routes).all()) {
      const list = routesBySource.get(r.sourceId);
      if (list) list.push(r);
      else routesBySource.set(r.sourceId, [r]);
    }
    const result: Source[] = [];
    for (const row of rows) {
      const source = this.toSource(row, routesBySource.get(row.id) ?? []);
      if (source) result.push(source);
    }
    return result;
  }

  rename(id: string, name: string): boolean {
    const valid = z.string().trim().min(1).max(200).parse(name);
    return this.ctx.guard.foreground('sources.rename', () => this.ctx.db.update(sources).set({ name: valid }).where(eq(sources.id, id)).run().changes > 0);
  }

  updateMonitoring(id: string, monitoring: SourceMonitoringSettings): boolean {
    const json = JSON.stringify(monitoringSchema.parse(monitoring));
    return this.ctx.guard.foreground('sources.updateMonitoring', () => this.ctx.db.update(sources).set({ monitoring: json }).where(eq(sources.id, id)).run().changes > 0);
  }

  /**
   * Replaces a source's routes (e.g. after plex.tv resources changed). A route whose URL is kept
   * keeps its id, last result and probe history. Routes the user added (origin `user`) are not the
   * origin's to replace: they stay unless a candidate takes over their URL.
   */
  replaceRoutes(sourceId: string, candidates: RouteCandidate[]): Route[] | null {
    const valid = newSourceSchema.shape.routes.parse(candidates);
    return this.ctx.guard.foreground('sources.replaceRoutes', () =>
      this.ctx.durably(() => {
        if (!this.ctx.db.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).get()) return null;
        const existing = this.ctx.db.select().from(routes).where(eq(routes.sourceId, sourceId)).all();
        const byUrl = new Map(existing.map((r) => [r.url, r]));
        const next: Route[] = valid.map((c) => ({ id: byUrl.get(c.url)?.id ?? randomUUID(), url: c.url, kind: c.kind, priority: c.priority }));
        const keep = new Set(next.map((r) => r.id));
        const gone = existing.filter((r) => !keep.has(r.id) && r.origin !== 'user').map((r) => r.id);
        if (gone.length > 0) this.ctx.db.delete(routes).where(inArray(routes.id, gone)).run();
        for (const [i, r] of next.entries()) {
          const origin = valid[i]?.origin ?? 'typed';
          this.ctx.db
            .insert(routes)
            .values({ ...r, sourceId, origin })
            // A user's route kept through a refresh keeps its pending mark: it gets no token before it is verified.
            .onConflictDoUpdate({ target: routes.id, set: { kind: r.kind, priority: r.priority, origin, ...(origin === 'user' ? {} : { pending: false }) } })
            .run();
        }
        const kept = existing
          .filter((r) => !keep.has(r.id) && r.origin === 'user' && !r.pending)
          .flatMap((r) => (routeKindSchema.safeParse(r.kind).success ? [{ id: r.id, url: r.url, kind: r.kind as Route['kind'], priority: r.priority }] : []));
        return sortRoutes([...next, ...kept]);
      }),
    );
  }

  /** Removes the source, its routes, status, history, libraries (cascade) and its credentials. */
  delete(id: string): boolean {
    return this.ctx.guard.foreground('sources.delete', () =>
      this.ctx.durably(() => {
        const row = this.ctx.db.select({ ref: sources.credentialRef }).from(sources).where(eq(sources.id, id)).get();
        if (!row) return false;
        this.ctx.db.delete(sources).where(eq(sources.id, id)).run();
        // Another source could share a ref only if created by hand; never delete a ref still in use.
        const stillUsed = this.ctx.db.select({ id: sources.id }).from(sources).where(eq(sources.credentialRef, row.ref)).get();
        if (!stillUsed) {
          this.credentialsChanged(row.ref);
          this.ctx.db.delete(credentials).where(eq(credentials.ref, row.ref)).run();
        }
        return true;
      }),
    );
  }

  private toSource(row: SourceRow, routeRows: RouteRow[]): Source | null {
    const kind = sourceKindSchema.safeParse(row.kind);
    const monitoring = parseJsonColumn(monitoringSchema, row.monitoring);
    if (!kind.success || !monitoring.ok) {
      this.ctx.logger.warn(
        { table: 'sources', id: row.id, problem: kind.success ? (monitoring.ok ? '' : monitoring.problem) : 'kind: invalid' },
        'skipping unreadable source row',
      );
      return null;
    }
    const sourceRoutes: Route[] = [];
    for (const r of routeRows) {
      // A route kept with `force` that has not answered as this server yet is never probed.
      if (r.pending) continue;
      const routeKind = routeKindSchema.safeParse(r.kind);
      if (!routeKind.success) {
        this.ctx.logger.warn({ table: 'routes', id: r.id, problem: 'kind: invalid' }, 'skipping unreadable route row');
        continue;
      }
      sourceRoutes.push({ id: r.id, url: r.url, kind: routeKind.data, priority: r.priority });
    }
    return {
      id: row.id,
      name: row.name,
      kind: kind.data,
      serverId: row.serverId,
      credentialRef: row.credentialRef,
      monitoring: monitoring.value,
      createdAt: row.createdAt,
      routes: sortRoutes(sourceRoutes),
    };
  }
}

const KIND_ORDER = { local: 0, remote: 1, relay: 2 } as const;
function sortRoutes(list: Route[]): Route[] {
  return [...list].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.priority - b.priority || a.id.localeCompare(b.id));
}
