// Pure parsers for plex.tv and Plex Media Server answers (JSON and XML) and PMS WebSocket frames.
// Each takes the raw body (string) or a decoded JSON value and returns a typed value or a typed
// `malformed` error; none throws (fuzzed in parsers.test.ts).
import { z } from 'zod';
import type { Library, LibraryType } from '../../core/types.js';
import { chain, decodeJson, decodeJsonOrXml, malformed, validate, type Parsed } from '../parse.js';

// XML carries booleans as "1"/"0" and numbers as strings; JSON as real ones. Accept both.
const boolish = z.union([z.boolean(), z.literal(1), z.literal(0), z.enum(['1', '0', 'true', 'false'])]).transform((v) => v === true || v === 1 || v === '1' || v === 'true');
const intish = z.union([z.number().int(), z.string().regex(/^-?\d{1,15}$/).transform(Number)]);
const str = z.union([z.string(), z.number().transform(String)]);

// ---- plex.tv -------------------------------------------------------------------------------

export interface PlexPinBody {
  id: number;
  code: string;
  authToken: string | null;
  expiresIn?: number;
  expiresAt?: string;
}
const pinSchema = z.object({
  id: intish,
  code: z.string().min(1),
  authToken: z.string().min(1).nullable().optional(),
  expiresIn: z.number().optional(),
  expiresAt: z.string().optional(),
});
export function parsePlexPin(body: unknown): Parsed<PlexPinBody> {
  return chain(decodeJson(body), (v) => {
    const r = validate(pinSchema, v, 'plex.tv PIN');
    return r.ok ? { ok: true, value: { ...r.value, authToken: r.value.authToken ?? null } } : r;
  });
}

export interface PlexUserBody {
  id: number;
  uuid?: string;
  username: string;
  title?: string;
}
const userSchema = z.object({ id: intish, uuid: z.string().optional(), username: z.string(), title: z.string().optional() });
export function parsePlexUser(body: unknown): Parsed<PlexUserBody> {
  return chain(decodeJson(body), (v) => validate(userSchema, v, 'plex.tv account'));
}

export interface PlexConnection {
  protocol: 'http' | 'https';
  address: string;
  port: number;
  uri: string;
  local: boolean;
  relay: boolean;
  ipv6: boolean;
}
export interface PlexResource {
  name: string;
  clientIdentifier: string;
  accessToken: string | null;
  owned: boolean;
  presence: boolean;
  httpsRequired: boolean;
  connections: PlexConnection[];
}

const connectionSchema = z.object({
  protocol: z.enum(['http', 'https']),
  address: z.string(),
  port: intish.pipe(z.number().int().min(1).max(65535)),
  uri: z.string().min(1),
  local: boolish.optional(),
  relay: boolish.optional(),
  IPv6: boolish.optional(),
});
const deviceSchema = z.object({
  name: z.string(),
  clientIdentifier: z.string().min(1),
  provides: z.string(),
  accessToken: z.string().min(1).nullable().optional(),
  owned: boolish.optional(),
  presence: boolish.optional(),
  httpsRequired: boolish.optional(),
  connections: z.array(z.unknown()).optional(),
  Connection: z.array(z.unknown()).optional(),
});

/**
 * `GET /api/v2/resources` (JSON array, or XML `<MediaContainer><Device>…`). Only entries that
 * provide `server` are kept; a malformed device or connection is skipped, not fatal — one odd
 * entry must not hide the user's other servers.
 */
