// The contract (src/api/) against what the server really does: every route Fastify registers is in
// the route table and in API.md and vice versa, and real answers — from the fakes and from the real
// engine — validate against the contract's response schemas.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { API_ERROR, API_ROUTES, SSE_EVENTS } from '../api/routes.js';
import { startScriptedEngine } from '../../test/support/scripted-engine.js';
import { buildApp } from './app.js';
import { SseHub } from './sse.js';
import { FakeDemo, FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, PLEX_SERVER_ID, testConfig } from '../../test/support/server-fakes.js';
import type { Engine } from '../monitor/engine-types.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function appWith(engine: Engine, plex = new FakePlexSignIn(), jellyfin = new FakeJellyfinSignIn()): Promise<FastifyInstance> {
  const app = await buildApp({ engine, plexSignIn: plex, jellyfinSignIn: jellyfin, config: testConfig(), demo: new FakeDemo() });
  cleanups.push(() => app.close());
  await app.ready();
  return app;
}

/** `METHOD /path` with every path parameter written `:param`. */
const routeKey = (method: string, path: string) => `${method} ${path.replace(/:[A-Za-z]+/g, ':param')}`;

/** Fastify's route table, from its printed tree (each line: indentation, path segment, methods). */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([\s│├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    while (stack.length > 0 && stack.at(-1)!.depth >= depth) stack.pop();
    const parent = stack.at(-1)?.path ?? '';
    const path = parent.endsWith('/') && match[2]!.startsWith('/') ? parent + match[2]!.slice(1) : parent + match[2]!;
    stack.push({ depth, path });
    if (!/^\/(api\/|healthz$|metrics$)/.test(path)) continue; // the web UI's files and redirects
    for (const method of match[3]!.split(', ')) if (method !== 'HEAD') out.add(routeKey(method, path));
  }
  return out;
}

/** Every `METHOD /path` API.md names (query strings and prose after the path dropped). */
function documentedRoutes(): Set<string> {
  const text = readFileSync(new URL('./API.md', import.meta.url), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9_/:.-]*)/g)) out.add(routeKey(m[1]!, m[2]!));
  return out;
}

const contractRoutes = () => new Set(Object.values(API_ROUTES).map((r) => routeKey(r.method, r.path)));

