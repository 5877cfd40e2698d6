// Plex: the LibraryBrowser (issue 14). Every call goes to the route the caller chose, with the
// per-server token in the X-Plex-Token header — never in a URL (the image URL below carries only
// the server's own thumb path). JSON answers through plex/library-parsers.ts; library pages and
// images may be up to 8 MB (the probes keep the client's 1 MB cap).
//
// Music libraries list ALBUMS (`type=9`), the poster grid the UI shows; artists are reached from an
// album's detail through its parent. Plex lists artists by default, so the section's type must be
// known: it is remembered from `/library/sections` (read by `libraries()` or, once, on demand).
import { performance } from 'node:perf_hooks';
import type { LibraryItem } from '../../core/library.js';
import type { ProbeError } from '../../core/types.js';
import { classifyStatus, describeHost, type HttpClient, type HttpRequest } from '../http.js';
import { IMAGE_MAX_BODY_BYTES, LIBRARY_MAX_BODY_BYTES, checkImage } from '../images.js';
import type { Parsed } from '../parse.js';
import type { BrowseResult, CallOptions, ImageBody, ItemDetail, ItemPage, ItemsQuery, LibraryBrowser, RouteContext } from '../types.js';
import type { ImageRef } from '../../core/library.js';
import { parsePlexContinueWatching, parsePlexItemDetail, parsePlexItemPage, parsePlexItems, parsePlexSearch } from './library-parsers.js';
import { parsePmsSections } from './parsers.js';

/** Plex's numeric type of albums (`/library/sections/{id}/all?type=9`). */
const PLEX_ALBUM_TYPE = '9';
/** Items whose children `/library/metadata/{id}/children` lists. */
const CONTAINER_TYPES = new Set<LibraryItem['type']>(['show', 'season', 'artist', 'album', 'folder']);
/** Sections remembered per server (bounded: a server has a handful). */
const MAX_REMEMBERED_SERVERS = 10_000;

export interface PlexBrowseConfig {
  http: HttpClient;
  /** Plex's client headers (Accept JSON, product, client identifier) plus the token header. */
  headers: (token: string) => Record<string, string>;
}

type Raw = { ok: true; status: number; headers: Record<string, string>; body: string } | { ok: false; error: ProbeError };

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

export class PlexLibraryBrowser implements LibraryBrowser {
  /** serverId → section key → Plex section type (`movie`, `show`, `artist`, `photo`). */
  private readonly sectionTypes = new Map<string, Map<string, string>>();

  constructor(private readonly config: PlexBrowseConfig) {}

  /** Remember what `/library/sections` said (called by PlexBackend.libraries too). */
  rememberSections(serverId: string, sections: ReadonlyMap<string, string>): void {
    if (this.sectionTypes.size >= MAX_REMEMBERED_SERVERS && !this.sectionTypes.has(serverId)) this.sectionTypes.clear();
    this.sectionTypes.set(serverId, new Map(sections));
  }

