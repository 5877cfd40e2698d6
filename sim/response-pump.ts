// Writes a response body to the wire through the route's byte-level faults, read live on every
// piece so a fault set mid-transfer (a long media stream) takes effect at once:
// `cut` destroys the connection after N more body bytes, `throttle` paces the bytes (a relay),
// `hang` stops sending until the mode changes. Backpressure: never more than one piece in flight
// beyond what the socket accepted.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { DEFAULT_CUT_AFTER_BYTES, DEFAULT_THROTTLE_BYTES_PER_SECOND } from './faults.js';
import type { SimRoute } from './route.js';

/** Throttled bodies go out in pieces of ~1/20 s, so the rate is smooth at any cap. */
const PIECES_PER_SECOND = 20;
const UNTHROTTLED_PIECE = 64 * 1024;
const HANG_POLL_MS = 100;

export function needsPump(route: SimRoute): boolean {
  return route.mode === 'cut' || route.mode === 'throttle';
}

/** Pumps `source` into `res` (whose head is already written) and ends it, unless a fault cuts it. */
export async function pumpBody(source: Readable, res: ServerResponse, route: SimRoute): Promise<void> {
  const socket = res.socket;
  let sent = 0;
  /** Body bytes sent when `cut` was first seen on this response (it counts from there). */
  let cutFrom: number | undefined;
  let paceStart = 0;
  let pacedBytes = 0;
  let pacedRate = 0;
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const wait = (ms: number) => Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms)), closed]);
  try {
    for await (const chunk of source) {
      let rest = chunk as Buffer;
      while (rest.length > 0) {
        if (isClosed) return;
        const fault = route.fault;
        if (fault.mode === 'hang') {
          await wait(HANG_POLL_MS);
          continue;
        }
        let piece = rest.subarray(0, UNTHROTTLED_PIECE);
        if (fault.mode === 'cut') {
          cutFrom ??= sent;
          const room = (fault.afterBytes ?? DEFAULT_CUT_AFTER_BYTES) - (sent - cutFrom);
          if (room <= 0) return cut(res);
          piece = piece.subarray(0, room);
        } else cutFrom = undefined;
        if (fault.mode === 'throttle') {
          const rate = fault.bytesPerSecond ?? DEFAULT_THROTTLE_BYTES_PER_SECOND;
          if (rate !== pacedRate) {
            pacedRate = rate;
            paceStart = performance.now();
            pacedBytes = 0;
          }
          piece = piece.subarray(0, Math.max(1, Math.floor(rate / PIECES_PER_SECOND)));
          const due = paceStart + ((pacedBytes + piece.length) / rate) * 1000;
          const delay = due - performance.now();
          if (delay > 1) {
            await wait(delay);
            continue; // the fault may have changed meanwhile: re-read it
          }
          pacedBytes += piece.length;
        } else pacedRate = 0;
        rest = rest.subarray(piece.length);
        sent += piece.length;
        if (!res.write(piece)) await Promise.race([new Promise<void>((resolve) => res.once('drain', () => resolve())), closed]);
      }
    }
    const fault = route.fault;
    // A body that ends exactly at the cut still loses its connection, as a dying link would.
    if (fault.mode === 'cut' && cutFrom !== undefined && sent - cutFrom >= (fault.afterBytes ?? DEFAULT_CUT_AFTER_BYTES)) return cut(res);
    if (!isClosed) res.end();
  } catch {
    socket?.destroy();
  } finally {
    source.destroy();
  }
}

/** Flushes what was written, then destroys the connection: the client sees a body end early. */
function cut(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  res.write('', () => socket.destroy());
  // The callback never comes if the peer stopped reading; do not wait for it forever.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function bufferSource(body: Buffer): Readable {
  return Readable.from([body], { objectMode: false });
}
