// Every request body, params and query the API accepts. Messages say what is expected in words.
// Bodies are strict: an unknown key (a typo, a field of another version) is a 400 naming it, never
// silently ignored (parseInput turns zod's unrecognized_keys into `body.monitoring.foo: …`).
import { z } from 'zod';

const text = (field: string, max: number) =>
  z.string({ error: `${field} must be a string` }).trim().min(1, `${field} must not be empty`).max(max, `${field} is too long (max ${max})`);

export const sourceIdParams = z.object({
  id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'not a valid source id'),
});

export const pinIdParams = z.object({
  id: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive').max(Number.MAX_SAFE_INTEGER),
});

export const handleParams = z.object({
  handle: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'not a valid Quick Connect handle'),
});

export const routeIdParams = z.object({ id: z.string().min(1).max(256) });

/** `/api/sources/:id/routes/:routeId`. */
export const sourceRouteParams = sourceIdParams.extend({
  routeId: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'not a valid route id'),
});

export const monitoringSchema = z
  .strictObject({
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    push: z.boolean({ error: 'must be true or false' }).optional(),
    probeTimeoutMs: z
      .number({ error: 'must be a number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(500, 'must be at least 500 ms')
      .max(60_000, 'must be at most 60000 ms')
      .optional(),
  }, { error: 'must be an object' });

export const patchSourceBody = z
  .strictObject({ name: text('name', 100).optional(), monitoring: monitoringSchema.optional() }, { error: 'expected a JSON object' })
  .refine((b) => b.name !== undefined || b.monitoring !== undefined, { message: 'give a new name or monitoring settings' });

const url = text('url', 2048);
const serverId = z.string({ error: 'serverId must be a string' }).min(1, 'serverId must not be empty').max(128).regex(/^[A-Za-z0-9_-]+$/, 'not a valid server id');
const optionalName = text('name', 100).optional();
const handle = z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(128).regex(/^[A-Za-z0-9_-]+$/, 'not a valid Quick Connect handle');
const password = z.string({ error: 'password must be a string' }).max(1024, 'password is too long');
const username = text('username', 256);
const pinId = z.number({ error: 'pinId must be the number from POST /api/plex/pins' }).int().positive();

const plexAdd = z.strictObject({ kind: z.literal('plex'), serverId, pinId, name: optionalName });

const jellyfinAdd = z
  .strictObject({
    kind: z.literal('jellyfin'),
    url: url.optional(),
    username: username.optional(),
    password: password.optional(),
    /** The opaque handle from POST /api/jellyfin/quickconnect. `quickConnectSecret` is accepted as an alias. */
    quickConnectHandle: handle.optional(),
    quickConnectSecret: handle.optional(),
    name: optionalName,
  })
  .superRefine((b, ctx) => {
    if (b.quickConnectHandle ?? b.quickConnectSecret) return;
    if (b.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'the Jellyfin server address is required' });
    if (b.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'required (or use quickConnectHandle)' });
    if (b.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'required (may be empty)' });
  });

export const addSourceBody = z.discriminatedUnion('kind', [plexAdd, jellyfinAdd], {
  error: (issue) => (issue.code === 'invalid_union' ? 'kind must be "plex" or "jellyfin"' : 'expected a JSON object with a kind'),
});

const SIGN_IN_AGAIN_FIELDS = new Set(['pinId', 'quickConnectHandle', 'username', 'password', 'url']);
/**
 * Unknown keys are checked after the union (a union of strict shapes would only say that no shape
 * fits, and zod drops issues raised before a union in a pipe or intersection).
 */
export const signInAgainBody = z
  .union(
    [
      z.looseObject({ pinId }),
      z.looseObject({ quickConnectHandle: handle }),
      z.looseObject({ username, password, url: url.optional() }),
    ],
    { error: 'give {pinId} (Plex), {username, password} or {quickConnectHandle} (Jellyfin)' },
  )
  .superRefine((body, ctx) => {
    const unknown = Object.keys(body).filter((key) => !SIGN_IN_AGAIN_FIELDS.has(key));
    if (unknown.length > 0) ctx.addIssue({ code: 'unrecognized_keys', keys: unknown, input: body });
  });

const userRouteKind = z.enum(['local', 'remote'], { error: 'kind must be "local" or "remote" (relays come from plex.tv)' });

/** POST /api/sources/:id/routes — an address the user adds. */
export const addRouteBody = z.strictObject(
  {
    url: text('url', 2048),
    /** Absent: inferred from the address (loopback, private and link-local ranges → local, else remote). */
    kind: userRouteKind.optional(),
    /** Keep the address although the server does not answer there now; used once it does. */
    force: z.boolean({ error: 'force must be true or false' }).optional(),
  },
  { error: 'expected a JSON object with url' },
);

