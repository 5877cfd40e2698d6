import { eq } from 'drizzle-orm';
import type { Credentials } from '../../backends/types.js';
import type { StoreContext } from '../context.js';
import { credentials } from '../schema.js';
import { credentialsSchema, parseJsonColumn } from '../validation.js';

/** Secrets by reference. Nothing here logs a payload; `get` is the only way a token leaves the DB. */
export class CredentialsRepo {
  constructor(private readonly ctx: StoreContext) {}

  get(ref: string): Credentials | null {
    const row = this.ctx.db.select().from(credentials).where(eq(credentials.ref, ref)).get();
    if (!row) return null;
    const parsed = parseJsonColumn(credentialsSchema, row.payload);
    if (!parsed.ok) {
      this.ctx.logger.warn({ table: 'credentials', ref, problem: parsed.problem }, 'skipping unreadable credentials row');
      return null;
    }
    return parsed.value;
  }

  /** Stores (or replaces) credentials durably. Throws StoreUnavailableError when storage is unusable. */
  put(ref: string, value: Credentials): void {
    const payload = JSON.stringify(credentialsSchema.parse(value));
    this.ctx.guard.foreground('credentials.put', () =>
      this.ctx.durably(() => this.putInTransaction(ref, payload)),
    );
  }

  delete(ref: string): boolean {
    return this.ctx.guard.foreground('credentials.delete', () => this.ctx.db.delete(credentials).where(eq(credentials.ref, ref)).run().changes > 0);
  }

  /** For SourcesRepo.create: runs inside the caller's transaction. */
  putInTransaction(ref: string, payload: string): void {
    const updatedAt = this.ctx.now();
    this.ctx.db
      .insert(credentials)
      .values({ ref, payload, updatedAt })
      .onConflictDoUpdate({ target: credentials.ref, set: { payload, updatedAt } })
      .run();
  }
}
