import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { StoreLogger } from './logger.js';
import type * as schema from './schema.js';
import type { WriteGuard } from './write-guard.js';

/** What every repository is built from. Repositories are the only code doing I/O on the DB. */
export interface StoreContext {
  db: BetterSQLite3Database<typeof schema>;
  sqlite: Database.Database;
  guard: WriteGuard;
  logger: StoreLogger;
  now: () => number;
  /**
   * Runs `fn` in one transaction committed with synchronous=FULL: user-entered data (sources,
   * credentials) then survives a power loss too, while status churn stays on the cheaper NORMAL.
   */
  durably<T>(fn: () => T): T;
  /**
   * A prepared statement cached for the current connection. Hot paths (a write per check at
   * thousands of sources) use it: building SQL with drizzle on each call costs ~7x more.
   */
  statement(sql: string): Database.Statement;
  /** Runs `fn` in a transaction (a savepoint when nested), via one cached better-sqlite3 wrapper. */
  transaction<T>(fn: () => T): T;
}

export interface RetentionPolicy {
  /** Probe results kept per route (sparklines, recent checks). */
  probesPerRoute: number;
  /** Probe results older than this are removed. */
  probeMaxAgeMs: number;
  /** Status transitions kept per source. */
  historyPerSource: number;
  historyMaxAgeMs: number;
  /** Engine events kept for SSE resume; older clients resync from a snapshot. */
  eventsKept: number;
  eventMaxAgeMs: number;
  /** Rows deleted per statement, so a prune never holds the write lock for long. */
  batchSize: number;
}

const DAY = 24 * 60 * 60 * 1000;
export const DEFAULT_RETENTION: RetentionPolicy = {
  probesPerRoute: 500,
  probeMaxAgeMs: 7 * DAY,
  historyPerSource: 2000,
  historyMaxAgeMs: 180 * DAY,
  eventsKept: 10_000,
  eventMaxAgeMs: 7 * DAY,
  batchSize: 2000,
};
