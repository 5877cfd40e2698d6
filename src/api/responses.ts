// zod schemas of every answer the API gives (REST bodies and SSE payloads). The TypeScript types in
// ./types.ts are the readable, documented form; ./contract.test.ts checks at type level that each
// schema infers exactly its type, and src/server/api-contract.test.ts validates real answers.
// Objects are strict: an answer with a field the contract does not name (a token, say) fails.
import { z } from 'zod';
import { ROUTE_ORIGINS } from '../core/types.js';

export const sourceKindSchema = z.enum(['plex', 'jellyfin']);
export const routeKindSchema = z.enum(['local', 'remote', 'relay']);
export const sourceStateSchema = z.enum(['connecting', 'connected', 'reconnecting', 'disconnected', 'auth_required', 'sync_failed']);
export const lossReasonSchema = z.enum(['server_shutting_down', 'server_restarting', 'push_lost', 'network_changed']);
export const probeErrorCodeSchema = z.enum(['refused', 'timeout', 'dns', 'tls', 'http_error', 'unauthorized', 'wrong_server', 'malformed', 'too_large']);
export const libraryTypeSchema = z.enum(['movie', 'show', 'music', 'photo', 'other']);

const epochMs = z.number();
const id = z.string().min(1);

export const probeErrorSchema = z.strictObject({
  code: probeErrorCodeSchema,
  message: z.string(),
  status: z.number().int().optional(),
  foundServerId: z.string().optional(),
});

export const sourceStatusSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('connecting') }),
  z.strictObject({ state: z.literal('connected'), routeId: id, routeKind: routeKindSchema, latencyMs: z.number(), since: epochMs }),
  z.strictObject({
    state: z.literal('reconnecting'),
    attempt: z.number().int(),
    nextRetryAt: epochMs,
    since: epochMs,
    lastRouteKind: routeKindSchema.optional(),
    reason: lossReasonSchema.optional(),
    lastError: probeErrorSchema.optional(),
  }),
  z.strictObject({
    state: z.literal('disconnected'),
    since: epochMs,
    nextRetryAt: epochMs,
    attempt: z.number().int(),
    reason: lossReasonSchema.optional(),
    lastError: probeErrorSchema.optional(),
  }),
  z.strictObject({ state: z.literal('auth_required'), since: epochMs, routeId: id.optional() }),
  z.strictObject({ state: z.literal('sync_failed'), routeId: id, routeKind: routeKindSchema, latencyMs: z.number(), since: epochMs, error: z.string() }),
]);

const eventBase = { sourceId: id, sourceName: z.string(), sourceKind: sourceKindSchema, at: epochMs };
export const engineEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...eventBase, type: z.literal('ConnectionChanged'), routeId: id, routeKind: routeKindSchema, previousRouteKind: routeKindSchema.nullable(), latencyMs: z.number() }),
  z.strictObject({ ...eventBase, type: z.literal('ConnectionLost'), lastRouteKind: routeKindSchema.nullable(), reason: lossReasonSchema.optional(), error: probeErrorSchema.optional() }),
  z.strictObject({ ...eventBase, type: z.literal('ConnectionRestored'), routeId: id, routeKind: routeKindSchema, latencyMs: z.number(), downForMs: z.number() }),
  z.strictObject({ ...eventBase, type: z.literal('Reconnecting'), attempt: z.number().int(), nextRetryAt: epochMs, reason: lossReasonSchema.optional() }),
  z.strictObject({ ...eventBase, type: z.literal('AuthStatusChanged'), authRequired: z.boolean() }),
  z.strictObject({ ...eventBase, type: z.literal('SyncFailed'), error: z.string() }),
  z.strictObject({ ...eventBase, type: z.literal('SyncRestored'), libraryCount: z.number().int() }),
  z.strictObject({ ...eventBase, type: z.literal('StatusChanged'), status: sourceStatusSchema, previous: sourceStatusSchema }),
]);

export const apiRouteRefSchema = z.strictObject({ id, url: z.string(), kind: routeKindSchema, latencyMs: z.number().nullable() });
export const apiLibrarySchema = z.strictObject({ id: z.string(), name: z.string(), type: libraryTypeSchema });

const apiSourceShape = {
  id,
  name: z.string(),
  kind: sourceKindSchema,
  status: sourceStateSchema,
  route: apiRouteRefSchema.nullable(),
  attempt: z.number().int().optional(),
  nextRetryAt: epochMs.optional(),
  reason: lossReasonSchema.optional(),
  error: z.string().optional(),
  lastCheckedAt: epochMs.nullable(),
  nextCheckAt: epochMs.nullable(),
  since: epochMs.nullable(),
  preferredRouteKind: routeKindSchema.nullable().optional(),
  push: z.enum(['open', 'polling', 'connecting', 'off']),
  libraries: z.array(apiLibrarySchema),
};
export const apiSourceSchema = z.strictObject(apiSourceShape);

