// Socket-level helpers for network scenarios: outcomes are data (never throws), times in ms.
import http from 'node:http';
import net from 'node:net';

export type Outcome =
  | { kind: 'ok'; ms: number; status?: number; body?: string; reusedSocket?: boolean }
  | { kind: 'timeout'; ms: number; reusedSocket?: boolean }
  | { kind: 'error'; ms: number; code: string; reusedSocket?: boolean };

/** Opens a TCP connection; resolves when connected, failed or after `timeoutMs` (then destroys it). */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ kind: 'timeout', ms: performance.now() - started }), timeoutMs);
    socket.once('connect', () => done({ kind: 'ok', ms: performance.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ kind: 'error', ms: performance.now() - started, code: error.code ?? error.message }),
    );
  });
}

/** GET with an overall deadline (connect + answer); reports whether a kept-alive socket was reused. */
export function httpGet(url: string, timeoutMs: number, agent?: http.Agent): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const request = http.get(url, { agent: agent ?? false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        done({ kind: 'ok', ms: performance.now() - started, status: response.statusCode, body, reusedSocket: request.reusedSocket }),
      );
      response.on('error', (error: NodeJS.ErrnoException) =>
        done({ kind: 'error', ms: performance.now() - started, code: error.code ?? error.message, reusedSocket: request.reusedSocket }),
      );
    });
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      done({ kind: 'timeout', ms: performance.now() - started, reusedSocket: request.reusedSocket });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      done({ kind: 'error', ms: performance.now() - started, code: error.code ?? error.message, reusedSocket: request.reusedSocket }),
    );
  });
}

/** An HTTP server answering `name` on every path, with long keep-alive; port 0 unless given. */
export async function startNamedHttpServer(host: string, name: string): Promise<{ server: http.Server; port: number; url: string; close(): Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
