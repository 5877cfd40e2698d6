// Opens (or creates) the Marquee database: a 0700 data directory, a 0600 SQLite file in WAL mode,
// validated before use and migrated with the committed drizzle-kit SQL. Every failure to open is
// a StoreOpenError with a message meant for people, never a raw stack.
import { accessSync, constants, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { DEFAULT_RETENTION, type RetentionPolicy, type StoreContext } from './context.js';
import { lockDataDir } from './data-dir-lock.js';
import { StoreOpenError, classifyStorageError, type StorageFault } from './errors.js';
import { silentLogger, type StoreLogger } from './logger.js';
import { CredentialsRepo } from './repos/credentials-repo.js';
import { EventLogRepo } from './repos/event-log-repo.js';
import { LibrariesRepo } from './repos/libraries-repo.js';
import { NotificationsRepo } from './repos/notifications-repo.js';
import { LibraryCacheRepo } from './repos/library-cache-repo.js';
import { ProbeHistoryRepo } from './repos/probe-history-repo.js';
import { RoutesRepo } from './repos/routes-repo.js';
import { SettingsRepo } from './repos/settings-repo.js';
import { PlayOutboxRepo } from './repos/play-outbox-repo.js';
import { SignInSessionsRepo } from './repos/sign-in-sessions-repo.js';
import { SourcesRepo } from './repos/sources-repo.js';
import { StatusRepo, drain } from './repos/status-repo.js';
import * as schema from './schema.js';
import { WriteGuard, type StoreHealth } from './write-guard.js';

/** Resolved from this module, so migrations are found whatever the working directory. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
export const DATABASE_FILE_NAME = 'marquee.db';
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenDatabaseOptions {
  dataDir: string;
  logger?: StoreLogger;
  /** Injected clock (epoch ms) for stored times that the caller does not pass. */
  now?: () => number;
  /**
   * NORMAL (default): in WAL mode a commit is atomic and survives the process being killed
   * (kill -9, OOM) — the WAL is in the OS page cache — and the file is never corrupted; only an
   * OS crash or power cut may drop the last few commits. Sources and credentials are committed
   * with FULL anyway (see StoreContext.durably). FULL here would fsync every status write.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for a lock held by another connection (e.g. a backup). */
  busyTimeoutMs?: number;
  /** While degraded, buffered writes are retried this often. */
  retryIntervalMs?: number;
  /** Bound on buffered history/probe/event writes while degraded. */
  maxPendingWrites?: number;
  /**
   * Group-commit window for monitor writes (default 50 ms; 0 = commit each write at once). A
   * kill -9 can lose at most this window of status/probe writes — never a source or credential.
   */
  flushDelayMs?: number;
  retention?: Partial<RetentionPolicy>;
  /** Retention pruning period; 0 disables the timer (call `prune()` yourself). */
  maintenanceIntervalMs?: number;
  /**
   * Lock the data dir for this process until close() (the app does; see data-dir-lock.ts): a second
   * Marquee on the same dir gets StoreOpenError('locked') naming the holder's pid.
   */
  lockDataDir?: boolean;
}

export interface Store {
  readonly path: string;
  readonly sources: SourcesRepo;
  readonly routes: RoutesRepo;
  readonly credentials: CredentialsRepo;
  readonly status: StatusRepo;
  readonly probes: ProbeHistoryRepo;
  readonly libraries: LibrariesRepo;
  /** The library cache (issue 14): items, details, sync state and home rows of every library. */
  readonly libraryCache: LibraryCacheRepo;
  readonly events: EventLogRepo;
  readonly settings: SettingsRepo;
  /** Plex PINs and Quick Connect requests in progress (their secrets stored like credentials). */
  readonly signIns: SignInSessionsRepo;
  /** Notification targets and the durable outbox (issue 16). */
  readonly notifications: NotificationsRepo;
  /** Progress reports on their way to a server (issue 15): written before sending, deleted once acknowledged. */
  readonly playOutbox: PlayOutboxRepo;
  /** 'ok', or 'degraded' with a reason in plain words (for /healthz and the UI warning). */
  health(): StoreHealth;
  onHealthChange(listener: (health: StoreHealth) => void): () => void;
  /** Commits queued monitor writes now (they are group-committed every `flushDelayMs`). */
  flush(): void;
  /** Replays writes buffered while degraded; true when storage is healthy afterwards. */
  retryNow(): boolean;
  /** Applies the retention policy now (`allRoutes`: every route and source, not only those written since the last prune). */
  prune(options?: { allRoutes?: boolean }): PruneCounts;
  /** The raw connection: for tests and maintenance tools only. */
  readonly sqlite: Database.Database;
  close(): void;
}

