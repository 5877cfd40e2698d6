// Boot configuration: flags and environment, validated once with zod. Everything after boot reads
// the frozen AppConfig, never process.env.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { weakKeyReason } from './api-key-strength.js';
import { LibrarySettingsSchema, MonitorSettingsSchema, NotificationSettingsSchema, PushSettingsSchema, type LibrarySettings, type MonitorSettings, type NotificationSettings, type PushSettings } from '../core/settings.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  port: number;
  host: string;
  /** Absolute path of the data directory (database, logs). */
  dataDir: string;
  /** null: no key (allowed only on a loopback host). */
  apiKey: string | null;
  /** Reverse-proxy sub-path, always with leading and trailing slash: "/" or "/marquee/". */
  basePath: string;
  /** Origin of MARQUEE_BASE_URL when it was given as a full URL (accepted as a same origin), else null. */
  publicOrigin: string | null;
  plexTvUrl: string;
  logLevel: LogLevel;
  /** SSE heartbeat (comment line) interval. */
  sseHeartbeatMs: number;
  /** Open event streams at most, in total and per client address (a browser tab holds one). */
  sseMaxStreams: number;
  sseMaxStreamsPerAddress: number;
  /** Folder of the built web UI (index.html + assets). */
  webDir: string;
  /** Monitoring cadences, timeouts and backoff (defaults, or the settings file's `monitor`). */
  monitor: MonitorSettings;
  /** Push channels (defaults, or the settings file's `push`). */
  push: PushSettings;
  /** Notifications: hold-down, fallback minutes, rate limit, delivery (defaults, or the settings file's `notifications`). */
  notifications: NotificationSettings;
  /** Library cache, home, search and image proxy (defaults, or the settings file's `library`). */
  library: LibrarySettings;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_PORT = 8844;
/** The folder with package.json: two levels above src/server, three above its build in dist/node/src/server. */
const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}

/** Loopback: localhost, 127.0.0.0/8, ::1. 0.0.0.0 and :: listen everywhere, so they are not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

const FLAG_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'base-url': { type: 'string' },
  'log-level': { type: 'string' },
  settings: { type: 'string' },
} as const;

/**
 * The optional settings file (--settings / MARQUEE_SETTINGS_FILE), JSON:
 * `{ "monitor": { "baseTickMs": 10000, "backoff": { "recentCapMs": 4500 } }, "push": { "pingIntervalMs": 1000 } }`.
 * Every key is optional; a misspelt one is an error, not silently ignored.
 */
export const SettingsFileSchema = z
  .object({
    monitor: MonitorSettingsSchema.prefault({}),
    push: PushSettingsSchema.prefault({}),
    notifications: NotificationSettingsSchema.prefault({}),
    library: LibrarySettingsSchema.prefault({}),
  })
  .strict();

const MAX_SETTINGS_FILE_BYTES = 64 * 1024;

function readSettingsFile(file: string | undefined): { monitor: MonitorSettings; push: PushSettings; notifications: NotificationSettings; library: LibrarySettings } {
  if (file === undefined || file.trim() === '') return SettingsFileSchema.parse({});
  const where = `settings file "${file}"`;
  let text: string;
  try {
    const buffer = readFileSync(file);
    if (buffer.length > MAX_SETTINGS_FILE_BYTES) throw new ConfigError(`Invalid configuration: ${where} is larger than ${MAX_SETTINGS_FILE_BYTES / 1024} KB.`);
    text = buffer.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`Invalid configuration: cannot read ${where} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${where} is not valid JSON (${(err as Error).message}).`);
  }
  const parsed = SettingsFileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration in ${where}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

