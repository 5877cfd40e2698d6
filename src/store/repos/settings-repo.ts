import { eq } from 'drizzle-orm';
import type { StoreContext } from '../context.js';
import { settings } from '../schema.js';

/** Small key/value settings, e.g. the install's stable client identifier (`clientIdentifier`). */
export class SettingsRepo {
  constructor(private readonly ctx: StoreContext) {}

  get(key: string): string | null {
    return this.ctx.db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value ?? null;
  }

  /** Throws StoreUnavailableError when storage is unusable. */
  set(key: string, value: string): void {
    const updatedAt = this.ctx.now();
    this.ctx.guard.foreground('settings.set', () =>
      this.ctx.db.insert(settings).values({ key, value, updatedAt }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } }).run(),
    );
  }

  delete(key: string): boolean {
    return this.ctx.guard.foreground('settings.delete', () => this.ctx.db.delete(settings).where(eq(settings.key, key)).run().changes > 0);
  }

  /** The stored value, or `create()` stored now (e.g. a UUID made once per install). */
  getOrCreate(key: string, create: () => string): string {
    const existing = this.get(key);
    if (existing !== null) return existing;
    const value = create();
    this.set(key, value);
    return value;
  }
}
