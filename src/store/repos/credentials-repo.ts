import { eq } from 'drizzle-orm';
import type { Credentials } from '../../backends/types.js';
import type { StoreContext } from '../context.js';
import { credentials } from '../schema.js';
import { credentialsSchema, parseJsonColumn } from '../validation.js';

/**
 * Secrets by reference. Nothing here logs a payload; `get` is the only way a token leaves the DB.
 * Every request over a route reads its source's credentials (a media range, an image, a probe), so
 * rows read are kept in memory, frozen: a SQLite read and its validation cost ~0.2 ms a call. Every
 * write goes through this repo or tells it (SourcesRepo; one process holds the data dir), and each
 * forgets what it changes.
 */
export class CredentialsRepo {
  private readonly read = new Map<string, Readonly<Credentials>>();

  constructor(private readonly ctx: StoreContext) {}

  get(ref: string): Credentials | null {
    const known = this.read.get(ref);
    if (known) return known;
    const row = this.ctx.db.select().from(credentials).where(eq(credentials.ref, ref)).get();
    if (!row) return null;
    const parsed = parseJsonColumn(credentialsSchema, row.payload);
    if (!parsed.ok) {
      this.ctx.logger.warn({ table: 'credentials', ref, problem: parsed.problem }, 'skipping unreadable credentials row');
      return null;
    }
    const value = Object.freeze(parsed.value);
    this.read.set(ref, value);
    return value;
  }

  /** Stores (or replaces) credentials durably. Throws StoreUnavailableError when storage is unusable. */
  put(ref: string, value: Credentials): void {
    const payload = JSON.stringify(credentialsSchema.parse(value));
    this.read.delete(ref);
    this.ctx.guard.foreground('credentials.put', () =>
      this.ctx.durably(() => this.putInTransaction(ref, payload)),
    );
  }

  /** Drops what was read of `ref` (its row is being written elsewhere, e.g. a source deleted with it). */
  forget(ref: string): void {
    this.read.delete(ref);
  }

  delete(ref: string): boolean {
    this.read.delete(ref);
    return this.ctx.guard.foreground('credentials.delete', () => this.ctx.db.delete(credentials).where(eq(credentials.ref, ref)).run().changes > 0);
  }

  /** For SourcesRepo.create: runs inside the caller's transaction. */
  putInTransaction(ref: string, payload: string): void {
    // Forgotten before the write: a transaction rolled back leaves the next get to read the DB.
    this.read.delete(ref);
    const updatedAt = this.ctx.now();
    this.ctx.db
      .insert(credentials)
      .values({ ref, payload, updatedAt })
      .onConflictDoUpdate({ target: credentials.ref, set: { payload, updatedAt } })
      .run();
  }
}
