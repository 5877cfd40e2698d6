// One TCP listener for one route (address:port). Closing it makes the port refuse connections
// (ECONNREFUSED); reopening binds the SAME port again. Accepted sockets are tracked so faults can
// reset or end them, and are handed to the shared HTTP parser.
import net from 'node:net';

export class RouteListener {
  readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;

  constructor(
    readonly host: string,
    public port: number,
    private readonly accept: (socket: net.Socket) => void,
  ) {}

  get listening(): boolean {
    return this.server !== null;
  }

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      // A reset from either side must never become an unhandled 'error'.
      socket.on('error', () => {});
      this.accept(socket);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: this.host, port: this.port, backlog: 511, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', () => {});
        const address = server.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  /** Stops accepting at once (the listening fd is closed synchronously); open sockets are untouched. */
  close(): void {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.close();
  }

  /** 'reset' sends TCP RST (a crash or a dead port); 'end' sends FIN after pending writes. */
  dropSockets(how: 'reset' | 'end'): void {
    for (const socket of this.sockets) {
      if (how === 'reset') {
        if (!socket.destroyed) socket.resetAndDestroy();
      } else {
        socket.end();
      }
    }
  }
}
