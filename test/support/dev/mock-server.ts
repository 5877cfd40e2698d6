// A throwaway mock of the Marquee API (REST + SSE) that serves the built UI from dist/web.
// For UI work and screenshots without the real server:
//   npm run build:web && npx tsx test/support/dev/mock-server.ts --port 5199 [--base /marquee/] [--scenario]
// It fakes a small "engine": routes have fault modes, the best working route is chosen
// (local > remote > relay), losses go reconnecting → disconnected, and every change is streamed
// with the same event shapes as the real server. Not used by production code.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, LibraryType, RouteKind, RouteOrigin, SourceKind, SourceStatus } from '../../../src/core/types';
import type { ApiDemoRoute, ApiEventMessage, ApiHistoryEntry, ApiSource, ApiSourceDetail } from '../../../src/api/types';

type RouteMode = 'up' | 'refuse' | 'hang' | 'slow';
type ServerMode = 'up' | 'bad-token' | 'stop' | 'crash';

interface MockRoute {
  id: string;
  url: string;
  kind: RouteKind;
  priority: number;
  origin: RouteOrigin;
  mode: RouteMode;
  baseLatency: number;
  recent: (number | null)[];
  lastResult: ApiSourceDetail['routes'][number]['lastResult'];
  lastError: string | null;
  checkedAt: number | null;
  latencyMs: number | null;
}

interface MockSource {
  id: string;
  name: string;
  kind: SourceKind;
  serverId: string;
  serverMode: ServerMode;
  routes: MockRoute[];
  libraries: { id: string; name: string; type: LibraryType }[];
  status: SourceStatus;
  lastCheckedAt: number | null;
  nextCheckAt: number | null;
  history: ApiHistoryEntry[];
}

const KIND_ORDER: RouteKind[] = ['local', 'remote', 'relay'];
const CHECK_EVERY_MS = 10_000;
const RETRY_EVERY_MS = 5_000;

function route(id: string, url: string, kind: RouteKind, baseLatency: number, origin: RouteOrigin, priority = 0): MockRoute {
  return { id, url, kind, priority, origin, mode: 'up', baseLatency, recent: [], lastResult: null, lastError: null, checkedAt: null, latencyMs: null };
}

function initialSources(now: number): MockSource[] {
  const make = (partial: Omit<MockSource, 'status' | 'lastCheckedAt' | 'nextCheckAt' | 'history' | 'serverMode'>): MockSource => ({
    ...partial,
    serverMode: 'up',
    status: { state: 'connecting' },
    lastCheckedAt: null,
    nextCheckAt: now,
    history: [],
  });
  return [
    make({
      id: 'plex-living',
      name: 'Living-room Plex',
      kind: 'plex',
      serverId: 'a'.repeat(40),
      routes: [
        route('plex-living-local', 'http://127.0.0.2:32400', 'local', 4, 'plex.tv'),
        route('plex-living-remote', 'https://203-0-113-7.abcdef.plex.direct:32400', 'remote', 68, 'plex.tv'),
        route('plex-living-relay', 'https://139-162-0-9.abcdef.plex.direct:8443', 'relay', 190, 'plex.tv'),
      ],
      libraries: [
        { id: '1', name: 'Movies', type: 'movie' },
        { id: '2', name: 'TV Shows', type: 'show' },
        { id: '3', name: 'Music', type: 'music' },
        { id: '4', name: 'Family Photos', type: 'photo' },
      ],
    }),
    make({
      id: 'jf-attic',
      name: 'Attic Jellyfin',
      kind: 'jellyfin',
      serverId: 'b'.repeat(32),
      routes: [route('jf-attic-local', 'http://127.0.0.3:8096', 'local', 7, 'server-reported'), route('jf-attic-remote', 'https://jellyfin.example.net', 'remote', 55, 'typed')],
      libraries: [
        { id: 'f1', name: 'Films', type: 'movie' },
        { id: 'f2', name: 'Series', type: 'show' },
        { id: 'f3', name: 'Audiobooks', type: 'other' },
      ],
    }),
    make({
      id: 'plex-cabin',
      name: 'Cabin Plex',
      kind: 'plex',
      serverId: 'c'.repeat(40),
      routes: [route('plex-cabin-remote', 'https://198-51-100-4.fedcba.plex.direct:32400', 'remote', 92, 'plex.tv'), route('plex-cabin-relay', 'https://139-162-0-10.fedcba.plex.direct:8443', 'relay', 240, 'plex.tv')],
      libraries: [{ id: '9', name: 'Kids Movies', type: 'movie' }],
    }),
  ];
}

