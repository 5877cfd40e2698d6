// One Marquee per data directory. Two processes on one database drift apart (a source deleted in
// one lives on in the other, whose writes then fail on foreign keys), so the data dir is locked
// for as long as the store is open.
//
// The lock is SQLite's own file lock on a small separate database, `marquee.lock`, opened with
// `locking_mode=EXCLUSIVE` and written once: SQLite then keeps its exclusive lock until the
// connection closes. On Unix that lock is a POSIX record lock (fcntl), which the kernel drops when
// the process ends in any way, kill -9 and OOM included — no stale lock to clean up, no native
// add-on beyond better-sqlite3 (already used), and it holds across network and PID namespaces on
// one file system. SQLite also tracks it per inode inside one process, so a second open in the
// same process is refused too (plain POSIX locks would not see it). A lock on the main database
// itself was not used: WAL mode, read-only starts and backup tools all need to share that file.
//
// The lock file cannot be read while held, so the holder writes its pid into `marquee.pid` right
// after taking the lock; the refused process only reads it to name the holder in its message.
import { hostname } from 'node:os';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from './errors.js';
import type { StoreLogger } from './logger.js';

export const LOCK_FILE_NAME = 'marquee.lock';
export const PID_FILE_NAME = 'marquee.pid';

export interface DataDirLock {
  /** 'exclusive': this process alone uses the data dir; 'shared': a read-only data dir (readers only); 'none': could not lock. */
  readonly mode: 'exclusive' | 'shared' | 'none';
  release(): void;
}

interface PidRecord {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * Takes the data dir's lock or throws StoreOpenError('locked') naming the holder's pid. A data dir
 * that refuses writes (read-only, full) is not a reason to refuse the start: the store serves the
 * last state read-only then, so a read-only dir gets a shared lock (it still keeps a writer out)
 * and an unlockable one a warning.
 */
export function lockDataDir(dataDir: string, logger: StoreLogger): DataDirLock {
  const lockPath = join(dataDir, LOCK_FILE_NAME);
  let lock: Database.Database | undefined;
  try {
    // timeout 0: a held lock is an answer, not something to wait for.
    lock = new Database(lockPath, { timeout: 0 });
    lock.pragma('locking_mode = EXCLUSIVE');
    // An empty write transaction is enough: in EXCLUSIVE mode the lock stays after the commit.
    lock.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    lock?.close();
    if (isBusy(error)) throw new StoreOpenError('locked', heldMessage(dataDir), { cause: error });
    return fallback(lockPath, dataDir, error, logger);
  }
  const pidPath = join(dataDir, PID_FILE_NAME);
  const record: PidRecord = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  try {
    // Written whole or not at all (rename), so a refused process never reads half a pid.
    const temporary = `${pidPath}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(temporary, pidPath);
  } catch (error) {
    logger.warn({ dataDir, err: plain(error) }, 'could not write the pid file; the data directory is locked all the same');
  }
  const held = lock;
  let released = false;
  return {
    mode: 'exclusive',
    release() {
      if (released) return;
      released = true;
      // Only our own pid file: after a kill -9 of ours, another process may hold the lock now.
      if (readPidRecord(dataDir)?.pid === process.pid) rmSync(pidPath, { force: true });
      held.close();
    },
  };
}

/** The data dir cannot be written: keep writers out with a shared lock if the lock file exists. */
function fallback(lockPath: string, dataDir: string, cause: unknown, logger: StoreLogger): DataDirLock {
  let reader: Database.Database | undefined;
  try {
    reader = new Database(lockPath, { readonly: true, fileMustExist: true, timeout: 0 });
    reader.pragma('locking_mode = EXCLUSIVE');
    // In EXCLUSIVE mode the shared lock of the first read is kept until close.
    reader.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    reader?.close();
    if (isBusy(error)) throw new StoreOpenError('locked', heldMessage(dataDir), { cause: error });
    logger.warn({ dataDir, err: plain(cause) }, 'could not lock the data directory (it does not accept writes); make sure no other Marquee uses it');
    return { mode: 'none', release() {} };
  }
  logger.warn({ dataDir }, 'the data directory does not accept writes: it is locked against other writers only');
  const held = reader;
  return { mode: 'shared', release: () => held.close() };
}

function heldMessage(dataDir: string): string {
  const where = resolve(dataDir);
  const holder = readPidRecord(dataDir);
  if (!holder) return `Another Marquee process is already using the data directory ${where} (its pid is not known). Stop it first, or give this one its own --data-dir.`;
  const host = holder.host && holder.host !== hostname() ? ` on host ${holder.host}` : '';
  return `Another Marquee (pid ${holder.pid}${host}, started ${holder.startedAt}) is already using the data directory ${where}. Stop it first, or give this one its own --data-dir.`;
}

function readPidRecord(dataDir: string): PidRecord | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, PID_FILE_NAME), 'utf8')) as Partial<PidRecord>;
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid ?? 0) <= 0) return null;
    return { pid: parsed.pid!, host: typeof parsed.host === 'string' ? parsed.host.slice(0, 255) : '', startedAt: typeof parsed.startedAt === 'string' ? parsed.startedAt.slice(0, 40) : 'at an unknown time' };
  } catch {
    return null;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function plain(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