/** Rows each retention rule removed. */
export interface PruneCounts {
  probes: number;
  history: number;
  events: number;
  /** Expired sign-ins in progress. */
  signIns: number;
}

export function openDatabase(options: OpenDatabaseOptions): Store {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const retention: RetentionPolicy = { ...DEFAULT_RETENTION, ...options.retention };
  const dataDir = options.dataDir;
  const path = join(dataDir, DATABASE_FILE_NAME);
  const connection = {
    synchronous: options.synchronous ?? 'NORMAL',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    logger,
  } as const;

  prepareDataDir(dataDir, logger);
  // Before the database file is touched: a second Marquee on this dir stops here.
  const dataDirLock = options.lockDataDir ? lockDataDir(dataDir, logger) : null;
  const unlockingOnFailure = <T>(open: () => T): T => {
    try {
      return open();
    } catch (error) {
      dataDirLock?.release();
      throw error;
    }
  };
  let sqlite: Database.Database;
  /** Set when the data dir refused writes at startup: we serve the last state read-only. */
  let readOnlyStart: StorageFault | null = null;
  try {
    prepareDatabaseFile(path, logger);
    sqlite = openReadWrite(path, connection);
  } catch (error) {
    if (!(error instanceof StoreOpenError) || error.code !== 'read_only' || !existsSync(path)) {
      dataDirLock?.release();
      throw error;
    }
    sqlite = unlockingOnFailure(() => openReadOnly(path, connection.busyTimeoutMs));
    readOnlyStart = classifyStorageError(error.cause) ?? { code: 'SQLITE_READONLY', reason: 'the data directory is read-only (or not writable by Marquee)' };
    logger.error({ path }, `storage degraded at startup: ${readOnlyStart.reason}; serving the last saved state`);
  }

  const statements = new Map<string, Database.Statement>();
  // db.transaction() is costly to create; one generic wrapper per connection serves every call.
  const makeRunner = (conn: Database.Database) => conn.transaction((fn: () => unknown) => fn());
  let runner = makeRunner(sqlite);
  const ctx: StoreContext = {
    db: drizzle(sqlite, { schema }),
    sqlite,
    // Set right below: the guard's transaction and heartbeat need this context.
    guard: undefined as unknown as WriteGuard,
    logger,
    now,
    durably<T>(fn: () => T): T {
      const conn = ctx.sqlite;
      if (connection.synchronous === 'FULL' || conn.inTransaction) return ctx.transaction(fn);
      conn.pragma('synchronous = FULL');
      try {
        return ctx.transaction(fn);
      } finally {
        conn.pragma(`synchronous = ${connection.synchronous}`);
      }
    },
    transaction<T>(fn: () => T): T {
      return runner(fn) as T;
    },
    statement(sql: string): Database.Statement {
      let statement = statements.get(sql);
      if (!statement) {
        statement = ctx.sqlite.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
  ctx.guard = new WriteGuard({
    logger,
    now,
    maxPendingWrites: options.maxPendingWrites ?? 10_000,
    retryIntervalMs: options.retryIntervalMs ?? 5000,
    flushDelayMs: options.flushDelayMs ?? 50,
    maxBatch: 2000,
    transaction: (fn) => ctx.transaction(fn),
    heartbeat: () => {
      if (ctx.sqlite.readonly) {
        // Started read-only: try a real read-write connection (migrated) before replaying writes.
        // The read-only one is closed first: SQLite shares one -shm mapping per file within a
        // process, and a WAL database's mapping made read-only would make the new one read-only
        // too. Still not writable: the read-only connection is opened again.
        const useConnection = (next: Database.Database) => {
          statements.clear();
          runner = makeRunner(next);
          ctx.sqlite = next;
          ctx.db = drizzle(next, { schema });
        };
        ctx.sqlite.close();
        let fresh: Database.Database;
        try {
          fresh = openReadWrite(path, connection);
        } catch (error) {
          useConnection(openReadOnly(path, connection.busyTimeoutMs));
          throw (error as { cause?: unknown }).cause ?? error;
        }
        useConnection(fresh);
      }
      ctx
        .statement("INSERT INTO settings (key, value, updated_at) VALUES ('store.heartbeat', ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
        .run(String(now()), now());
    },
  });
  if (readOnlyStart) ctx.guard.startDegraded(readOnlyStart);

  const probes = new ProbeHistoryRepo(ctx);
  const status = new StatusRepo(ctx);
  const events = new EventLogRepo(ctx);
  const signIns = new SignInSessionsRepo(ctx);
  let closed = false;

  function* pruneSteps(allRoutes: boolean): Generator<void, PruneCounts> {
    const at = now();
    const probesDeleted = yield* probes.pruneSteps({
      keepPerRoute: retention.probesPerRoute,
      olderThan: at - retention.probeMaxAgeMs,
      batchSize: retention.batchSize,
      allRoutes,
    });
    const historyDeleted = yield* status.pruneHistorySteps(retention.historyPerSource, at - retention.historyMaxAgeMs, retention.batchSize, allRoutes);
    const eventsDeleted = yield* events.pruneSteps({ keep: retention.eventsKept, olderThan: at - retention.eventMaxAgeMs, batchSize: retention.batchSize });
    const signInsDeleted = signIns.pruneExpired(at);
    return { probes: probesDeleted, history: historyDeleted, events: eventsDeleted, signIns: signInsDeleted };
  }
  const nothing: PruneCounts = { probes: 0, history: 0, events: 0, signIns: 0 };
  const prune = (pruneOptions: { allRoutes?: boolean } = {}) =>
    closed || ctx.sqlite.readonly ? nothing : drain(pruneSteps(pruneOptions.allRoutes ?? false));

  // Periodic pruning runs in steps with the event loop free in between, so even a large backlog
  // (tens of thousands of routes) never stalls the monitor or SSE for more than a batch.
  let maintenanceRunning = false;
  const runMaintenance = async () => {
    if (maintenanceRunning) return;
    maintenanceRunning = true;
    try {
      const steps = pruneSteps(false);
      while (!closed && !ctx.sqlite.readonly && !steps.next().done) await new Promise<void>((resolve) => setImmediate(resolve));
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'pruning failed');
    } finally {
      maintenanceRunning = false;
    }
  };

  // Startup is the moment to catch up on retention (the previous run may have been killed).
  prune({ allRoutes: true });
  const maintenanceMs = options.maintenanceIntervalMs ?? 10 * 60 * 1000;
  const maintenance = maintenanceMs > 0 ? setInterval(() => void runMaintenance(), maintenanceMs) : null;
  maintenance?.unref();

  const credentialsRepo = new CredentialsRepo(ctx);
  return {
    path,
    // Deleting a source deletes its credentials row: the credentials repo forgets what it read of it.
    sources: new SourcesRepo(ctx, (ref) => credentialsRepo.forget(ref)),
    routes: new RoutesRepo(ctx),
    credentials: credentialsRepo,
    status,
    probes,
    libraries: new LibrariesRepo(ctx),
    libraryCache: new LibraryCacheRepo(ctx),
    events,
    settings: new SettingsRepo(ctx),
    signIns,
    notifications: new NotificationsRepo(ctx),
    playOutbox: new PlayOutboxRepo(ctx),
    get sqlite() {
      return ctx.sqlite;
    },
    health: () => ctx.guard.health(),
    onHealthChange: (listener) => ctx.guard.onChange(listener),
    flush: () => ctx.guard.flush(),
    retryNow: () => ctx.guard.retryNow(),
    prune,
    close() {
      if (closed) return;
      closed = true;
      if (maintenance) clearInterval(maintenance);
      // Commits the group-commit batch, and writes buffered while degraded if the disk takes them.
      ctx.guard.close();
      const conn = ctx.sqlite;
      try {
        if (!conn.readonly) {
          // Leave a plain rollback-journal file behind: it can then be opened even from a read-only
          // directory (a WAL database needs its -shm file). The next open switches back to WAL.
          conn.pragma('journal_mode = DELETE');
        }
      } catch {
        // Another process has it open: it stays in WAL mode, which is fine.
      }
      try {
        conn.close();
      } catch (error) {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'closing the database failed');
      }
      dataDirLock?.release();
    },
  };
}

interface ConnectionOptions {
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  logger: StoreLogger;
}

function openReadWrite(path: string, options: ConnectionOptions): Database.Database {
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { fileMustExist: true, timeout: options.busyTimeoutMs });
  } catch (error) {
    const dirFault = directoryWriteFault(dirname(path));
    if (dirFault) throw new StoreOpenError('read_only', `Cannot open the database ${path}: ${dirFault.reason}.`, { cause: dirFault.error });
    throw openFailure(error, path);
  }
  try {
    // SQLite silently falls back to read-only when the file cannot be opened for writing.
    if (sqlite.readonly) throw Object.assign(new Error('read-only'), { code: 'SQLITE_READONLY' });
    // …but a database left in WAL mode (its -wal and -shm beside it) on a read-only file system
    // opens as writable, and nothing here writes when no migration is due: ask the file system.
    assertFilesWritable(path);
    configure(sqlite, options.synchronous, options.busyTimeoutMs, options.logger);
    check(sqlite, path);
    tightenSidecars(path);
    runMigrations(sqlite, path);
    return sqlite;
  } catch (error) {
    sqlite.close();
    if (error instanceof StoreOpenError) throw error;
    // On a read-only file system SQLite often says CANTOPEN (it cannot create the -shm file).
    const dirFault = directoryWriteFault(dirname(path));
    if (dirFault) throw new StoreOpenError('read_only', `Cannot open the database ${path}: ${dirFault.reason}.`, { cause: dirFault.error });
    throw openFailure(error, path);
  }
}

