// Issue 7, storage: the real app process on a data directory that fills up or is read-only. A tiny
// tmpfs is mounted inside a private mount namespace (`unshare -m`, root) held open by a `sleep`;
// every run of the app enters that namespace with `nsenter -m`, so ENOSPC and EROFS come from the
// kernel and the mount vanishes with the holder. Where the namespace cannot be made, the suite fails with a clear message.
//
// Why "read-only" is only tested at startup: the kernel refuses `mount -o remount,ro` with EBUSY
// while a file on it is open for writing (the database is), so a data dir cannot turn read-only
// under a running app here; a full disk can, and is tested while the app runs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from '../../sim/index.js';
import type { ApiEventMessage, ApiHealth, ApiSnapshot, ApiSource, ApiSourceDetail } from '../../src/api/types.js';
import { REPO_ROOT, startApp, type AppProcess } from '../support/app-process.js';
import { SseReader, type SseMessage } from '../support/process-harness.js';
import { waitUntil } from '../support/wait.js';

const USER = 'storage-user';
const LAUNCHER = join(import.meta.dirname, 'launch-app.ts');
const PASSWORD = 'storage-pw-2c8d5e1f9a';
const MONITOR = {
  baseTickMs: 300,
  probeTimeoutMs: 1000,
  suspectProbeTimeoutMs: 500,
  graceMs: 30,
  reselectMs: { local: 2000, remote: 2000, relay: 2000, unknown: 2000 },
  backoff: { initialMs: 150, capMs: 600, minDelayMs: 50 },
  disconnectAfterAttempts: 2,
};

/** Debian's Chromium with the project's flags; builds the web UI first if it was never built. */
async function launchBrowser(): Promise<Browser> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(REPO_ROOT, 'src', 'web', 'vite.config.ts'), logLevel: 'warn' });
  }
  return chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
}

/** A process holding a private mount namespace with a small tmpfs on `dir`. */
class MountNamespace {
  private constructor(
    private readonly holder: ChildProcess,
    readonly dir: string,
  ) {}

