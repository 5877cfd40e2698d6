// Helpers for tests that run Marquee and the simulators as real child processes: spawn in their
// own process group (so `npx` → tsx → node chains die together), capture every byte they print,
// wait for a line with a bound, stop with a signal and report the exit code, and read an SSE stream
// over real HTTP. Everything recorded here can later be scanned for secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every child and temp dir a test file made, so afterAll can clean up even after a failure. */
export class Cleanup {
  private readonly children = new Set<ChildProc>();
  private readonly dirs = new Set<string>();
  private readonly closers = new Set<() => void>();

  track(child: ChildProc): ChildProc {
    this.children.add(child);
    return child;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  onClose(fn: () => void): void {
    this.closers.add(fn);
  }

  /** SIGKILLs every child's process group still alive, runs closers, removes temp dirs. */
  async run(): Promise<void> {
    for (const fn of this.closers) {
      try {
        fn();
      } catch {
        // best effort: cleanup must reach the children and dirs below
      }
    }
    this.closers.clear();
    await Promise.all([...this.children].map((c) => c.kill()));
    this.children.clear();
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.dirs.clear();
  }
}

export interface SpawnOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Shown in error messages. */
  name: string;
  /** Give the child a stdin pipe (see send()); otherwise stdin is /dev/null. */
  stdinPipe?: boolean;
}