/** Throws the file system's own error (EROFS, EACCES) when the database or a sidecar cannot be written. */
function assertFilesWritable(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (file === path || existsSync(file)) accessSync(file, constants.W_OK);
  }
}

function directoryWriteFault(dir: string): { reason: string; error: unknown } | null {
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (error) {
    const fault = classifyStorageError(error);
    return fault ? { reason: fault.reason, error } : null;
  }
}

/** The last saved state, when the data dir cannot be written: only if it needs no migration. */
function openReadOnly(path: string, busyTimeoutMs: number): Database.Database {
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreOpenError('read_only', `Cannot open the database ${path}: the data directory is read-only and the database cannot be read without writing (${plain(error)}).`, { cause: error });
  }
  try {
    check(sqlite, path);
    const hasTable = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
    const applied = hasTable ? (sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get() as number) : 0;
    if (applied < knownMigrations().length) {
      throw new StoreOpenError('read_only', `Cannot open the database ${path}: it needs an upgrade, but the data directory is read-only.`);
    }
    sqlite.pragma('foreign_keys = ON');
    return sqlite;
  } catch (error) {
    sqlite.close();
    throw error instanceof StoreOpenError ? error : openFailure(error, path);
  }
}

function knownMigrations(): Array<{ when: number }> {
  return (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number }> }).entries;
}

