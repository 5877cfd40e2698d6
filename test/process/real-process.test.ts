// Marquee as a user runs it: the simulator CLI and `marquee serve` as real child processes, talking
// real HTTP/SSE over loopback. One Jellyfin source is added exactly as the web UI adds it, its routes
// are cut and restored while the SSE stream is read, `marquee status --json` reports it, and the
// app is restarted on the same data directory: the last-known state must be served before any new
// check can complete, SSE must resume across the restart without a gap, and the stored credentials
// must still work. Every log line, API response and SSE byte is kept and scanned for secrets
// (issue 7, security checks).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEventMessage, ApiSnapshot, ApiSource, ApiSourceDetail } from '../../src/api/types.js';
import {
  ChildProc,
  Cleanup,
  RecordingClient,
  runToExit,
  SseReader,
  simControl,
  type SimLine,
  type SseMessage,
} from '../support/process-harness.js';
import { sleep, waitUntil } from '../support/wait.js';
import { startSimulator } from '../support/app-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MARQUEE_BIN = join(ROOT, 'bin', 'marquee.mjs');

const JELLYFIN_USER = 'alice';
const JELLYFIN_PASSWORD = 'pw-Xq7-correct-horse-4812';
const API_KEY = 'k3y-for-the-process-test-5f1c9a7e2b';

/** The app's default probe timeout (ApiSourceDetail.monitoring.probeTimeoutMs) — asserted below. */
const PROBE_TIMEOUT_MS = 5000;
/** Set before the restart, so the first check after it hangs this long on the hanging routes. */
const HUNG_PROBE_TIMEOUT_MS = 10_000;


/** The child environment: this process's, minus any Marquee setting that would leak into the test. */
function childEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('MARQUEE_') || key === 'LOG_LEVEL') delete env[key];
  }
  return { ...env, ...extra };
}

function listeningUrl(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return typeof entry.msg === 'string' && entry.msg.startsWith('Marquee is listening on') ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

function engineMessages(reader: SseReader, from = 0): { id: number; message: ApiEventMessage }[] {
  return reader.messages
    .slice(from)
    .filter((m) => m.event === 'engine')
    .map((m) => ({ id: Number(m.id), message: JSON.parse(m.data) as ApiEventMessage }));
}

function isEngine(type: string, sourceId: string) {
  return (m: SseMessage): boolean => {
    if (m.event !== 'engine') return false;
    const msg = JSON.parse(m.data) as ApiEventMessage;
    return msg.event.type === type && msg.event.sourceId === sourceId;
  };
}

/** Ids strictly increasing by one: nothing skipped, nothing repeated. */
function expectContiguous(ids: number[], first?: number): void {
  expect(ids.length).toBeGreaterThan(0);
  if (first !== undefined) expect(ids[0]).toBe(first);
  ids.forEach((id, i) => expect(id).toBe(ids[0]! + i));
}

/** Starts the simulator CLI on `config` (written to `dir`) and reads its one JSON line. */


/** `marquee serve --port 0` on `dataDir`; resolves with the URL from its "listening" log line. */
async function startMarquee(cleanup: Cleanup, name: string, dataDir: string, env: Record<string, string>): Promise<{ proc: ChildProc; url: string }> {
  const proc = cleanup.track(
    new ChildProc(process.execPath, [MARQUEE_BIN, 'serve', '--port', '0', '--data-dir', dataDir], { cwd: ROOT, name, env: childEnv(env) }),
  );
  const url = await proc.waitForLine(listeningUrl, 30_000);
  return { proc, url };
}

/** Reads the stored credentials straight from the app's database, read-only (WAL allows it while the app runs). */
function storedCredentials(dataDir: string): { token: string; accountToken?: string }[] {
  const db = new Database(join(dataDir, 'marquee.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT payload FROM credentials').all() as { payload: string }[]).map(
      (r) => JSON.parse(r.payload) as { token: string; accountToken?: string },
    );
  } finally {
    db.close();
  }
}

/** Asserts that none of the secrets (nor a 12-character head or tail of one) occurs in any text. */
function expectNoSecrets(corpora: Record<string, string>, secrets: Record<string, string>): void {
  const all: Record<string, string> = {};
  for (const [name, secret] of Object.entries(secrets)) {
    expect(secret.length, `${name} is long enough to search for`).toBeGreaterThanOrEqual(16);
    all[name] = secret;
    all[`${name} (first 12 chars)`] = secret.slice(0, 12);
    all[`${name} (last 12 chars)`] = secret.slice(-12);
  }
  for (const [where, text] of Object.entries(corpora)) {
    for (const [what, secret] of Object.entries(all)) {
      expect(text.includes(secret), `${what} found in ${where}`).toBe(false);
    }
  }
}