function expectValid(schema: z.ZodType, value: unknown, what: string): void {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what} does not match the contract: ${JSON.stringify(result.error.issues.slice(0, 5))}\n${JSON.stringify(value).slice(0, 2000)}`);
}

/** Parses the SSE frames of a stream start: [{event, data}]. */
function frames(chunks: Array<string | Buffer>): Array<{ event: string; data: unknown }> {
  const text = chunks.map(String).join('');
  return text
    .split('\n\n')
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: /^data: (.*)$/m.exec(block)?.[1] }))
    .filter((f): f is { event: string; data: string } => f.event !== undefined && f.data !== undefined)
    .map((f) => ({ event: f.event, data: JSON.parse(f.data) as unknown }));
}

describe('API.md, the route table and Fastify agree', () => {
  it('every registered route is in the contract and API.md, and every documented route exists', async () => {
    const app = await appWith(new FakeEngine());
    const registered = registeredRoutes(app);
    expect(registered.size).toBeGreaterThan(15); // the parser found the table
    expect([...registered].sort()).toEqual([...contractRoutes()].sort());
    expect([...documentedRoutes()].sort()).toEqual([...registered].sort());
  });
});

describe('answers validate against the contract', () => {
  it('with the fakes: sources, sign-in flows, session, health, demo, errors', async () => {
    const plex = new FakePlexSignIn();
    const jellyfin = new FakeJellyfinSignIn();
    const engine = new FakeEngine();
    const app = await appWith(engine, plex, jellyfin);
    const json = { 'content-type': 'application/json' };
    const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, schema: z.ZodType, status: number, payload?: object) => {
      const res = await app.inject({ method, url, ...(payload ? { payload, headers: json } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
      expectValid(schema, res.json(), `${method} ${url}`);
      return res.json<Record<string, unknown>>();
    };

    const pin = await call('POST', '/api/plex/pins', API_ROUTES.createPlexPin.response, 201);
    await call('GET', `/api/plex/pins/${String(pin.id)}`, API_ROUTES.getPlexPin.response, 200);
    plex.authorize(pin.id as number);
    await call('GET', `/api/plex/pins/${String(pin.id)}`, API_ROUTES.getPlexPin.response, 200);
    const added = await call('POST', '/api/sources', API_ROUTES.addSource.response, 201, { kind: 'plex', serverId: PLEX_SERVER_ID, pinId: pin.id as number });
    engine.setConnected(added.id as string, 'local', 7);
    engine.setLost(added.id as string);

    await call('GET', '/api/sources', API_ROUTES.listSources.response, 200);
    await call('GET', `/api/sources/${String(added.id)}`, API_ROUTES.getSource.response, 200);
    await call('PATCH', `/api/sources/${String(added.id)}`, API_ROUTES.patchSource.response, 200, { name: 'Renamed' });
    await call('POST', `/api/sources/${String(added.id)}/check`, API_ROUTES.checkSource.response, 202);

    await call('POST', '/api/jellyfin/probe', API_ROUTES.probeJellyfin.response, 200, { url: 'http://127.0.0.3:8096' });
    await call('GET', '/api/jellyfin/probe?url=http://127.0.0.3:8096', API_ROUTES.probeJellyfinGetRefused.response, 405);
    const qc = await call('POST', '/api/jellyfin/quickconnect', API_ROUTES.startQuickConnect.response, 201, { url: 'http://127.0.0.3:8096' });
    await call('GET', `/api/jellyfin/quickconnect/${String(qc.handle)}`, API_ROUTES.getQuickConnect.response, 200);
    jellyfin.quickConnectAuthorized = true;
    await call('GET', `/api/jellyfin/quickconnect/${String(qc.handle)}`, API_ROUTES.getQuickConnect.response, 200);

    await call('GET', '/api/session', API_ROUTES.getSession.response, 200);
    await call('GET', '/healthz', API_ROUTES.health.response, 200);
    await call('GET', '/api/demo/routes', API_ROUTES.demoRoutes.response, 200);

    await call('GET', '/api/sources/nope', API_ERROR, 404);
    await call('PATCH', `/api/sources/${String(added.id)}`, API_ERROR, 400, { monitoring: { probeTimeoutMs: 100 } });
  });

  it('with the real engine: list, detail with routes and history, and every SSE payload', async () => {
    const { engine, clock, backend } = await startScriptedEngine(cleanups);
    const { source } = engine.addSource({
      name: 'Living-room Plex',
      kind: 'plex',
      serverId: 'c'.repeat(40),
      routes: [
        { url: 'http://127.10.0.1:32400', kind: 'local', priority: 0 },
        { url: 'http://127.11.0.1:32400', kind: 'remote', priority: 1 },
      ],
      credentials: { token: 'token-0123456789' },
    });
    await clock.advance(2_000);
    // Lose the local route: events, a failed check, a transition with words, a remote route.
    backend.route(source.routes[0]!.id, { answer: 'refused' });
    engine.checkNow(source.id);
    await clock.advance(10_000);
    const app = await appWith(engine);

    const list = await app.inject({ method: 'GET', url: '/api/sources' });
    expectValid(API_ROUTES.listSources.response, list.json(), 'GET /api/sources');
    const detail = await app.inject({ method: 'GET', url: `/api/sources/${source.id}` });
    expectValid(API_ROUTES.getSource.response, detail.json(), 'GET /api/sources/:id');
    expect(detail.json().history.some((h: { kind: string }) => h.kind === 'check')).toBe(true);
    expect(detail.json().routes).toHaveLength(2);

    const hub = new SseHub(engine, { heartbeatMs: 60_000, demo: false });
    const snapshot = frames(hub.prepare(null));
    const resumed = frames(hub.prepare(0));
    const events = [...snapshot, ...resumed];
    expect(events.map((f) => f.event)).toContain('snapshot');
    expect(events.filter((f) => f.event === 'engine').length).toBeGreaterThan(1);
    for (const frame of events) expectValid(SSE_EVENTS[frame.event as keyof typeof SSE_EVENTS], frame.data, `SSE ${frame.event}`);
  });
});