function prepareDataDir(dataDir: string, logger: StoreLogger): void {
  const existed = existsSync(dataDir);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; be explicit. An existing directory is the user's
    // choice (e.g. a shared volume): only warn, the files inside are 0600 anyway.
    if (!existed) chmodSync(dataDir, 0o700);
    else if ((statSync(dataDir).mode & 0o077) !== 0) logger.warn({ dataDir }, 'data directory is accessible to other users; the database file itself is private (0600)');
  } catch (error) {
    throw new StoreOpenError(classifyStorageError(error)?.code === 'EROFS' ? 'read_only' : 'cannot_open', `Cannot use the data directory ${dataDir}: ${plain(error)}.`, { cause: error });
  }
  if (!statSync(dataDir).isDirectory()) throw new StoreOpenError('cannot_open', `The data directory ${dataDir} is not a directory.`);
}

/** Refuses anything that is not an SQLite file before SQLite touches it; creates a new file 0600. */
function prepareDatabaseFile(path: string, logger: StoreLogger): void {
  if (!existsSync(path)) {
    try {
      // Created by us with 0600 so neither SQLite nor the umask decides who may read credentials.
      closeSync(openSync(path, 'wx', 0o600));
      chmodSync(path, 0o600);
    } catch (error) {
      throw new StoreOpenError(readOnlyOr(error, 'cannot_open'), `Cannot create the database ${path}: ${plain(error)}.`, { cause: error });
    }
    return;
  }
  const stat = statSync(path);
  if (!stat.isFile()) throw new StoreOpenError('not_a_database', `${path} is not a regular file, so it cannot be Marquee's database.`);
  if (stat.size > 0) {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      readSync(fd, header, 0, header.length, 0);
    } catch (error) {
      throw new StoreOpenError('cannot_open', `Cannot read the database ${path}: ${plain(error)}.`, { cause: error });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (!header.equals(SQLITE_HEADER)) {
      throw new StoreOpenError(
        'not_a_database',
        `${path} is not an SQLite database (it may be another program's file or damaged). Move it away or choose another data directory.`,
      );
    }
  }
  if ((stat.mode & 0o077) !== 0) {
    try {
      chmodSync(path, 0o600);
    } catch {
      logger.warn({ path }, 'database file is readable by other users and could not be made private');
    }
  }
}

