// Server-Sent Events fan-out. One engine subscription feeds every client; each client gets a
// snapshot (or a lossless resume), then the ordered stream, plus heartbeat comments. A client that
// reads too slowly is dropped (its buffer would grow without bound) and resyncs on reconnect.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiEventMessage, ApiSnapshot, ApiSource } from '../api/types.js';
import type { Engine, EngineStreamMessage, SourceSnapshot } from '../monitor/engine-types.js';
import { toApiEventMessage, toApiHealthState, toApiSource } from './views.js';

export interface SseHubOptions {
  heartbeatMs: number;
  /**
   * Open streams at most in total and per client address (default 256 and 8): each holds a socket
   * and a buffer, so one client looping on reconnects must not starve the rest. A tab holds one.
   */
  maxStreams?: number;
  maxStreamsPerAddress?: number;
  /** Bytes queued in the socket before a client counts as too slow. Default 1 MiB. */
  maxBufferedBytes?: number;
  demo: boolean;
  onClientCount?(count: number): void;
  onDropped?(): void;
  now?: () => number;
}

interface Client {
  res: ServerResponse;
  /** Counted against the per-address cap until the stream closes. */
  address: string;
  socket: Socket | null;
  closed: boolean;
  /** Extra bytes tolerated until the first drain: the snapshot of a large install is itself big. */
  allowance: number;
}

const MAX_REMEMBERED_REMOVALS = 10_000;

