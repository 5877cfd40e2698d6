// Starts the real Marquee app as a child process on a free port with a given data dir, waits for
// its "Marquee is listening on" log line, and stops it (SIGTERM, bounded) or kills it (SIGKILL of the
// whole process group). Built on process-harness.ts's ChildProc; adds an optional command prefix
// (e.g. `nsenter -t PID -m --`) to run the app inside a private mount namespace.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { ChildProc, type Cleanup, type Exit, type SimLine } from './process-harness.js';

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

export type AppExit = Exit;

/** The child environment: this process's, minus any Marquee setting that would leak in. */
export function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('MARQUEE_') || key === 'LOG_LEVEL') delete env[key];
  }
  return { ...env, ...extra };
}

/** The app as a child process (see ChildProc: own process group, output captured, bounded waits). */
export class AppProcess extends ChildProc {
  /** e.g. http://127.0.0.1:41234/ — set once the listening line was seen. */
  url = '';

  constructor(appOptions: AppProcessOptions) {
    const script = appOptions.script ?? MARQUEE_BIN;
    const args = [
      ...(script.endsWith('.ts') ? ['--import', tsxLoaderUrl(), script] : [script, 'serve']),
      '--port',
      '0',
      '--data-dir',
      appOptions.dataDir,
    ];
    const prefix = appOptions.prefix ?? [];
    const [command, ...rest] = [...prefix, process.execPath, ...args];
    super(command!, rest, { cwd: REPO_ROOT, env: appEnv(appOptions.env), name: appOptions.name ?? 'marquee', stdinPipe: appOptions.stdinPipe ?? false });
  }

  get name(): string {
    return this.options.name;
  }

  /** Resolves with the URL from the "Marquee is listening on" line; rejects on exit or timeout. */
  async waitListening(timeoutMs: number): Promise<string> {
    this.url = await this.waitForLine(listeningUrl, timeoutMs);
    return this.url;
  }

  /** SIGKILL to the whole process group (no shutdown code runs); waits (bounded) for the exit. */
  async kill9(): Promise<Exit | null> {
    await this.kill();
    return this.exit;
  }

  /** Graceful stop (SIGTERM: the app flushes and closes the database); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.signal('SIGTERM');
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

/** The simulator CLI as a child process on `config` (written to DIR/sim.json); resolves with its start line. */
export async function startSimulator(cleanup: Cleanup, dir: string, config: unknown): Promise<{ proc: ChildProc; line: SimLine }> {
  const path = join(dir, 'sim.json');
  writeFileSync(path, JSON.stringify(config));
  const proc = cleanup.track(new ChildProc('npx', ['tsx', 'sim/cli.ts', '--config', path], { cwd: REPO_ROOT, name: 'simulator CLI', env: appEnv() }));
  const line = await proc.waitForLine((text) => {
    try {
      const parsed = JSON.parse(text) as SimLine;
      return parsed.control ? parsed : undefined;
    } catch {
      return undefined;
    }
  }, 30_000);
  return { proc, line };
}