function configure(sqlite: Database.Database, synchronous: 'NORMAL' | 'FULL', busyTimeoutMs: number, logger: StoreLogger): void {
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') logger.warn({ mode }, 'the database could not switch to WAL mode');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma('foreign_keys = ON');
  // After a checkpoint, shrink the WAL back instead of leaving a large file behind.
  sqlite.pragma('journal_size_limit = 67108864');
  // Probe history is indexed by route: at thousands of routes its inserts land on random index
  // pages, so a page cache larger than SQLite's 2 MB default keeps them off the disk.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
}

function check(sqlite: Database.Database, path: string): void {
  const rows = sqlite.pragma('quick_check') as Array<{ quick_check: string }>;
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (problems.length > 0) {
    throw new StoreOpenError(
      'corrupt',
      `The database ${path} is damaged (${problems.slice(0, 2).join('; ')}). Restore a backup or move the file away to start fresh.`,
    );
  }
}

/** SQLite gives -wal/-shm the main file's mode; make sure even if they pre-existed. */
function tightenSidecars(path: string): void {
  for (const suffix of ['-wal', '-shm']) {
    try {
      if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
    } catch {
      // Best effort: a read-only directory is reported by the first write.
    }
  }
}

function runMigrations(sqlite: Database.Database, path: string): void {
  const known = Math.max(0, ...knownMigrations().map((e) => e.when));
  const hasTable = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (hasTable) {
    const applied = sqlite.prepare('SELECT max(created_at) FROM __drizzle_migrations').pluck().get() as number | null;
    if (applied !== null && applied > known) {
      throw new StoreOpenError('too_new', `The database ${path} was written by a newer version of Marquee. Upgrade Marquee or use another data directory.`);
    }
  }
  try {
    migrate(drizzle(sqlite, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    const fault = classifyStorageError(error) ?? classifyStorageError((error as { cause?: unknown }).cause);
    throw new StoreOpenError(
      fault?.code.startsWith('SQLITE_READONLY') ? 'read_only' : 'migration_failed',
      `Cannot prepare the database ${path}: ${fault ? fault.reason : plain(error)}.`,
      { cause: error },
    );
  }
}

function openFailure(error: unknown, path: string): StoreOpenError {
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_NOTADB')) return new StoreOpenError('not_a_database', `${path} is not an SQLite database.`, { cause: error });
  if (code.startsWith('SQLITE_CORRUPT')) return new StoreOpenError('corrupt', `The database ${path} is damaged. Restore a backup or move the file away to start fresh.`, { cause: error });
  const fault = classifyStorageError(error);
  return new StoreOpenError(readOnlyOr(error, 'cannot_open'), `Cannot open the database ${path}: ${fault ? fault.reason : plain(error)}.`, { cause: error });
}

function readOnlyOr(error: unknown, fallback: 'cannot_open'): 'read_only' | 'cannot_open' {
  const code = (error as { code?: string }).code ?? '';
  return code === 'EROFS' || code === 'EACCES' || code.startsWith('SQLITE_READONLY') ? 'read_only' : fallback;
}

function plain(error: unknown): string {
  const fault = classifyStorageError(error);
  if (fault) return fault.reason;
  return error instanceof Error ? error.message : String(error);
}
