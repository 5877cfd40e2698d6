// Starts the real Marquee app as a child process on a free port with a given data dir, waits for
// its "Marquee is listening on" log line, and stops it (SIGTERM, bounded) or kills it (SIGKILL of the
// whole process group). Independent of process-harness.ts on purpose: the crash suite needs only
// this, plus an optional command prefix (e.g. `nsenter -t PID -m --`) to run the app inside a
// private mount namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `marquee` command exactly as a user runs it. */
export const MARQUEE_BIN = join(REPO_ROOT, 'bin', 'marquee.mjs');

/** `--import <this>` makes node run TypeScript through tsx (resolved from the repo, any cwd). */
export function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

export interface AppProcessOptions {
  dataDir: string;
  /**
   * The program node runs. Default: bin/marquee.mjs with `serve`. A `.ts` script is run through
   * tsx and gets the same flags (--port 0 --data-dir DIR).
   */
  script?: string;
  /** Extra environment (MARQUEE_* and LOG_LEVEL of the test process are never inherited). */
  env?: Record<string, string>;
  /** Command prefix, e.g. ['nsenter', '-t', '1234', '-m', '--']. */
  prefix?: string[];
  /** Shown in error messages. */
  name?: string;
  /** Bound on the wait for the listening line (default 30 s). */
  startTimeoutMs?: number;
  /** Give the child a stdin pipe (see send()); otherwise stdin is /dev/null. */
  stdinPipe?: boolean;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The child environment: this process's, minus any Marquee setting that would leak in. */
export function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('MARQUEE_') || key === 'LOG_LEVEL') delete env[key];
  }
  return { ...env, ...extra };
}

export class AppProcess {
  /** e.g. http://127.0.0.1:41234/ — set once the listening line was seen. */
  url = '';
  stdout = '';
  stderr = '';
  readonly exited: Promise<AppExit>;
  private exit: AppExit | null = null;
  private readonly proc: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(readonly options: AppProcessOptions) {
    const script = options.script ?? MARQUEE_BIN;
    const args = [
      ...(script.endsWith('.ts') ? ['--import', tsxLoaderUrl(), script] : [script, 'serve']),
      '--port',
      '0',
      '--data-dir',
      options.dataDir,
    ];
    const prefix = options.prefix ?? [];
    const [command, ...rest] = prefix.length > 0 ? [...prefix, process.execPath, ...args] : [process.execPath, ...args];
    // Own process group: a kill reaches every process the app may have started.
    this.proc = spawn(command!, rest, { cwd: REPO_ROOT, env: appEnv(options.env), stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    this.proc.stdin?.on('error', () => undefined); // the child may be gone already
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise<AppExit>((resolveExit) => {
      this.proc.on('error', (err) => {
        this.stderr += `\n[spawn error] ${err.message}\n`;
      });
      this.proc.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolveExit(this.exit);
      });
    });
  }

  get name(): string {
    return this.options.name ?? 'marquee';
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the URL from the "Marquee is listening on" line; rejects on exit or timeout. */
  waitListening(timeoutMs: number): Promise<string> {
    return new Promise<string>((resolveUrl, reject) => {
      const check = (): void => {
        for (const line of this.stdout.split('\n')) {
          const url = listeningUrl(line);
          if (url) {
            done();
            this.url = url;
            resolveUrl(url);
            return;
          }
        }
        if (this.exit) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before listening.\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: not listening within ${timeoutMs} ms.\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Writes a line to the child's stdin (needs `stdinPipe`). */
  send(line: string): void {
    if (!this.proc.stdin) throw new Error(`${this.name}: started without a stdin pipe`);
    this.proc.stdin.write(`${line}\n`);
  }

  /** SIGKILL to the whole process group (no shutdown code runs); waits (bounded) for the exit. */
  async kill9(): Promise<AppExit | null> {
    if (this.exit) return this.exit;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.proc.kill('SIGKILL');
    }
    return Promise.race([this.exited, new Promise<null>((r) => setTimeout(() => r(null), 5000).unref())]);
  }

  /** Graceful stop (SIGTERM: the app flushes and closes the database); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<AppExit> {
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const exit = await Promise.race([this.exited, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref())]);
    if (exit) return exit;
    await this.kill9();
    throw new Error(`${this.name} did not stop within ${timeoutMs} ms of SIGTERM.\n${this.tail()}`);
  }

  /** GET/POST/… relative to the app URL, JSON in and out, bounded. */
  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
    const res = await fetch(new URL(path, this.url), {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  tail(chars = 3000): string {
    return `--- ${this.name} stdout (tail) ---\n${this.stdout.slice(-chars)}\n--- stderr (tail) ---\n${this.stderr.slice(-chars)}`;
  }
}

function listeningUrl(line: string): string | undefined {
  if (!line.includes('Marquee is listening on')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return typeof entry.msg === 'string' && entry.msg.startsWith('Marquee is listening on') ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the app and waits for it to listen; kills it if it never does. */
export async function startApp(options: AppProcessOptions, track?: (app: AppProcess) => void): Promise<AppProcess> {
  const app = new AppProcess(options);
  track?.(app);
  try {
    await app.waitListening(options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await app.kill9();
    throw error;
  }
  return app;
}
