// The shared WebSocket plumbing of both push channels: connect with a handshake timeout, token in a
// header (never in the URL), WebSocket ping every pingIntervalMs, "lost" when no pong (or any other
// frame) arrives within pongTimeoutMs of a ping, and onLost reported exactly once.
import type { LookupFunction } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import type { PushChannel, PushHandlers, PushOptions } from './types.js';
import { classifyNetworkError, describeHost, formatSeconds, MAX_BODY_BYTES } from './http.js';

export interface PushSocketSpec {
  /** ws:// or wss:// URL without any secret in it. */
  url: string;
  headers: Record<string, string>;
  handlers: PushHandlers;
  options: PushOptions;
  lookup?: LookupFunction;
  rejectUnauthorized?: boolean;
  /** Kind-specific frame handling; `send` writes a text frame. */
  onText(text: string, send: (text: string) => void): void;
  /** Kind-specific view of a server-initiated close (e.g. Plex 1001 → shutting down). */
  onServerClose?(code: number, reason: string): void;
}

export type LostCode = Parameters<PushHandlers['onLost']>[0]['code'];

export interface PushSocket extends PushChannel {
  /** Close as lost with a code (used by kind logic, e.g. auth revoked). */
  fail(code: LostCode, message: string): void;
  /** Register a timer that is cleared when the channel ends. */
  every(ms: number, fn: () => void): void;
}

export function toWsUrl(httpBase: string, path: string): string {
  const url = new URL(httpBase);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = '';
  url.hash = '';
  return url.toString();
}

export function openPushSocket(spec: PushSocketSpec): PushSocket {
  const { handlers, options } = spec;
  const host = describeHost(spec.url);
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let pongTimer: NodeJS.Timeout | undefined;
  /** onSuspect was reported for the current silence. */
  let suspected = false;

  const ws = new WebSocket(spec.url, {
    headers: spec.headers,
    handshakeTimeout: options.connectTimeoutMs,
    followRedirects: false,
    maxPayload: MAX_BODY_BYTES,
    perMessageDeflate: false,
    ...(spec.lookup ? { lookup: spec.lookup } : {}),
    ...(spec.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  });

  const cleanup = () => {
    for (const t of timers) clearInterval(t);
    timers.length = 0;
    if (pongTimer) clearTimeout(pongTimer);
    pongTimer = undefined;
  };

  const end = (code: LostCode, message: string) => {
    if (ended) return;
    ended = true;
    cleanup();
    try {
      ws.terminate();
    } catch {
      /* already gone */
    }
    handlers.onLost({ code, message });
  };

  const alive = () => {
    if (pongTimer) clearTimeout(pongTimer);
    pongTimer = undefined;
    suspected = false;
  };

  const send = (text: string) => {
    if (!ended && ws.readyState === WebSocket.OPEN) ws.send(text);
  };

  ws.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    res.resume();
    if (status === 401 || status === 403) end('unauthorized', `${host} rejected the push channel sign-in (HTTP ${status})`);
    else end('refused', `${host} refused the push channel (HTTP ${status})`);
  });

  ws.on('open', () => {
    if (ended) return;
    timers.push(
      setInterval(() => {
        if (ended || ws.readyState !== WebSocket.OPEN) return;
        try {
          ws.ping();
        } catch {
          return;
        }
        // The previous ping is still unanswered a whole interval later: say so before the timeout.
        if (pongTimer && !suspected) {
          suspected = true;
          handlers.onSuspect?.();
        }
        pongTimer ??= setTimeout(() => end('pong_timeout', `no answer from ${host} within ${formatSeconds(options.pongTimeoutMs)}`), options.pongTimeoutMs);
      }, options.pingIntervalMs),
    );
    handlers.onOpen();
  });

  ws.on('pong', alive);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    alive();
    if (ended || isBinary) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    try {
      spec.onText(text, send);
    } catch {
      /* a handler bug must not kill the channel silently; frames are parsed without throwing */
    }
  });

  ws.on('error', (err) => {
    if (ended) return;
    const classified = classifyNetworkError(err, spec.url.replace(/^ws/, 'http'), options.connectTimeoutMs, /handshake/i.test(String((err as Error).message)));
    end(classified.code === 'refused' && /refused/.test(classified.message) ? 'refused' : 'error', classified.message);
  });

  ws.on('close', (code: number, reason: Buffer) => {
    if (ended) return;
    spec.onServerClose?.(code, reason.toString('utf8').slice(0, 120));
    end('closed', `${host} closed the push channel (code ${code})`);
  });

  return {
    close() {
      if (ended) return;
      ended = true;
      cleanup();
      try {
        ws.close(1000);
      } catch {
        /* ignore */
      }
      // Do not wait for the peer's close frame forever.
      setTimeout(() => ws.terminate(), 1000).unref();
    },
    fail: end,
    every(ms, fn) {
      if (!ended) timers.push(setInterval(fn, ms));
    },
  };
}
