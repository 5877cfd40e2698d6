// The latency proxy at the socket level: added delay, order under runtime changes, blackhole,
// and clean shutdown. Loopback only, random ports; no namespace needed (no packet rules involved).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../support/net/latency-proxy.js';
import { tcpConnect } from '../support/net/sockets.js';
import { sleep } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function echoServer(): Promise<{ port: number; received: () => string }> {
  let received = '';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, received: () => received };
}

async function proxyTo(port: number, latencyMs: number): Promise<LatencyProxy> {
  const proxy = await startLatencyProxy({ listenHost: '127.0.0.4', targetHost: '127.0.0.2', targetPort: port, latencyMs });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function connect(port: number, host = '127.0.0.4'): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  cleanups.push(() => void socket.destroy());
  return socket;
}

/** Collects what arrives on `socket` until `expected` bytes arrived or `timeoutMs` passed. */
function readUntil(socket: net.Socket, expected: number, timeoutMs: number): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ text, ms: performance.now() - started });
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.length >= expected) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', onData);
  });
}

describe('latency proxy', () => {
  it('adds at least the configured one-way latency in each direction', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port, 150);
    const socket = await connect(proxy.port);
    socket.write('ping');
    const answer = await readUntil(socket, 4, 3_000);
    expect(answer.text).toBe('ping');
    expect(answer.ms).toBeGreaterThanOrEqual(2 * 150 - 5); // timer granularity
    expect(proxy.connectionCount()).toBe(1);
  });

  it('keeps order when the latency is lowered mid-stream', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port, 300);
    const socket = await connect(proxy.port);
    const parts = Array.from({ length: 20 }, (_, i) => `<${String(i).padStart(2, '0')}>`);
    const arrived = readUntil(socket, parts.join('').length, 5_000);
    for (const [i, part] of parts.entries()) {
      if (i === 10) proxy.setLatency(0);
      socket.write(part);
      await sleep(10);
    }
    expect((await arrived).text).toBe(parts.join(''));
  });

  it('blackhole swallows data on an open connection; setLatency resumes forwarding', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port, 0);
    const socket = await connect(proxy.port);
    proxy.blackhole();
    socket.write('lost');
    const silent = await readUntil(socket, 1, 600);
    expect(silent.text).toBe('');
    expect(echo.received()).toBe('');
    expect(socket.destroyed).toBe(false);
    proxy.setLatency(0);
    socket.write('back');
    expect((await readUntil(socket, 4, 2_000)).text).toBe('back');
  });

  it('close ends every connection and stops listening', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port, 0);
    const socket = await connect(proxy.port);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await proxy.close();
    await closed;
    expect(proxy.connectionCount()).toBe(0);
    expect(await tcpConnect('127.0.0.4', proxy.port, 1_000)).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
  });

  it('refuses addresses outside 127.0.0.0/8', async () => {
    await expect(startLatencyProxy({ listenHost: '0.0.0.0', targetHost: '127.0.0.2', targetPort: 1 })).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(startLatencyProxy({ listenHost: '127.0.0.4', targetHost: '192.168.1.1', targetPort: 1 })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });
});