/** A child process in its own process group with its output captured. */
export class ChildProc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  protected exit: Exit | null = null;
  protected readonly proc: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(command: string, args: string[], readonly options: SpawnOptions) {
    this.proc = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.proc.stdin?.on('error', () => undefined); // the child may be gone already
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.proc.on('error', (err) => {
        this.stderr += `\n[spawn error] ${err.message}\n`;
      });
      // 'close' (not 'exit'): all output has been read by then.
      this.proc.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exit !== null;
  }

  /** Both streams, for error messages and secret scans. */
  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves with the first stdout line (in order) for which `pick` returns a value. Rejects when the
   * process exits first or after `timeoutMs`, with the captured output in the message.
   */
  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number, from = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const lines = this.stdout.slice(from).split('\n');
        lines.pop(); // an unterminated last line may still grow
        for (const line of lines) {
          const value = pick(line);
          if (value !== undefined) {
            done();
            resolve(value);
            return true;
          }
        }
        if (this.exit) {
          done();
          reject(new Error(`${this.options.name} exited (${JSON.stringify(this.exit)}) before the expected line.\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.options.name}: no expected line within ${timeoutMs} ms.\n${this.tail()}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /** Waits for the exit, with a bound. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.options.name} did not exit within ${timeoutMs} ms.\n${this.tail()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes a line to the child's stdin (needs `stdinPipe`). */
  send(line: string): void {
    if (!this.proc.stdin) throw new Error(`${this.options.name}: started without a stdin pipe`);
    this.proc.stdin.write(`${line}\n`);
  }

  /** Sends `signal` to the main process only (its own shutdown must stop its children). */
  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.proc.kill(signal);
  }

  /** SIGKILLs the whole process group and waits (bounded) for the exit. */
  async kill(): Promise<void> {
    if (this.exit) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.proc.kill('SIGKILL');
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  tail(chars = 4000): string {
    const out = this.stdout.slice(-chars);
    const err = this.stderr.slice(-chars);
    return `--- stdout (tail) ---\n${out}\n--- stderr (tail) ---\n${err}`;
  }
}

/** Runs a short-lived command to completion (bounded) and returns its output and exit code. */
export async function runToExit(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number },
  cleanup: Cleanup,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cleanup.track(new ChildProc(command, args, options));
  try {
    const exit = await child.waitForExit(options.timeoutMs);
    return { code: exit.code, stdout: child.stdout, stderr: child.stderr };
  } finally {
    await child.kill();
  }
}

export interface SseMessage {
  event: string;
  id: string | null;
  data: string;
}

/**
 * A Server-Sent Events reader over fetch. Keeps the raw text (for secret scans) and the parsed
 * messages; `waitFor` bounds every wait.
 */
export class SseReader {
  raw = '';
  readonly messages: SseMessage[] = [];
  /** Set when the stream ends (server closed it) or fails. */
  ended = false;
  endError: unknown = null;
  status = 0;
  private readonly controller = new AbortController();
  private readonly waiters = new Set<() => void>();
  private buffer = '';

  private constructor() {}

  static async open(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<SseReader> {
    const reader = new SseReader();
    const timer = setTimeout(() => reader.controller.abort(), timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: reader.controller.signal });
    } finally {
      clearTimeout(timer);
    }
    reader.status = res.status;
    if (!res.ok || !res.body) {
      reader.raw = await res.text().catch(() => '');
      reader.ended = true;
      return reader;
    }
    void reader.pump(res.body);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        this.raw += text;
        this.buffer += text;
        this.parse();
        this.notify();
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.endError = err;
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private parse(): void {
    let cut: number;
    while ((cut = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      let event = 'message';
      let id: string | null = null;
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields++;
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (fields > 0 && data.length > 0) this.messages.push({ event, id, data: data.join('\n') });
    }
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first message (from index `from`) matching `match`; rejects on timeout or end. */
  waitFor(match: (m: SseMessage, index: number) => boolean, timeoutMs: number, from = 0, what = 'an SSE message'): Promise<SseMessage> {
    return new Promise<SseMessage>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = (): void => {
        if (done) return;
        for (let i = from; i < this.messages.length; i++) {
          if (match(this.messages[i]!, i)) {
            finish();
            resolve(this.messages[i]!);
            return;
          }
        }
        if (this.ended) {
          finish();
          reject(new Error(`SSE stream ended before ${what}. Received:\n${this.summary()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs} ms. Received:\n${this.summary()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves when the server ends the stream (bounded). */
  waitForEnd(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!this.ended) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`SSE stream still open after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  summary(): string {
    return this.messages.map((m) => `${m.event}#${m.id ?? '-'} ${m.data.slice(0, 160)}`).join('\n');
  }

  close(): void {
    this.controller.abort();
  }
}

export interface RecordedResponse {
  status: number;
  text: string;
  headers: Record<string, string>;
  json<T = unknown>(): T;
}

/**
 * A small HTTP client for one Marquee base URL that records every response (status, headers and
 * body) so a test can scan all of them for secrets afterwards.
 */
export class RecordingClient {
  readonly responses: { method: string; path: string; status: number; text: string; headers: string }[] = [];

  constructor(public baseUrl: string, private readonly defaultHeaders: Record<string, string> = {}) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<RecordedResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.defaultHeaders, ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(path.replace(/^\//, ''), this.baseUrl), {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    const headerObject = Object.fromEntries(res.headers.entries());
    this.responses.push({ method, path, status: res.status, text, headers: JSON.stringify(headerObject) });
    return {
      status: res.status,
      text,
      headers: headerObject,
      json<T>() {
        return JSON.parse(text) as T;
      },
    };
  }

  get(path: string, headers?: Record<string, string>): Promise<RecordedResponse> {
    return this.request('GET', path, headers ? { headers } : {});
  }

  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<RecordedResponse> {
    return this.request('POST', path, { body, ...(headers ? { headers } : {}) });
  }

  /** Every recorded status line, header set and body, as one text. */
  allText(): string {
    return this.responses.map((r) => `${r.method} ${r.path} ${r.status}\n${r.headers}\n${r.text}`).join('\n');
  }
}

/** The simulator CLI's start line: its control API, plex.tv and servers with their routes. */
export interface SimLine {
  control: string;
  plexTv: string;
  servers: { id: string; kind: string; name: string; machineId: string; routes: { id: string; url: string; kind: string }[] }[];
}

/** Calls the simulator's control API; fails the test on anything but 200. */
export async function simControl<T = unknown>(line: SimLine, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${line.control}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  expect(res.status, `sim control ${method} ${path}: ${text}`).toBe(200);
  return JSON.parse(text) as T;
}