interface LibraryCard {
  id: string;
  title: string;
  imageUrl: string | null;
}

/**
 * Browses a source through Marquee's library API as the web UI does — a page of its first library
 * (once the first sync filled the cache), an item page, that item's poster, a search for its
 * title and the home rows — so the secret scan covers the library answers, the image responses'
 * headers and the search results too (issue 14).
 */
async function browseLibraryThroughApi(api: RecordingClient, sourceId: string): Promise<void> {
  const library = await waitUntil(
    async () => (await api.get(`/api/sources/${sourceId}`)).json<ApiSourceDetail>().libraries[0],
    { what: 'the source\'s libraries', timeoutMs: 20_000 },
  );
  const items = await waitUntil(
    async () => {
      const page = await api.get(`/api/sources/${sourceId}/libraries/${library.id}/items?limit=20`);
      return page.status === 200 ? page.json<{ items: LibraryCard[] }>().items.length > 0 && page.json<{ items: LibraryCard[] }>().items : false;
    },
    { what: 'the first library page from the cache', timeoutMs: 30_000 },
  );
  const card = items.find((i) => i.imageUrl) ?? items[0]!;
  expect((await api.get(`/api/sources/${sourceId}/items/${encodeURIComponent(card.id)}`)).status).toBe(200);
  expect(card.imageUrl).toBeTruthy();
  const image = await api.get(card.imageUrl!);
  expect(image.status).toBe(200);
  expect(image.headers['content-type']).toMatch(/^image\//);
  const search = await api.get(`/api/search?q=${encodeURIComponent(card.title)}&wait=5000`);
  expect(search.status).toBe(200);
  expect(search.json<{ results: { id: string }[] }>().results.map((r) => r.id)).toContain(card.id);
  expect((await api.get('/api/home')).status).toBe(200);
}

describe.sequential('Marquee as a real process: simulator + app, add, cut, restart', () => {
  const cleanup = new Cleanup();
  const sses: SseReader[] = [];
  const apps: ChildProc[] = [];
  const cliOutputs: string[] = [];
  let work: string;
  let dataDir: string;
  let simLine: SimLine;
  let api: RecordingClient;
  let sourceId: string;
  let localUrl: string;
  /** Last engine event id seen before the restart. */
  let lastIdBeforeRestart = 0;
  let stateBeforeRestart: ApiSource;
  let detailBeforeRestart: ApiSourceDetail;

  const simRouteIds = (): string[] => simLine.servers[0]!.routes.map((r) => r.id);

  async function simFault(routeId: string, mode: string): Promise<void> {
    await simControl(simLine, 'POST', `/routes/${routeId}/fault`, { mode });
  }

  async function allRoutes(mode: string): Promise<void> {
    for (const id of simRouteIds()) await simFault(id, mode);
  }

  async function startApp(): Promise<{ app: ChildProc; url: string }> {
    const { proc, url } = await startMarquee(cleanup, `marquee serve #${apps.length + 1}`, dataDir, {
      MARQUEE_PLEX_TV_URL: simLine.plexTv,
      LOG_LEVEL: 'trace',
      MARQUEE_SSE_HEARTBEAT_MS: '1000',
    });
    apps.push(proc);
    return { app: proc, url };
  }

  async function openSse(headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = await SseReader.open(new URL('api/events', api.baseUrl).href, headers);
    sses.push(reader);
    cleanup.onClose(() => reader.close());
    expect(reader.status).toBe(200);
    return reader;
  }

  beforeAll(async () => {
    work = cleanup.tempDir('marquee-process-');
    dataDir = join(work, 'data');
    ({ line: simLine } = await startSimulator(cleanup, work, {
      plexTv: { host: '127.0.0.1', port: 0 },
      control: { host: '127.0.0.1', port: 0 },
      servers: [
        {
          id: 'jf-process',
          kind: 'jellyfin',
          name: 'Process-test Jellyfin',
          users: [{ name: JELLYFIN_USER, password: JELLYFIN_PASSWORD, admin: true }],
          routes: [
            { id: 'jf-process-local', kind: 'local', host: '127.0.0.41', port: 0 },
            { id: 'jf-process-remote', kind: 'remote', host: '127.0.0.42', port: 0 },
          ],
          libraries: [
            { name: 'Movies', collectionType: 'movies' },
            { name: 'Shows', collectionType: 'tvshows' },
          ],
        },
      ],
    }));
    localUrl = simLine.servers[0]!.routes.find((r) => r.kind === 'local')!.url;
  }, 60_000);

  afterAll(async () => {
    await cleanup.run();
  }, 30_000);

  it('starts `marquee serve` and adds a Jellyfin source the way the UI does', async () => {
    const { url } = await startApp();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    api = new RecordingClient(url);

    const probe = await api.post('api/jellyfin/probe', { url: localUrl });
    expect(probe.status).toBe(200);
    expect(probe.json()).toMatchObject({ name: 'Process-test Jellyfin', serverId: simLine.servers[0]!.machineId, alreadyAdded: false });

    const wrong = await api.post('api/sources', { kind: 'jellyfin', url: localUrl, username: JELLYFIN_USER, password: 'not-the-password' });
    expect(wrong.status).toBe(422);
    expect(wrong.json<{ error: string }>().error).toBe('bad_credentials');

    const added = await api.post('api/sources', { kind: 'jellyfin', url: probe.json<{ url: string }>().url, username: JELLYFIN_USER, password: JELLYFIN_PASSWORD });
    expect(added.status).toBe(201);
    sourceId = added.json<ApiSource>().id;

    const connected = await waitUntil(
      async () => {
        const list = (await api.get('api/sources')).json<ApiSource[]>();
        const s = list.find((x) => x.id === sourceId);
        return s?.status === 'connected' && s.libraries.length === 2 ? s : undefined;
      },
      { what: 'the new source to be connected with its libraries', timeoutMs: 20_000, retryErrors: true },
    );
    expect(connected.route).toMatchObject({ kind: 'local', url: localUrl });
    expect(connected.libraries.map((l) => l.name).sort()).toEqual(['Movies', 'Shows']);

    const detail = (await api.get(`api/sources/${sourceId}`)).json<ApiSourceDetail>();
    expect(detail.monitoring.probeTimeoutMs).toBe(PROBE_TIMEOUT_MS);
    expect(detail.routes.map((r) => r.url)).toContain(localUrl);
  }, 60_000);

  it('streams engine events in order, with increasing ids, while the routes are cut and restored', async () => {
    const sse = await openSse();
    const snapshotMsg = await sse.waitFor((m) => m.event === 'snapshot', 5000, 0, 'the snapshot');
    const snapshot = JSON.parse(snapshotMsg.data) as ApiSnapshot;
    expect(Number(snapshotMsg.id)).toBe(snapshot.lastEventId);
    expect(snapshot.sources.find((s) => s.id === sourceId)?.status).toBe('connected');
    // Heartbeats keep proxies from closing an idle stream (1 s in this test).
    await waitUntil(async () => (sse.raw.includes(': heartbeat') ? true : undefined), { what: 'a heartbeat comment', timeoutMs: 5000, retryErrors: true });

    const before = sse.messages.length;
    // Cut every route the server has: the source can only go down, then come back by itself.
    await allRoutes('refuse');
    await sse.waitFor(isEngine('ConnectionLost', sourceId), 15_000, before, 'ConnectionLost');
    await sse.waitFor(isEngine('Reconnecting', sourceId), 15_000, before, 'Reconnecting');
    const down = (await api.get('api/sources')).json<ApiSource[]>().find((s) => s.id === sourceId)!;
    expect(['reconnecting', 'disconnected']).toContain(down.status);
    expect(down.route).toBeNull();
    expect(down.libraries).toHaveLength(2); // the last-known libraries stay visible

    await allRoutes('up');
    await sse.waitFor(isEngine('ConnectionRestored', sourceId), 30_000, before, 'ConnectionRestored');

    const events = engineMessages(sse, before);
    expectContiguous(events.map((e) => e.id), snapshot.lastEventId + 1);
    for (const e of events) expect(e.message.seq).toBe(e.id);
    const types = events.map((e) => e.message.event.type);
    const lost = types.indexOf('ConnectionLost');
    const reconnecting = types.indexOf('Reconnecting');
    const restored = types.indexOf('ConnectionRestored');
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(reconnecting).toBeGreaterThan(lost);
    expect(restored).toBeGreaterThan(reconnecting);
    expect(types.slice(0, restored)).not.toContain('ConnectionChanged');
    const lostEvent = events[lost]!.message.event;
    if (lostEvent.type === 'ConnectionLost') {
      expect(lostEvent.lastRouteKind).toBe('local');
      expect(lostEvent.error?.code).toBe('refused');
    }
    const restoredEvent = events[restored]!.message.event;
    expect(restoredEvent).toMatchObject({ type: 'ConnectionRestored', routeKind: 'local', sourceName: 'Process-test Jellyfin' });
    if (restoredEvent.type === 'ConnectionRestored') expect(restoredEvent.downForMs).toBeGreaterThan(0);
    expect(events[restored]!.message.source?.status).toBe('connected');
    // Event times never go backwards.
    const times = events.map((e) => e.message.event.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 60_000);

  it('`marquee status --json` shows the source with its status and route kind', async () => {
    const json = await runToExit(
      process.execPath,
      [MARQUEE_BIN, 'status', '--json', '--url', api.baseUrl],
      { cwd: ROOT, name: 'marquee status --json', env: childEnv(), timeoutMs: 30_000 },
      cleanup,
    );
    cliOutputs.push(json.stdout, json.stderr);
    expect(json.code, json.stderr).toBe(0);
    const list = JSON.parse(json.stdout) as ApiSource[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: sourceId, name: 'Process-test Jellyfin', kind: 'jellyfin', status: 'connected', route: { kind: 'local' } });

    const table = await runToExit(
      process.execPath,
      [MARQUEE_BIN, 'status', '--url', api.baseUrl],
      { cwd: ROOT, name: 'marquee status', env: childEnv(), timeoutMs: 30_000 },
      cleanup,
    );
    cliOutputs.push(table.stdout, table.stderr);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+KIND\s+STATUS\s+ROUTE\s+LATENCY\n/);
    expect(table.stdout).toMatch(/Process-test Jellyfin\s+jellyfin\s+connected\s+local\s+\d/);
  }, 60_000);

  it('restarts: clean SIGTERM exit, last-known state before the first new check, lossless SSE resume, nothing lost', async () => {
    const oldApp = apps.at(-1)!;
    const sseA = sses.at(-1)!;
    // A longer probe timeout (a monitoring setting that must itself survive the restart) gives a
    // wide, provable window in which no check can complete.
    const patched = await api.request('PATCH', `api/sources/${sourceId}`, { body: { monitoring: { probeTimeoutMs: HUNG_PROBE_TIMEOUT_MS } } });
    expect(patched.status).toBe(200);
    detailBeforeRestart = (await api.get(`api/sources/${sourceId}`)).json<ApiSourceDetail>();
    expect(detailBeforeRestart.monitoring.probeTimeoutMs).toBe(HUNG_PROBE_TIMEOUT_MS);

    // From now on no check can complete until the probe timeout: both routes accept and never answer.
    await allRoutes('hang');
    stateBeforeRestart = (await api.get('api/sources')).json<ApiSource[]>().find((s) => s.id === sourceId)!;
    expect(stateBeforeRestart.status).toBe('connected');
    const lastA = engineMessages(sseA).at(-1);
    lastIdBeforeRestart = lastA ? lastA.id : Number(sseA.messages.find((m) => m.event === 'snapshot')!.id);

    oldApp.signal('SIGTERM');
    const exit = await oldApp.waitForExit(15_000);
    expect(exit, oldApp.tail()).toEqual({ code: 0, signal: null });
    await sseA.waitForEnd(5000); // the server ended the stream on shutdown
    // Nothing happened between our last look and the shutdown.
    const lastAfterStop = engineMessages(sseA).at(-1);
    expect(lastAfterStop?.id ?? lastIdBeforeRestart).toBe(lastIdBeforeRestart);

    const { url } = await startApp();
    const listeningAt = Date.now();
    api.baseUrl = url; // same data dir, new random port

    // Served at once from the database: the last-known status, route and libraries.
    const first = (await api.get('api/sources')).json<ApiSource[]>();
    const servedAt = Date.now();
    const source = first.find((s) => s.id === sourceId);
    expect(source, 'the source survives the restart').toBeDefined();
    expect(source!.status).toBe('connected');
    expect(source!.route).toMatchObject({ id: stateBeforeRestart.route!.id, kind: 'local', url: localUrl });
    expect(source!.libraries).toEqual(stateBeforeRestart.libraries);
    // No check completed: the routes hang, and the last check time is the one from before the restart.
    expect(source!.lastCheckedAt).toBe(stateBeforeRestart.lastCheckedAt);
    expect(servedAt - listeningAt).toBeLessThan(HUNG_PROBE_TIMEOUT_MS / 2);

    // SSE resumes from the last id the old process sent: nothing happened since, so the resume is
    // the snapshot at that very id, still showing the last-known state.
    const sseB = await openSse({ 'last-event-id': String(lastIdBeforeRestart) });
    const snapB = await sseB.waitFor((m) => m.event === 'snapshot', 5000, 0, 'the resume snapshot');
    const snapshotB = JSON.parse(snapB.data) as ApiSnapshot;
    expect(snapshotB.lastEventId).toBe(lastIdBeforeRestart);
    expect(Number(snapB.id)).toBe(lastIdBeforeRestart);
    expect(engineMessages(sseB)).toEqual([]);
    const inSnapshot = snapshotB.sources.find((s) => s.id === sourceId)!;
    expect(inSnapshot.status).toBe('connected');
    expect(inSnapshot.lastCheckedAt).toBe(stateBeforeRestart.lastCheckedAt);

    // A moment later (still well inside the probe timeout) the same last-known state is served.
    await sleep(1000);
    const stillServed = (await api.get('api/sources')).json<ApiSource[]>().find((s) => s.id === sourceId)!;
    expect(Date.now() - listeningAt).toBeLessThan(HUNG_PROBE_TIMEOUT_MS / 2);
    expect(stillServed.status).toBe('connected');
    expect(stillServed.lastCheckedAt).toBe(stateBeforeRestart.lastCheckedAt);

    // The hung check ends at the probe timeout; the source goes down; then the routes come back
    // and the stored credentials bring it back without a new sign-in.
    await sseB.waitFor(isEngine('ConnectionLost', sourceId), HUNG_PROBE_TIMEOUT_MS + 10_000, 0, 'ConnectionLost after the restart');
    await allRoutes('up');
    await sseB.waitFor(isEngine('ConnectionRestored', sourceId), 30_000, 0, 'ConnectionRestored after the restart');

    // No seq gap across the restart: B's engine ids continue right after the old process's last one.
    const idsB = engineMessages(sseB).map((e) => e.id);
    expectContiguous(idsB, lastIdBeforeRestart + 1);
    // The first check after the restart is the one that hung: it ended at the probe timeout.
    const lostB = engineMessages(sseB).find((e) => e.message.event.type === 'ConnectionLost')!.message.event;
    if (lostB.type === 'ConnectionLost') expect(lostB.error?.code).toBe('timeout');
    expect(lostB.at - listeningAt).toBeGreaterThan(HUNG_PROBE_TIMEOUT_MS / 2);

    // A client that was away for all of it (still holding the pre-restart id) gets every missed event.
    const sseC = await openSse({ 'last-event-id': String(lastIdBeforeRestart) });
    await sseC.waitFor((m) => m.event === 'snapshot', 5000, 0, 'the catch-up snapshot');
    const idsC = engineMessages(sseC).map((e) => e.id);
    expect(idsC.slice(0, idsB.length)).toEqual(idsB);
    expect(engineMessages(sseC).map((e) => e.message.event.type).slice(0, idsB.length)).toEqual(
      engineMessages(sseB).map((e) => e.message.event.type),
    );
    sseC.close();

    // Nothing lost: same source, same routes, libraries, settings; history from before the restart.
    const after = await waitUntil(
      async () => {
        const d = (await api.get(`api/sources/${sourceId}`)).json<ApiSourceDetail>();
        return d.status === 'connected' && d.libraries.length === 2 ? d : undefined;
      },
      { what: 'connected with libraries after the restart', timeoutMs: 10_000, retryErrors: true },
    );
    expect(after.name).toBe(detailBeforeRestart.name);
    expect(after.serverId).toBe(detailBeforeRestart.serverId);
    expect(after.routes.map((r) => [r.id, r.url, r.kind])).toEqual(detailBeforeRestart.routes.map((r) => [r.id, r.url, r.kind]));
    expect(after.monitoring).toEqual(detailBeforeRestart.monitoring);
    expect(after.libraries.map((l) => l.id).sort()).toEqual(detailBeforeRestart.libraries.map((l) => l.id).sort());
    const oldestBefore = Math.min(...detailBeforeRestart.history.map((h) => h.at));
    expect(after.history.some((h) => h.at <= oldestBefore + 1 && h.at < listeningAt)).toBe(true);
    expect(after.history.some((h) => h.kind === 'transition' && h.state === 'connected' && h.at > listeningAt)).toBe(true);
  }, 120_000);

  it('never lets the Jellyfin token or the password out: logs, API responses, SSE and CLI output', async () => {
    // The real AccessToken, read straight from the app's database (read-only) …
    const payloads = storedCredentials(dataDir);
    expect(payloads).toHaveLength(1);
    const token = payloads[0]!.token;
    // … and proven to be the one the simulated server accepts (and that a wrong one is refused).
    const authHeader = (t: string) => `MediaBrowser Client="process-test", Device="test", DeviceId="process-test", Version="1.0", Token="${t}"`;
    const me = await fetch(`${localUrl}/Users/Me`, { headers: { authorization: authHeader(token) }, signal: AbortSignal.timeout(5000) });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { Name: string }).Name).toBe(JELLYFIN_USER);
    const bad = await fetch(`${localUrl}/Users/Me`, { headers: { authorization: authHeader(`${token.slice(0, -4)}0000`) }, signal: AbortSignal.timeout(5000) });
    expect(bad.status).toBe(401);

    // Library answers, an image response and search results join the scanned material.
    await browseLibraryThroughApi(api, sourceId);

    // Stop the app so its logs are complete.
    const app = apps.at(-1)!;
    app.signal('SIGTERM');
    expect((await app.waitForExit(15_000)).code).toBe(0);
    for (const s of sses) s.close();

    const corpora: Record<string, string> = {
      logs: apps.map((a) => a.output).join('\n'),
      'API responses': api.allText(),
      'SSE streams': sses.map((s) => s.raw).join('\n'),
      'CLI output': cliOutputs.join('\n'),
    };
    // The scan is only worth something if the material is really there.
    expect(corpora.logs).toContain('Marquee is listening on');
    expect(corpora.logs!.split('\n').length).toBeGreaterThan(20);
    expect(corpora['API responses']).toContain('Process-test Jellyfin');
    expect(corpora['SSE streams']).toContain('ConnectionRestored');
    expect(corpora['CLI output']).toContain('Process-test Jellyfin');
    expect(corpora['API responses']).toContain('/image?kind=poster');
    expect(corpora['API responses']).toContain('"content-type":"image/');

    expectNoSecrets(corpora, { 'Jellyfin access token': token, 'Jellyfin password': JELLYFIN_PASSWORD });
  }, 60_000);
});

