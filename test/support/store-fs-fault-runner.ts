// Runs inside a private mount namespace (`unshare -m`, root) made by fs-faults.test.ts: mounts a
// small tmpfs on the given directory and drives the store through a real full disk (ENOSPC) or a
// real read-only file system (EROFS). The mount vanishes with the namespace. Prints one JSON line.
//   unshare -m --propagation private node --import tsx test/support/store-fs-fault-runner.ts <full|readonly-start|readonly-start-wal|readonly-empty> <dir>
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceStatus } from '../../src/core/types.js';
import { openDatabase } from '../../src/store/database.js';
import { StoreOpenError, StoreUnavailableError } from '../../src/store/errors.js';
import { sampleSource } from './store.js';

const [scenario, mountDir] = process.argv.slice(2);
if (!scenario || !mountDir) throw new Error('usage: fs-fault-runner <scenario> <dir>');
const dataDir = join(mountDir, 'data');
const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'pipe' });
const connected = (n: number): SourceStatus => ({ state: 'connected', routeId: 'r', routeKind: 'local', latencyMs: n, since: n });
const report: Record<string, unknown> = { scenario };

/** Writes `path` until the file system has no byte left (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

// 1 MB: a freshly migrated database (0000–0005) peaks near 530 KB while close() folds its WAL back
// into the file; the scenarios that need a full disk fill it themselves.
mount('-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'marquee-test', mountDir);

if (scenario === 'full') {
  const store = openDatabase({ dataDir, maintenanceIntervalMs: 0, retryIntervalMs: 60_000 });
  const source = store.sources.create(sampleSource(1));
  let threw = 0;
  let n = 0;
  for (; n < 5000 && store.health().state === 'ok'; n++) {
    try {
      store.status.save(source.id, connected(n));
      store.status.appendHistory({ sourceId: source.id, at: n, state: 'connected', detail: 'x'.repeat(1500) });
      store.probes.appendMany(source.routes.map((r) => ({ ok: true as const, routeId: r.id, at: n, latencyMs: n })));
      store.events.append({ type: 'SyncRestored', sourceId: source.id, sourceName: source.name, sourceKind: source.kind, at: n, libraryCount: n });
    } catch {
      threw += 1;
    }
  }
  report.writesBeforeFull = n;
  report.degraded = store.health();
  for (let m = n; m < n + 20; m++) {
    try {
      store.status.save(source.id, connected(m));
      store.status.appendHistory({ sourceId: source.id, at: m, state: 'connected' });
    } catch {
      threw += 1;
    }
  }
  try {
    store.sources.create(sampleSource(2));
    report.configWrite = 'accepted';
  } catch (error) {
    report.configWrite = error instanceof StoreUnavailableError ? `refused: ${error.message}` : `threw ${String(error)}`;
  }
  report.threw = threw;
  mount('-o', 'remount,size=16m', mountDir);
  report.recovered = store.retryNow();
  report.after = store.health();
  report.lastStatus = store.status.get(source.id)?.status;
  report.expectedLastStatus = connected(n + 19);
  report.integrity = store.sqlite.pragma('integrity_check', { simple: true });
  store.close();
} else if (scenario === 'readonly-start' || scenario === 'readonly-start-wal') {
  const first = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
  const source = first.sources.create(sampleSource(1));
  first.status.save(source.id, connected(1));
  if (scenario === 'readonly-start-wal') {
    // The disk is full when Marquee stops: close() cannot fold the WAL back into the file, so the
    // database stays in WAL mode with its -wal and -shm beside it (as after a kill -9, too).
    const filler = join(mountDir, 'filler');
    first.flush();
    fillDisk(filler);
    first.close();
    rmSync(filler);
    report.walLeftBehind = existsSync(`${first.path}-wal`) && existsSync(`${first.path}-shm`);
  } else {
    first.close();
  }
  mount('-o', 'remount,ro', mountDir);
  const store = openDatabase({ dataDir, maintenanceIntervalMs: 0, retryIntervalMs: 60_000 });
  report.degraded = store.health();
  report.sources = store.sources.list().map((s) => s.id);
  report.expectedSources = [source.id];
  report.credentialsReadable = store.credentials.get(source.credentialRef) !== null;
  report.lastStatus = store.status.get(source.id)?.status;
  let threw = 0;
  try {
    store.status.save(source.id, connected(2));
    store.status.appendHistory({ sourceId: source.id, at: 2, state: 'connected' });
    store.events.append({ type: 'SyncRestored', sourceId: source.id, sourceName: source.name, sourceKind: source.kind, at: 2, libraryCount: 1 });
  } catch {
    threw += 1;
  }
  report.threw = threw;
  try {
    store.sources.rename(source.id, 'x');
    report.configWrite = 'accepted';
  } catch (error) {
    report.configWrite = error instanceof StoreUnavailableError ? `refused: ${error.message}` : `threw ${String(error)}`;
  }
  report.stillReadOnly = store.retryNow();
  mount('-o', 'remount,rw', mountDir);
  report.recovered = store.retryNow();
  report.after = store.health();
  report.statusAfter = store.status.get(source.id)?.status;
  report.historyAfter = store.status.recentHistory(source.id).length;
  report.eventsAfter = store.sqlite.prepare('SELECT count(*) FROM events').pluck().get();
  report.journalMode = store.sqlite.pragma('journal_mode', { simple: true });
  store.close();
} else if (scenario === 'readonly-empty') {
  mount('-o', 'remount,ro', mountDir);
  try {
    openDatabase({ dataDir: mountDir, maintenanceIntervalMs: 0 });
    report.opened = true;
  } catch (error) {
    report.error = error instanceof StoreOpenError ? { code: error.code, message: error.message } : String(error);
  }
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
process.stdout.write(`${JSON.stringify(report)}\n`);
