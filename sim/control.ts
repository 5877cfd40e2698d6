// The HTTP control API (for the CLI, the demo and tests in other processes). It only drives the
// programmatic Simulation handles, so both surfaces behave the same.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { RouteFaultSchema, SERVER_FAULT_MODES } from './faults.js';
import { parseJsonBody, readBody } from './http-util.js';
import type { SimRoute } from './route.js';
import type { Simulation } from './simulation.js';

const ServerFaultBody = z.object({ mode: z.enum(SERVER_FAULT_MODES), restarting: z.boolean().optional(), delayMs: z.number().int().min(0).max(600_000).optional() });
const TouchBody = z.object({ count: z.number().int().min(0).max(50_000) });
const WatchedBody = z.object({ watched: z.boolean() });
const ResumeBody = z.object({ positionMs: z.number().min(0) });
const UserBody = z.object({ username: z.string().optional(), delayMs: z.number().int().min(0).max(600_000).optional() }).default({});
const ApproveQuickConnectBody = z.object({ username: z.string().optional(), serverId: z.string().optional() }).default({});
const NotifyBody = z.object({ type: z.string().optional(), data: z.unknown().optional() }).default({});
const StartupBody = z.object({ starting: z.boolean() });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function routeView(r: SimRoute) {
  return { id: r.id, serverId: r.serverId, kind: r.kind, url: r.url, mode: r.mode, fault: r.fault, listening: r.listener.listening, openSockets: r.webSockets.size, lastError: r.lastError };
}

export async function startControlServer(sim: Simulation, routes: () => SimRoute[], host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const handle = async (req: IncomingMessage): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'http://control.invalid');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const raw = method === 'POST' ? parseJsonBody(await readBody(req)) : undefined;
    const body = <T>(schema: z.ZodType<T>): T => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw new HttpError(400, z.prettifyError(parsed.error));
      return parsed.data;
    };
    const guard = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new HttpError(404, (err as Error).message);
      }
    };
    const [a, b, c, d] = parts;

    if (method === 'GET' && a === 'health') return { ok: true };
    if (method === 'GET' && a === 'tls' && b === 'ca') return { pem: sim.tlsCa ?? null };
    if (method === 'GET' && a === 'routes' && !b) return routes().map(routeView);
    if (method === 'POST' && a === 'routes' && b && c === 'fault') {
      const route = guard(() => sim.route(b));
      await route.fault(body(RouteFaultSchema));
      return routeView(routes().find((r) => r.id === b) as SimRoute);
    }
    if (method === 'GET' && a === 'servers' && !b) return sim.servers.map((s) => ({ ...s, mode: sim.server(s.id).mode, searchFault: sim.server(s.id).searchFault ?? null, openSockets: sim.server(s.id).openSockets }));
    if (method === 'POST' && a === 'servers' && b && c === 'fault') {
      const server = guard(() => sim.server(b));
      const f = body(ServerFaultBody);
      await server.fault({ mode: f.mode, ...(f.restarting === undefined ? {} : { restarting: f.restarting }), ...(f.delayMs === undefined ? {} : { delayMs: f.delayMs }) });
      return { id: b, mode: server.mode, searchFault: server.searchFault ?? null };
    }
    if (method === 'GET' && a === 'servers' && b && c === 'libraries' && !d) return guard(() => sim.library(b).libraries());
    if (method === 'POST' && a === 'servers' && b && c === 'libraries' && d && parts[4] === 'touch') {
      const { count } = body(TouchBody);
      return { changed: guard(() => sim.library(b).touchItems(d, count)) };
    }
    if (method === 'POST' && a === 'servers' && b && c === 'items' && d && (parts[4] === 'watched' || parts[4] === 'resume')) {
      const library = guard(() => sim.library(b));
      const ok = parts[4] === 'watched' ? library.setWatched(d, body(WatchedBody).watched) : library.setResume(d, body(ResumeBody).positionMs);
      if (!ok) throw new HttpError(404, `server "${b}" has no item "${d}"`);
      return { ok: true };
    }
    if (method === 'POST' && a === 'servers' && b && c === 'notify') {
      const server = guard(() => sim.server(b));
      const n = body(NotifyBody);
      return { sent: server.notify(n.type, n.data) };
    }
    if (a === 'servers' && b && c === 'playback-reports' && !d) {
      const server = guard(() => sim.server(b));
      if (method === 'GET') return server.playbackReports();
      if (method === 'DELETE') {
        server.clearPlaybackReports();
        return { ok: true };
      }
    }
    if (method === 'POST' && a === 'plex' && b === 'pins' && c && (d === 'approve' || d === 'expire')) {
      const pinId = Number(c);
      if (d === 'expire') sim.plexTv.expirePin(pinId);
      else {
        const { username, delayMs } = body(UserBody);
        guard(() => sim.plexTv.approvePin(pinId, username, delayMs));
      }
      return { ok: true };
    }
    if (method === 'POST' && a === 'plex' && b === 'accounts' && c && d === 'revoke') {
      guard(() => sim.plexTv.revokeAccount(c));
      return { ok: true };
    }
    if (method === 'POST' && a === 'plex' && b === 'servers' && c && d === 'connections') {
      const { routes } = body(z.object({ routes: z.array(z.string()).nullable() }).strict());
      guard(() => sim.plexTv.setConnections(c, routes));
      return { ok: true };
    }
    if (method === 'POST' && a === 'plex' && b === 'servers' && c && d === 'rotate-token') {
      guard(() => sim.plexTv.rotateServerToken(c));
      return { ok: true };
    }
    if (method === 'POST' && a === 'plex' && b === 'accounts' && c && d === 'expire-jwt') {
      guard(() => sim.plexTv.expireJwts(c));
      return { ok: true };
    }
    if (method === 'GET' && a === 'plex' && b === 'token') return { token: guard(() => sim.plexTv.accountToken(url.searchParams.get('username') ?? undefined)) };
    if (method === 'POST' && a === 'jellyfin' && b === 'quickconnect' && c && d === 'approve') {
      const { username, serverId } = body(ApproveQuickConnectBody);
      const candidates = serverId ? [serverId] : sim.servers.filter((s) => s.kind === 'jellyfin').map((s) => s.id);
      for (const id of candidates) {
        try {
          sim.jellyfin(id).approveQuickConnect(c, username);
          return { ok: true, serverId: id };
        } catch {
          // try the next server: codes are per server
        }
      }
      throw new HttpError(404, `no pending Quick Connect request with code ${c}`);
    }
    if (method === 'POST' && a === 'jellyfin' && b && c === 'revoke') {
      const { token } = body(z.object({ token: z.string() }));
      return { revoked: guard(() => sim.jellyfin(b).revokeToken(token)) };
    }
    if (method === 'POST' && a === 'jellyfin' && b && c === 'startup') {
      guard(() => sim.jellyfin(b).setStartup(body(StartupBody).starting));
      return { ok: true };
    }
    throw new HttpError(404, `no control endpoint ${method} ${url.pathname}`);
  };

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(req).then(
      (result) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result));
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
