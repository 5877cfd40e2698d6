// Simulators for the scale benchmark: `sim/cli.ts --scale N` in its own process group (it shards
// itself over child processes, each well under the 20,000 file descriptor limit, counting the
// listeners AND the push sockets they accept), plus the credentials Marquee would hold after
// sign-in — Plex per-server access tokens from one plex.tv /resources call, Jellyfin tokens from
// one AuthenticateByName per server — turned into engine sources.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NewSourceInput } from '../src/monitor/engine-types.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface SimRoute {
  id: string;
  url: string;
  kind: 'local' | 'remote' | 'relay';
}
export interface SimServer {
  id: string;
  kind: 'plex' | 'jellyfin';
  name: string;
  machineId: string;
  routes: SimRoute[];
}
export interface ScaleSim {
  control: string;
  plexTv: string;
  servers: SimServer[];
  pids(): number[];
  fault(serverId: string, mode: 'crash' | 'up'): Promise<void>;
  close(): Promise<void>;
}

/** Routes per simulator process: listeners plus ~1/3 as many accepted push sockets plus keep-alives. */
const ROUTES_PER_PROCESS = 7_500;

export async function startScaleSim(servers: number, log: (m: string) => void): Promise<ScaleSim> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'sim', 'cli.ts'), '--scale', String(servers), '--max-routes-per-process', String(ROUTES_PER_PROCESS)], {
    cwd: root,
    detached: true, // its own process group: close() signals the shards too
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* gone */
    }
  };
  const closeGroup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      kill('SIGTERM');
      const exited = await waitExit(child, 15_000);
      if (!exited) kill('SIGKILL');
    }
    kill('SIGKILL'); // any straggling shard of the group
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error('simulators not ready within 180 s')), 180_000);
      rl.once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`simulators exited with ${code}`));
      });
    });
    const parsed = JSON.parse(line) as { control: string; plexTv: string; servers: SimServer[] };
    log(`simulators ready: ${parsed.servers.length} servers`);
    return {
      ...parsed,
      pids: () => descendants(child.pid!),
      async fault(serverId, mode) {
        const res = await fetch(`${parsed.control}/servers/${encodeURIComponent(serverId)}/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
        await res.text();
      },
      close: closeGroup,
    };
  } catch (err) {
    await closeGroup();
    throw err;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The process and its descendants (the simulator shards), from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

const CLIENT_ID = 'marquee-scale-bench';

/** Engine sources with the credentials a sign-in would have stored. */
export async function scaleSources(sim: ScaleSim, log: (m: string) => void): Promise<NewSourceInput[]> {
  const accountToken = ((await (await fetch(`${sim.control}/plex/token?username=demo`)).json()) as { token: string }).token;
  const res = await fetch(`${sim.plexTv}/api/v2/resources?includeRelay=1`, {
    headers: { accept: 'application/json', 'x-plex-token': accountToken, 'x-plex-client-identifier': CLIENT_ID, 'x-plex-product': 'Marquee bench' },
  });
  if (!res.ok) throw new Error(`plex.tv resources: HTTP ${res.status}`);
  const resources = (await res.json()) as { clientIdentifier: string; accessToken: string }[];
  const plexTokens = new Map(resources.map((r) => [r.clientIdentifier, r.accessToken]));
  const priority = { local: 0, remote: 1, relay: 2 } as const;
  const toRoutes = (s: SimServer) => s.routes.map((r, i) => ({ url: r.url, kind: r.kind, priority: priority[r.kind] * 10 + i }));

  const sources: NewSourceInput[] = [];
  const jellyfin = sim.servers.filter((s) => s.kind === 'jellyfin');
  for (const s of sim.servers) {
    if (s.kind !== 'plex') continue;
    const token = plexTokens.get(s.machineId);
    if (!token) throw new Error(`plex.tv did not list ${s.id}`);
    sources.push({ name: s.name, kind: 'plex', serverId: s.machineId, routes: toRoutes(s), credentials: { token, accountToken } });
  }
  // Jellyfin: sign in as the default user on the local route, a few at a time.
  let next = 0;
  const signIn = async () => {
    for (let i = next++; i < jellyfin.length; i = next++) {
      const s = jellyfin[i]!;
      const deviceId = createHash('sha256').update(`${CLIENT_ID}:${s.machineId}`).digest('hex').slice(0, 32);
      const auth = `MediaBrowser Client="Marquee", Device="Marquee", DeviceId="${deviceId}", Version="0.1.0"`;
      const r = await fetch(`${s.routes[0]!.url}/Users/AuthenticateByName`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ Username: 'demo', Pw: 'demo' }) });
      if (!r.ok) throw new Error(`Jellyfin sign-in on ${s.id}: HTTP ${r.status}`);
      const body = (await r.json()) as { AccessToken: string; User: { Id: string }; ServerId: string };
      sources.push({ name: s.name, kind: 'jellyfin', serverId: body.ServerId, routes: toRoutes(s), credentials: { token: body.AccessToken, userId: body.User.Id, deviceId } });
    }
  };
  await Promise.all(Array.from({ length: 16 }, signIn));
  log(`credentials: ${plexTokens.size} Plex tokens, ${jellyfin.length} Jellyfin sign-ins`);
  return sources;
}
