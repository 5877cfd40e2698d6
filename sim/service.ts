// The contract between the route/fault layer and a simulated service (plex.tv, PMS, Jellyfin).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SimResponse } from './http-util.js';
import type { SimRoute } from './route.js';

export interface RequestContext {
  route: SimRoute;
  /** `wrong-identity`: a different server answers at this address. */
  impostor: boolean;
}

export interface SimService {
  handle(req: IncomingMessage, body: Buffer, ctx: RequestContext): SimResponse | Promise<SimResponse>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void;
}
