// One HTTP parser for every route of a simulation: route listeners hand accepted sockets here,
// and each request is run through its route's fault before (and after) the service answers.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { DEFAULT_OVERSIZED_BYTES, DEFAULT_SLOW_MS, errorResponse, malform, type MalformedVariant } from './faults.js';
import { readBody, rejectUpgrade, writeResponse, type SimResponse } from './http-util.js';
import { bufferSource, needsPump, pumpBody } from './response-pump.js';
import type { SimRoute } from './route.js';
import type { Timers } from './timers.js';
import type { SimCertificates } from './tls.js';

export class Dispatcher {
  readonly http: http.Server;
  /** Shared by all services; pongs are sent by hand so a hung route can ignore pings. */
  readonly wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false, maxPayload: 1024 * 1024 });
  private readonly routeOf = new WeakMap<net.Socket, SimRoute>();
  /** Set when the config has TLS routes. */
  certificates: SimCertificates | undefined;

  constructor(private readonly timers: Timers) {
    this.http = http.createServer({ keepAliveTimeout: 5000, requestTimeout: 0, headersTimeout: 0 });
    this.http.on('request', (req, res) => void this.onRequest(req, res));
    this.http.on('upgrade', (req, socket, head) => void this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  accept = (socket: net.Socket, route: SimRoute): void => {
    // A hung server completes no handshake at all (TLS included); the route listener still
    // tracks the socket, so close() and later faults can reset it.
    if (route.silent) return;
    if (route.tls && this.certificates) {
      const secureContext = route.mode === 'tls-mismatch' ? this.certificates.mismatched : this.certificates.good;
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
      secure.on('error', () => {});
      this.routeOf.set(secure, route);
      this.http.emit('connection', secure);
      return;
    }
    this.routeOf.set(socket, route);
    this.http.emit('connection', socket);
  };

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = this.routeOf.get(req.socket);
    if (!route) return void res.destroy();
    try {
      if (route.silent) return; // hang: accepted (and parsed) but never answered, also on kept-alive sockets
      const body = await readBody(req);
      if (route.fault.mode === 'slow') await this.timers.sleep(route.fault.delayMs ?? DEFAULT_SLOW_MS);
      const fault = route.fault;
      if (fault.mode === 'hang') return;
      if (fault.mode === 'error') return writeResponse(res, errorResponse(fault.status));
      let response = await route.service.handle(req, body, { route, impostor: fault.mode === 'wrong-identity' });
      if (route.silent) return;
      if (fault.mode === 'malformed') {
        const variant = (fault.variant as MalformedVariant | undefined) ?? 'truncated';
        if (variant === 'oversized') return this.streamOversized(res, fault.sizeBytes ?? DEFAULT_OVERSIZED_BYTES);
        response = malform(response, variant);
      }
      this.write(req, res, response, route);
    } catch {
      // A handler bug or an aborted body read: answer like a failing server, never crash.
      if (!res.headersSent && !res.destroyed) writeResponse(res, errorResponse(500));
    }
  }

  /** Plain bodies go out in one write; media streams and byte-level faults go through the pump. */
  private write(req: IncomingMessage, res: ServerResponse, response: SimResponse, route: SimRoute): void {
    if (!response.stream && !needsPump(route)) return writeResponse(res, response);
    if (res.destroyed || res.headersSent) return;
    const body = response.stream ? undefined : typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
    res.writeHead(response.status, body ? { ...response.headers, 'content-length': String(body.length) } : response.headers);
    if (req.method === 'HEAD') return void res.end();
    void pumpBody(response.stream ? response.stream() : bufferSource(body ?? Buffer.alloc(0)), res, route);
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = this.routeOf.get(req.socket);
    socket.on('error', () => {});
    if (!route) return void socket.destroy();
    if (route.silent) return;
    if (route.fault.mode === 'slow') await this.timers.sleep(route.fault.delayMs ?? DEFAULT_SLOW_MS);
    const fault = route.fault;
    if (fault.mode === 'hang' || socket.destroyed) return;
    if (fault.mode === 'drop-socket') return void socket.destroy();
    if (fault.mode === 'error') return rejectUpgrade(socket, errorResponse(fault.status));
    route.service.upgrade(req, socket, head, { route, impostor: fault.mode === 'wrong-identity' });
  }

  /** A body far larger than any real answer, streamed with backpressure until the client gives up. */
  private streamOversized(res: ServerResponse, size: number): void {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const prefix = Buffer.from('{"MediaContainer":{"padding":"');
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(size) });
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !res.destroyed) {
        const piece = sent === 0 ? prefix.subarray(0, Math.min(prefix.length, size)) : chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  close(): void {
    this.wss.close();
    this.http.close();
  }
}