export const apiRouteDetailSchema = z.strictObject({
  id,
  url: z.string(),
  kind: routeKindSchema,
  priority: z.number(),
  origin: z.enum(ROUTE_ORIGINS),
  /** Present (true) while a route kept with `force` waits to answer as this server; it is not used until then. */
  pending: z.literal(true).optional(),
  lastResult: z.union([z.literal('ok'), probeErrorCodeSchema]).nullable(),
  lastError: z.string().nullable(),
  latencyMs: z.number().nullable(),
  checkedAt: epochMs.nullable(),
  recentLatencies: z.array(z.number().nullable()),
});

export const apiHistoryEntrySchema = z.strictObject({
  at: epochMs,
  kind: z.enum(['transition', 'check']),
  state: z.string(),
  routeKind: routeKindSchema.optional(),
  detail: z.string().optional(),
});

export const apiSourceDetailSchema = z.strictObject({
  ...apiSourceShape,
  serverId: z.string(),
  routes: z.array(apiRouteDetailSchema),
  history: z.array(apiHistoryEntrySchema),
  monitoring: z.strictObject({ enabled: z.boolean(), push: z.boolean(), probeTimeoutMs: z.number().int() }),
});

export const apiRouteEditSchema = z.strictObject({ route: apiRouteDetailSchema, source: apiSourceDetailSchema });

export const apiHealthStateSchema = z.strictObject({
  database: z.enum(['ok', 'degraded']),
  monitor: z.enum(['running', 'stopped']),
  detail: z.string().optional(),
});
export const apiHealthSchema = z.strictObject({ ...apiHealthStateSchema.shape, status: z.enum(['ok', 'degraded']) });

export const apiSnapshotSchema = z.strictObject({
  sources: z.array(apiSourceSchema),
  lastEventId: z.number().int(),
  demo: z.boolean(),
  serverTime: epochMs,
  health: apiHealthStateSchema.optional(),
});
export const apiEventMessageSchema = z.strictObject({ seq: z.number().int(), event: engineEventSchema, source: apiSourceSchema.nullable() });
export const apiSourceUpdateSchema = z.strictObject({ source: apiSourceSchema });
export const apiSourceRemovedSchema = z.strictObject({ sourceId: id });

export const apiErrorSchema = z.strictObject({ error: z.string(), message: z.string() });
export const apiDemoRouteSchema = z.strictObject({ id, sourceId: id, serverName: z.string(), kind: routeKindSchema, url: z.string() });
export const apiRouteFaultResultSchema = z.strictObject({ routeId: id, mode: z.string() });
export const apiServerFaultResultSchema = z.strictObject({ sourceId: id, mode: z.string() });
export const apiCheckAcceptedSchema = z.strictObject({ accepted: z.literal(true) });

export const apiPlexPinSchema = z.strictObject({ id: z.number().int(), code: z.string(), authUrl: z.string(), expiresAt: epochMs });
export const apiPlexServerSchema = z.strictObject({
  serverId: z.string(),
  name: z.string(),
  owned: z.boolean(),
  presence: z.boolean(),
  routes: z.array(z.strictObject({ url: z.string(), kind: routeKindSchema })),
  alreadyAdded: z.boolean(),
});
export const apiPlexPinStateSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('pending') }),
  z.strictObject({ state: z.literal('expired') }),
  z.strictObject({ state: z.literal('authorized'), servers: z.array(apiPlexServerSchema) }),
]);
export const apiJellyfinProbeSchema = z.strictObject({ serverId: z.string(), name: z.string(), version: z.string(), url: z.string(), alreadyAdded: z.boolean() });
export const apiQuickConnectStartSchema = z.strictObject({ code: z.string(), handle: z.string(), expiresAt: epochMs });
export const apiQuickConnectStateSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('pending') }),
  z.strictObject({ state: z.literal('expired') }),
  z.strictObject({ state: z.literal('authorized'), serverId: z.string(), serverName: z.string(), userName: z.string() }),
]);
export const apiSessionStateSchema = z.strictObject({ authRequired: z.boolean(), authenticated: z.boolean() });

// ---- Libraries (issue 14) ----------------------------------------------------------------------

export const apiItemTypeSchema = z.enum(['movie', 'show', 'season', 'episode', 'artist', 'album', 'track', 'photo', 'video', 'folder', 'other']);
const nullableNumber = z.number().nullable();
const nullableString = z.string().nullable();

