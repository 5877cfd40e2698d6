import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardServers, startCluster, type Cluster } from './cluster.js';
import { makeScaleConfig } from './scale.js';

describe('shardServers', () => {
  it('keeps config order and never exceeds the route budget', () => {
    const servers = [3, 3, 2, 3, 1].map((n, i) => ({ id: i, routes: Array.from({ length: n }) }));
    expect(shardServers(servers, 6).map((s) => s.map((x) => x.id))).toEqual([[0, 1], [2, 3, 4]]);
  });
});

// Scale runs outgrow one process's file-descriptor limit; a tiny budget forces the same split here.
describe('sharded simulation', () => {
  let cluster: Cluster;
  const config = makeScaleConfig(24);
  const headers = { Accept: 'application/json', 'X-Plex-Client-Identifier': 'cluster-test', 'X-Plex-Product': 'test' };
  const token = 'cluster-account-token';
  config.plexTv = { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo', token }] };

  beforeAll(async () => {
    cluster = await startCluster(config, 30);
  }, 60_000);
  afterAll(() => cluster.close());

  it('spreads servers over processes yet reports them all in config order', () => {
    expect(cluster.processes).toBe(3);
    expect(cluster.servers.map((s) => s.id)).toEqual(config.servers!.map((s) => s.id));
  });

  it('lists servers of every process in plex.tv resources, with access tokens those servers accept', async () => {
    const devices = (await (await fetch(`${cluster.plexTvUrl}/api/v2/resources?includeRelay=1&X-Plex-Token=${token}`, { headers })).json()) as { clientIdentifier: string; accessToken: string; connections: { uri: string }[] }[];
    expect(devices).toHaveLength(cluster.servers.filter((s) => s.kind === 'plex').length);
    const last = devices.at(-1)!;
    expect(last.clientIdentifier).toBe(cluster.servers.filter((s) => s.kind === 'plex').at(-1)!.machineId);
    const res = await fetch(`${last.connections[0]!.uri}/library/sections?X-Plex-Token=${last.accessToken}`, { headers });
    expect(res.status).toBe(200);
  });

  it('forwards faults to the process that owns the route or server', async () => {
    const server = cluster.servers.filter((s) => s.kind === 'plex').at(-1)!;
    const route = server.routes[0]!;
    const post = (path: string, body: unknown) => fetch(`${cluster.controlUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post(`/routes/${route.id}/fault`, { mode: 'refuse' })).status).toBe(200);
    await expect(fetch(`${route.url}/identity`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await post(`/routes/${route.id}/fault`, { mode: 'up' });
    expect((await fetch(`${route.url}/identity`)).status).toBe(200);

    const resources = async () => ((await (await fetch(`${cluster.plexTvUrl}/api/v2/resources?X-Plex-Token=${token}`, { headers })).json()) as { clientIdentifier: string; accessToken: string; presence: boolean }[]).find((d) => d.clientIdentifier === server.machineId)!;
    const before = await resources();
    expect((await post(`/servers/${server.id}/fault`, { mode: 'bad-token' })).status).toBe(200);
    expect((await fetch(`${route.url}/?X-Plex-Token=${before.accessToken}`)).status).toBe(401);
    const after = await resources();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect((await fetch(`${route.url}/?X-Plex-Token=${after.accessToken}`)).status).toBe(200);

    await post(`/servers/${server.id}/fault`, { mode: 'stop' });
    expect((await resources()).presence).toBe(false);
    await post(`/servers/${server.id}/fault`, { mode: 'up' });
    const routes = (await (await fetch(`${cluster.controlUrl}/routes`)).json()) as { listening: boolean }[];
    expect(routes.filter((r) => r.listening)).toHaveLength(cluster.servers.flatMap((s) => s.routes).length + 3);
  });
});
