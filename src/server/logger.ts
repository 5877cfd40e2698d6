// pino with every token-bearing path redacted. Redaction by path catches structured fields; the
// URL and error serializers catch secrets inside strings (query parameters, upstream messages).
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

const SECRET_KEYS = ['token', 'accessToken', 'accountToken', 'authToken', 'password', 'apiKey', 'api_key', 'secret', 'quickConnectSecret', 'credentials', 'Pw'];
const SECRET_HEADERS = ['x-api-key', 'x-plex-token', 'authorization', 'cookie', 'set-cookie', 'x-emby-authorization', 'x-emby-token', 'x-mediabrowser-token'];

/** Redaction paths: headers on req/res/any object, and secret-named fields up to three levels deep. */
export const REDACT_PATHS: string[] = [
  ...SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`, `*.headers["${h}"]`]),
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
  ...['X-Plex-Token', 'X-Emby-Token', 'X-Api-Key', 'AccessToken'].flatMap((k) => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`]),
];

const SECRET_PARAM = /([?&;](?:x-plex-token|token|api_?key|apikey|access_?token|password|secret)=)[^&#\s"']*/gi;
const SECRET_HEADER_VALUE = /\b((?:x-plex-token|x-api-key|x-emby-token|x-mediabrowser-token)\s*[:=]\s*)[^\s,"';&#]+/gi;
const MEDIABROWSER_TOKEN = /(\bToken\s*=\s*")[^"]*(")/g;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** Removes secrets hidden in free text: query parameters, header echoes, Bearer tokens, URL user info. */
export function scrubSecrets(text: string): string {
  return text
    .replace(SECRET_PARAM, '$1[redacted]')
    .replace(SECRET_HEADER_VALUE, '$1[redacted]')
    .replace(MEDIABROWSER_TOKEN, '$1[redacted]$2')
    .replace(BEARER, '$1[redacted]')
    .replace(USERINFO, '$1[redacted]@');
}

const SECRET_PARAM_NAME = /^(?:x-plex-token|token|api_?key|apikey|access_?token|password|secret|pw)$/i;

/** A request URL fit for logs: secret-named query parameters blanked, secrets inside values (decoded) scrubbed. */
export function redactRequestUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return scrubSecrets(url);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(q + 1));
  } catch {
    return scrubSecrets(url);
  }
  const out = new URLSearchParams();
  for (const [name, value] of params) out.append(name, SECRET_PARAM_NAME.test(name) ? '[redacted]' : scrubSecrets(value));
  return `${scrubSecrets(url.slice(0, q))}?${out.toString()}`;
}

interface LoggableRequest {
  method?: string;
  url?: string;
  id?: string | number;
  ip?: string;
  headers?: Record<string, unknown>;
}

const serializers = {
  req(req: LoggableRequest) {
    const ua = req.headers?.['user-agent'];
    return {
      id: req.id,
      method: req.method,
      url: req.url ? redactRequestUrl(req.url) : req.url,
      remoteAddress: req.ip,
      ...(typeof ua === 'string' ? { userAgent: ua } : {}),
    };
  },
  res(res: { statusCode?: number }) {
    return { statusCode: res.statusCode };
  },
  /** Only type, code, message and stack: upstream errors (axios and friends) carry request configs with headers. */
  err(err: unknown) {
    if (!(err instanceof Error)) return { message: scrubSecrets(String(err)) };
    const out: Record<string, unknown> = {
      type: err.name,
      message: scrubSecrets(err.message),
      stack: err.stack ? scrubSecrets(err.stack) : undefined,
    };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    const statusCode = (err as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number') out.statusCode = statusCode;
    if (err.cause instanceof Error) out.cause = { type: err.cause.name, message: scrubSecrets(err.cause.message) };
    return out;
  },
};

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where JSON lines go (tests capture them). Default: stdout, pretty when a terminal and pino-pretty is installed. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers,
    base: { app: 'marquee' },
    // Last line of defence: scrub whatever a message string might carry.
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)),
        );
      },
    },
  };
  if (options.destination) return pino(base, options.destination);
  if (process.stdout.isTTY && prettyAvailable()) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(base);
}