const apiItemShape = {
  id,
  sourceId: id,
  sourceName: z.string(),
  libraryId: nullableString,
  type: apiItemTypeSchema,
  title: z.string(),
  subtitle: nullableString,
  year: nullableNumber,
  imageUrl: nullableString,
  blurhash: nullableString,
  watched: z.boolean(),
  resumeMs: nullableNumber,
  durationMs: nullableNumber,
  addedAt: nullableNumber,
  rating: nullableNumber,
  playable: z.boolean(),
  offline: z.boolean(),
};
export const apiItemSchema = z.strictObject(apiItemShape);
export const apiCastMemberSchema = z.strictObject({ name: z.string(), role: z.string().optional() });
export const apiItemDetailSchema = z.strictObject({
  ...apiItemShape,
  overview: nullableString,
  genres: z.array(z.string()),
  cast: z.array(apiCastMemberSchema),
  index: nullableNumber,
  parentIndex: nullableNumber,
  parentId: nullableString,
  parentTitle: nullableString,
  grandparentTitle: nullableString,
  childCount: nullableNumber,
  children: z.array(apiItemSchema),
  backdropUrl: nullableString,
  fetchedAt: nullableNumber,
  offlineSince: nullableNumber,
});
export const apiLibrarySyncSchema = z.strictObject({
  state: z.enum(['never', 'syncing', 'synced', 'failed']),
  syncedAt: nullableNumber,
  error: z.string().optional(),
});
export const apiLibraryItemsSchema = z.strictObject({
  items: z.array(apiItemSchema),
  total: z.number().int(),
  offset: z.number().int(),
  offline: z.boolean(),
  offlineSince: nullableNumber,
  sync: apiLibrarySyncSchema,
});
export const apiLibraryInfoSchema = z.strictObject({
  id,
  sourceId: id,
  sourceName: z.string(),
  name: z.string(),
  type: libraryTypeSchema,
  total: z.number().int(),
  genres: z.array(z.string()),
  years: z.array(z.number().int()),
  offline: z.boolean(),
  offlineSince: nullableNumber,
  sync: apiLibrarySyncSchema,
});
export const apiSourceAvailabilitySchema = z.strictObject({
  id,
  name: z.string(),
  state: z.enum(['online', 'offline', 'failed', 'timeout']),
  offlineSince: nullableNumber,
  error: z.string().optional(),
});
export const apiHomeSchema = z.strictObject({
  continueWatching: z.array(apiItemSchema),
  recentlyAdded: z.array(apiItemSchema),
  sources: z.array(apiSourceAvailabilitySchema),
});
export const apiSearchSourceSchema = z.strictObject({
  id,
  name: z.string(),
  state: z.enum(['searching', 'done', 'failed', 'timeout', 'offline']),
  count: z.number().int(),
  error: z.string().optional(),
});
export const apiSearchSchema = z.strictObject({
  query: z.string(),
  results: z.array(apiItemSchema),
  sources: z.array(apiSearchSourceSchema),
  complete: z.boolean(),
});
export const apiLibraryUpdateSchema = z.strictObject({
  sourceId: id,
  libraryId: id,
  sync: apiLibrarySyncSchema,
  changed: z.number().int(),
});

// ---- Playback (issue 15) -----------------------------------------------------------------------

export const apiPlayConnectionSchema = z.strictObject({
  sourceName: z.string(),
  routeKind: routeKindSchema.nullable(),
  method: z.enum(['direct', 'transcode']),
  bitrateKbps: z.number().nullable(),
  reason: z.string().nullable(),
});
export const apiSubtitleTrackSchema = z.strictObject({ id, label: z.string(), language: z.string().nullable(), url: z.string() });
export const apiAudioTrackSchema = z.strictObject({ id, label: z.string(), language: z.string().nullable(), selected: z.boolean() });
export const apiPlaySessionSchema = z.strictObject({
  id,
  sourceId: id,
  itemId: id,
  title: z.string(),
  subtitle: z.string().nullable(),
  mediaType: z.enum(['video', 'audio']),
  generation: z.number().int(),
  protocol: z.enum(['file', 'hls']),
  streamUrl: z.string(),
  durationMs: z.number().nullable(),
  startMs: z.number(),
  subtitles: z.array(apiSubtitleTrackSchema),
  audioTracks: z.array(apiAudioTrackSchema),
  nextItemId: z.string().nullable(),
  connection: apiPlayConnectionSchema,
});

// ---- Notifications (issue 16) ----
export const notificationEventSchema = z.enum(['lost', 'back', 'fallback', 'sign_in_needed', 'unstable', 'crash_restart']);
export const apiQuietHoursSchema = z.strictObject({ start: z.string(), end: z.string() });
export const apiNotificationTargetSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  sources: z.array(z.string()).nullable(),
  events: z.array(notificationEventSchema).nullable(),
  quietHours: apiQuietHoursSchema.nullable(),
  lastSuccessAt: epochMs.nullable(),
  lastErrorAt: epochMs.nullable(),
  lastError: z.string().nullable(),
  pending: z.number().int().nonnegative(),
});
export const apiNotificationTargetsSchema = z.strictObject({ targets: z.array(apiNotificationTargetSchema), supportedSchemes: z.array(z.string()) });
export const apiNotificationTestResultSchema = z.strictObject({ ok: z.boolean(), message: z.string(), status: z.number().int().nullable() });