/** PATCH /api/sources/:id/routes/:routeId — move a route: a new kind and/or a place among its kind. */
export const patchRouteBody = z
  .strictObject(
    {
      kind: userRouteKind.optional(),
      /** 0-based place among the source's routes of the (new) kind; 0 is tried first. Clamped to the routes there are. */
      position: z.number({ error: 'position must be a number' }).int('position must be a whole number').min(0, 'position must be 0 or more').max(10_000, 'position is too large').optional(),
    },
    { error: 'expected a JSON object with kind and/or position' },
  )
  .refine((b) => b.kind !== undefined || b.position !== undefined, { message: 'give a kind, a position, or both' });

export const probeBody = z.strictObject({ url }, { error: 'expected a JSON object with url' });
export const quickConnectBody = z.strictObject(
  {
    url,
    /** "Sign in again" for this source; without it the code is for adding a new source. */
    sourceId: z.string({ error: 'sourceId must be a string' }).min(1, 'sourceId must not be empty').max(200).optional(),
  },
  { error: 'expected a JSON object with url' },
);
export const sessionBody = z.strictObject({ apiKey: z.string({ error: 'apiKey must be a string' }).min(1, 'apiKey must not be empty').max(1024) }, { error: 'expected a JSON object with apiKey' });
export const faultBody = z.strictObject({ mode: z.string({ error: 'mode must be a string' }).min(1, 'mode must not be empty').max(64) }, { error: 'expected a JSON object with mode' });
export const eventsQuery = z.object({
  lastEventId: z.string().regex(/^\d{1,15}$/, 'must be a whole number').optional(),
});

/** Request types as a client sends them (the web UI types its bodies with these). */
export type PatchSourceBody = z.input<typeof patchSourceBody>;
export type AddSourceBody = z.input<typeof addSourceBody>;
export type SignInAgainBody = z.input<typeof signInAgainBody>;
export type ProbeBody = z.input<typeof probeBody>;
export type AddRouteBody = z.input<typeof addRouteBody>;
export type PatchRouteBody = z.input<typeof patchRouteBody>;
export type QuickConnectBody = z.input<typeof quickConnectBody>;
export type SessionBody = z.input<typeof sessionBody>;
export type FaultBody = z.input<typeof faultBody>;
export type EventsQuery = z.input<typeof eventsQuery>;

// ---- Libraries (issue 14) ----------------------------------------------------------------------

const itemIdPattern = /^[A-Za-z0-9_.:-]+$/;

/** `/api/sources/:id/libraries/:libraryId`. */
export const sourceLibraryParams = sourceIdParams.extend({
  libraryId: z.string().min(1).max(128).regex(itemIdPattern, 'not a valid library id'),
});

/** `/api/sources/:id/items/:itemId`. */
export const sourceItemParams = sourceIdParams.extend({
  itemId: z.string().min(1).max(128).regex(itemIdPattern, 'not a valid item id'),
});

export const LIBRARY_SORTS = ['title', 'added', 'year', 'rating'] as const;
export const LIBRARY_FILTERS = ['unwatched', 'watched', 'in_progress'] as const;

/** GET /api/sources/:id/libraries/:libraryId/items. */
export const libraryItemsQuery = z.strictObject({
  offset: z.coerce.number({ error: 'offset must be a number' }).int('offset must be a whole number').min(0, 'offset must be 0 or more').max(10_000_000).default(0),
  limit: z.coerce.number({ error: 'limit must be a number' }).int('limit must be a whole number').min(1, 'limit must be at least 1').max(500, 'limit must be at most 500').default(100),
  sort: z.enum(LIBRARY_SORTS, { error: `sort must be one of ${LIBRARY_SORTS.join(', ')}` }).default('title'),
  order: z.enum(['asc', 'desc'], { error: 'order must be asc or desc' }).optional(),
  filter: z.enum(LIBRARY_FILTERS, { error: `filter must be one of ${LIBRARY_FILTERS.join(', ')}` }).optional(),
  genre: z.string().trim().min(1).max(100).optional(),
  year: z.coerce.number({ error: 'year must be a number' }).int().min(1800).max(3000).optional(),
});

/** GET /api/sources/:id/items/:itemId/image. `v` only busts caches; the image is always the item's own. */
export const itemImageQuery = z.strictObject({
  kind: z.enum(['poster', 'backdrop'], { error: 'kind must be poster or backdrop' }).default('poster'),
  w: z.coerce.number({ error: 'w must be a number' }).int().min(16, 'w must be at least 16').max(2000, 'w must be at most 2000').default(300),
  v: z.string().max(128).optional(),
});