const streamCount = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`));

const rawSchema = z.object({
  port: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number between 0 and 65535')
    .transform(Number)
    .pipe(z.number().int().min(0, 'must be between 0 and 65535').max(65535, 'must be between 0 and 65535')),
  host: z.string().trim().min(1, 'must not be empty'),
  dataDir: z.string().trim().min(1, 'must not be empty'),
  baseUrl: z.string().trim(),
  plexTvUrl: z
    .string()
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an http(s) URL such as https://plex.tv'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
  sseHeartbeatMs: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().int().min(100, 'must be at least 100 ms').max(300_000, 'must be at most 300000 ms')),
  sseMaxStreams: streamCount(100_000),
  sseMaxStreamsPerAddress: streamCount(10_000),
});

const NAMES: Record<string, string> = {
  port: '--port / MARQUEE_PORT',
  host: '--host / MARQUEE_HOST',
  dataDir: '--data-dir / MARQUEE_DATA_DIR',
  baseUrl: '--base-url / MARQUEE_BASE_URL',
  plexTvUrl: 'MARQUEE_PLEX_TV_URL',
  logLevel: '--log-level / LOG_LEVEL',
  sseHeartbeatMs: 'MARQUEE_SSE_HEARTBEAT_MS',
  sseMaxStreams: 'MARQUEE_SSE_MAX_STREAMS',
  sseMaxStreamsPerAddress: 'MARQUEE_SSE_MAX_STREAMS_PER_ADDRESS',
};

function parseBaseUrl(value: string): { basePath: string; publicOrigin: string | null } {
  if (value === '' || value === '/') return { basePath: '/', publicOrigin: null };
  let path = value;
  let publicOrigin: string | null = null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`Invalid configuration: --base-url / MARQUEE_BASE_URL is not a valid URL ("${value}").`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('Invalid configuration: --base-url / MARQUEE_BASE_URL must be an http(s) URL or a path such as /marquee.');
    }
    publicOrigin = url.origin;
    path = url.pathname;
  }
  if (!path.startsWith('/')) path = `/${path}`;
  if (!/^[A-Za-z0-9/_.~-]*$/.test(path) || path.includes('//') || path.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw new ConfigError(
      `Invalid configuration: --base-url / MARQUEE_BASE_URL must be a plain path such as /marquee (got "${value}").`,
    );
  }
  if (!path.endsWith('/')) path = `${path}/`;
  return { basePath: path, publicOrigin };
}

function readApiKey(env: Record<string, string | undefined>): string | null {
  const inline = env.MARQUEE_API_KEY;
  const file = env.MARQUEE_API_KEY_FILE;
  if (inline && file) {
    throw new ConfigError('Invalid configuration: set either MARQUEE_API_KEY or MARQUEE_API_KEY_FILE, not both.');
  }
  let key: string | undefined = inline;
  if (file) {
    try {
      key = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError(`Invalid configuration: cannot read MARQUEE_API_KEY_FILE "${file}" (${code}).`);
    }
  }
  if (key === undefined) return null;
  key = key.trim();
  if (key === '') {
    throw new ConfigError(
      file ? `Invalid configuration: MARQUEE_API_KEY_FILE "${file}" is empty.` : 'Invalid configuration: MARQUEE_API_KEY is empty.',
    );
  }
  if (key.length < 16) {
    throw new ConfigError('Invalid configuration: the API key must be at least 16 characters long (try `openssl rand -hex 24`).');
  }
  if (/\s/.test(key)) throw new ConfigError('Invalid configuration: the API key must not contain whitespace.');
  const weak = weakKeyReason(key);
  if (weak) throw new ConfigError(`Invalid configuration: ${weak}`);
  return key;
}

/**
 * Reads flags (argv without the command word) and env. Throws ConfigError with a message fit to
 * print as-is; the message never contains the API key.
 */
export function loadConfig(argv: readonly string[], env: Record<string, string | undefined>): AppConfig {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAG_OPTIONS, strict: true, allowPositionals: false }) as {
      values: Record<string, string | undefined>;
    });
  } catch (err) {
    throw new ConfigError(`Invalid command line: ${(err as Error).message}`);
  }

  const raw = {
    port: values.port ?? env.MARQUEE_PORT ?? String(DEFAULT_PORT),
    host: values.host ?? env.MARQUEE_HOST ?? '127.0.0.1',
    dataDir: values['data-dir'] ?? env.MARQUEE_DATA_DIR ?? './data',
    baseUrl: values['base-url'] ?? env.MARQUEE_BASE_URL ?? '/',
    plexTvUrl: env.MARQUEE_PLEX_TV_URL ?? 'https://plex.tv',
    logLevel: (values['log-level'] ?? env.LOG_LEVEL ?? 'info').toLowerCase(),
    sseHeartbeatMs: env.MARQUEE_SSE_HEARTBEAT_MS ?? '15000',
    sseMaxStreams: env.MARQUEE_SSE_MAX_STREAMS ?? '256',
    sseMaxStreamsPerAddress: env.MARQUEE_SSE_MAX_STREAMS_PER_ADDRESS ?? '8',
  };
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const shown = key in raw ? ` (got "${String(raw[key as keyof typeof raw])}")` : '';
      return `  ${NAMES[key] ?? key}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const apiKey = readApiKey(env);
  const settings = readSettingsFile(values.settings ?? env.MARQUEE_SETTINGS_FILE);
  const { basePath, publicOrigin } = parseBaseUrl(parsed.data.baseUrl);
  const host = parsed.data.host;
  if (!apiKey && !isLoopbackHost(host)) {
    throw new ConfigError(
      `Refusing to start: binding to ${host} exposes Marquee beyond this machine, but no API key is set. ` +
        'Set MARQUEE_API_KEY (or MARQUEE_API_KEY_FILE) to a long random secret, or bind to 127.0.0.1.',
    );
  }
  return Object.freeze({
    port: parsed.data.port,
    host,
    dataDir: resolve(parsed.data.dataDir),
    apiKey,
    basePath,
    publicOrigin,
    plexTvUrl: parsed.data.plexTvUrl.replace(/\/+$/, ''),
    logLevel: parsed.data.logLevel,
    sseHeartbeatMs: parsed.data.sseHeartbeatMs,
    sseMaxStreams: parsed.data.sseMaxStreams,
    sseMaxStreamsPerAddress: parsed.data.sseMaxStreamsPerAddress,
    webDir: resolve(env.MARQUEE_WEB_DIR ?? resolve(PACKAGE_ROOT, 'dist', 'web')),
    monitor: settings.monitor,
    push: settings.push,
    notifications: settings.notifications,
    library: settings.library,
  });
}
