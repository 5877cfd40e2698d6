import { asc, eq } from 'drizzle-orm';
import type { Library } from '../../core/types.js';
import type { StoreContext } from '../context.js';
import { libraries } from '../schema.js';
import { libraryTypeSchema } from '../validation.js';

/** A source's libraries, replaced as a set after each successful sync. */
export class LibrariesRepo {
  constructor(private readonly ctx: StoreContext) {}

  /** Never throws; buffered (latest wins) while storage is degraded. */
  replace(sourceId: string, list: readonly Library[]): void {
    const rows = list.map((l, position) => ({ sourceId, id: l.id, name: l.name, type: l.type, position }));
    this.ctx.guard.background(
      'libraries.replace',
      () =>
        this.ctx.transaction(() => {
          this.ctx.db.delete(libraries).where(eq(libraries.sourceId, sourceId)).run();
          if (rows.length > 0) this.ctx.db.insert(libraries).values(rows).onConflictDoNothing().run();
        }),
      `libraries:${sourceId}`,
    );
  }

  list(sourceId: string): Library[] {
    this.ctx.guard.flush();
    return this.toLibraries(this.ctx.db.select().from(libraries).where(eq(libraries.sourceId, sourceId)).orderBy(asc(libraries.position)).all()).get(sourceId) ?? [];
  }

  /** sourceId -> libraries, in the server's order. */
  listAll(): Map<string, Library[]> {
    this.ctx.guard.flush();
    return this.toLibraries(this.ctx.db.select().from(libraries).orderBy(asc(libraries.sourceId), asc(libraries.position)).all());
  }

  private toLibraries(rows: Array<typeof libraries.$inferSelect>): Map<string, Library[]> {
    const out = new Map<string, Library[]>();
    for (const row of rows) {
      const type = libraryTypeSchema.safeParse(row.type);
      if (!type.success) {
        this.ctx.logger.warn({ table: 'libraries', sourceId: row.sourceId, id: row.id, problem: 'type: invalid' }, 'skipping unreadable library row');
        continue;
      }
      const list = out.get(row.sourceId) ?? [];
      list.push({ id: row.id, name: row.name, type: type.data });
      out.set(row.sourceId, list);
    }
    return out;
  }
}
