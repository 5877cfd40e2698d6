// Child process for the kill -9 durability tests (src/store/crash.test.ts and the crash suite):
// opens the store in the given data dir and writes statuses, history, probes, events and new
// sources as fast as it can until it is killed (monitor writes group-commit every 2,000 writes, and
// each new source commits at once). Prints "ready" once its first writes are committed.
//   node --import tsx test/support/store-crash-writer.ts <dataDir>
import { openDatabase } from '../../src/store/database.js';
import type { SourceStatus } from '../../src/core/types.js';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: crash-writer <dataDir>\n');
  process.exit(2);
}
const store = openDatabase({ dataDir, maintenanceIntervalMs: 0 });
const sources = store.sources.list();
if (sources.length === 0) {
  process.stderr.write('crash-writer: seed some sources first\n');
  process.exit(2);
}

let n = 0;
function writeOnce(): void {
  n += 1;
  const source = sources[n % sources.length]!;
  const route = source.routes[n % source.routes.length]!;
  const at = Date.now();
  const status: SourceStatus =
    n % 3 === 0
      ? { state: 'reconnecting', attempt: n % 7, nextRetryAt: at + 1000, since: at, lastRouteKind: route.kind, lastError: { code: 'refused', message: 'connection refused' } }
      : { state: 'connected', routeId: route.id, routeKind: route.kind, latencyMs: n % 50, since: at };
  store.status.save(source.id, status, { lastCheckedAt: at, nextCheckAt: at + 10_000 });
  store.status.appendHistory({ sourceId: source.id, at, state: status.state, routeKind: route.kind, detail: `write ${n}` });
  const results = source.routes.map((r) => ({ ok: true as const, routeId: r.id, at, latencyMs: n % 100 }));
  store.routes.recordResults(results);
  store.probes.appendMany(results);
  store.events.append({ type: 'StatusChanged', sourceId: source.id, sourceName: source.name, sourceKind: source.kind, at, status, previous: { state: 'connecting' } });
  if (n % 25 === 0) {
    // Sources and credentials are committed durably in one transaction: never one without the other.
    const id = `crash-${process.pid}-${n}`;
    store.sources.create({
      id,
      name: `Crash source ${n}`,
      kind: 'jellyfin',
      serverId: 'f'.repeat(32),
      routes: [{ url: 'http://127.0.0.2:8096', kind: 'local', priority: 0 }],
      credentials: { token: `token-${id}` },
    });
  }
  if (n % 200 === 0) store.prune();
}

writeOnce();
// "ready" only once this run has committed something, so every kill lands mid-writing.
store.flush();
process.stdout.write('ready\n');
for (;;) writeOnce();