/** GET /api/search. */
export const searchQuery = z.strictObject({
  q: z.string({ error: 'q must be a string' }).trim().min(1, 'q must not be empty').max(200, 'q is too long (max 200)'),
  /** How long to wait for answers before returning what has arrived (ms). */
  wait: z.coerce.number({ error: 'wait must be a number' }).int().min(0).max(10_000, 'wait must be at most 10000').default(250),
});

// ---- Playback (issue 15) -----------------------------------------------------------------------

/** `/api/play/:session…`: an unguessable session id. */
export const playSessionParams = z.object({
  session: z.string().min(16).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a valid play session id'),
});

/** GET /api/play/:session/subtitles/:index: a subtitle track of the session, by its place in `subtitles`. */
export const playSubtitleParams = playSessionParams.extend({
  index: z.coerce.number({ error: 'index must be a number' }).int().min(0).max(999),
});

/** GET /api/play/:session/hls/:name: a name the session's own playlists handed out (`master.m3u8`, `p0.m3u8`, `p0-15.ts`). */
export const playHlsParams = playSessionParams.extend({
  name: z.string().max(40).regex(/^(master\.m3u8|p\d{1,4}\.m3u8|p\d{1,4}-(?:\d{1,9}|key\d{1,4}|map\d{1,4})\.[a-z0-9]{1,6})$/, 'not an HLS file of this play session'),
});

/** POST /api/play. */
export const createPlayBody = z.strictObject({
  sourceId: sourceIdParams.shape.id,
  itemId: z.string().min(1).max(128).regex(itemIdPattern, 'not a valid item id'),
  /** Start here instead of the server's resume position (ms). */
  startMs: z.number({ error: 'startMs must be a number' }).int().min(0).max(1_000_000_000).optional(),
  audioTrackId: z.string().min(1).max(64).optional(),
});

/** A position in the item (ms), as the player reports it. */
const playPositionMs = z.number({ error: 'positionMs must be a number' }).min(0).max(1_000_000_000);

/** POST /api/play/:session/progress: what the player reports (every ~10 s, and on pause, seek and stop). */
export const playProgressBody = z.strictObject({
  positionMs: playPositionMs,
  state: z.enum(['playing', 'paused', 'stopped'], { error: 'state must be playing, paused or stopped' }),
  /** The report follows a seek (Jellyfin and Plex want one at once). */
  seeked: z.boolean().optional(),
});

/**
 * DELETE /api/play/:session: the player left. It says where in the same request, so the stopped
 * report cannot race a separate last progress report; without a body the last reported position.
 */
export const stopPlayBody = z.strictObject({ positionMs: playPositionMs.optional() }, { error: 'expected nothing or a JSON object with positionMs' }).optional();

// ---- Notifications (issue 16) ----
export const notificationTargetIdParams = z.object({
  id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'not a valid target id'),
});
const hhmm = z.string({ error: 'must be "HH:MM"' }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be "HH:MM" (24-hour)');
const notificationEvents = z.array(z.enum(['lost', 'back', 'fallback', 'sign_in_needed', 'unstable', 'crash_restart'], { error: 'must be one of lost, back, fallback, sign_in_needed, unstable, crash_restart' })).max(10);
const targetFields = {
  name: text('name', 100),
  /** Checked by the server's target parser too: an unsupported scheme is a 400 naming the supported ones. */
  url: text('url', 2048),
  /** null or absent: every source. */
  sources: z.array(z.string().min(1).max(128)).max(10_000).nullable(),
  /** null or absent: every event. */
  events: notificationEvents.nullable(),
  quietHours: z.strictObject({ start: hhmm, end: hhmm }, { error: 'must be {start, end}' }).refine((q) => q.start !== q.end, 'start and end must differ').nullable(),
};
export const addNotificationTargetBody = z.strictObject({
  name: targetFields.name,
  url: targetFields.url,
  sources: targetFields.sources.optional(),
  events: targetFields.events.optional(),
  quietHours: targetFields.quietHours.optional(),
}, { error: 'body must be a JSON object' });
export const patchNotificationTargetBody = z
  .strictObject({
    name: targetFields.name.optional(),
    url: targetFields.url.optional(),
    sources: targetFields.sources.optional(),
    events: targetFields.events.optional(),
    quietHours: targetFields.quietHours.optional(),
  }, { error: 'body must be a JSON object' })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
