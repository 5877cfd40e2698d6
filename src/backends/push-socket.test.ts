// A silent channel is suspected soon after an unanswered ping (its usual round trip plus margin), before
// it is lost; a busy event loop is not mistaken for a silent peer.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { openPushSocket, RoundTripEstimator, type PushSocket } from './push-socket.js';
import type { PushHandlers, PushOptions } from './types.js';

let server: WebSocketServer | null = null;
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function silentServer(answerPings: () => boolean, afterPing?: (answered: boolean) => void): Promise<string> {
  // autoPong off: this server decides when pongs stop (a pulled cable looks like this).
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  server.on('connection', (ws) =>
    ws.on('ping', (data) => {
      const answered = answerPings();
      if (answered) ws.pong(data);
      afterPing?.(answered);
    }),
  );
  await new Promise((resolve) => server!.once('listening', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A client channel to `url` with only the handlers a test cares about. */
function openClient(url: string, options: PushOptions, handlers: Partial<PushHandlers>): PushSocket {
  return openPushSocket({ url, headers: {}, options, handlers: { onOpen: () => {}, onServerGoingAway: () => {}, onLost: () => {}, ...handlers }, onText: () => {} });
}

describe('push socket suspicion', () => {
  it('reports onSuspect once after the first unanswered ping, then onLost at the pong timeout', async () => {
    let answering = true;
    const url = await silentServer(() => answering);
    const events: Array<{ what: string; at: number }> = [];
    let opened = 0;
    const done = new Promise<void>((resolve) => {
      const socket = openClient(url, { pingIntervalMs: 200, pongTimeoutMs: 600, connectTimeoutMs: 2000 }, {
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

describe('push socket suspicion adapts to the round trip', () => {
  it('suspects a silence before the next ping is due, once pongs have shown the usual round trip', async () => {
    let answered = 0;
    const log: string[] = [];
    const url = await silentServer(
      () => answered < 4,
      (ok) => {
        if (ok) answered++;
        else log.push('server: unanswered ping');
      },
    );
    await new Promise<void>((resolve) => {
      // The default 1 s interval: the old rule (suspect one interval later) would come after the
      // second unanswered ping reached the server. (Only pongs slower than ~300 ms while the round
      // trip is learnt could stretch the wait to a whole interval on a loaded machine.)
      const socket = openClient(url, { pingIntervalMs: 1_000, pongTimeoutMs: 3_000, connectTimeoutMs: 2000, suspectMinMs: 50 }, {
        onSuspect: () => {
          log.push('client: suspect');
          socket.close();
          resolve();
        },
        onLost: () => {
          log.push('client: lost');
          resolve();
        },
      });
    });
    expect(log).toEqual(['server: unanswered ping', 'client: suspect']);
  });

  it('a pong waiting behind a busy event loop is read before the deadline is judged', async () => {
    let pings = 0;
    const events: string[] = [];
    const url = await silentServer(
      () => true,
      () => {
        // The third ping: the pong has been written, and this process is busy for 400 ms — far past
        // the 50 ms suspect deadline and the 150 ms ping interval — before the client side can read
        // it. (The pong timeout is kept well above the block: with client and server in one process,
        // a stall elsewhere must not delay the server's own answer past it.)
        if (++pings === 3) {
          const until = performance.now() + 400;
          while (performance.now() < until) {
            /* busy */
          }
        }
      },
    );
    await new Promise<void>((resolve) => {
      const socket = openClient(url, { pingIntervalMs: 150, pongTimeoutMs: 2_000, connectTimeoutMs: 2000, suspectMinMs: 50 }, {
        onSuspect: () => events.push('suspect'),
        onLost: (detail) => events.push(`lost:${detail.code}`),
      });
      const wait = setInterval(() => {
        if (pings >= 6) {
          clearInterval(wait);
          socket.close();
          resolve();
        }
      }, 20);
    });
    expect(events).toEqual([]);
  });
});

describe('a late pong clears the suspicion', () => {
  it('reports onSuspectCleared when the overdue channel answers before its pong timeout', async () => {
    let pings = 0;
    const events: string[] = [];
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    // Prompt pongs at first (the round trip is learnt), then one pong 300 ms late: past the 50 ms
    // suspect deadline, well within the 2 s pong timeout.
    server.on('connection', (ws) => ws.on('ping', (data) => (++pings === 4 ? setTimeout(() => ws.pong(data), 300) : ws.pong(data))));
    await new Promise((resolve) => server!.once('listening', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => {
      const socket = openClient(url, { pingIntervalMs: 400, pongTimeoutMs: 2_000, connectTimeoutMs: 2000, suspectMinMs: 50 }, {
        onSuspect: () => events.push('suspect'),
        onSuspectCleared: () => {
          events.push('cleared');
          socket.close();
          resolve();
        },
        onLost: (detail) => {
          events.push(`lost:${detail.code}`);
          resolve();
        },
      });
    });
    expect(events).toEqual(['suspect', 'cleared']);
  });
});

describe('RoundTripEstimator (RFC 6298 smoothing)', () => {
  it('waits a whole ping interval before any sample, then srtt + 4 rttvar within [floor, ceiling]', () => {
    const rtt = new RoundTripEstimator();
    expect(rtt.suspectAfterMs(250, 1000)).toBe(1000);
    rtt.sample(2);
    expect(rtt.suspectAfterMs(250, 1000)).toBe(250); // 2 + 4 * 1 = 6 ms, raised to the floor
    const remote = new RoundTripEstimator();
    remote.sample(200);
    expect(remote.suspectAfterMs(250, 1000)).toBe(600); // 200 + 4 * 100
    for (let i = 0; i < 50; i++) remote.sample(200);
    expect(remote.suspectAfterMs(250, 1000)).toBeLessThan(260); // steady: the variation decays
    remote.sample(900);
    expect(remote.suspectAfterMs(250, 1000)).toBeGreaterThan(900); // one slow pong widens the margin at once
    const before = remote.suspectAfterMs(250, 1000);
    remote.sample(Number.NaN);
    remote.sample(-5);
    expect(remote.suspectAfterMs(250, 1000)).toBe(before); // nonsense samples are ignored
  });
});