export function formatSse(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const SNAPSHOT_REUSE_MS = 1_000;
/** Frames kept after a shared snapshot; beyond this a new client gets a fresh snapshot instead. */
const MAX_SNAPSHOT_TAIL_BYTES = 256 * 1024;

/** What a stream starts with, written in order; a shared snapshot is one Buffer for every client. */
export type StreamStart = Array<string | Buffer>;

function byteLength(chunks: StreamStart): number {
  return chunks.reduce((sum, c) => sum + (typeof c === 'string' ? Buffer.byteLength(c) : c.length), 0);
}

export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly streamsByAddress = new Map<string, number>();
  private unsubscribe: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** For lossless resume of messages that carry no sequence number: the engine seq current when each source last changed view. */
  private readonly sourceTouchedAt = new Map<string, number>();
  private readonly removedAt = new Map<string, number>();
  /**
   * Resumes from this seq or earlier cannot be vouched for: view changes before the hub started
   * (e.g. in a previous process) are unknown, and so are forgotten removals.
   */
  private unknownUpToSeq = 0;
  private readonly maxBuffered: number;
  /**
   * The last snapshot, shared for a second by every client that connects (100 browsers at a
   * 10,000-source install would otherwise build and encode 100 copies of a ~5 MB frame at once:
   * hundreds of MB for a moment, which the heap then keeps). It is one Buffer written by reference,
   * followed by the frames broadcast since it was built — exactly what a client connected at build
   * time would have received, so sharing it loses nothing.
   */
  private cachedSnapshot: { frame: Buffer; builtAt: number; tail: string[]; tailBytes: number } | null = null;
  private lastView: { snapshot: SourceSnapshot; view: ApiSource } | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly options: SseHubOptions,
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unknownUpToSeq = this.engine.lastSeq();
    this.unsubscribe = this.engine.subscribe((m) => this.onMessage(m));
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Ends every stream (so the HTTP server can close) and stops listening to the engine. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const c of [...this.clients]) this.close(c, false);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Why a new stream from `address` would be refused (answer 503 with these words), or null. Call
   * attach() in the same tick after null, so the count cannot be overtaken.
   */
  refusal(address: string): string | null {
    const total = this.options.maxStreams ?? 256;
    const perAddress = this.options.maxStreamsPerAddress ?? 8;
    if ((this.streamsByAddress.get(address) ?? 0) >= perAddress) {
      return `Too many open event streams from this address (at most ${perAddress}); close a Marquee tab or try again in a moment.`;
    }
    if (this.clients.size >= total) return `Marquee has too many open event streams (at most ${total}); try again in a moment.`;
    return null;
  }

  /**
   * The first bytes of a stream: a snapshot, or a lossless resume from `lastEventId` (the
   * Last-Event-ID header or query). Throws before anything is written if the engine fails.
   * Call attach() in the same tick, so no engine message can slip between the two.
   */
  prepare(lastEventId: number | null): StreamStart {
    return ['retry: 2000\n\n', ...(lastEventId === null ? this.snapshotChunks() : this.resumeChunks(lastEventId))];
  }

  /** Starts the stream on a raw response with the chunks from prepare(). */
  attach(res: ServerResponse, initial: StreamStart, address = ''): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Streams are long-lived; never reuse their socket, so shutdown is not held up by idle keep-alives.
      connection: 'close',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    const client: Client = { res, address, socket: res.socket, closed: false, allowance: byteLength(initial) };
    res.on('close', () => this.close(client, false));
    res.on('error', () => this.close(client, false));
    res.once('drain', () => (client.allowance = 0));
    this.clients.add(client);
    this.streamsByAddress.set(address, (this.streamsByAddress.get(address) ?? 0) + 1);
    this.options.onClientCount?.(this.clients.size);
    for (const chunk of initial) this.write(client, chunk);
  }

  open(res: ServerResponse, lastEventId: number | null): void {
    this.attach(res, this.prepare(lastEventId));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private snapshotChunks(): StreamStart {
    const now = this.now();
    const cached = this.cachedSnapshot;
    // Times shown in the views (last/next check) may move without a message; a second bounds that.
    if (cached && now - cached.builtAt < SNAPSHOT_REUSE_MS) return [cached.frame, ...cached.tail];
    const frame = Buffer.from(this.buildSnapshot(), 'utf8');
    this.cachedSnapshot = { frame, builtAt: now, tail: [], tailBytes: 0 };
    return [frame];
  }

  private buildSnapshot(): string {
    const snapshot: ApiSnapshot = {
      sources: this.engine.listSources().map(toApiSource),
      lastEventId: this.engine.lastSeq(),
      demo: this.options.demo,
      serverTime: this.now(),
      health: toApiHealthState(this.engine.health()),
    };
    return formatSse('snapshot', snapshot, snapshot.lastEventId);
  }

  private resumeChunks(since: number): StreamStart {
    const latest = this.engine.lastSeq();
    const records = since <= latest ? this.engine.eventsSince(since) : null;
    if (records === null) return this.snapshotChunks();
    const missed: ApiEventMessage[] = records.map((r) => toApiEventMessage(r));
    let out = missed.map((m) => formatSse('engine', m, m.seq)).join('');
    if (since <= this.unknownUpToSeq) {
      // Source views from before this process started are unknown: the events above still give
      // the missed notifications, the snapshot puts the state right.
      return [out, ...this.snapshotChunks()];
    }
    const current = new Map(this.engine.listSources().map((s) => [s.source.id, s]));
    for (const [sourceId, at] of this.removedAt) {
      if (at >= since && !current.has(sourceId)) out += formatSse('removed', { sourceId });
    }
    for (const [sourceId, at] of this.sourceTouchedAt) {
      const source = current.get(sourceId);
      if (at >= since && source) out += formatSse('source', { source: toApiSource(source) });
    }
    return [out];
  }

  private onMessage(message: EngineStreamMessage): void {
    const seq = this.engine.lastSeq();
    let frame: string;
    switch (message.type) {
      case 'engine':
        frame = formatSse('engine', toApiEventMessage(message.message, this.viewOf(message.message.source)), message.message.seq);
        break;
      case 'source':
        this.sourceTouchedAt.set(message.source.source.id, seq);
        frame = formatSse('source', { source: toApiSource(message.source) });
        break;
      case 'removed':
        this.sourceTouchedAt.delete(message.sourceId);
        this.removedAt.delete(message.sourceId);
        this.removedAt.set(message.sourceId, seq);
        if (this.removedAt.size > MAX_REMEMBERED_REMOVALS) {
          const [oldestId, oldestSeq] = this.removedAt.entries().next().value as [string, number];
          this.removedAt.delete(oldestId);
          this.unknownUpToSeq = Math.max(this.unknownUpToSeq, oldestSeq);
        }
        frame = formatSse('removed', { sourceId: message.sourceId });
        break;
      case 'health':
        frame = formatSse('health', toApiHealthState(message.health));
        break;
    }
    this.broadcast(frame);
    const cached = this.cachedSnapshot;
    if (cached) {
      cached.tail.push(frame);
      cached.tailBytes += frame.length;
      // Past its second (or too long a tail) no client will get it: let the multi-MB buffer go now.
      const stale = this.now() - cached.builtAt >= SNAPSHOT_REUSE_MS;
      if (stale || cached.tailBytes > MAX_SNAPSHOT_TAIL_BYTES) this.cachedSnapshot = null;
    }
  }

  /**
   * Broadcasts a frame that is not an engine message (the library layer's `library` event). No id:
   * like `source` frames it is not replayed on resume; a page that reconnects refetches anyway.
   */
  publish(event: 'library', data: unknown): void {
    const frame = formatSse(event, data);
    this.broadcast(frame);
    if (this.cachedSnapshot) this.cachedSnapshot = null;
  }

  /** The view of a snapshot, built once for the batch of events that share it. */
  private viewOf(snapshot: SourceSnapshot | null): ApiSource | null {
    if (snapshot === null) return null;
    if (this.lastView?.snapshot !== snapshot) this.lastView = { snapshot, view: toApiSource(snapshot) };
    return this.lastView.view;
  }

  private broadcast(frame: string): void {
    for (const c of this.clients) this.write(c, frame);
  }

  private write(client: Client, frame: string | Buffer): void {
    if (client.closed) return;
    if (client.res.writableLength > this.maxBuffered + client.allowance) {
      this.options.onDropped?.();
      this.close(client, true);
      return;
    }
    try {
      client.res.write(frame);
    } catch {
      // A broken socket must not break the engine's emit loop; 'close' cleans up.
      this.close(client, true);
    }
  }

  private close(client: Client, destroy: boolean): void {
    if (client.closed) return;
    client.closed = true;
    this.clients.delete(client);
    const left = (this.streamsByAddress.get(client.address) ?? 1) - 1;
    if (left > 0) this.streamsByAddress.set(client.address, left);
    else this.streamsByAddress.delete(client.address);
    this.options.onClientCount?.(this.clients.size);
    if (destroy) client.res.destroy();
    else if (!client.res.writableEnded) client.res.end();
    // The socket is never reused (connection: close); let it go once the last bytes are out, so a
    // half-closed or silent peer cannot hold server shutdown.
    const socket = client.socket;
    if (socket && !socket.destroyed) {
      if (socket.writableLength === 0) socket.destroy();
      else socket.end(() => socket.destroy());
    }
  }
}
