// Run a scenario file inside a fresh private network namespace (`unshare --net`), where only
// loopback exists: packet-level faults (nftables) applied there can never touch the host's
// networks, and everything the namespace holds disappears with its last process.
//
// The scenario is a TypeScript module run with the tsx loader. It reads its JSON arguments with
// `scenarioArgs()` and reports exactly one JSON result with `reportResult()` (or uses `runScenario`,
// which does both). The parent collects that line from stdout, enforces an overall timeout by
// killing the whole process group, and returns stderr in the error when anything fails.
//
// When the namespace cannot be made (not root, no unshare, a sandbox that forbids it) this throws
// "network namespace unavailable: …" so the suite fails loudly instead of silently passing.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Prefix of the one stdout line that carries the scenario's result (other output may be logs). */
export const RESULT_MARKER = '@@marquee-netns-result@@ ';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export class NetnsUnavailableError extends Error {
  constructor(detail: string) {
    super(`network namespace unavailable: ${detail}`);
    this.name = 'NetnsUnavailableError';
  }
}

export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`${message}\n--- scenario stderr ---\n${tail(stderr, 8000)}`);
    this.name = 'ScenarioError';
  }
}

export interface RunInNetnsOptions {
  /** Overall limit; the process group is killed when it passes. Default 20 s. */
  timeoutMs?: number;
  /** Extra environment for the scenario process. */
  env?: Record<string, string>;
  /** Override of the unshare binary (tests use it to prove the unavailable path). */
  unshareBinary?: string;
}

function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

const checked = new Map<string, true>();

/** Process groups still running; killed if this process exits first (e.g. the test runner aborts). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of liveGroups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Proves a private namespace can be made here (cached per unshare binary). Throws
 * NetnsUnavailableError with the reason otherwise.
 */
export function assertNetnsAvailable(unshareBinary = 'unshare'): void {
  if (checked.has(unshareBinary)) return;
  if (process.platform !== 'linux') throw new NetnsUnavailableError(`needs Linux, this is ${process.platform}`);
  const probe = spawnSync(unshareBinary, ['--net', '--', 'sh', '-c', 'ip link set lo up && cat /proc/self/net/dev'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    throw new NetnsUnavailableError(
      code === 'ENOENT' ? `'${unshareBinary}' not found (install util-linux)` : `${unshareBinary}: ${probe.error.message}`,
    );
  }
  if (probe.status !== 0) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    throw new NetnsUnavailableError(
      `'${unshareBinary} --net' failed (exit ${probe.status}${uid !== 0 ? `, running as uid ${uid}, root is required` : ''}): ${probe.stderr.trim()}`,
    );
  }
  const interfaces = interfacesFromNetDev(probe.stdout);
  if (interfaces.length !== 1 || interfaces[0] !== 'lo') {
    throw new NetnsUnavailableError(`the new namespace is not private (interfaces: ${interfaces.join(', ')})`);
  }
  checked.set(unshareBinary, true);
}

/** Interface names from the text of /proc/net/dev. */
export function interfacesFromNetDev(text: string): string[] {
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name.length > 0);
}

/**
 * Runs `scenarioFile` in a fresh private network namespace and returns its JSON result.
 * `args` is passed as one JSON argument.
 */
export async function runInNetns<T = unknown>(scenarioFile: string, args: unknown = {}, options: RunInNetnsOptions = {}): Promise<T> {
  const unshareBinary = options.unshareBinary ?? 'unshare';
  assertNetnsAvailable(unshareBinary);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  const file = path.resolve(scenarioFile);

  // `sh` brings loopback up, then execs node so the scenario is the namespace's only process tree.
  const child = spawn(
    unshareBinary,
    ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', tsxLoader, file, JSON.stringify(args)],
    {
      cwd: repoRoot,
      detached: true, // own process group, so a timeout kills everything the scenario started
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, MARQUEE_NETNS: '1' },
    },
  );

  if (child.pid !== undefined) trackGroup(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = tail(stderr + chunk, 64_000);
  });

  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; spawnError?: Error }>(
    (resolve) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      child.once('error', (spawnError) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, timedOut, spawnError });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, timedOut });
      });
    },
  );
  // Whatever happened, leave nothing behind (the scenario may have forked helpers).
  killGroup();
  if (child.pid !== undefined) liveGroups.delete(child.pid);

  const name = path.relative(repoRoot, file);
  if (exit.spawnError) throw new NetnsUnavailableError(`${unshareBinary}: ${exit.spawnError.message}`);
  if (exit.timedOut) throw new ScenarioError(`scenario ${name} timed out after ${timeoutMs} ms`, stderr, stdout);
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (exit.code !== 0 || line === undefined) {
    throw new ScenarioError(
      `scenario ${name} failed (exit ${exit.code ?? exit.signal}${line === undefined ? ', no result line' : ''})`,
      stderr,
      stdout,
    );
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

// ---- Scenario side ----------------------------------------------------------------------------

/** The JSON arguments given to runInNetns (scenario side). */
export function scenarioArgs<A = Record<string, unknown>>(): A {
  const raw = process.argv[2];
  return (raw === undefined ? {} : JSON.parse(raw)) as A;
}

/** Writes the result line (scenario side). */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

/**
 * Scenario entry point: refuses to run outside a private namespace, runs `main` with the args,
 * reports its result and exits (so a forgotten handle can never hang the run). Errors go to stderr
 * and exit 1; cleanup handlers registered with process.on('exit') still run.
 */
export function runScenario<A, R>(main: (args: A) => Promise<R>): void {
  if (process.env.MARQUEE_NETNS !== '1') {
    process.stderr.write('scenario must be started through runInNetns (private network namespace)\n');
    process.exit(2);
  }
  main(scenarioArgs<A>()).then(
    (result) => {
      reportResult(result);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
