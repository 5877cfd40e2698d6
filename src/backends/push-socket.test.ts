// A silent channel is suspected one ping interval after an unanswered ping, before it is lost.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { openPushSocket } from './push-socket.js';

let server: WebSocketServer | null = null;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function silentServer(answerPings: () => boolean): Promise<string> {
  // autoPong off: this server decides when pongs stop (a pulled cable looks like this).
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  server.on('connection', (ws) => ws.on('ping', (data) => answerPings() && ws.pong(data)));
  await new Promise((resolve) => server!.once('listening', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('push socket suspicion', () => {
  it('reports onSuspect once, a ping interval after the first unanswered ping, then onLost at the pong timeout', async () => {
    let answering = true;
    const url = await silentServer(() => answering);
    const events: Array<{ what: string; at: number }> = [];
    let opened = 0;
    const done = new Promise<void>((resolve) => {
      const socket = openPushSocket({
        url,
        headers: {},
        options: { pingIntervalMs: 200, pongTimeoutMs: 600, connectTimeoutMs: 2000 },
        handlers: {
          onOpen: () => {
            opened = Date.now();
            // Answer a few pings, then go silent.
            setTimeout(() => (answering = false), 450);
          },
          onServerGoingAway: () => events.push({ what: 'away', at: Date.now() }),
          onSuspect: () => events.push({ what: 'suspect', at: Date.now() }),
          onLost: (detail) => {
            events.push({ what: `lost:${detail.code}`, at: Date.now() });
            socket.close();
            resolve();
          },
        },
        onText: () => {},
      });
    });
    await done;
    expect(events.map((e) => e.what)).toEqual(['suspect', 'lost:pong_timeout']);
    // Suspected before the loss (by about pongTimeout - pingInterval; not asserted in ms, since a
    // loaded machine may run both timers in one turn), and only after the pings stopped.
    const suspect = events[0]!;
    expect(suspect.at - opened).toBeGreaterThanOrEqual(450);
  });
});
