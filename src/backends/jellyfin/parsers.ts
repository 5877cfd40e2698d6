// Pure parsers for Jellyfin answers and WebSocket frames. Input: the raw body string or a JSON
// value already decoded by axios. Output: a typed value or a typed `malformed` error; never throws.
import { z } from 'zod';
import type { Library, LibraryType } from '../../core/types.js';
import { chain, decodeJson, validate, type Parsed } from '../parse.js';

// Jellyfin ids are 32 hex without dashes; older servers and some proxies send dashed GUIDs.
const jfId = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
  .transform((s) => s.replace(/-/g, '').toLowerCase());

export interface JellyfinServerInfo {
  id: string;
  name: string;
  version: string;
  productName?: string;
  localAddress?: string;
  startupWizardCompleted?: boolean;
}
const infoSchema = z.object({
  Id: jfId,
  ServerName: z.string().optional(),
  Version: z.string().optional(),
  ProductName: z.string().optional(),
  LocalAddress: z.string().optional(),
  StartupWizardCompleted: z.boolean().optional(),
});
/** `/System/Info/Public` and `/System/Info` (the latter is a superset). */
export function parseJellyfinInfo(body: unknown): Parsed<JellyfinServerInfo> {
  return chain(decodeJson(body), (v) => {
    const r = validate(infoSchema, v, 'Jellyfin server info');
    if (!r.ok) return r;
    const d = r.value;
    return {
      ok: true,
      value: {
        id: d.Id,
        name: d.ServerName ?? 'Jellyfin',
        version: d.Version ?? '',
        ...(d.ProductName !== undefined ? { productName: d.ProductName } : {}),
        ...(d.LocalAddress ? { localAddress: d.LocalAddress } : {}),
        ...(d.StartupWizardCompleted !== undefined ? { startupWizardCompleted: d.StartupWizardCompleted } : {}),
      },
    };
  });
}

export interface JellyfinAuthResult {
  accessToken: string;
  serverId: string;
  userId: string;
  userName: string;
}
const authSchema = z.object({
  AccessToken: z.string().min(1),
  ServerId: jfId,
  User: z.object({ Id: jfId, Name: z.string() }),
});
/** `POST /Users/AuthenticateByName` and `/Users/AuthenticateWithQuickConnect`. */
export function parseJellyfinAuth(body: unknown): Parsed<JellyfinAuthResult> {
  return chain(decodeJson(body), (v) => {
    const r = validate(authSchema, v, 'Jellyfin sign-in');
    return r.ok
      ? { ok: true, value: { accessToken: r.value.AccessToken, serverId: r.value.ServerId, userId: r.value.User.Id, userName: r.value.User.Name } }
      : r;
  });
}

const JF_LIBRARY_TYPES: Record<string, LibraryType> = {
  movies: 'movie',
  tvshows: 'show',
  music: 'music',
  photos: 'photo',
  homevideos: 'photo',
};
const viewSchema = z.object({ Id: z.string().min(1), Name: z.string(), CollectionType: z.string().optional() });
const viewsSchema = z.object({ Items: z.array(z.unknown()) });
/** `/UserViews` (or legacy `/Users/{id}/Views`). A mixed library has no CollectionType → other. */
export function parseJellyfinViews(body: unknown): Parsed<Library[]> {
  return chain(decodeJson(body), (v) => {
    const r = validate(viewsSchema, v, 'Jellyfin libraries');
    if (!r.ok) return r;
    const out: Library[] = [];
    for (const [i, item] of r.value.Items.entries()) {
      const p = validate(viewSchema, item, `Jellyfin libraries (item ${i})`);
      if (!p.ok) return p;
      out.push({ id: p.value.Id, name: p.value.Name, type: JF_LIBRARY_TYPES[p.value.CollectionType ?? ''] ?? 'other' });
    }
    return { ok: true, value: out };
  });
}

export interface JellyfinQuickConnect {
  authenticated: boolean;
  secret: string;
  code: string;
}
const qcSchema = z.object({ Authenticated: z.boolean(), Secret: z.string().min(1), Code: z.string().min(1) });
/** `/QuickConnect/Initiate` and `/QuickConnect/Connect`. */
export function parseJellyfinQuickConnect(body: unknown): Parsed<JellyfinQuickConnect> {
  return chain(decodeJson(body), (v) => {
    const r = validate(qcSchema, v, 'Jellyfin Quick Connect');
    return r.ok ? { ok: true, value: { authenticated: r.value.Authenticated, secret: r.value.Secret, code: r.value.Code } } : r;
  });
}

/** `/QuickConnect/Enabled` — a bare JSON boolean. */
export function parseJellyfinBoolean(body: unknown): Parsed<boolean> {
  return chain(decodeJson(body), (v) => validate(z.boolean(), v, 'Jellyfin answer'));
}

export type JellyfinSocketMessage =
  | { type: 'ForceKeepAlive'; seconds: number }
  | { type: 'KeepAlive' }
  | { type: 'ServerShuttingDown' }
  | { type: 'ServerRestarting' }
  | { type: 'LibraryChanged' }
  | { type: 'other'; messageType: string };

const socketSchema = z.object({ MessageType: z.string().min(1), Data: z.unknown().optional() });
/** Server → client frames `{MessageType, MessageId, Data?}`. */
export function parseJellyfinSocketMessage(body: unknown): Parsed<JellyfinSocketMessage> {
  return chain(decodeJson(body), (v): Parsed<JellyfinSocketMessage> => {
    const r = validate(socketSchema, v, 'Jellyfin socket message');
    if (!r.ok) return r;
    const { MessageType: type, Data: data } = r.value;
    switch (type) {
      case 'ForceKeepAlive': {
        const n = typeof data === 'number' ? data : typeof data === 'string' ? Number(data) : NaN;
        // Data is seconds until the socket counts as lost; clamp to something sane.
        const seconds = Number.isFinite(n) && n >= 1 && n <= 3600 ? n : 60;
        return { ok: true, value: { type, seconds } };
      }
      case 'KeepAlive':
      case 'ServerShuttingDown':
      case 'ServerRestarting':
      case 'LibraryChanged':
        return { ok: true, value: { type } };
      default:
        return { ok: true, value: { type: 'other', messageType: type.slice(0, 64) } };
    }
  });
}
