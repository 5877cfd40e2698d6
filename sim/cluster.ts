// Sharded runs for scale: one process cannot hold more listening sockets than its file
// descriptor limit (20,000 hard here, and unprivileged processes cannot raise it), so a config
// with more routes is split over child processes. The parent keeps plex.tv and a front control
// API that forwards each call to the process owning the route or server; the JSON line is the
// same as a single-process run.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseSimConfig, type ServerConfig, type SimConfig } from './config.js';
import { stableHex } from './ids.js';
import type { PlexResourceSource } from './plex-tv.js';
import type { RouteKind } from './route.js';
import { createSimulation, type SimServerInfo } from './simulation.js';

export interface Cluster {
  controlUrl: string;
  plexTvUrl: string;
  servers: SimServerInfo[];
  processes: number;
  close(): Promise<void>;
}

/** Splits servers into slices of at most `maxRoutes` routes, keeping config order. */
export function shardServers<T extends { routes: unknown[] }>(servers: T[], maxRoutes: number): T[][] {
  const shards: T[][] = [[]];
  let count = 0;
  for (const server of servers) {
    if (count + server.routes.length > maxRoutes && shards.at(-1)!.length > 0) {
      shards.push([]);
      count = 0;
    }
    shards.at(-1)!.push(server);
    count += server.routes.length;
  }
  return shards;
}

class RemotePlexServer implements PlexResourceSource {
  readonly createdAt = new Date(Date.UTC(2023, 0, 15, 12, 0, 0));
  down = false;
  constructor(
    private readonly config: Extract<ServerConfig, { kind: 'plex' }>,
    private readonly info: SimServerInfo,
    readonly owner: string,
  ) {}
  get id() {
    return this.config.id;
  }
  get name() {
    return this.config.name;
  }
  get machineId() {
    return this.info.machineId;
  }
  get version() {
    return this.config.version;
  }
  get sharedWith() {
    return this.config.sharedWith;
  }
  presence(): boolean {
    return this.config.presence && !this.down;
  }
  connections(): { kind: RouteKind; host: string; port: number; url: string }[] {
    return this.info.routes.map((r) => {
      const url = new URL(r.url);
      return { kind: r.kind, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), url: r.url };
    });
  }
}

export async function startCluster(input: SimConfig, maxRoutesPerProcess: number): Promise<Cluster> {
  const config = parseSimConfig(input);
  const tokenSeed = config.plexTv.tokenSeed ?? stableHex(`seed:${Date.now()}:${Math.random()}`, 32);
  const [own = [], ...rest] = shardServers(config.servers, maxRoutesPerProcess);
  const children: ChildProcess[] = [];
  const owner = new Map<string, string>(); // route or server id -> control URL of its process

  const stopChildren = () => Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGTERM'))))));

  const remoteInfos: SimServerInfo[][] = [];
  try {
    for (const slice of rest) {
      const child = fork(fileURLToPath(new URL('./shard-worker.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      children.push(child);
      const reply = await new Promise<{ controlUrl: string; servers: SimServerInfo[] }>((resolve, reject) => {
        child.once('message', (m: { controlUrl?: string; servers?: SimServerInfo[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m as { controlUrl: string; servers: SimServerInfo[] })));
        child.once('exit', (code) => reject(new Error(`shard exited with ${code}`)));
        child.send({ config: { ...input, plexTv: { ...config.plexTv, port: 0, tokenSeed }, control: { host: '127.0.0.1', port: 0 }, servers: slice } });
      });
      remoteInfos.push(reply.servers);
      for (const s of reply.servers) {
        owner.set(`server:${s.id}`, reply.controlUrl);
        for (const r of s.routes) owner.set(`route:${r.id}`, reply.controlUrl);
      }
      owner.set(`shard:${children.length}`, reply.controlUrl);
    }
  } catch (err) {
    await stopChildren();
    throw err;
  }

  const defaultOwner = config.plexTv.accounts[0]?.username ?? 'demo';
  const remotePlex = new Map<string, RemotePlexServer>();
  rest.flat().forEach((sc) => {
    if (sc.kind !== 'plex') return;
    const info = remoteInfos.flat().find((i) => i.id === sc.id)!;
    remotePlex.set(sc.id, new RemotePlexServer(sc, info, sc.owner ?? defaultOwner));
  });

  const sim = await createSimulation({ ...input, plexTv: { ...config.plexTv, tokenSeed }, control: { host: '127.0.0.1', port: 0 }, servers: own }, { remotePlexServers: [...remotePlex.values()] });
  const shardUrls = [sim.controlUrl, ...new Set([...owner.entries()].filter(([k]) => k.startsWith('shard:')).map(([, v]) => v))];

  const forward = async (target: string, req: http.IncomingMessage, body: Buffer) => {
    const init: RequestInit = { method: req.method ?? 'GET', headers: { 'content-type': 'application/json' } };
    if (req.method === 'POST') init.body = body.toString('utf8');
    const res = await fetch(`${target}${req.url ?? '/'}`, init);
    return { status: res.status, text: await res.text() };
  };

  const front = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
      const reply = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(text);
      };
      void (async () => {
        if (req.method === 'GET' && (parts[0] === 'routes' || parts[0] === 'servers') && parts.length === 1) {
          const lists = await Promise.all(shardUrls.map(async (u) => JSON.parse((await forward(u, req, body)).text) as unknown[]));
          return reply(200, JSON.stringify(lists.flat()));
        }
        const kind = parts[0] === 'routes' ? 'route' : parts[0] === 'servers' ? 'server' : undefined;
        const target = (kind && parts[1] && owner.get(`${kind}:${parts[1]}`)) || sim.controlUrl;
        if (kind === 'server' && parts[2] === 'fault' && remotePlex.has(parts[1]!)) {
          const mode = (JSON.parse(body.toString() || '{}') as { mode?: string }).mode;
          const remoteServer = remotePlex.get(parts[1]!)!;
          if (mode === 'bad-token') sim.plexTv.rotateServerTokens(parts[1]!);
          if (mode === 'stop' || mode === 'crash') remoteServer.down = true;
          if (mode === 'up') remoteServer.down = false;
        }
        if (parts[0] === 'jellyfin' && parts[1] === 'quickconnect') {
          // Codes live on one server: try every process until one accepts.
          let last = { status: 404, text: '{"error":"no pending Quick Connect request"}' };
          for (const u of shardUrls) {
            last = await forward(u, req, body);
            if (last.status === 200) break;
          }
          return reply(last.status, last.text);
        }
        const result = await forward(target, req, body);
        reply(result.status, result.text);
      })().catch((err: unknown) => reply(502, JSON.stringify({ error: (err as Error).message })));
    });
  });
  await new Promise<void>((resolve) => front.listen(config.control.port, config.control.host, () => resolve()));
  const port = (front.address() as AddressInfo).port;

  const byId = new Map([...sim.servers, ...remoteInfos.flat()].map((s) => [s.id, s]));
  return {
    controlUrl: `http://${config.control.host}:${port}`,
    plexTvUrl: sim.plexTvUrl,
    servers: config.servers.map((s) => byId.get(s.id)!),
    processes: 1 + children.length,
    close: async () => {
      await new Promise<void>((resolve) => {
        front.close(() => resolve());
        front.closeAllConnections();
      });
      await Promise.all([sim.close(), stopChildren()]);
    },
  };
}
