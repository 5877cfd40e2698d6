// Store errors in plain words. Opening fails with StoreOpenError (the CLI prints its message, no
// stack); configuration writes refused while storage is unusable throw StoreUnavailableError (the
// API answers 503); monitor writes never throw (see write-guard.ts).

export type StoreOpenErrorCode =
  | 'not_a_database'
  | 'corrupt'
  | 'cannot_open'
  | 'read_only'
  | 'too_new'
  | 'migration_failed'
  /** Another Marquee process holds the data directory (data-dir-lock.ts). */
  | 'locked';

export class StoreOpenError extends Error {
  constructor(
    readonly code: StoreOpenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A failure of the storage itself (disk, permissions, locking), as opposed to a bug or a constraint. */
export interface StorageFault {
  code: string;
  /** Plain words for /healthz and the UI warning. */
  reason: string;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Maps an error thrown by better-sqlite3 (SqliteError.code, including extended codes such as
 * SQLITE_IOERR_WRITE) or by node:fs to a storage fault, or null when it is not about storage.
 */
export function classifyStorageError(error: unknown): StorageFault | null {
  const code = errorCode(error);
  if (!code) {
    const cause = typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
    return cause !== undefined && cause !== error ? classifyStorageError(cause) : null;
  }
  const is = (prefix: string) => code === prefix || code.startsWith(`${prefix}_`);
  if (is('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || is('SQLITE_PERM') || is('SQLITE_AUTH'))
    return { code, reason: 'the data directory is read-only (or not writable by Marquee)' };
  if (is('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') return { code, reason: 'the disk holding the data directory is full' };
  if (is('SQLITE_IOERR') || code === 'EIO') return { code, reason: 'the disk reported an input/output error' };
  if (is('SQLITE_CANTOPEN') || code === 'ENOENT') return { code, reason: 'the database file cannot be opened (was the data directory removed?)' };
  if (is('SQLITE_BUSY') || is('SQLITE_LOCKED')) return { code, reason: 'the database is locked by another process' };
  if (is('SQLITE_CORRUPT') || is('SQLITE_NOTADB')) return { code, reason: 'the database file is damaged' };
  if (is('SQLITE_PROTOCOL') || is('SQLITE_NOLFS') || is('SQLITE_NOMEM')) return { code, reason: `the database cannot be written (${code})` };
  return null;
}
