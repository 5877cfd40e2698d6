// The `Authorization: MediaBrowser …` header, read the way Jellyfin's AuthorizationContext reads it:
// scheme case-insensitive, comma-separated pairs, optional quotes, URL-decoded values; then the
// token looked up in the server's order, with legacy forms only when legacy auth is enabled.
import type { IncomingMessage } from 'node:http';
import { header, queryParam } from './http-util.js';

export interface JellyfinAuthInfo {
  client?: string;
  device?: string;
  deviceId?: string;
  version?: string;
  token?: string;
  /** The header (or legacy header) was present and used a recognised scheme. */
  hasHeader: boolean;
}

/** Parses one header value; undefined when the scheme is not accepted. */
export function parseMediaBrowserHeader(value: string, legacy: boolean): Map<string, string> | undefined {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  if (space <= 0) return undefined;
  const scheme = trimmed.slice(0, space).toLowerCase();
  if (scheme !== 'mediabrowser' && !(legacy && scheme === 'emby')) return undefined;
  const pairs = new Map<string, string>();
  for (const part of splitPairs(trimmed.slice(space + 1))) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let raw = part.slice(eq + 1).trim();
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    pairs.set(key, safeDecode(raw));
  }
  return pairs;
}

/** Splits on commas outside double quotes. */
function splitPairs(input: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of input) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function readJellyfinAuth(req: IncomingMessage, url: URL, legacy: boolean): JellyfinAuthInfo {
  let raw = header(req, 'authorization');
  if (!raw && legacy) raw = header(req, 'x-emby-authorization');
  const pairs = raw ? parseMediaBrowserHeader(raw, legacy) : undefined;
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const token =
    nonEmpty(pairs?.get('token')) ??
    (legacy ? nonEmpty(header(req, 'x-emby-token')) ?? nonEmpty(header(req, 'x-mediabrowser-token')) : undefined) ??
    nonEmpty(queryParam(url, 'ApiKey')) ??
    (legacy ? nonEmpty(queryParam(url, 'api_key')) : undefined);
  const info: JellyfinAuthInfo = { hasHeader: pairs !== undefined };
  const set = (key: 'client' | 'device' | 'deviceId' | 'version', value: string | undefined) => {
    if (value) info[key] = value;
  };
  set('client', pairs?.get('client'));
  set('device', pairs?.get('device'));
  set('deviceId', pairs?.get('deviceid'));
  set('version', pairs?.get('version'));
  if (token) info.token = token;
  return info;
}