describe.sequential('Marquee as a real process: a Plex source through the PIN flow', () => {
  const cleanup = new Cleanup();
  let simLine: SimLine;
  let app: ChildProc;
  let api: RecordingClient;
  let dataDir: string;
  let sourceId: string;
  let sse: SseReader;
  const routeId = (kind: string): string => simLine.servers[0]!.routes.find((r) => r.kind === kind)!.id;

  beforeAll(async () => {
    const work = cleanup.tempDir('marquee-plex-');
    dataDir = join(work, 'data');
    ({ line: simLine } = await startSimulator(cleanup, work, {
      plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'pat', email: 'pat@example.invalid' }] },
      control: { host: '127.0.0.1', port: 0 },
      servers: [
        {
          id: 'px-process',
          kind: 'plex',
          name: 'Process-test Plex',
          owner: 'pat',
          routes: [
            { id: 'px-process-local', kind: 'local', host: '127.0.0.51', port: 0 },
            { id: 'px-process-remote', kind: 'remote', host: '127.0.0.52', port: 0 },
            { id: 'px-process-relay', kind: 'relay', host: '127.0.0.53', port: 0 },
          ],
          libraries: [
            { title: 'Movies', type: 'movie' },
            { title: 'Music', type: 'artist' },
          ],
        },
      ],
    }));
    const started = await startMarquee(cleanup, 'marquee serve (plex)', dataDir, { MARQUEE_PLEX_TV_URL: simLine.plexTv, LOG_LEVEL: 'trace' });
    app = started.proc;
    api = new RecordingClient(started.url);
  }, 90_000);

  afterAll(async () => {
    sse?.close();
    await cleanup.run();
  }, 30_000);

  it('signs in with a PIN approved on (simulated) plex.tv and adds the server it finds', async () => {
    const pin = await api.post('api/plex/pins');
    expect(pin.status).toBe(201);
    const { id: pinId, code, authUrl } = pin.json<{ id: number; code: string; authUrl: string }>();
    expect(code.length).toBeGreaterThan(0);
    expect(authUrl).toContain(encodeURIComponent(code));
    expect((await api.get(`api/plex/pins/${pinId}`)).json()).toEqual({ state: 'pending' });

    await simControl(simLine, 'POST', `/plex/pins/${pinId}/approve`, { username: 'pat' });
    const servers = await waitUntil(
      async () => {
        const state = (await api.get(`api/plex/pins/${pinId}`)).json<{ state: string; servers?: { serverId: string; routes: { kind: string }[] }[] }>();
        return state.state === 'authorized' ? state.servers : undefined;
      },
      { what: 'the PIN to be authorized', timeoutMs: 10_000, retryErrors: true },
    );
    const found = servers.find((x) => x.serverId === simLine.servers[0]!.machineId);
    expect(found?.routes.map((r) => r.kind).sort()).toEqual(['local', 'relay', 'remote']);

    const added = await api.post('api/sources', { kind: 'plex', serverId: found!.serverId, pinId });
    expect(added.status).toBe(201);
    sourceId = added.json<ApiSource>().id;
    const connected = await waitUntil(
      async () => {
        const s = (await api.get('api/sources')).json<ApiSource[]>().find((x) => x.id === sourceId);
        return s?.status === 'connected' && s.libraries.length === 2 && s.route?.kind === 'local' ? s : undefined;
      },
      { what: 'the Plex source to be connected on its local route with its libraries', timeoutMs: 20_000, retryErrors: true },
    );
    expect(connected.name).toBe('Process-test Plex');
  }, 60_000);

  it('moves to the remote route when the local one is cut, and back to local by itself after it is restored', async () => {
    sse = await SseReader.open(new URL('api/events', api.baseUrl).href);
    expect(sse.status).toBe(200);
    const snapshot = await sse.waitFor((m) => m.event === 'snapshot', 5000, 0, 'the snapshot');
    const firstId = Number(snapshot.id) + 1;

    await simControl(simLine, 'POST', `/routes/${routeId('local')}/fault`, { mode: 'refuse' });
    const toRemote = await sse.waitFor(isEngine('ConnectionChanged', sourceId), 15_000, 0, 'ConnectionChanged to remote');
    expect(JSON.parse(toRemote.data).event).toMatchObject({ routeKind: 'remote', previousRouteKind: 'local' });

    await simControl(simLine, 'POST', `/routes/${routeId('local')}/fault`, { mode: 'up' });
    // Back by itself, without any user action, once local answered for the hold-down window
    // (default 8 answers over ≥ 15 s; the first within one retry, ≤ 4.5 s): ~15–21 s.
    const index = sse.messages.indexOf(toRemote) + 1;
    const toLocal = await sse.waitFor(isEngine('ConnectionChanged', sourceId), 35_000, index, 'ConnectionChanged back to local');
    expect(JSON.parse(toLocal.data).event).toMatchObject({ routeKind: 'local', previousRouteKind: 'remote' });

    const events = engineMessages(sse);
    expectContiguous(events.map((e) => e.id), firstId);
    const types = events.map((e) => e.message.event.type);
    // A route change is not an outage: the source never counted as lost.
    expect(types).not.toContain('ConnectionLost');
    expect(types).not.toContain('Reconnecting');
  }, 90_000);

  it('never lets the plex.tv account token or the server token out', async () => {
    const payloads = storedCredentials(dataDir);
    expect(payloads).toHaveLength(1);
    const serverToken = payloads[0]!.token;
    const accountToken = payloads[0]!.accountToken!;
    // Both are the real ones: plex.tv's latest token for the account, and one the server accepts.
    expect((await simControl<{ token: string }>(simLine, 'GET', '/plex/token?username=pat')).token).toBe(accountToken);
    const localUrl = simLine.servers[0]!.routes.find((r) => r.kind === 'local')!.url;
    const sections = (t: string) =>
      fetch(`${localUrl}/library/sections`, { headers: { 'x-plex-token': t, accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    expect((await sections(serverToken)).status).toBe(200);
    expect((await sections(`${serverToken.slice(0, -4)}0000`)).status).toBe(401);

    await browseLibraryThroughApi(api, sourceId);
    expect((await runToExit(process.execPath, [MARQUEE_BIN, 'status', '--url', api.baseUrl], { cwd: ROOT, name: 'marquee status', env: childEnv(), timeoutMs: 30_000 }, cleanup)).code).toBe(0);
    sse.close();
    app.signal('SIGTERM');
    expect((await app.waitForExit(15_000)).code).toBe(0);

    const corpora = { logs: app.output, 'API responses': api.allText(), 'SSE stream': sse.raw };
    expect(corpora.logs).toContain('Marquee is listening on');
    expect(corpora['API responses']).toContain('Process-test Plex');
    expect(corpora['SSE stream']).toContain('ConnectionChanged');
    expect(corpora['API responses']).toContain('/image?kind=poster');
    expect(corpora['API responses']).toContain('"content-type":"image/');
    expectNoSecrets(corpora, { 'Plex server token': serverToken, 'plex.tv account token': accountToken });
  }, 60_000);
});

describe('Marquee as a real process: bind and request safety', () => {
  const cleanup = new Cleanup();

  afterAll(async () => {
    await cleanup.run();
  }, 30_000);

  it('refuses to listen on 0.0.0.0 without an API key, with a clear message and a non-zero exit', async () => {
    const dataDir = join(cleanup.tempDir('marquee-bind-'), 'data');
    const result = await runToExit(
      process.execPath,
      [MARQUEE_BIN, 'serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dataDir],
      { cwd: ROOT, name: 'marquee serve --host 0.0.0.0', env: childEnv(), timeoutMs: 30_000 },
      cleanup,
    );
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/Refusing to start: binding to 0\.0\.0\.0 .*no API key is set/);
    expect(result.stderr).toContain('MARQUEE_API_KEY');
    expect(result.stdout).not.toContain('Marquee is listening');
  }, 60_000);

  it('with MARQUEE_API_KEY: 401 without the key, 200 with X-Api-Key or the session cookie, 403 for a cross-origin POST; the key is never logged', async () => {
    const dataDir = join(cleanup.tempDir('marquee-key-'), 'data');
    const app = cleanup.track(
      new ChildProc(process.execPath, [MARQUEE_BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
        cwd: ROOT,
        name: 'marquee serve (api key)',
        env: childEnv({ MARQUEE_API_KEY: API_KEY, LOG_LEVEL: 'trace' }),
      }),
    );
    const url = await app.waitForLine(listeningUrl, 30_000);
    const anonymous = new RecordingClient(url);
    const withKey = new RecordingClient(url, { 'x-api-key': API_KEY });

    const denied = await anonymous.get('api/sources');
    expect(denied.status).toBe(401);
    expect(denied.json<{ error: string; message: string }>().message.length).toBeGreaterThan(0);
    expect((await anonymous.get('api/sources', { 'x-api-key': `${API_KEY}-wrong` })).status).toBe(401);
    const events = await anonymous.get('api/events');
    expect(events.status).toBe(401);

    const allowed = await withKey.get('api/sources');
    expect(allowed.status).toBe(200);
    expect(allowed.json()).toEqual([]);
    expect((await anonymous.get('api/sources', { authorization: `Bearer ${API_KEY}` })).status).toBe(200);

    // A state-changing request from another site is refused even with a valid key …
    const crossOrigin = await withKey.post('api/plex/pins', undefined, { origin: 'http://evil.example' });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.json<{ error: string }>().error).toBe('cross_origin');
    const crossDelete = await withKey.request('DELETE', 'api/sources/anything', { headers: { origin: 'http://evil.example' } });
    expect(crossDelete.status).toBe(403);
    // … while the same request from the app's own origin goes through the auth and Origin checks.
    const origin = new URL(url).origin;
    const sameOrigin = await withKey.request('DELETE', 'api/sources/anything', { headers: { origin } });
    expect(sameOrigin.status).toBe(404);

    // The browser session the UI's key form opens: an HttpOnly cookie that is not the key itself.
    const wrongLogin = await anonymous.post('api/session', { apiKey: `${API_KEY}-wrong` }, { origin });
    expect(wrongLogin.status).toBe(401);
    const login = await anonymous.post('api/session', { apiKey: API_KEY }, { origin });
    expect(login.status).toBe(200);
    const setCookie = login.headers['set-cookie'] ?? '';
    expect(setCookie).toMatch(/^marquee_session=[^;]+;/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    expect((await anonymous.get('api/sources', { cookie })).status).toBe(200);
    const crossWithCookie = await anonymous.post('api/plex/pins', undefined, { cookie, origin: 'http://evil.example' });
    expect(crossWithCookie.status).toBe(403);

    // Open without the key: the UI files (so the key form can load) and the health check; metrics are not.
    const home = await anonymous.request('GET', '', { headers: { accept: 'text/html' } });
    expect(home.status, 'the built web UI (npm run build:web) is served').toBe(200);
    expect(home.text).toContain('<html');
    expect((await anonymous.get('healthz')).status).toBe(200);
    expect((await anonymous.get('metrics')).status).toBe(401);
    const metrics = await withKey.get('metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('marquee_sse_clients');

    app.signal('SIGTERM');
    expect((await app.waitForExit(15_000)).code).toBe(0);
    const everything = `${app.output}\n${anonymous.allText()}\n${withKey.allText()}`;
    expect(app.output).toContain('Marquee is listening on');
    expect(everything.includes(API_KEY)).toBe(false);
  }, 60_000);

  it('without a key (loopback), a cross-origin POST is refused with 403 too', async () => {
    const dataDir = join(cleanup.tempDir('marquee-origin-'), 'data');
    const app = cleanup.track(
      new ChildProc(process.execPath, [MARQUEE_BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
        cwd: ROOT,
        name: 'marquee serve (loopback)',
        env: childEnv(),
      }),
    );
    const url = await app.waitForLine(listeningUrl, 30_000);
    const client = new RecordingClient(url);
    expect((await client.get('api/sources')).status).toBe(200);
    const cross = await client.post('api/sources', { kind: 'jellyfin', url: 'http://127.0.0.1:9', username: 'x', password: 'y' }, { origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    expect(cross.json<{ error: string }>().error).toBe('cross_origin');
    app.signal('SIGTERM');
    expect((await app.waitForExit(15_000)).code).toBe(0);
  }, 60_000);
});