  static async create(dir: string, sizeKb: number): Promise<MountNamespace> {
    const script = `mount -t tmpfs -o size=${sizeKb}k,mode=0755 marquee-crash-test "$1" && echo mounted && exec sleep 600`;
    const holder = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    holder.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    holder.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const ns = new MountNamespace(holder, dir);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      holder.stdout.on('data', () => {
        if (out.includes('mounted')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      holder.on('error', (err) => {
        out += `\n${err.message}`;
        clearTimeout(timer);
        resolve(false);
      });
      holder.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ok) {
      ns.kill();
      throw new Error(
        `Cannot create a private mount namespace with a tmpfs (unshare -m and mount need root and util-linux); ` +
          `the storage-fault suite cannot run here and fails rather than passing silently.\n${out}`,
      );
    }
    return ns;
  }

  get pid(): number {
    return this.holder.pid!;
  }

  /** Prefix that runs a command inside the namespace. */
  get enter(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '--'];
  }

  run(command: string, ...args: string[]): string {
    return execFileSync(this.enter[0]!, [...this.enter.slice(1), command, ...args], { encoding: 'utf8', timeout: 15_000, stdio: 'pipe' });
  }

  /** Fills the file system to the last block (dd stops at ENOSPC). */
  fill(): void {
    this.run('sh', '-c', 'dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null; exit 0', 'sh', this.dir);
  }

  freeSpace(): void {
    this.run('rm', '-f', join(this.dir, 'filler'));
  }

  availableKb(): number {
    return Number(this.run('df', '-k', '--output=avail', this.dir).trim().split('\n').pop());
  }

  remount(mode: 'ro' | 'rw'): void {
    this.run('mount', '-o', `remount,${mode}`, this.dir);
  }

  kill(): void {
    try {
      process.kill(-this.holder.pid!, 'SIGKILL');
    } catch {
      this.holder.kill('SIGKILL');
    }
  }
}

describe.sequential('a full or read-only data directory under the real app', () => {
  const apps: AppProcess[] = [];
  const streams: SseReader[] = [];
  let browser: Browser | undefined;
  let work: string;
  let outside: string;
  let ns: MountNamespace;
  let sim: Simulation;
  let dataDir: string;
  let sourceId: string;

  const start = (name: string) =>
    startApp(
      // The kill -9 suite's launcher (serve as the CLI does it): these cadences are faster than a
      // settings file may hold, so they go to the engine directly.
      { dataDir, name, prefix: ns.enter, script: LAUNCHER, env: { LOG_LEVEL: 'info', MARQUEE_TEST_MONITOR: JSON.stringify(MONITOR) } },
      (app) => apps.push(app),
    );
  const routes = () => sim.servers[0]!.routes;
  const setRoutes = async (mode: 'up' | 'refuse') => {
    for (const route of routes()) await sim.route(route.id).fault({ mode });
  };
  const health = async (app: AppProcess) => app.request<ApiHealth>('GET', 'healthz');
  const sourceView = async (app: AppProcess) => {
    const { status, body } = await app.request<ApiSource[]>('GET', 'api/sources');
    expect(status).toBe(200);
    return body.find((s) => s.id === sourceId)!;
  };
  /** Waits for `wanted` and returns the view (its `since` is when the transition happened). */
  const waitStatus = (app: AppProcess, wanted: (s: ApiSource) => boolean, what: string) =>
    waitUntil(async () => {
      const view = await sourceView(app);
      return wanted(view) ? view : undefined;
    }, { what, timeoutMs: 15_000, retryErrors: true });
  const openPage = async (url: string): Promise<Page> => {
    browser ??= await launchBrowser();
    const page = await (await browser.newContext()).newPage();
    await page.goto(url, { timeout: 15_000 });
    return page;
  };
  const openSse = async (app: AppProcess) => {
    const sse = await SseReader.open(new URL('api/events', app.url).href);
    streams.push(sse);
    if (sse.status !== 200) throw new Error(`SSE: HTTP ${sse.status}`);
    return sse;
  };
  /** The parsed data of the first message from index `from` on that matches. */
  const waitData = async <T = unknown>(sse: SseReader, what: string, match: (m: SseMessage) => boolean, timeoutMs: number, from = 0): Promise<T> =>
    JSON.parse((await sse.waitFor(match, timeoutMs, from, what)).data) as T;
  const healthEvent = (database: 'ok' | 'degraded') => (m: SseMessage) => m.event === 'health' && (JSON.parse(m.data) as ApiHealth).database === database;
  const engineEventFor = (m: SseMessage) => m.event === 'engine' && (JSON.parse(m.data) as ApiEventMessage).event.sourceId === sourceId;
  const connected = (s: ApiSource) => s.status === 'connected';
  const lost = (s: ApiSource) => s.status === 'reconnecting' || s.status === 'disconnected';

  /** Cuts every route, then restores them, while storage is degraded; returns the transitions seen. */
  async function flapWhileDegraded(app: AppProcess, detail: RegExp): Promise<{ state: string; since: number }[]> {
    const seen: { state: string; since: number }[] = [];
    const from = Date.now();
    await setRoutes('refuse');
    const down = await waitStatus(app, lost, 'source lost while storage is degraded');
    seen.push({ state: down.status, since: down.since! });
    await setRoutes('up');
    const up = await waitStatus(app, connected, 'source reconnected while storage is degraded');
    seen.push({ state: up.status, since: up.since! });
    for (const t of seen) expect(t.since, `${t.state} happened during this degraded period`).toBeGreaterThanOrEqual(from);
    // Still degraded: the monitor ran on, storage has not come back.
    const h = await health(app);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'degraded', database: 'degraded', monitor: 'running', detail: expect.stringMatching(detail) });
    return seen;
  }

