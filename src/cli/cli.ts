// The `marquee` command, as a function (main.ts only calls it) so tests can drive it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type AppConfig } from '../server/config.js';
import { createLogger, type Logger } from '../server/logger.js';
import { createMetrics } from '../server/metrics.js';
import { StoreOpenError } from '../store/errors.js';
import { limitHeapGrowth } from './heap.js';
import type { Runtime } from './runtime.js';
import { fetchSources, formatStatusTable, jsonForTerminal, StatusError, terminalSafe } from './status.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Called once serve/demo listens (tests and embedding). */
  onListening?(url: string): void;
}

const USAGE = `Usage: marquee [command] [options]

Commands:
  serve    Run the Marquee server (default)
  demo     Run with the bundled simulators and their servers already added
  status   Print each source's status from a running server
  help     Show this help

serve / demo options (or environment):
  --port N          MARQUEE_PORT       default 8844
  --host ADDR       MARQUEE_HOST       default 127.0.0.1 (other addresses need an API key)
  --data-dir DIR    MARQUEE_DATA_DIR   default ./data
  --base-url PATH   MARQUEE_BASE_URL   reverse-proxy sub-path, e.g. /marquee
  --log-level LVL   LOG_LEVEL          fatal|error|warn|info|debug|trace|silent
  --settings FILE   MARQUEE_SETTINGS_FILE  JSON monitoring settings (see docs/SETTINGS.md)
                    MARQUEE_API_KEY / MARQUEE_API_KEY_FILE, MARQUEE_PLEX_TV_URL

status options:
  --url URL         server URL (default from MARQUEE_URL, or host/port/base-url settings)
  --api-key KEY     API key (default MARQUEE_API_KEY / MARQUEE_API_KEY_FILE)
  --json            print JSON instead of a table
`;

type Env = Record<string, string | undefined>;

/** The URL `marquee status` talks to when --url is not given. */
export function defaultServerUrl(env: Env): string {
  if (env.MARQUEE_URL) return env.MARQUEE_URL;
  let host = env.MARQUEE_HOST ?? '127.0.0.1';
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  if (host.includes(':')) host = `[${host}]`;
  let base = env.MARQUEE_BASE_URL ?? '/';
  if (/^https?:\/\//i.test(base)) return base.endsWith('/') ? base : `${base}/`;
  if (!base.startsWith('/')) base = `/${base}`;
  if (!base.endsWith('/')) base = `${base}/`;
  return `http://${host}:${env.MARQUEE_PORT ?? '8844'}${base}`;
}

function apiKeyFromEnv(env: Env): string | undefined {
  if (env.MARQUEE_API_KEY) return env.MARQUEE_API_KEY.trim();
  if (env.MARQUEE_API_KEY_FILE) {
    try {
      return readFileSync(env.MARQUEE_API_KEY_FILE, 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export async function runStatus(args: string[], env: Env, io: CliIo): Promise<number> {
  let values: { json?: boolean; url?: string; 'api-key'?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, url: { type: 'string' }, 'api-key': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr(`marquee status: ${(err as Error).message}\n`);
    return 64;
  }
  try {
    const sources = await fetchSources({ url: values.url ?? defaultServerUrl(env), apiKey: values['api-key'] ?? apiKeyFromEnv(env) });
    io.stdout(values.json ? `${jsonForTerminal(sources)}\n` : formatStatusTable(sources));
    return 0;
  } catch (err) {
    if (err instanceof StatusError) {
      io.stderr(`marquee status: ${terminalSafe(err.message)}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

/** Runs serve/demo until a signal; resolves with the exit code. */
export async function runServe(args: string[], env: Env, io: CliIo, demo: boolean): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig(args, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`marquee: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    throw err;
  }
  const logger: Logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  limitHeapGrowth();
  // Imported lazily so `marquee status` never loads the engine, the database or the simulators.
  const { startRuntime } = await import('./runtime.js');
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config, { demo, metrics, logger });
  } catch (err) {
    // A data dir already in use, unreadable, too new…: the message is meant for people, say it plainly.
    if (err instanceof StoreOpenError) {
      io.stderr(`marquee: ${err.message}\n`);
      logger.fatal({ err }, err.message);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    logger.fatal({ err }, code === 'EADDRINUSE' ? `port ${config.port} is already in use` : 'could not start Marquee');
    return 1;
  }
  const url = runtime.url ?? '';
  logger.info({ url, dataDir: runtime.dataDir, auth: config.apiKey ? 'api-key' : 'loopback-only', demo }, `Marquee is listening on ${url}`);

  io.onListening?.(url);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting now`);
        process.exit(130);
      }
      stopping = true;
      logger.info(`${signal}: shutting down (send it again to force)`);
      const force = setTimeout(() => {
        logger.error('shutdown took more than 10 s; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      void (async () => {
        let code = 0;
        try {
          // HTTP first, then the engine, then the database.
          await runtime.close();
        } catch (err) {
          logger.error({ err }, 'error while stopping');
          code = 1;
        }
        clearTimeout(force);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        logger.info('stopped');
        resolve(code);
      })();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runCli(argv: string[], env: Env, io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  switch (command) {
    case 'serve':
      if (args.includes('--help') || args.includes('-h')) break;
      return runServe(args, env, io, false);
    case 'demo':
      if (args.includes('--help') || args.includes('-h')) break;
      return runServe(args, env, io, true);
    case 'status':
      return runStatus(args, env, io);
    case 'help':
      break;
    default:
      io.stderr(`marquee: unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
  io.stdout(USAGE);
  return 0;
}
