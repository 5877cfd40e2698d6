// One Jellyfin-like server reachable by three routes: local (127.0.0.2) answers
// /System/Info/Public, remote (127.0.0.3) and relay (127.0.0.4) accept connections and never
// answer. Stand-in until the simulators are wired in; everything it opens, close() removes.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

export interface RouteFixture {
  serverId: string;
  urls: { local: string; remote: string; relay: string };
  close(): Promise<void>;
}

async function listen(server: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

export async function startRouteFixture(): Promise<RouteFixture> {
  const serverId = createHash('sha256').update('bench-jellyfin').digest('hex').slice(0, 32);
  const local = http.createServer((request, response) => {
    if (request.url?.toLowerCase().startsWith('/system/info/public')) {
      const host = request.headers.host ?? '127.0.0.2';
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(
        JSON.stringify({
          LocalAddress: `http://${host}`,
          ServerName: 'Bench Jellyfin',
          Version: '10.11.3',
          ProductName: 'Jellyfin Server',
          OperatingSystem: '',
          Id: serverId,
          StartupWizardCompleted: true,
        }),
      );
      return;
    }
    response.writeHead(404).end();
  });
  const hung = new Set<net.Socket>();
  const hang = () =>
    net.createServer((socket) => {
      hung.add(socket);
      socket.on('close', () => hung.delete(socket));
      socket.on('error', () => {});
      socket.resume(); // read and ignore: a peer that accepted and never answers
    });
  const remote = hang();
  const relay = hang();
  const [localPort, remotePort, relayPort] = await Promise.all([listen(local, '127.0.0.2'), listen(remote, '127.0.0.3'), listen(relay, '127.0.0.4')]);
  return {
    serverId,
    urls: {
      local: `http://127.0.0.2:${localPort}`,
      remote: `http://127.0.0.3:${remotePort}`,
      relay: `http://127.0.0.4:${relayPort}`,
    },
    async close() {
      for (const socket of hung) socket.destroy();
      local.closeAllConnections();
      await Promise.all([local, remote, relay].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