  /** After a clean restart, the transitions made while degraded are in the source's history. */
  async function expectPersisted(app: AppProcess, seen: { state: string; since: number }[]): Promise<void> {
    const { status, body } = await app.request<ApiSourceDetail>('GET', `api/sources/${sourceId}`);
    expect(status).toBe(200);
    const transitions = body.history.filter((h) => h.kind === 'transition');
    for (const t of seen) {
      expect(transitions, `history after restart should hold ${t.state} at ${t.since}`).toContainEqual(expect.objectContaining({ state: t.state, at: t.since }));
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'marquee-storage-'));
    outside = mkdtempSync(join(tmpdir(), 'marquee-storage-copy-'));
    ns = await MountNamespace.create(work, 8 * 1024);
    dataDir = join(work, 'data');
    sim = await createSimulation({
      servers: [
        {
          id: 'jf-storage',
          kind: 'jellyfin',
          name: 'Storage Jellyfin',
          users: [{ name: USER, password: PASSWORD, admin: true, disabled: false }],
          libraries: [{ name: 'Movies', collectionType: 'movies' }, { name: 'Shows', collectionType: 'tvshows' }],
          routes: [
            { id: 'jf-storage-local', kind: 'local', host: '127.0.0.2', port: 0 },
            { id: 'jf-storage-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
          ],
        },
      ],
    });
  }, 30_000);

  afterAll(async () => {
    for (const sse of streams) sse.close();
    await browser?.close();
    await Promise.all(apps.map((app) => app.kill9()));
    ns?.kill();
    await sim?.close();
    // The tmpfs lived only in the holder's namespace: on the host this is an empty directory.
    if (work) rmSync(work, { recursive: true, force: true });
    if (outside) rmSync(outside, { recursive: true, force: true });
  }, 30_000);

  it('full disk while running: the monitor goes on, /healthz is degraded in plain words, recovers, and the writes land', { timeout: 80_000 }, async () => {
    const app = await start('marquee (disk fills)');
    const added = await app.request<ApiSource>('POST', 'api/sources', { kind: 'jellyfin', url: routes()[0]!.url, username: USER, password: PASSWORD });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    sourceId = added.body.id;
    await waitStatus(app, connected, 'source connected');
    expect((await health(app)).body).toEqual({ status: 'ok', database: 'ok', monitor: 'running' });
    // What the web UI reads: the snapshot's health, then `event: health` on every change.
    const sse = await openSse(app);
    const snapshot = await waitData<ApiSnapshot>(sse, 'snapshot', (m) => m.event === 'snapshot', 10_000);
    expect(snapshot.health).toMatchObject({ database: 'ok', monitor: 'running' });
    const page = await openPage(app.url);
    await page.getByText('Storage Jellyfin').first().waitFor({ timeout: 15_000 });
    const banner = page.getByTestId('storage-banner');
    expect(await banner.count()).toBe(0);

    ns.fill();
    expect(ns.availableKb()).toBe(0);
    // Status changes and failed probes are written as the routes go down; the disk refuses them.
    await setRoutes('refuse');
    const degraded = await waitUntil(async () => {
      const h = await health(app);
      return h.status === 503 ? h.body : undefined;
    }, { what: '/healthz degraded after the disk filled', timeoutMs: 30_000, retryErrors: true });
    expect(degraded).toMatchObject({ status: 'degraded', database: 'degraded', monitor: 'running' });
    expect(degraded.detail).toMatch(/full|space/i);
    expect(degraded.detail).not.toMatch(/SQLITE_|Error:|\bat \//); // words, not internals

    const pushed = await waitData<ApiHealth>(sse, 'event: health (degraded)', healthEvent('degraded'), 10_000);
    expect(pushed).toMatchObject({ database: 'degraded', detail: expect.stringMatching(/full|space/i) });
    const degradedAt = sse.messages.findIndex(healthEvent('degraded'));
    // The open page learns it from the stream (no reload) and warns in words.
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/can.t save.*(full|space)/is);

    const rename = await app.request<{ error: string; message: string }>('PATCH', `api/sources/${sourceId}`, { name: 'Renamed on a full disk' });
    expect(rename.status, JSON.stringify(rename.body)).toBe(503);
    expect(rename.body.message).toMatch(/full|space/i);
    expect((await sourceView(app)).name).toBe('Storage Jellyfin');

    // Back up first, so every transition recorded below happens while nothing can be saved.
    await setRoutes('up');
    await waitStatus(app, connected, 'source reconnected while the disk is full');
    const seen = await flapWhileDegraded(app, /full|space/i);
    // The live stream kept telling the source's story while nothing could be saved.
    await waitData(sse, 'engine events while degraded', engineEventFor, 5000, degradedAt);
    ns.freeSpace();
    await waitUntil(async () => {
      const h = await health(app);
      return h.status === 200 && h.body.status === 'ok' ? h : undefined;
    }, { what: '/healthz ok after space came back', timeoutMs: 20_000, retryErrors: true });
    await waitData(sse, 'event: health (ok)', healthEvent('ok'), 10_000, degradedAt);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await app.stop()).code).toBe(0);

    const again = await start('marquee (after the full disk)');
    await expectPersisted(again, seen);
    expect((await again.stop()).code).toBe(0);
  });

  it('read-only data dir at startup: serves the last saved state, degraded; recovers when writable and keeps the writes', { timeout: 80_000 }, async () => {
    // The last state a clean run saved, straight from the database (a copy taken outside the mount:
    // SQLite resolves /proc/<pid>/root back to the host's view, where the tmpfs is not mounted).
    const copy = join(outside, 'saved.db');
    ns.run('cp', join(dataDir, 'marquee.db'), copy);
    const db = new Database(copy, { readonly: true, fileMustExist: true });
    const saved = JSON.parse(db.prepare('SELECT status FROM source_status WHERE source_id = ?').pluck().get(sourceId) as string) as { state: string };
    db.close();
    expect(saved.state).toBe('connected');

    ns.remount('ro');
    const app = await start('marquee (read-only data dir)');
    const h = await health(app);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'degraded', database: 'degraded', monitor: 'running' });
    expect(h.body.detail).toMatch(/read-only/i);
    const view = await sourceView(app);
    expect(view).toMatchObject({ id: sourceId, name: 'Storage Jellyfin', kind: 'jellyfin' });
    expect(view.libraries.map((l) => l.name).sort()).toEqual(['Movies', 'Shows']);
    expect(view.status).toBe(saved.state);
    const sse = await openSse(app);
    const snapshot = await waitData<ApiSnapshot>(sse, 'snapshot', (m) => m.event === 'snapshot', 10_000);
    expect(snapshot.health).toMatchObject({ database: 'degraded', monitor: 'running', detail: expect.stringMatching(/read-only/i) });
    expect(snapshot.sources.map((s) => s.id)).toEqual([sourceId]);

    // The web UI warns in words while the data dir is read-only, and stops once it is writable.
    const page = await openPage(app.url);
    const banner = page.getByTestId('storage-banner');
    await banner.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await banner.textContent()).toMatch(/can.t save.*read-only/is);

    // A change the user asks for cannot be saved: refused in words (503), nothing half-applied.
    const rename = await app.request<{ error: string; message: string }>('PATCH', `api/sources/${sourceId}`, { name: 'Renamed while read-only' });
    expect(rename.status, JSON.stringify(rename.body)).toBe(503);
    expect(rename.body.message).toMatch(/read-only/i);
    expect((await sourceView(app)).name).toBe('Storage Jellyfin');

    const seen = await flapWhileDegraded(app, /read-only/i);
    ns.remount('rw');
    await waitUntil(async () => {
      const r = await health(app);
      return r.status === 200 && r.body.status === 'ok' ? r : undefined;
    }, { what: '/healthz ok once the data dir is writable again', timeoutMs: 20_000, retryErrors: true });
    await waitData(sse, 'event: health (ok)', healthEvent('ok'), 10_000);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await app.stop()).code).toBe(0);

    const again = await start('marquee (after read-only)');
    await expectPersisted(again, seen);
    expect((await health(again)).status).toBe(200);
    expect((await again.stop()).code).toBe(0);
  });
});
