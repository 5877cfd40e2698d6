// A reverse proxy on a loopback address in front of a simulated server — what a user puts in front
// of Plex or Jellyfin (nginx, Caddy, a Tailscale serve) — that records every request it forwards:
// method, path and headers. Tests use it as a second address of a server, and as a listener that
// proves what was (not) sent to an address, e.g. that no token reached it. WebSocket upgrades are
// forwarded too (raw TCP after the request head), so a push channel works through it.
import http from 'node:http';
import net from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  upgrade: boolean;
  /** The request body, when the proxy was asked to keep bodies (`recordBodies`). */
  body?: Buffer;
}

export interface RecordingProxy {
  /** e.g. http://127.0.0.9:41234 */
  url: string;
  readonly requests: RecordedRequest[];
  /** Requests that carried a credential: an X-Plex-Token header or query, or a MediaBrowser Token. */
  requestsWithToken(): RecordedRequest[];
  close(): Promise<void>;
}

function carriesToken(r: RecordedRequest): boolean {
  const auth = [r.headers.authorization, r.headers['x-emby-authorization'], r.headers['x-mediabrowser-token']].join(' ');
  return r.headers['x-plex-token'] !== undefined || /x-plex-token=|api_key=/i.test(r.path) || /Token="?[^",\s]+/i.test(auth) || r.headers['x-emby-token'] !== undefined;
}

export interface RecordingProxyOptions {
  /**
   * 'forward' (default): upgrades pass through as raw TCP. 'not-found': every upgrade gets a 404,
   * the common nginx mistake of a proxy never set up for WebSockets — the server is reachable, its
   * push channel is not.
   */
  websockets?: 'forward' | 'not-found';
  /** Keep each request's body (what a client sent, e.g. to validate it against a spec). */
  recordBodies?: boolean;
}

export async function startRecordingProxy(target: string, host = '127.0.0.9', options: RecordingProxyOptions = {}): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, upgrade: false };
    requests.push(recorded);
    if (options.recordBodies) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => (recorded.body = Buffer.concat(chunks)));
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, upgrade: true });
    if (options.websockets === 'not-found') {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found');
      return;
    }
    const out = net.connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? upstream.host : req.rawHeaders[i + 1]!}`);
      }
      out.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) out.write(head);
      out.pipe(socket);
      socket.pipe(out);
    });
    sockets.add(out);
    out.on('close', () => sockets.delete(out));
    const end = () => {
      out.destroy();
      socket.destroy();
    };
    out.on('error', end);
    socket.on('error', end);
    socket.on('close', () => out.destroy());
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    requestsWithToken: () => requests.filter(carriesToken),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
