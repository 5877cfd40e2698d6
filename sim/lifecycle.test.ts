import http from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSimulation } from './index.js';
import { smallConfig } from './test-fixtures.js';

const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe('close()', () => {
  it('releases every listener, socket and timer, even with hung requests, open sockets and a flapping route', async () => {
    const before = { servers: count('TCPServerWrap'), sockets: count('TCPSocketWrap'), timers: count('Timeout') };
    const sim = await createSimulation(smallConfig());
    expect(count('TCPServerWrap')).toBeGreaterThan(before.servers);

    const jf = sim.servers[2]!.routes[0]!.url;
    const ws = new WebSocket(`${jf.replace('http', 'ws')}/socket?ApiKey=${sim.jellyfin('jf').issueToken()}`);
    const wsClosed = new Promise((resolve) => ws.on('close', resolve));
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    await sim.route('plex-a-local').fault({ mode: 'hang' });
    const hung = new Promise<string>((resolve) => http.get(`${sim.servers[0]!.routes[0]!.url}/identity`, () => resolve('answered')).on('error', (e) => resolve(e.message)));
    await sim.route('plex-a-remote').fault({ mode: 'flap', periodMs: 50 });
    await sim.route('plex-a-relay').fault({ mode: 'slow', delayMs: 60_000 });
    const slow = fetch(`${sim.servers[0]!.routes[2]!.url}/identity`).catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 100));

    await sim.close();
    expect(await hung).not.toBe('answered');
    await wsClosed;
    await slow;
    await new Promise((r) => setTimeout(r, 50));
    expect(count('TCPServerWrap')).toBe(before.servers);
    expect(count('TCPSocketWrap')).toBeLessThanOrEqual(before.sockets);
    expect(count('Timeout')).toBeLessThanOrEqual(before.timers);
    await sim.close(); // idempotent
  });
});