export function parsePlexResources(body: unknown): Parsed<PlexResource[]> {
  return chain(decodeJsonOrXml(body), (v) => {
    let list: unknown = v;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const mc = (v as { MediaContainer?: { Device?: unknown } }).MediaContainer;
      list = mc && typeof mc === 'object' ? (mc.Device ?? []) : undefined;
    }
    if (!Array.isArray(list)) return malformed('plex.tv resources: unexpected answer from the server');
    const out: PlexResource[] = [];
    for (const item of list) {
      const d = deviceSchema.safeParse(item);
      if (!d.success) continue;
      if (!d.data.provides.split(',').map((s) => s.trim()).includes('server')) continue;
      const connections: PlexConnection[] = [];
      for (const c of d.data.connections ?? d.data.Connection ?? []) {
        const p = connectionSchema.safeParse(c);
        if (!p.success) continue;
        connections.push({
          protocol: p.data.protocol,
          address: p.data.address,
          port: p.data.port,
          uri: p.data.uri,
          local: p.data.local ?? false,
          relay: p.data.relay ?? false,
          ipv6: p.data.IPv6 ?? false,
        });
      }
      out.push({
        name: d.data.name,
        clientIdentifier: d.data.clientIdentifier,
        accessToken: d.data.accessToken ?? null,
        owned: d.data.owned ?? false,
        presence: d.data.presence ?? false,
        httpsRequired: d.data.httpsRequired ?? false,
        connections,
      });
    }
    return { ok: true, value: out };
  });
}

// ---- Plex Media Server ------------------------------------------------------------------------

export interface PmsIdentity {
  machineIdentifier: string;
  friendlyName?: string;
  version?: string;
}
const identitySchema = z.object({
  MediaContainer: z.object({
    machineIdentifier: z.string().min(1),
    friendlyName: str.optional(),
    version: str.optional(),
  }),
});
/** `GET /` or `GET /identity` — JSON or XML MediaContainer. */
export function parsePmsIdentity(body: unknown): Parsed<PmsIdentity> {
  return chain(decodeJsonOrXml(body), (v) => {
    const r = validate(identitySchema, v, 'Plex server identity');
    return r.ok ? { ok: true, value: r.value.MediaContainer } : r;
  });
}

const PLEX_LIBRARY_TYPES: Record<string, LibraryType> = { movie: 'movie', show: 'show', artist: 'music', photo: 'photo' };
const sectionSchema = z.object({ key: str.pipe(z.string().min(1)), title: str, type: z.string() });
const sectionsSchema = z.object({
  MediaContainer: z.object({ Directory: z.array(z.unknown()).optional() }),
});
/** `GET /library/sections` — JSON or XML. A missing Directory means no libraries. */
export function parsePmsSections(body: unknown): Parsed<Library[]> {
  return chain(decodeJsonOrXml(body), (v) => {
    const r = validate(sectionsSchema, v, 'Plex libraries');
    if (!r.ok) return r;
    const libraries: Library[] = [];
    for (const d of r.value.MediaContainer.Directory ?? []) {
      const s = sectionSchema.safeParse(d);
      if (!s.success) return malformed('Plex libraries: unexpected answer from the server (field Directory)');
      libraries.push({ id: s.data.key, name: s.data.title, type: PLEX_LIBRARY_TYPES[s.data.type] ?? 'other' });
    }
    return { ok: true, value: libraries };
  });
}

// ---- PMS WebSocket frames ---------------------------------------------------------------------

export interface PlexNotification {
  type: string;
  /** A hint for the monitor: timeline/library activity means "libraries may have changed". */
  hint: 'library_changed' | 'other';
}
const notificationSchema = z.object({
  NotificationContainer: z.looseObject({ type: z.string().min(1) }),
});
export function parsePlexNotification(body: unknown): Parsed<PlexNotification> {
  return chain(decodeJson(body), (v) => {
    const r = validate(notificationSchema, v, 'Plex notification');
    if (!r.ok) return r;
    const type = r.value.NotificationContainer.type;
    // timeline entries with state 5 (done) or 9 (deleted) change library contents.
    const entries = (r.value.NotificationContainer as Record<string, unknown>)['TimelineEntry'];
    const libraryChange =
      type === 'timeline' && Array.isArray(entries) && entries.some((e) => e && typeof e === 'object' && [5, 9].includes((e as { state?: unknown }).state as number));
    return { ok: true, value: { type, hint: libraryChange ? 'library_changed' : 'other' } };
  });
}
