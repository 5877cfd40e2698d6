// zod schemas for every JSON value read back from the database. The DB file is external input:
// a row that does not parse is skipped with a warning, never trusted and never a crash.
import { z } from 'zod';
import type { Credentials } from '../backends/types.js';
import { ITEM_TYPES, type LibraryItem } from '../core/library.js';
import { ROUTE_ORIGINS, type EngineEvent, type LibraryType, type ProbeError, type RouteKind, type RouteOrigin, type SourceKind, type SourceMonitoringSettings, type SourceStatus } from '../core/types.js';

export const sourceKindSchema = z.enum(['plex', 'jellyfin']) satisfies z.ZodType<SourceKind>;
export const routeKindSchema = z.enum(['local', 'remote', 'relay']) satisfies z.ZodType<RouteKind>;
export const routeOriginSchema = z.enum(ROUTE_ORIGINS) satisfies z.ZodType<RouteOrigin>;
export const libraryTypeSchema = z.enum(['movie', 'show', 'music', 'photo', 'other']) satisfies z.ZodType<LibraryType>;
export const probeErrorCodeSchema = z.enum(['refused', 'timeout', 'dns', 'tls', 'http_error', 'unauthorized', 'wrong_server', 'malformed', 'too_large']);
const lossReasonSchema = z.enum(['server_shutting_down', 'server_restarting', 'push_lost', 'network_changed']);
const epochMs = z.number().finite();

export const monitoringSchema = z.object({
  enabled: z.boolean().optional(),
  probeTimeoutMs: z.number().int().positive().optional(),
  push: z.boolean().optional(),
}) satisfies z.ZodType<SourceMonitoringSettings>;

export const credentialsSchema = z.object({
  token: z.string().min(1),
  accountToken: z.string().min(1).optional(),
  accountTokenIssuedAt: z.number().finite().optional(),
  accountTokenExpiresAt: z.number().finite().optional(),
  userId: z.string().optional(),
  deviceId: z.string().optional(),
}) satisfies z.ZodType<Credentials>;

export const probeErrorSchema = z.object({
  code: probeErrorCodeSchema,
  message: z.string(),
  status: z.number().int().optional(),
  foundServerId: z.string().optional(),
}) satisfies z.ZodType<ProbeError>;

export const sourceStatusSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('connecting') }),
  z.object({ state: z.literal('connected'), routeId: z.string(), routeKind: routeKindSchema, latencyMs: z.number(), since: epochMs }),
  z.object({
    state: z.literal('reconnecting'),
    attempt: z.number().int().nonnegative(),
    nextRetryAt: epochMs,
    since: epochMs,
    lastRouteKind: routeKindSchema.optional(),
    reason: lossReasonSchema.optional(),
    lastError: probeErrorSchema.optional(),
  }),
  z.object({
    state: z.literal('disconnected'),
    since: epochMs,
    nextRetryAt: epochMs,
    attempt: z.number().int().nonnegative(),
    reason: lossReasonSchema.optional(),
    lastError: probeErrorSchema.optional(),
  }),
  z.object({ state: z.literal('auth_required'), since: epochMs, routeId: z.string().optional() }),
  z.object({
    state: z.literal('sync_failed'),
    routeId: z.string(),
    routeKind: routeKindSchema,
    latencyMs: z.number(),
    since: epochMs,
    error: z.string(),
  }),
]) satisfies z.ZodType<SourceStatus>;

/**
 * Events are written by this process and only replayed to SSE clients, so the check is on the
 * common envelope (type, source, time); the rest passes through as written.
 */
export const engineEventSchema = z
  .object({
    type: z.enum([
      'ConnectionChanged',
      'ConnectionLost',
      'ConnectionRestored',
      'Reconnecting',
      'AuthStatusChanged',
      'SyncFailed',
      'SyncRestored',
      'StatusChanged',
    ]),
    sourceId: z.string(),
    sourceName: z.string(),
    sourceKind: sourceKindSchema,
    at: epochMs,
  })
  .loose() as unknown as z.ZodType<EngineEvent>;

/** Parses a JSON column; returns the zod issues (paths and codes only, never values) on failure. */
export function parseJsonColumn<T>(schema: z.ZodType<T>, text: string): { ok: true; value: T } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not valid JSON' };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problem = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
  return { ok: false, problem };
}

// ---- The library cache (issue 14) ----
const imageRefSchema = z.object({ kind: z.enum(['poster', 'backdrop']), path: z.string(), tag: z.string().optional() });
const nullableNumber = z.number().finite().nullable();
export const libraryItemSchema = z.object({
  id: z.string().min(1),
  libraryId: z.string().nullable(),
  parentId: z.string().nullable(),
  type: z.enum(ITEM_TYPES),
  title: z.string(),
  sortTitle: z.string(),
  year: nullableNumber,
  addedAt: nullableNumber,
  updatedAt: nullableNumber,
  rating: nullableNumber,
  durationMs: nullableNumber,
  overview: z.string().nullable(),
  genres: z.array(z.string()),
  cast: z.array(z.object({ name: z.string(), role: z.string().optional() })),
  index: nullableNumber,
  parentIndex: nullableNumber,
  parentTitle: z.string().nullable(),
  grandparentTitle: z.string().nullable(),
  childCount: nullableNumber,
  watched: z.boolean(),
  resumeMs: nullableNumber,
  lastViewedAt: nullableNumber,
  poster: imageRefSchema.nullable(),
  backdrop: imageRefSchema.nullable(),
  blurhash: z.string().nullable(),
}) satisfies z.ZodType<LibraryItem>;