  private async get(call: RouteContext, path: string, options: CallOptions, extraHeaders: Record<string, string> = {}, maxBodyBytes = LIBRARY_MAX_BODY_BYTES): Promise<Raw> {
    const url = joinUrl(call.route.url, path);
    const req: HttpRequest = {
      url,
      headers: { ...this.config.headers(call.credentials.token), ...extraHeaders },
      timeoutMs: options.timeoutMs,
      maxBodyBytes,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const res = await this.config.http.request(req);
    if (!res.ok) return res;
    const statusError = classifyStatus(res.status, url, res.headers);
    if (statusError) return { ok: false, error: statusError };
    return { ok: true, status: res.status, headers: res.headers, body: res.body };
  }

  private async getParsed<T>(call: RouteContext, path: string, parse: (body: string) => Parsed<T>, options: CallOptions, extraHeaders?: Record<string, string>): Promise<BrowseResult<T> & { headers?: Record<string, string> }> {
    const res = await this.get(call, path, options, extraHeaders);
    if (!res.ok) return res;
    const parsed = parse(res.body);
    if (!parsed.ok) return { ok: false, error: { ...parsed.error, message: `${describeHost(call.route.url)}: ${parsed.error.message}` } };
    return { ok: true, value: parsed.value, headers: res.headers };
  }

  /** The Plex type of a section, from memory or (once) from `/library/sections`; null when unknown. */
  private async sectionType(call: RouteContext, libraryId: string, options: CallOptions): Promise<string | null> {
    const known = this.sectionTypes.get(call.target.serverId)?.get(libraryId);
    if (known) return known;
    const r = await this.getParsed(call, '/library/sections', (b) => parsePmsSections(b), options);
    if (!r.ok) return null;
    // parsePmsSections normalises types; music is the one that changes what /all lists.
    const types = new Map(r.value.map((l) => [l.id, l.type === 'music' ? 'artist' : l.type]));
    this.rememberSections(call.target.serverId, types);
    return types.get(libraryId) ?? null;
  }

  /**
   * `GET /library/sections/{id}/all`, paged with `X-Plex-Container-Start`/`-Size` headers, sorted by
   * titleSort for a stable order; `changedSinceMs` → `updatedAt>>=<epoch s − 1>` (Plex's "after";
   * one second earlier so "at or after" holds at second resolution). The answer is returned as the
   * server gave it — a page that claims a total but holds nothing, or repeats a start, is not
   * corrected here: callers bound their own loops. `skipped` counts unreadable items.
   */
  async items(call: RouteContext, query: ItemsQuery, options: CallOptions): Promise<BrowseResult<ItemPage>> {
    const start = Math.max(0, Math.floor(query.start));
    const limit = Math.max(0, Math.floor(query.limit));
    const params = new URLSearchParams();
    const budget = withinBudget(options);
    const sectionType = await this.sectionType(call, query.libraryId, budget());
    if (sectionType === 'artist') params.set('type', PLEX_ALBUM_TYPE);
    params.set('sort', 'titleSort');
    if (query.changedSinceMs !== undefined && Number.isFinite(query.changedSinceMs)) params.set('updatedAt>>', String(Math.max(0, Math.floor(query.changedSinceMs / 1000) - 1)));
    const path = `/library/sections/${encodeURIComponent(query.libraryId)}/all?${params.toString()}`;
    const r = await this.getParsed(call, path, parsePlexItemPage, budget(), { 'x-plex-container-start': String(start), 'x-plex-container-size': String(limit) });
    if (!r.ok) return r;
    const headerTotal = Number(r.headers?.['x-plex-container-total-size']);
    const headerStart = Number(r.headers?.['x-plex-container-start']);
    const total = r.value.total ?? (Number.isSafeInteger(headerTotal) && headerTotal >= 0 ? headerTotal : start + r.value.items.length);
    const pageStart = r.value.offset ?? (Number.isSafeInteger(headerStart) && headerStart >= 0 ? headerStart : start);
    const items = r.value.items.map((i) => (i.libraryId === null ? { ...i, libraryId: query.libraryId } : i));
    return { ok: true, value: { items, total, start: pageStart, ...(r.value.skipped > 0 ? { skipped: r.value.skipped } : {}) } };
  }

  /** `GET /library/metadata/{id}`, plus `/children` for shows, seasons, artists, albums and folders. */
  async item(call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<ItemDetail>> {
    const id = encodeURIComponent(itemId);
    const budget = withinBudget(options);
    const r = await this.getParsed(call, `/library/metadata/${id}`, parsePlexItemDetail, budget());
    if (!r.ok) return r;
    if (!CONTAINER_TYPES.has(r.value.type)) return { ok: true, value: { item: r.value, children: [] } };
    const children = await this.getParsed(call, `/library/metadata/${id}/children`, (b) => parsePlexItems(b, 'Plex item children'), budget());
    if (!children.ok) return children;
    // Children inherit the parent's library when the server leaves it out.
    const list = children.value.items.map((c) => ({ ...c, libraryId: c.libraryId ?? r.value.libraryId, parentId: c.parentId ?? r.value.id }));
    return { ok: true, value: { item: r.value, children: list } };
  }

  /** `GET /hubs/continueWatching`; servers without it (404) answer `/library/onDeck`. */
  async continueWatching(call: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const size = { 'x-plex-container-start': '0', 'x-plex-container-size': String(Math.max(0, Math.floor(limit))) };
    const budget = withinBudget(options);
    let r = await this.getParsed(call, `/hubs/continueWatching?count=${Math.max(0, Math.floor(limit))}`, parsePlexContinueWatching, budget(), size);
    if (!r.ok && r.error.status === 404) r = await this.getParsed(call, '/library/onDeck', (b) => parsePlexItems(b, 'Plex on deck'), budget(), size);
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /** `GET /library/recentlyAdded`, the first `limit` entries. */
  async recentlyAdded(call: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const size = { 'x-plex-container-start': '0', 'x-plex-container-size': String(Math.max(0, Math.floor(limit))) };
    const r = await this.getParsed(call, '/library/recentlyAdded', (b) => parsePlexItems(b, 'Plex recently added'), options, size);
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /** `GET /hubs/search?query&limit`: hubs flattened, movies/shows/episodes/artists/albums/tracks/photos kept, at most `limit`. */
  async search(call: RouteContext, query: string, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const params = new URLSearchParams({ query: query.slice(0, 200), limit: String(Math.max(1, Math.floor(limit))) });
    const r = await this.getParsed(call, `/hubs/search?${params.toString()}`, parsePlexSearch, options);
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /**
   * `GET /photo/:/transcode?url=<thumb path>&width&height&minSize=1&upscale=1`: Plex resizes. The
   * ref must be a server-relative path (never a URL, so nothing but the server's own images is
   * fetched); the token goes in the header. Height defaults to the kind's shape (2:3 poster, 16:9
   * backdrop). Type-checked against the magic bytes, 8 MB at most, ETag passed through.
   */
  async image(call: RouteContext, ref: ImageRef, size: { width: number; height?: number }, options: CallOptions): Promise<BrowseResult<ImageBody>> {
    const host = describeHost(call.route.url);
    if (!/^\/(?!\/)[\x21-\x7e]{0,999}$/.test(ref.path) || ref.path.includes('..')) {
      return { ok: false, error: { code: 'malformed', message: `${host}: the image reference is not a path on the server` } };
    }
    const width = clampDimension(size.width);
    const height = size.height !== undefined ? clampDimension(size.height) : clampDimension(ref.kind === 'backdrop' ? (width * 9) / 16 : width * 1.5);
    const params = new URLSearchParams({ url: ref.path, width: String(width), height: String(height), minSize: '1', upscale: '1' });
    const url = joinUrl(call.route.url, `/photo/:/transcode?${params.toString()}`);
    const headers = { ...this.config.headers(call.credentials.token), accept: 'image/jpeg,image/png,image/webp,image/gif;q=0.9,*/*;q=0.1' };
    const res = await this.config.http.requestBytes({ url, headers, timeoutMs: options.timeoutMs, maxBodyBytes: IMAGE_MAX_BODY_BYTES, ...(options.signal ? { signal: options.signal } : {}) });
    if (!res.ok) return res;
    const statusError = classifyStatus(res.status, url, res.headers);
    if (statusError) return { ok: false, error: statusError };
    return checkImage(host, res.headers, res.bytes);
  }
}

/** Calls made for one method share its timeout: each gets what is left of it. */
function withinBudget(options: CallOptions): () => CallOptions {
  const deadline = performance.now() + options.timeoutMs;
  return () => ({ ...options, timeoutMs: Math.max(1, Math.round(deadline - performance.now())) });
}

/** A requested dimension as Plex takes it: a whole number of pixels, 16–4000. */
export function clampDimension(n: number): number {
  return Number.isFinite(n) ? Math.min(4000, Math.max(16, Math.round(n))) : 300;
}
