// The shared WebSocket plumbing of both push channels: connect with a handshake timeout, token in a
// header (never in the URL), WebSocket ping every pingIntervalMs, "overdue" (onSuspect) when a ping
// is unanswered for longer than its measured round trip allows, "lost" when no pong (or any other
// frame) arrives within pongTimeoutMs of a ping, and onLost reported exactly once.
//
// Both deadlines look again after pending I/O has been read (setImmediate runs after the poll
// phase): an event loop that was busy for a while must not report a pong sitting in the socket
// buffer as missing.
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
  let suspectTimer: NodeJS.Timeout | undefined;
  /** onSuspect was reported for the current silence. */
  let suspected = false;
  /** When the oldest unanswered ping was sent (0: none outstanding). */
  let pingSentAt = 0;
  const rtt = new RoundTripEstimator();

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
    if (suspectTimer) clearTimeout(suspectTimer);
    suspectTimer = undefined;
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
    const wasSuspected = suspected;
    if (pongTimer) clearTimeout(pongTimer);
    pongTimer = undefined;
    if (suspectTimer) clearTimeout(suspectTimer);
    suspectTimer = undefined;
    suspected = false;
    pingSentAt = 0;
    if (wasSuspected && !ended) handlers.onSuspectCleared?.();
  };

  const reportSuspect = () => {
    if (ended || suspected || pingSentAt === 0) return;
    suspected = true;
    handlers.onSuspect?.();
  };

  /** Runs `fn` after the I/O already waiting has been read, unless the channel answered meanwhile. */
  const afterPendingIo = (fn: () => void) => {
    const outstanding = pingSentAt;
    setImmediate(() => {
      if (!ended && pingSentAt !== 0 && pingSentAt === outstanding) fn();
    });
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
        if (pingSentAt !== 0) {
          afterPendingIo(reportSuspect);
          return;
        }
        pingSentAt = performance.now();
        const suspectAfter = rtt.suspectAfterMs(options.suspectMinMs ?? options.pingIntervalMs, options.pingIntervalMs);
        if (suspectAfter < options.pingIntervalMs) suspectTimer = setTimeout(() => afterPendingIo(reportSuspect), suspectAfter);
        pongTimer = setTimeout(() => afterPendingIo(() => end('pong_timeout', `no answer from ${host} within ${formatSeconds(options.pongTimeoutMs)}`)), options.pongTimeoutMs);
      }, options.pingIntervalMs),
    );
    handlers.onOpen();
  });

  ws.on('pong', () => {
    if (pingSentAt !== 0) rtt.sample(performance.now() - pingSentAt);
    alive();
  });
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
    const classified = classifyNetworkError(err, spec.url.replace(/^ws/, 'http'), options.connectTimeoutMs, /handshake/i.test(String(err.message)));
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

/**
 * Smoothed round trip and its variation (RFC 6298 §2, the TCP retransmission timer), from pong
 * times: a ping is overdue after srtt + 4 * rttvar, so a LAN channel suspects a silence within a few
 * hundred milliseconds and a slow remote route is given what it usually needs.
 */
export class RoundTripEstimator {
  private srtt: number | null = null;
  private rttvar = 0;

  sample(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.srtt === null) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  /** The wait before an unanswered ping is overdue, within [floorMs, ceilingMs]; the ceiling before any sample. */
  suspectAfterMs(floorMs: number, ceilingMs: number): number {
    if (this.srtt === null) return ceilingMs;
    return Math.min(ceilingMs, Math.max(floorMs, Math.ceil(this.srtt + 4 * this.rttvar)));
  }
}
