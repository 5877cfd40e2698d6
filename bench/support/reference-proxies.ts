// Reference proxies written in C, for the playback benches: what *any* proxy costs on this machine,
// measured in the same run as Marquee's byte proxy. socat copies with read/write like a user-space
// proxy must; HAProxy in TCP mode with `option splice-auto` moves bytes with the kernel's splice(2)
// (no copy through user space), the cheapest hop Linux offers. Both are Debian packages and only
// used when installed (`apt-get install socat haproxy`); the bench says so when they are not.
// They forward raw TCP to the simulator's route on loopback only, and close() stops them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ReferenceProxy {
  /** Short label for the bench rows. */
  name: 'socat' | 'haproxy';
  /** What it is, for the notes. */
  what: string;
  /** Base URL on 127.0.0.1 that forwards to the target. */
  url: string;
  /** Its process (socat's forked per-connection children are counted by bench/support/cpu-cost.ts). */
  pid: number;
}

export interface ReferenceProxies {
  running: ReferenceProxy[];
  /** Words for each one not installed. */
  missing: string[];
  close(): Promise<void>;
}

function installed(command: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts connections on 127.0.0.1:port (bounded: 50 tries, 5 s). */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) throw new Error(`reference proxy exited with ${child.exitCode}`);
    // Connecting, not binding: a test bind could take the port from the proxy while it starts.
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`reference proxy did not listen on ${port} within 5 s`);
}

/** Starts socat and HAProxy (those installed) forwarding 127.0.0.1:<port> → target. */
export async function startReferenceProxies(target: { host: string; port: number }): Promise<ReferenceProxies> {
  if (!/^127\.\d+\.\d+\.\d+$/.test(target.host)) throw new Error('reference proxies forward to loopback only');
  const children: ChildProcess[] = [];
  const running: ReferenceProxy[] = [];
  const missing: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'marquee-bench-refproxy-'));
  const stopAll = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const socat = installed('socat');
    if (socat) {
      const port = await freePort();
      const child = spawn(socat, ['-b', '262144', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `TCP:${target.host}:${target.port}`], { stdio: 'ignore' });
      children.push(child);
      await listening(port, child);
      running.push({ name: 'socat', what: 'socat: C, read/write through user space, 256 KiB buffer', url: `http://127.0.0.1:${port}/`, pid: child.pid! });
    } else missing.push('socat not installed');

    const haproxy = installed('haproxy');
    if (haproxy) {
      const port = await freePort();
      const config = path.join(dir, 'haproxy.cfg');
      writeFileSync(
        config,
        [
          'global',
          '  maxconn 200',
          'defaults',
          '  mode tcp',
          '  timeout connect 5s',
          '  timeout client 60s',
          '  timeout server 60s',
          '  option splice-auto',
          'frontend bench',
          `  bind 127.0.0.1:${port}`,
          '  default_backend sim',
          'backend sim',
          `  server sim ${target.host}:${target.port}`,
          '',
        ].join('\n'),
      );
      const child = spawn(haproxy, ['-db', '-f', config], { stdio: 'ignore' });
      children.push(child);
      await listening(port, child);
      running.push({ name: 'haproxy', what: 'HAProxy: C, TCP mode, kernel splice', url: `http://127.0.0.1:${port}/`, pid: child.pid! });
    } else missing.push('haproxy not installed');
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { running, missing, close: stopAll };
}