export interface MockServerOptions {
  port?: number;
  host?: string;
  base?: string;
  staticDir?: string;
  apiKey?: string;
  scenario?: boolean;
  demo?: boolean;
}

export interface MockServer {
  url: string;
  server: Server;
  setRouteMode(routeId: string, mode: RouteMode): void;
  setServerMode(sourceId: string, mode: ServerMode): void;
  /** Drop every SSE client (to show the "lost connection" banner); `pauseMs` refuses new ones for a while. */
  dropClients(pauseMs?: number): void;
  close(): Promise<void>;
}

export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const base = (options.base ?? '/').replace(/\/?$/, '/');
  const staticDir = options.staticDir ?? fileURLToPath(new URL('../../../dist/web', import.meta.url));
  const demo = options.demo ?? true;
  let sources = initialSources(Date.now());
  let seq = 0;
  const clients = new Set<ServerResponse>();
  let refuseSseUntil = 0;
  const pins = new Map<number, number>();
  const quickConnects = new Map<string, number>();
  let nextId = 1;

  const jitter = (base: number) => Math.max(1, Math.round(base * (0.75 + Math.random() * 0.5)));

  function view(s: MockSource): ApiSource {
    const st = s.status;
    const active = st.state === 'connected' || st.state === 'sync_failed' ? s.routes.find((r) => r.id === st.routeId) : undefined;
    const out: ApiSource = {
      id: s.id,
      name: s.name,
      kind: s.kind,
      status: st.state,
      route: active ? { id: active.id, url: active.url, kind: active.kind, latencyMs: active.latencyMs } : null,
      lastCheckedAt: s.lastCheckedAt,
      nextCheckAt: s.nextCheckAt,
      since: 'since' in st ? st.since : null,
      // Like the server: the best route kind the source has at all (a remote-only server is not degraded on it).
      preferredRouteKind: (['local', 'remote', 'relay'] as const).find((kind) => s.routes.some((r) => r.kind === kind)) ?? null,
      push: 'off',
      libraries: st.state === 'connected' || st.state === 'sync_failed' || s.lastCheckedAt !== null ? s.libraries : [],
    };
    if (st.state === 'reconnecting' || st.state === 'disconnected') {
      out.attempt = st.attempt;
      out.nextRetryAt = st.nextRetryAt;
      if (st.reason) out.reason = st.reason;
      if (st.lastError) out.error = st.lastError.message;
    }
    if (st.state === 'auth_required') out.error = 'The server no longer accepts Marquee’s sign-in (HTTP 401).';
    if (st.state === 'sync_failed') out.error = st.error;
    return out;
  }

  function detail(s: MockSource): ApiSourceDetail {
    return {
      ...view(s),
      serverId: s.serverId,
      routes: s.routes.map((r) => ({
        id: r.id,
        url: r.url,
        kind: r.kind,
        priority: r.priority,
        origin: r.origin,
        lastResult: r.lastResult,
        lastError: r.lastError,
        latencyMs: r.latencyMs,
        checkedAt: r.checkedAt,
        recentLatencies: r.recent,
      })),
      history: s.history.slice(-80),
      monitoring: { enabled: true, push: false, probeTimeoutMs: 5000 },
    };
  }

  function send(res: ServerResponse, event: string, data: unknown, id?: number) {
    res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  function broadcast(event: string, data: unknown, id?: number) {
    for (const res of clients) send(res, event, data, id);
  }
  function emit(s: MockSource, event: EngineEvent) {
    seq += 1;
    const message: ApiEventMessage = { seq, event, source: view(s) };
    broadcast('engine', message, seq);
  }
  function baseEvent(s: MockSource, at: number) {
    return { sourceId: s.id, sourceName: s.name, sourceKind: s.kind, at };
  }

  /** Probe every route of a source, as the real monitor would. */
  function probeRoutes(s: MockSource, now: number) {
    for (const r of s.routes) {
      r.checkedAt = now;
      let latency: number | null;
      if (s.serverMode === 'stop' || s.serverMode === 'crash' || r.mode === 'refuse') {
        latency = null;
        r.lastResult = 'refused';
        r.lastError = s.serverMode === 'up' ? 'the server refused the connection (nothing listens at this address)' : 'the server is not running';
      } else if (r.mode === 'hang') {
        latency = null;
        r.lastResult = 'timeout';
        r.lastError = 'no answer within 5 s';
      } else if (s.serverMode === 'bad-token') {
        latency = jitter(r.baseLatency);
        r.lastResult = 'unauthorized';
        r.lastError = 'the server rejected Marquee’s sign-in (HTTP 401)';
      } else {
        latency = r.mode === 'slow' ? jitter(r.baseLatency + 1400) : jitter(r.baseLatency);
        r.lastResult = 'ok';
        r.lastError = r.mode === 'slow' ? null : r.lastError && r.recent.slice(-3).some((v) => v === null) ? r.lastError : null;
      }
      r.latencyMs = latency;
      r.recent = [...r.recent, latency].slice(-24);
      s.history.push({ at: now, kind: 'check', state: r.lastResult ?? 'ok', routeKind: r.kind, detail: r.lastResult === 'ok' ? undefined : (r.lastError ?? undefined) });
    }
    s.lastCheckedAt = now;
  }

  function transition(s: MockSource, next: SourceStatus, now: number, extra: EngineEvent[]) {
    const previous = s.status;
    s.status = next;
    s.history.push({ at: now, kind: 'transition', state: next.state, routeKind: next.state === 'connected' ? next.routeKind : undefined });
    for (const e of extra) emit(s, e);
    emit(s, { ...baseEvent(s, now), type: 'StatusChanged', status: next, previous });
  }

  function evaluate(s: MockSource, now: number) {
    const prev = s.status;
    if (s.serverMode === 'bad-token') {
      if (prev.state !== 'auth_required') transition(s, { state: 'auth_required', since: now }, now, [{ ...baseEvent(s, now), type: 'AuthStatusChanged', authRequired: true }]);
      s.nextCheckAt = now + CHECK_EVERY_MS;
      return;
    }
    const working = s.routes
      .filter((r) => r.lastResult === 'ok')
      .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.priority - b.priority);
    const best = working[0];
    if (best) {
      const latencyMs = best.latencyMs ?? 0;
      if (prev.state === 'connected' && prev.routeId === best.id) {
        s.status = { ...prev, latencyMs };
      } else {
        const events: EngineEvent[] = [];
        if (prev.state === 'auth_required') events.push({ ...baseEvent(s, now), type: 'AuthStatusChanged', authRequired: false });
        if (prev.state === 'reconnecting' || prev.state === 'disconnected') {
          events.push({ ...baseEvent(s, now), type: 'ConnectionRestored', routeId: best.id, routeKind: best.kind, latencyMs, downForMs: now - prev.since });
        } else {
          events.push({
            ...baseEvent(s, now),
            type: 'ConnectionChanged',
            routeId: best.id,
            routeKind: best.kind,
            previousRouteKind: prev.state === 'connected' ? prev.routeKind : null,
            latencyMs,
          });
        }
        transition(s, { state: 'connected', routeId: best.id, routeKind: best.kind, latencyMs, since: now }, now, events);
      }
      s.nextCheckAt = now + CHECK_EVERY_MS;
      return;
    }
    const firstError = s.routes.find((r) => r.lastError)?.lastError ?? 'no route answered';
    const lastError = { code: 'refused' as const, message: firstError };
    const reason = s.serverMode === 'stop' ? ('server_shutting_down' as const) : undefined;
    if (prev.state === 'reconnecting') {
      if (prev.attempt >= 3) {
        const nextRetryAt = now + 30_000;
        transition(s, { state: 'disconnected', since: now, attempt: prev.attempt + 1, nextRetryAt, lastError, reason }, now, []);
        s.nextCheckAt = nextRetryAt;
      } else {
        const nextRetryAt = now + RETRY_EVERY_MS * (prev.attempt + 1);
        s.status = { ...prev, attempt: prev.attempt + 1, nextRetryAt, lastError };
        emit(s, { ...baseEvent(s, now), type: 'Reconnecting', attempt: prev.attempt + 1, nextRetryAt });
        s.nextCheckAt = nextRetryAt;
      }
      return;
    }
    if (prev.state === 'disconnected') {
      const nextRetryAt = now + 30_000;
      s.status = { ...prev, attempt: prev.attempt + 1, nextRetryAt };
      s.nextCheckAt = nextRetryAt;
      broadcast('source', { source: view(s) });
      return;
    }
    const nextRetryAt = now + RETRY_EVERY_MS;
    const lostFrom = prev.state === 'connected' ? prev.routeKind : null;
    transition(s, { state: 'reconnecting', attempt: 1, nextRetryAt, since: now, lastRouteKind: lostFrom ?? undefined, lastError, reason }, now, [
      { ...baseEvent(s, now), type: 'ConnectionLost', lastRouteKind: lostFrom, reason, error: lastError },
    ]);
    s.nextCheckAt = nextRetryAt;
  }

  function check(s: MockSource, now: number) {
    const before = JSON.stringify(view(s));
    probeRoutes(s, now);
    evaluate(s, now);
    if (JSON.stringify(view(s)) !== before) broadcast('source', { source: view(s) });
  }

  const ticker = setInterval(() => {
    const now = Date.now();
    for (const s of sources) if (s.nextCheckAt !== null && now >= s.nextCheckAt) check(s, now);
  }, 250);
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(': heartbeat\n\n');
  }, 15_000);

  // Optional: a scripted fault loop so the UI is alive without clicking.
  let scenarioTimer: NodeJS.Timeout | undefined;
  if (options.scenario) {
    const steps: [string, () => void][] = [
      ['cut local', () => setRouteMode('plex-living-local', 'refuse')],
      ['restore local', () => setRouteMode('plex-living-local', 'up')],
      ['revoke jf', () => setServerMode('jf-attic', 'bad-token')],
      ['stop cabin', () => setServerMode('plex-cabin', 'stop')],
      ['restore jf', () => setServerMode('jf-attic', 'up')],
      ['restore cabin', () => setServerMode('plex-cabin', 'up')],
    ];
    let i = 0;
    scenarioTimer = setInterval(() => {
      steps[i % steps.length]![1]();
      i += 1;
    }, 12_000);
  }

  function findSource(id: string) {
    return sources.find((s) => s.id === id);
  }
  function setRouteMode(routeId: string, mode: RouteMode) {
    for (const s of sources) {
      const r = s.routes.find((x) => x.id === routeId);
      if (r) {
        r.mode = mode;
        s.nextCheckAt = Date.now() + 600; // the real monitor notices within a probe timeout
      }
    }
  }
  function setServerMode(sourceId: string, mode: ServerMode) {
    const s = findSource(sourceId);
    if (!s) return;
    s.serverMode = mode;
    s.nextCheckAt = Date.now() + 600;
  }

  function json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }
  function fail(res: ServerResponse, status: number, error: string, message: string) {
    json(res, status, { error, message });
  }
  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (chunks.length === 0) return {};
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  function addSource(name: string, kind: SourceKind, url: string): MockSource {
    const id = `added-${nextId++}`;
    const s: MockSource = {
      id,
      name,
      kind,
      serverId: id.padEnd(32, '0'),
      serverMode: 'up',
      routes: [route(`${id}-local`, url, 'local', 6, kind === 'plex' ? 'plex.tv' : 'typed')],
      libraries: [{ id: `${id}-l1`, name: kind === 'plex' ? 'Movies' : 'Films', type: 'movie' }],
      status: { state: 'connecting' },
      lastCheckedAt: null,
      nextCheckAt: Date.now() + 800,
      history: [],
    };
    sources = [...sources, s];
    broadcast('source', { source: view(s) });
    return s;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string) {
    const method = req.method ?? 'GET';
    if (options.apiKey) {
      if (method === 'POST' && path === 'session') {
        const body = await readBody(req);
        if (body.apiKey !== options.apiKey) return fail(res, 401, 'unauthorized', 'That API key is not right.');
        res.setHeader('set-cookie', `marquee_session=ok; Path=${base}; HttpOnly; SameSite=Strict`);
        return json(res, 200, { ok: true });
      }
      if (!(req.headers.cookie ?? '').includes('marquee_session=ok')) return fail(res, 401, 'unauthorized', 'Sign in with the API key first.');
    }
    const parts = path.split('/').filter(Boolean);
    if (method === 'GET' && path === 'events') {
      if (Date.now() < refuseSseUntil) return fail(res, 503, 'unavailable', 'Restarting.');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1500\n\n');
      send(res, 'snapshot', { sources: sources.map(view), lastEventId: seq, demo, serverTime: Date.now() });
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (method === 'GET' && path === 'sources') return json(res, 200, sources.map(view));
    if (parts[0] === 'sources' && parts[1]) {
      const s = findSource(parts[1]);
      if (!s) return fail(res, 404, 'not_found', 'There is no such server.');
      if (parts.length === 2 && method === 'GET') return json(res, 200, detail(s));
      if (parts.length === 2 && method === 'PATCH') {
        const body = await readBody(req);
        if (typeof body.name !== 'string' || !body.name.trim()) return fail(res, 400, 'invalid_body', 'The name must not be empty.');
        s.name = body.name.trim();
        broadcast('source', { source: view(s) });
        return json(res, 200, view(s));
      }
      if (parts.length === 2 && method === 'DELETE') {
        sources = sources.filter((x) => x !== s);
        broadcast('removed', { sourceId: s.id });
        res.writeHead(204).end();
        return;
      }
      if (parts[2] === 'check' && method === 'POST') {
        setTimeout(() => check(s, Date.now()), 400);
        return json(res, 202, { ok: true });
      }
      if (parts[2] === 'signin' && method === 'POST') {
        const body = await readBody(req);
        if (body.password === 'wrong') return fail(res, 401, 'bad_credentials', 'Jellyfin rejected that username or password.');
        s.serverMode = 'up';
        s.nextCheckAt = Date.now() + 300;
        return json(res, 200, view(s));
      }
    }
    if (method === 'POST' && path === 'plex/pins') {
      const id = nextId++;
      pins.set(id, Date.now());
      return json(res, 201, { id, code: 'X7KQ', authUrl: `${base}mock-plex-auth?pin=${id}` });
    }
    if (method === 'GET' && parts[0] === 'plex' && parts[1] === 'pins' && parts[2]) {
      const created = pins.get(Number(parts[2]));
      if (created === undefined) return fail(res, 404, 'not_found', 'That sign-in code is unknown or expired.');
      if (Date.now() - created < 3000) return json(res, 200, { state: 'pending' });
      return json(res, 200, {
        state: 'authorized',
        servers: [
          { serverId: 'd'.repeat(40), name: 'Basement Plex', owned: true, presence: true, routes: [{ url: 'http://127.0.0.5:32400', kind: 'local' }, { url: 'https://x.plex.direct:32400', kind: 'remote' }] },
          { serverId: 'e'.repeat(40), name: "Grandma's Plex", owned: false, presence: false, routes: [{ url: 'https://y.plex.direct:32400', kind: 'remote' }] },
        ],
      });
    }
    if (method === 'GET' && path === 'jellyfin/probe') return fail(res, 405, 'method_not_allowed', 'Use POST /api/jellyfin/probe with a JSON body {"url": "…"}.');
    if (method === 'POST' && path === 'jellyfin/probe') {
      const body = await readBody(req);
      const url = typeof body.url === 'string' ? body.url.trim() : '';
      if (!/^https?:\/\/|^[\w.-]+(:\d+)?$/.test(url)) return fail(res, 400, 'invalid_url', 'That does not look like a server address. Try something like http://192.168.1.20:8096.');
      if (url.includes('bad') || url.includes('10.0.0.')) return fail(res, 502, 'unreachable', `Nothing answered at ${url}. Check the address and that the server is running.`);
      return json(res, 200, { serverId: 'f'.repeat(32), name: 'Garage Jellyfin', version: '10.10.3', url: url.startsWith('http') ? url : `http://${url}` });
    }
    if (method === 'POST' && path === 'jellyfin/quickconnect') {
      const handle = `qc-${nextId++}`;
      quickConnects.set(handle, Date.now());
      return json(res, 200, { code: '482913', handle });
    }
    if (method === 'GET' && parts[0] === 'jellyfin' && parts[1] === 'quickconnect' && parts[2]) {
      const created = quickConnects.get(parts[2]);
      if (created === undefined) return json(res, 200, { state: 'expired' });
      return json(res, 200, { state: Date.now() - created > 4000 ? 'authorized' : 'pending' });
    }
    if (method === 'POST' && path === 'sources') {
      const body = await readBody(req);
      if (body.kind === 'plex') {
        if (typeof body.pinId !== 'number') return fail(res, 400, 'invalid_body', 'pinId must be the number from POST /api/plex/pins');
        if (body.serverId === 'e'.repeat(40)) return fail(res, 502, 'unreachable', "Grandma's Plex did not answer on any of its addresses.");
        return json(res, 201, view(addSource('Basement Plex', 'plex', 'http://127.0.0.5:32400')));
      }
      if (body.kind === 'jellyfin') {
        if (body.password === 'wrong') return fail(res, 401, 'bad_credentials', 'Jellyfin rejected that username or password.');
        return json(res, 201, view(addSource('Garage Jellyfin', 'jellyfin', String(body.url))));
      }
      return fail(res, 400, 'invalid_body', 'kind must be "plex" or "jellyfin".');
    }
    if (demo && method === 'GET' && path === 'demo/routes') {
      const list: ApiDemoRoute[] = sources.flatMap((s) => s.routes.map((r) => ({ id: r.id, sourceId: s.id, serverName: s.name, kind: r.kind, url: r.url })));
      return json(res, 200, list);
    }
    if (demo && method === 'POST' && parts[0] === 'demo' && parts[3] === 'fault') {
      const body = await readBody(req);
      const mode = String(body.mode);
      if (parts[1] === 'routes' && parts[2]) {
        if (!['up', 'refuse', 'hang', 'slow'].includes(mode)) return fail(res, 400, 'invalid_body', `Unknown route mode "${mode}".`);
        setRouteMode(parts[2], mode as RouteMode);
        return json(res, 200, { ok: true });
      }
      if (parts[1] === 'servers' && parts[2]) {
        if (!['up', 'bad-token', 'stop', 'crash'].includes(mode)) return fail(res, 400, 'invalid_body', `Unknown server mode "${mode}".`);
        setServerMode(parts[2], mode as ServerMode);
        return json(res, 200, { ok: true });
      }
    }
    return fail(res, 404, 'not_found', `No such endpoint: ${method} /api/${path}`);
  }

  const MIME: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.map': 'application/json',
  };

  function serveStatic(res: ServerResponse, rel: string) {
    const safe = normalize(rel).replace(/^(\.\.[/\\])+/, '');
    let file = join(staticDir, safe || 'index.html');
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(staticDir, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('dist/web is missing: run `npm run build:web` first.');
      return;
    }
    if (file.endsWith('index.html')) {
      const html = readFileSync(file, 'utf8').replace(/<meta name="marquee-base" content="[^"]*"/, `<meta name="marquee-base" content="${base}"`);
      res.writeHead(200, { 'content-type': MIME['.html']!, 'cache-control': 'no-store' }).end(html);
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(base)) {
      res.writeHead(302, { location: base }).end();
      return;
    }
    const rel = url.pathname.slice(base.length);
    if (rel.startsWith('api/')) {
      handleApi(req, res, rel.slice(4)).catch((error: unknown) => fail(res, 500, 'internal', String(error)));
      return;
    }
    if (rel === 'mock-plex-auth') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>plex.tv (mock)</h1><p>The mock approves the PIN by itself after 3 s.</p>');
      return;
    }
    serveStatic(res, rel);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}${base}`,
    server,
    setRouteMode,
    setServerMode,
    dropClients(pauseMs = 0) {
      refuseSseUntil = Date.now() + pauseMs;
      for (const res of clients) res.destroy();
      clients.clear();
    },
    async close() {
      clearInterval(ticker);
      clearInterval(heartbeat);
      if (scenarioTimer) clearInterval(scenarioTimer);
      for (const res of clients) res.destroy();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// CLI
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const mock = await startMockServer({
    port: Number(arg('port') ?? 5199),
    base: arg('base') ?? '/',
    apiKey: arg('api-key'),
    scenario: process.argv.includes('--scenario'),
  });
  console.log(`Marquee UI mock on ${mock.url}`);
  const stop = () => void mock.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
