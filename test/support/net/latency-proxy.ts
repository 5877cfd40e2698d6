// A small user-space TCP proxy that adds one-way latency (this kernel has no netem).
//
// Listens on a 127.x address, forwards every connection to a target 127.x address, and delays each
// chunk in each direction by the current latency while preserving order (a chunk is never sent
// before the one that arrived earlier, even when the latency is lowered at runtime). The mode can
// be switched at runtime:
//   setLatency(ms)  forward with that one-way delay (per direction; a round trip costs 2 × ms)
//   blackhole()     accept and read, never forward or answer (a hung peer behind an open socket)
//   close()         close the listener and destroy every connection; resolves when all are gone
import net from 'node:net';
import { assertLoopbackAddress } from './nft.js';

export interface LatencyProxyOptions {
  listenHost: string;
  /** 0 (default) picks a free port. */
  listenPort?: number;
  targetHost: string;
  targetPort: number;
  /** One-way delay per chunk, per direction. Default 0. */
  latencyMs?: number;
}

export interface LatencyProxy {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  latencyMs(): number;
  setLatency(ms: number): void;
  blackhole(): void;
  isBlackholed(): boolean;
  /** Destroys every open connection (both sides) but keeps listening. */
  dropConnections(): void;
  connectionCount(): number;
  close(): Promise<void>;
}

interface Pending {
  data: Buffer;
  dueAt: number;
}

/** One direction of one connection: a FIFO of delayed chunks drained by one timer. */
class DelayedPipe {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDueAt = 0;

  constructor(
    private readonly to: net.Socket,
    private readonly state: { latencyMs: number; blackholed: boolean },
  ) {}

  push(data: Buffer): void {
    if (this.state.blackholed) return; // swallowed, the way a hung peer swallows requests
    const dueAt = Math.max(Date.now() + this.state.latencyMs, this.lastDueAt);
    this.lastDueAt = dueAt;
    this.queue.push({ data, dueAt });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const head = this.queue[0]!;
    this.timer = setTimeout(() => this.drain(), Math.max(0, head.dueAt - Date.now()));
  }

  private drain(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.dueAt <= now) {
      const { data } = this.queue.shift()!;
      if (this.state.blackholed) continue;
      if (!this.to.destroyed) this.to.write(data);
    }
    this.schedule();
  }

  /** Runs `then` after everything queued has been written (used to forward a half-close in order). */
  afterQueued(then: () => void): void {
    if (this.queue.length === 0) {
      then();
      return;
    }
    const check = setInterval(() => {
      if (this.queue.length === 0 || this.to.destroyed) {
        clearInterval(check);
        then();
      }
    }, 5);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  assertLoopbackAddress(options.listenHost);
  assertLoopbackAddress(options.targetHost);
  const state = { latencyMs: Math.max(0, options.latencyMs ?? 0), blackholed: false };
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; pipes: DelayedPipe[] }>();

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    const toUpstream = new DelayedPipe(upstream, state);
    const toClient = new DelayedPipe(client, state);
    const pair = { client, upstream, pipes: [toUpstream, toClient] };
    pairs.add(pair);

    const teardown = () => {
      if (!pairs.delete(pair)) return;
      toUpstream.dispose();
      toClient.dispose();
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => toUpstream.push(chunk));
    upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
    // A half-close travels with the same delay as the data before it.
    client.on('end', () => toUpstream.afterQueued(() => upstream.end()));
    upstream.on('end', () => toClient.afterQueued(() => client.end()));
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, options.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  const dropConnections = () => {
    for (const pair of [...pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
      for (const pipe of pair.pipes) pipe.dispose();
      pairs.delete(pair);
    }
  };

  return {
    host: options.listenHost,
    port: address.port,
    url: `http://${options.listenHost}:${address.port}`,
    latencyMs: () => state.latencyMs,
    setLatency(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`invalid latency ${ms}`);
      state.latencyMs = ms;
      state.blackholed = false;
    },
    blackhole() {
      state.blackholed = true;
    },
    isBlackholed: () => state.blackholed,
    dropConnections,
    connectionCount: () => pairs.size,
    close() {
      dropConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
