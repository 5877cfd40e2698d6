// A route's fault state machine: which mode it is in, whether its port should be listening,
// and the side effects of entering a mode (flap timer, dropping push channels).
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { DEFAULT_FLAP_MS, RouteFaultSchema, type DropVariant, type RouteFault, type RouteFaultMode } from './faults.js';
import { RouteListener } from './route-listener.js';
import type { SimService } from './service.js';
import type { Timers } from './timers.js';

export type RouteKind = 'local' | 'remote' | 'relay';

export class SimRoute {
  readonly listener: RouteListener;
  /** Push channels (WebSockets) currently open through this route. */
  readonly webSockets = new Set<WebSocket>();
  private current: RouteFault = { mode: 'up' };
  private serverDown = false;
  private flapUp = true;
  private flapTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** How connections still open when the port closes are ended: RST (crash, refuse) or FIN (graceful stop). */
  private dropStyle: 'reset' | 'end' = 'reset';
  lastError: string | undefined;

  constructor(
    readonly id: string,
    readonly kind: RouteKind,
    /** Owning server id; 'plex.tv' for the account service. */
    readonly serverId: string,
    host: string,
    port: number,
    readonly service: SimService,
    private readonly timers: Timers,
    accept: (socket: net.Socket, route: SimRoute) => void,
    /** HTTPS route (TLS terminated by the dispatcher). */
    readonly tls = false,
  ) {
    this.listener = new RouteListener(host, port, (socket) => accept(socket, this));
  }

  get host(): string {
    return this.listener.host;
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.tls ? 'https' : 'http'}://${host}:${this.port}`;
  }

  get fault(): RouteFault {
    return this.current;
  }

  get mode(): RouteFaultMode {
    return this.current.mode;
  }

  /** While hung, nothing is sent on this route: no responses, no pongs, no KeepAlive replies, no events. */
  get silent(): boolean {
    return this.current.mode === 'hang';
  }

  get accepting(): boolean {
    if (this.closed || this.serverDown) return false;
    if (this.current.mode === 'refuse') return false;
    if (this.current.mode === 'flap') return this.flapUp;
    return true;
  }

  start(): Promise<void> {
    return this.sync();
  }

  async setFault(input: RouteFault): Promise<void> {
    const fault = RouteFaultSchema.parse(input);
    this.timers.clear(this.flapTimer);
    this.flapTimer = undefined;
    this.current = { ...fault };
    if (fault.mode === 'flap') {
      // Down first, so the effect is visible at once; then alternate every period.
      this.flapUp = false;
      this.flapTimer = this.timers.interval(() => {
        this.flapUp = !this.flapUp;
        this.sync().catch(() => {}); // recorded in lastError
      }, fault.periodMs ?? DEFAULT_FLAP_MS);
    }
    if (fault.mode === 'drop-socket') this.dropWebSockets((fault.variant as DropVariant | undefined) ?? 'reset');
    return this.sync();
  }

  /** Server-level stop/crash: the port refuses until the server is up again. */
  setServerDown(down: boolean, drop: 'reset' | 'end' = 'reset'): Promise<void> {
    this.serverDown = down;
    this.dropStyle = drop;
    return this.sync();
  }

  dropWebSockets(variant: DropVariant): void {
    for (const ws of this.webSockets) {
      if (variant === 'reset') ws.terminate();
      else ws.close(variant === 'close-1001' ? 1001 : 1011, variant === 'close-1001' ? 'Going Away' : 'Internal Error');
    }
  }

  /** Applies `accepting` to the listener; serialized so quick fault changes never interleave. */
  sync(): Promise<void> {
    // A failed step must not wedge the chain: later faults still apply.
    this.chain = this.chain.catch(() => {}).then(async () => {
      const want = this.accepting;
      if (want && !this.listener.listening) {
        try {
          await this.listener.open();
          this.lastError = undefined;
        } catch (err) {
          this.lastError = `cannot listen on ${this.host}:${this.port}: ${(err as Error).message}`;
          if (this.port === 0) throw err;
        }
      } else if (!want && this.listener.listening) {
        this.listener.close();
        // A closed port resets whatever was still connected through it (a graceful stop ends them).
        this.listener.dropSockets(this.serverDown ? this.dropStyle : 'reset');
      }
    });
    return this.chain;
  }

  close(): void {
    this.closed = true;
    this.timers.clear(this.flapTimer);
    this.listener.close();
    for (const ws of this.webSockets) ws.terminate();
    this.listener.dropSockets('reset');
  }
}
