// A loopback media server for the byte proxy's tests: serves one file with Range/206/Content-Range,
// and can die mid-body (reset after N bytes, then refuse), or hang mid-body (stop sending, keep
// the socket, answer nothing new) — the two ways a route dies under a film.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type MediaFault = { mode: 'up' } | { mode: 'reset_after'; bytes: number } | { mode: 'hang_after'; bytes: number };

export class MediaFake {
  fault: MediaFault = { mode: 'up' };
  /** Ranges asked for, in order. */
  readonly requests: string[] = [];
  private readonly sockets = new Set<Socket>();
  private hung: ServerResponse[] = [];
  private sent = 0;
  private open = 0;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections = 0;
  private constructor(private readonly server: Server, public file: Buffer, readonly url: string) {}

  static async start(file: Buffer, host = '127.0.0.1'): Promise<MediaFake> {
    const self: { fake?: MediaFake } = {};
    const server = createServer((req, res) => self.fake?.handle(req.headers.range, res));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new MediaFake(server, file, `http://${host}:${port}`);
    self.fake = fake;
    server.on('connection', (s) => {
      fake.connections++;
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    return fake;
  }

  private handle(rangeHeader: string | undefined, res: ServerResponse): void {
    this.requests.push(rangeHeader ?? '');
    if (this.fault.mode === 'hang_after' && this.fault.bytes === 0) {
      this.hung.push(res);
      return;
    }
    const total = this.file.length;
    const m = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(Number(m[2]), total - 1) : total - 1;
    if (start >= total) {
      res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
      return;
    }
    res.writeHead(m ? 206 : 200, {
      'content-type': 'video/mp4',
      'content-length': String(end - start + 1),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${total}` } : {}),
      'accept-ranges': 'bytes',
      etag: `"len-${total}"`,
    });
    let at = start;
    this.open++;
    res.on('close', () => this.open--);
    const fault = this.fault;
    const pump = () => {
      while (at <= end) {
        if (fault.mode !== 'up' && at - start >= fault.bytes) {
          if (fault.mode === 'reset_after') {
            res.socket?.resetAndDestroy();
            void this.refuse();
          } else {
            this.hung.push(res);
            this.fault = { mode: 'hang_after', bytes: 0 }; // a hung route answers nothing new either
          }
          return;
        }
        const limit = fault.mode === 'up' ? end + 1 : Math.min(end + 1, start + fault.bytes);
        const chunk = this.file.subarray(at, Math.min(limit, at + 16 * 1024));
        at += chunk.length;
        this.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }

  /** Body bytes written so far (accepted by the socket). */
  sentBytes(): number {
    return this.sent;
  }

  /** Responses not yet closed. */
  openResponses(): number {
    return this.open;
  }

  /** Stop accepting: new connections are refused (the route is dead). */
  async refuse(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.hung = [];
    if (this.server.listening) await this.refuse();
  }
}
