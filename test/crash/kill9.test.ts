// Issue 7, crashes: the real app process is killed with SIGKILL 20 times while it writes statuses as
// fast as its sources change — 30 Jellyfin servers whose routes flap (refuse/up) at a few Hz, with
// monitoring cadences cut to a fraction of a second. After the last kill the database, opened
// read-only exactly as the crash left it, must pass integrity and foreign-key checks and still hold
// every source with its credentials unchanged; then a normal `marquee serve` serves them all and
// they reconnect. (src/store/crash.test.ts kills the store helper; this kills the whole app.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../sim/index.js';
import type { ApiSource } from '../../src/api/types.js';
import { AppProcess, startApp } from '../support/app-process.js';
import { FAST_MONITOR } from '../support/fast-monitor.js';
import { sleep, waitUntil } from '../support/wait.js';

const SERVERS = 30;
const CYCLES = 20;
const USER = 'crash-user';
const PASSWORD = 'crash-pw-7f3e9a1c4b2d';
const LAUNCHER = join(import.meta.dirname, 'launch-app.ts');

interface DbSnapshot {
  integrity: string;
  foreignKeyViolations: unknown[];
  /** source id → credentials payload (null when the row is missing). */
  credentials: Map<string, string | null>;
  historyRows: number;
}

/** Opens the database read-only, as the crash left it (the read-only connection changes nothing). */
function inspect(dataDir: string): DbSnapshot {
  const db = new Database(join(dataDir, 'marquee.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT s.id AS id, c.payload AS payload FROM sources s LEFT JOIN credentials c ON c.ref = s.credential_ref')
      .all() as { id: string; payload: string | null }[];
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      foreignKeyViolations: db.pragma('foreign_key_check') as unknown[],
      credentials: new Map(rows.map((r) => [r.id, r.payload])),
      historyRows: db.prepare('SELECT count(*) FROM status_history').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

const T0 = Date.now();
/** CRASH_TRACE=1 prints where the time goes (module loading vs write windows). */
const trace = (msg: string): void => {
  if (process.env.CRASH_TRACE) console.log(`[${Date.now() - T0} ms] ${msg}`);
};

describe.sequential('kill -9 of the app during heavy status writes', () => {
  const apps: AppProcess[] = [];
  let work: string;
  let dataDir: string;
  let sim: Simulation;
  let sourceIds: string[] = [];
  let credentialsBefore: Map<string, string | null>;

  // The setup and final starts: the real CLI with its default settings.
  const start = (name: string) => startApp({ dataDir, name, env: { LOG_LEVEL: 'info' } }, (app) => apps.push(app));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'marquee-kill9-'));
    dataDir = join(work, 'data');
    sim = await createSimulation({
      servers: Array.from({ length: SERVERS }, (_, i) => ({
        id: `jf-${i}`,
        kind: 'jellyfin' as const,
        name: `Crash Jellyfin ${i}`,
        users: [{ name: USER, password: PASSWORD, admin: true, disabled: false }],
        libraries: [{ name: 'Movies', collectionType: 'movies' }],
        routes: [
          { id: `jf-${i}-local`, kind: 'local' as const, host: '127.0.0.2', port: 0 },
          { id: `jf-${i}-remote`, kind: 'remote' as const, host: '127.0.0.3', port: 0 },
        ],
      })),
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.kill9()));
    await sim?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('survives 20 SIGKILLs with integrity, sources and credentials intact, then serves and reconnects them all', { timeout: 85_000 }, async () => {
    // 1. Add every server once through the API, as the web UI does (Jellyfin sign-in by name).
    trace('setup start');
    const first = await start('marquee (setup)');
    trace('setup listening');
    for (const server of sim.servers) {
      const res = await first.request<ApiSource>('POST', 'api/sources', { kind: 'jellyfin', url: server.routes[0]!.url, username: USER, password: PASSWORD });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      sourceIds.push(res.body.id);
    }
    sourceIds = sourceIds.sort();
    expect(new Set(sourceIds).size).toBe(SERVERS);
    trace('added');
    expect((await first.stop()).code).toBe(0);
    trace('stopped');
    const seeded = inspect(dataDir);
    expect([...seeded.credentials.keys()].sort()).toEqual(sourceIds);
    for (const payload of seeded.credentials.values()) expect(JSON.parse(payload!)).toMatchObject({ token: expect.any(String) });
    credentialsBefore = seeded.credentials;

    // 2. Every route flaps, each at its own period, so statuses keep changing in every run.
    for (const [i, server] of sim.servers.entries()) {
      await sim.route(server.routes[0]!.id).fault({ mode: 'flap', periodMs: 300 + 13 * i });
      await sim.route(server.routes[1]!.id).fault({ mode: 'flap', periodMs: 700 + 17 * i });
    }

    // 3. Start, let it write for 200–1500 ms, SIGKILL. The history must keep growing across runs.
    let history = seeded.historyRows;
    const grewIn: number[] = [];
    const delays: number[] = [];
    // Later runs are spawned early (modules loading, database untouched) while the current one writes.
    const spawnHeld = (cycle: number): AppProcess => {
      const app = new AppProcess({
        dataDir,
        name: `marquee (cycle ${cycle})`,
        script: LAUNCHER,
        stdinPipe: true,
        env: { LOG_LEVEL: 'info', MARQUEE_TEST_MONITOR: JSON.stringify(FAST_MONITOR), MARQUEE_TEST_HOLD: '1' },
      });
      apps.push(app);
      return app;
    };
    // Three runs ahead: on a busy machine Node's module loading (~1.5 s of CPU) outlasts one window.
    const ahead = [spawnHeld(1), spawnHeld(2), spawnHeld(3)];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const app = ahead.shift()!;
      trace(`cycle ${cycle} go`);
      app.send('go');
      await app.waitListening(30_000);
      trace(`cycle ${cycle} listening`);
      if (cycle + 3 <= CYCLES) ahead.push(spawnHeld(cycle + 3));
      const delay = 200 + Math.floor(Math.random() * 1300);
      delays.push(delay);
      await sleep(delay);
      trace(`cycle ${cycle} kill`);
      const exit = await app.kill9();
      trace(`cycle ${cycle} killed`);
      // It was alive until our SIGKILL (it did not crash by itself meanwhile).
      expect(exit, `cycle ${cycle} (after ${delay} ms)\n${app.tail()}`).toEqual({ code: null, signal: 'SIGKILL' });
      const after = inspect(dataDir);
      expect(after.integrity, `integrity after cycle ${cycle}`).toBe('ok');
      trace(`cycle ${cycle} inspected, history ${after.historyRows}`);
      if (after.historyRows > history) grewIn.push(cycle);
      history = after.historyRows;
    }
    // Statuses were being written when the kills landed (not an idle app killed 20 times).
    expect(grewIn.length, `history grew in cycles ${grewIn.join(',')} (delays ${delays.join(',')})`).toBeGreaterThanOrEqual(CYCLES / 2);

    // 4. The database as the last kill left it.
    const crashed = inspect(dataDir);
    expect(crashed.integrity).toBe('ok');
    expect(crashed.foreignKeyViolations).toEqual([]);
    expect([...crashed.credentials.keys()].sort()).toEqual(sourceIds);
    for (const id of sourceIds) expect(crashed.credentials.get(id), `credentials of ${id}`).toBe(credentialsBefore.get(id));

    // 5. A normal start (the real CLI, default settings) serves every source, and they reconnect.
    for (const server of sim.servers) {
      for (const route of server.routes) await sim.route(route.id).fault({ mode: 'up' });
    }
    trace('final start');
    const final = await start('marquee serve (final)');
    trace('final listening');
    const listed = await final.request<ApiSource[]>('GET', 'api/sources');
    expect(listed.status).toBe(200);
    expect(listed.body.map((s) => s.id).sort()).toEqual(sourceIds);
    const connected = await waitUntil(async () => {
      const { body } = await final.request<ApiSource[]>('GET', 'api/sources');
      return body.length === SERVERS && body.every((s) => s.status === 'connected') ? body : undefined;
    }, { what: 'every source connected after the final start', timeoutMs: 20_000, retryErrors: true });
    expect(connected.every((s) => s.route !== null && s.libraries.some((l) => l.name === 'Movies'))).toBe(true);
    expect((await final.request('GET', 'healthz')).status).toBe(200);
    expect((await final.stop()).code).toBe(0);
  });
});
