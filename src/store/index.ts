// The store's public face: open the database, then use its repositories.
export { openDatabase, DATABASE_FILE_NAME, MIGRATIONS_FOLDER, type OpenDatabaseOptions, type Store } from './database.js';
export { DEFAULT_RETENTION, type RetentionPolicy } from './context.js';
export { StoreOpenError, StoreUnavailableError, classifyStorageError, type StoreOpenErrorCode, type StorageFault } from './errors.js';
export type { StoreLogger } from './logger.js';
export type { StoreHealth } from './write-guard.js';
export type { NewSourceRecord } from './repos/sources-repo.js';
export type { RouteRecord } from './repos/routes-repo.js';
export type { StoredStatus, StatusTimes, HistoryEntry, StoredHistoryEntry } from './repos/status-repo.js';
export type { ProbeRecord } from './repos/probe-history-repo.js';
export type { StoredEvent } from './repos/event-log-repo.js';
export type { SourcesRepo } from './repos/sources-repo.js';
export type { RoutesRepo } from './repos/routes-repo.js';
export type { CredentialsRepo } from './repos/credentials-repo.js';
export type { StatusRepo } from './repos/status-repo.js';
export type { ProbeHistoryRepo } from './repos/probe-history-repo.js';
export type { LibrariesRepo } from './repos/libraries-repo.js';
export type { EventLogRepo } from './repos/event-log-repo.js';
export type { SettingsRepo } from './repos/settings-repo.js';
