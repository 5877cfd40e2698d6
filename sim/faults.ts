// Fault vocabulary (per route and per server) and the response rewrites the `error` and
// `malformed` modes apply. Behaviour that needs sockets or timers lives in route.ts.
import { z } from 'zod';
import { json, text, type SimResponse } from './http-util.js';

export const ROUTE_FAULT_MODES = ['up', 'refuse', 'hang', 'slow', 'error', 'wrong-identity', 'malformed', 'drop-socket', 'flap', 'tls-mismatch', 'cut', 'throttle'] as const;
export type RouteFaultMode = (typeof ROUTE_FAULT_MODES)[number];

export const MALFORMED_VARIANTS = ['truncated', 'html', 'garbage', 'oversized', 'wrong-type', 'missing-fields'] as const;
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

export const DROP_VARIANTS = ['reset', 'close-1001', 'close-1011'] as const;
export type DropVariant = (typeof DROP_VARIANTS)[number];

const RouteFaultShape = z.object({
  mode: z.enum(ROUTE_FAULT_MODES),
  /** slow: delay before the first byte (and before a WebSocket upgrade). Default 5000. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** flap: time spent in each of up / refuse. Default 1000. */
  periodMs: z.number().int().min(10).max(600_000).optional(),
  /** malformed: which damage; default 'truncated'. */
  variant: z.union([z.enum(MALFORMED_VARIANTS), z.enum(DROP_VARIANTS)]).optional(),
  /** error: 500 | 502 | 503 (503 carries Retry-After). Default 500. */
  status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
  /** malformed/oversized: body size in bytes. Default 64 MiB. */
  sizeBytes: z.number().int().min(1).max(1024 * 1024 * 1024).optional(),
  /** cut: body bytes each response gets before its connection is destroyed. Default 65536. */
  afterBytes: z.number().int().min(0).max(1024 * 1024 * 1024).optional(),
  /** throttle: cap per connection (a relay), in bytes per second. Default 125000 (1 Mbit/s). */
  bytesPerSecond: z.number().int().min(1).max(10 * 1024 * 1024 * 1024).optional(),
});

/** A variant only makes sense for the mode that defines it. */
export const RouteFaultSchema = RouteFaultShape.superRefine((f, ctx) => {
  if (f.variant === undefined) return;
  const allowed: readonly string[] = f.mode === 'malformed' ? MALFORMED_VARIANTS : f.mode === 'drop-socket' ? DROP_VARIANTS : [];
  if (!allowed.includes(f.variant)) ctx.addIssue({ code: 'custom', path: ['variant'], message: `variant "${f.variant}" does not apply to mode "${f.mode}"` });
});
export type RouteFault = z.infer<typeof RouteFaultShape>;

export const SERVER_FAULT_MODES = ['up', 'bad-token', 'stop', 'crash', 'search-hang', 'search-slow'] as const;
export type ServerFaultMode = (typeof SERVER_FAULT_MODES)[number];

/** `search-hang` / `search-slow`: only the server's search endpoints are held up; `up` clears it. */
export type SearchFault = { mode: 'hang' } | { mode: 'slow'; delayMs: number };
export const DEFAULT_SEARCH_SLOW_MS = 5000;

export const DEFAULT_SLOW_MS = 5000;
export const DEFAULT_FLAP_MS = 1000;
export const DEFAULT_OVERSIZED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CUT_AFTER_BYTES = 64 * 1024;
/** Plex's relay cap without Plex Pass: 1 Mbit/s. */
export const DEFAULT_THROTTLE_BYTES_PER_SECOND = 125_000;

/** The bodies an overloaded or half-dead server or proxy in front of it gives. */
export function errorResponse(status: 500 | 502 | 503 = 500): SimResponse {
  if (status === 503) return text(503, 'Service Unavailable', 'text/html; charset=utf-8', { 'retry-after': '5' });
  if (status === 502) return text(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html; charset=utf-8');
  return text(500, 'Error processing request.');
}

/** Rewrites a healthy response into a damaged one. `oversized` is streamed by the caller. */
export function malform(response: SimResponse, variant: MalformedVariant): SimResponse {
  const contentType = response.headers['content-type'] ?? 'application/json; charset=utf-8';
  const body = typeof response.body === 'string' ? response.body : response.body.toString('utf8');
  switch (variant) {
    case 'truncated':
      // A well-formed HTTP message whose payload stops mid-document.
      return { status: response.status, headers: { 'content-type': contentType }, body: body.slice(0, Math.max(1, Math.floor(body.length / 2))) };
    case 'html':
      // A captive portal or proxy page where JSON/XML was expected.
      return text(200, '<!DOCTYPE html><html><head><title>Login</title></head><body><form>Sign in to continue</form></body></html>', 'text/html; charset=utf-8');
    case 'garbage':
      return { status: response.status, headers: { 'content-type': contentType }, body: Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0xfe, 0x7b, 0x22, 0x00, 0x5d, 0x5d, 0x7d, 0x3c, 0x3e]) };
    case 'wrong-type':
      return json(response.status, retype(response.json ?? {}));
    case 'missing-fields':
      return json(response.status, {});
    case 'oversized':
      return response;
  }
}

/** Every leaf changes type: strings become numbers, numbers strings, booleans strings, arrays objects. */
function retype(value: unknown): unknown {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return { items: value.map(retype) };
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, retype(v)]));
  return 42;
}
