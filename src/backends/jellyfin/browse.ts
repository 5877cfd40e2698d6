// Jellyfin: the LibraryBrowser (issue 14), through @jellyfin/sdk's generated APIs (LibraryApi for
// /Items, /Items/{id}, /Items/Latest and /UserItems/Resume; ShowApi for seasons and episodes;
// ImageApi for images — SDK 1.0's names for what older SDKs called ItemsApi, TvShowsApi and
// UserLibraryApi) over the safe axios instance, so every call keeps the HTTP client's guarantees.
// The token travels in the SDK's Authorization header only, never in a URL.
//
// What a library lists (one call whatever the library's CollectionType): `recursive=true` with
// `includeItemTypes=Movie,Series,MusicAlbum,Photo,Video,MusicVideo` — movies, shows, music ALBUMS
// (the poster grid; Jellyfin's artists are by-name items outside the library tree), photos and home
// videos, never seasons, episodes, tracks or folders (those are reached from their parent).
import { performance } from 'node:perf_hooks';
import type { Api } from '@jellyfin/sdk';
import { BaseItemKind } from '@jellyfin/sdk/lib/generated-client/models/base-item-kind.js';
import type { ImageType } from '@jellyfin/sdk/lib/generated-client/models/image-type.js';
import { ItemFields } from '@jellyfin/sdk/lib/generated-client/models/item-fields.js';
import { ItemSortBy } from '@jellyfin/sdk/lib/generated-client/models/item-sort-by.js';
import { MediaType } from '@jellyfin/sdk/lib/generated-client/models/media-type.js';
import { SortOrder } from '@jellyfin/sdk/lib/generated-client/models/sort-order.js';
import { getImageApi } from '@jellyfin/sdk/lib/utils/api/image-api.js';
import { getLibraryApi } from '@jellyfin/sdk/lib/utils/api/library-api.js';
import { getShowApi } from '@jellyfin/sdk/lib/utils/api/show-api.js';
import type { AxiosResponse } from 'axios';
import type { ImageRef, LibraryItem } from '../../core/library.js';
import { probeErrorFromAxios } from '../axios.js';
import { describeHost } from '../http.js';
import { IMAGE_MAX_BODY_BYTES, LIBRARY_MAX_BODY_BYTES, checkImage } from '../images.js';
import type { BrowseResult, CallOptions, ImageBody, ImageSize, ItemDetail, ItemPage, ItemsQuery, LibraryBrowser, RouteContext } from '../types.js';
import { parseJellyfinItemArray, parseJellyfinItemDetail, parseJellyfinItemPage } from './library-parsers.js';
import { sdkCall } from './sdk-call.js';

export const LIBRARY_ITEM_TYPES = [BaseItemKind.Movie, BaseItemKind.Series, BaseItemKind.MusicAlbum, BaseItemKind.Photo, BaseItemKind.Video, BaseItemKind.MusicVideo];
const SEARCH_ITEM_TYPES = [BaseItemKind.Movie, BaseItemKind.Series, BaseItemKind.Episode, BaseItemKind.MusicArtist, BaseItemKind.MusicAlbum, BaseItemKind.Audio, BaseItemKind.Photo];
/** Fields for lists (no People: `/Items/{id}` brings the cast). DateLastSaved is asked for though 10.11 leaves it out. */
const LIST_FIELDS = [ItemFields.Overview, ItemFields.Genres, ItemFields.DateCreated, ItemFields.DateLastSaved, ItemFields.SortName, ItemFields.ChildCount, ItemFields.ParentId];
/** Children of one item at most (a folder could hold more; the detail page shows the first ones). */
export const MAX_CHILDREN = 2000;

export interface JellyfinBrowseConfig {
  /** An SDK Api for the route, with the source's token and DeviceId. */
  api: (call: RouteContext) => Api;
}

type Options = { timeout: number; signal?: AbortSignal; maxContentLength: number };
const requestOptions = (options: CallOptions): Options => ({ timeout: options.timeoutMs, maxContentLength: LIBRARY_MAX_BODY_BYTES, ...(options.signal ? { signal: options.signal } : {}) });

const IMAGE_PATH = /^\/Items\/([A-Za-z0-9_-]{1,64})\/Images\/(Primary|Backdrop|Thumb|Art|Banner|Logo)$/;

export class JellyfinLibraryBrowser implements LibraryBrowser {
  constructor(private readonly config: JellyfinBrowseConfig) {}

  /**
   * `GET /Items?userId&parentId&recursive=true&includeItemTypes…&sortBy=SortName&startIndex&limit
   * &enableUserData=true&fields…&minDateLastSaved` (ISO, for incremental sync). Returned as the
   * server gave it: a page that claims a total but holds nothing, or repeats a start, is not
   * corrected here — callers bound their own loops. `skipped` counts unreadable items.
   */
  async items(route: RouteContext, query: ItemsQuery, options: CallOptions): Promise<BrowseResult<ItemPage>> {
    const api = this.config.api(route);
    const start = Math.max(0, Math.floor(query.start));
    const since = query.changedSinceMs !== undefined && Number.isFinite(query.changedSinceMs) ? new Date(Math.max(0, query.changedSinceMs)).toISOString() : undefined;
    const r = await sdkCall(
      () =>
        getLibraryApi(api).getItems(
          {
            ...userOf(route),
            parentId: query.libraryId,
            recursive: true,
            includeItemTypes: LIBRARY_ITEM_TYPES,
            sortBy: [ItemSortBy.SortName],
            sortOrder: [SortOrder.Ascending],
            fields: LIST_FIELDS,
            enableUserData: true,
            enableTotalRecordCount: true,
            startIndex: start,
            limit: Math.max(0, Math.floor(query.limit)),
            ...(since ? { minDateLastSaved: since } : {}),
          },
          requestOptions(options),
        ),
      (body) => parseJellyfinItemPage(body, query.libraryId, 'Jellyfin library items'),
      route.route.url,
    );
    if (!r.ok) return r;
    const page = r.value;
    return { ok: true, value: { items: page.items, total: page.total ?? start + page.items.length, start: page.start ?? start, ...(page.skipped > 0 ? { skipped: page.skipped } : {}) } };
  }

  /**
   * `GET /Items/{id}` and its children: a show's seasons (`/Shows/{id}/Seasons`), a season's
   * episodes (`/Shows/{seriesId}/Episodes?seasonId`), an artist's albums, an album's tracks or a
   * folder's contents (`/Items?parentId`, at most MAX_CHILDREN).
   */
  async item(route: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<ItemDetail>> {
    const api = this.config.api(route);
    const url = route.route.url;
    const started = performance.now();
    const detail = await sdkCall(() => getLibraryApi(api).getItem({ itemId, ...userOf(route) }, requestOptions(options)), parseJellyfinItemDetail, url);
    if (!detail.ok) return detail;
    // The children call gets what is left of the method's timeout.
    const opts = requestOptions({ ...options, timeoutMs: Math.max(1, Math.round(options.timeoutMs - (performance.now() - started))) });
    const item = detail.value;
    const childList = (body: unknown) => parseJellyfinItemPage(body, null, 'Jellyfin item children');
    const common = { ...userOf(route), fields: LIST_FIELDS, enableUserData: true };
    let children: BrowseResult<{ items: LibraryItem[] }> = { ok: true, value: { items: [] } };
    switch (item.type) {
      case 'show':
        children = await sdkCall(() => getShowApi(api).getSeasons({ seriesId: item.id, ...common }, opts), childList, url);
        break;
      case 'season':
        children = item.parentId
          ? await sdkCall(() => getShowApi(api).getEpisodes({ seriesId: item.parentId ?? '', seasonId: item.id, ...common, limit: MAX_CHILDREN }, opts), childList, url)
          : await sdkCall(() => getLibraryApi(api).getItems({ parentId: item.id, ...common, limit: MAX_CHILDREN }, opts), childList, url);
        break;
      case 'artist':
        children = await sdkCall(
          () => getLibraryApi(api).getItems({ artistIds: [item.id], includeItemTypes: [BaseItemKind.MusicAlbum], recursive: true, sortBy: [ItemSortBy.ProductionYear, ItemSortBy.SortName], ...common, limit: MAX_CHILDREN }, opts),
          childList,
          url,
        );
        break;
      case 'album':
        children = await sdkCall(() => getLibraryApi(api).getItems({ parentId: item.id, sortBy: [ItemSortBy.ParentIndexNumber, ItemSortBy.IndexNumber, ItemSortBy.SortName], ...common, limit: MAX_CHILDREN }, opts), childList, url);
        break;
      case 'folder':
        children = await sdkCall(() => getLibraryApi(api).getItems({ parentId: item.id, sortBy: [ItemSortBy.SortName], ...common, limit: MAX_CHILDREN }, opts), childList, url);
        break;
      case 'movie':
      case 'episode':
      case 'track':
      case 'photo':
      case 'video':
      case 'other':
        break;
    }
    if (!children.ok) return children;
    return { ok: true, value: { item, children: children.value.items } };
  }

  /** `GET /UserItems/Resume?userId&limit&mediaTypes=Video`: what the user started watching. */
  async continueWatching(route: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const api = this.config.api(route);
    const r = await sdkCall(
      () => getLibraryApi(api).getResumeItems({ ...userOf(route), limit: Math.max(0, Math.floor(limit)), mediaTypes: [MediaType.Video], fields: LIST_FIELDS, enableUserData: true }, requestOptions(options)),
      (body) => parseJellyfinItemPage(body, null, 'Jellyfin continue watching'),
      route.route.url,
    );
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /** `GET /Items/Latest?userId&limit` (a bare array; episodes grouped into their show as Jellyfin does). */
  async recentlyAdded(route: RouteContext, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const api = this.config.api(route);
    const r = await sdkCall(
      () => getLibraryApi(api).getLatestMedia({ ...userOf(route), limit: Math.max(0, Math.floor(limit)), fields: LIST_FIELDS, enableUserData: true }, requestOptions(options)),
      (body) => parseJellyfinItemArray(body),
      route.route.url,
    );
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /** `GET /Items?searchTerm&recursive=true&includeItemTypes…&limit` (full items, unlike /Search/Hints). */
  async search(route: RouteContext, query: string, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    const api = this.config.api(route);
    const r = await sdkCall(
      () =>
        getLibraryApi(api).getItems(
          { ...userOf(route), searchTerm: query.slice(0, 200), recursive: true, includeItemTypes: SEARCH_ITEM_TYPES, limit: Math.max(1, Math.floor(limit)), fields: LIST_FIELDS, enableUserData: true },
          requestOptions(options),
        ),
      (body) => parseJellyfinItemPage(body, null, 'Jellyfin search'),
      route.route.url,
    );
    return r.ok ? { ok: true, value: r.value.items.slice(0, limit) } : r;
  }

  /**
   * `GET /Items/{id}/Images/{type}?maxWidth&maxHeight&tag&quality=90`: Jellyfin resizes. The ref
   * must be an `/Items/{id}/Images/{type}` path; bytes type-checked, 8 MB at most, ETag passed through.
   */
  async image(route: RouteContext, ref: ImageRef, size: ImageSize, options: CallOptions): Promise<BrowseResult<ImageBody>> {
    const host = describeHost(route.route.url);
    const m = IMAGE_PATH.exec(ref.path);
    if (!m?.[1] || !m[2]) return { ok: false, error: { code: 'malformed', message: `${host}: the image reference is not a Jellyfin item image` } };
    const api = this.config.api(route);
    let res: AxiosResponse<unknown>;
    try {
      res = await getImageApi(api).getItemImage(
        {
          itemId: m[1],
          imageType: m[2] as ImageType,
          maxWidth: clamp(size.width),
          ...(size.height !== undefined ? { maxHeight: clamp(size.height) } : {}),
          quality: 90,
          ...(ref.tag ? { tag: ref.tag } : {}),
        },
        { timeout: options.timeoutMs, maxContentLength: IMAGE_MAX_BODY_BYTES, responseType: 'arraybuffer', ...(options.signal ? { signal: options.signal } : {}) },
      );
    } catch (err) {
      return { ok: false, error: probeErrorFromAxios(err) };
    }
    const bytes = res.data instanceof Uint8Array ? res.data : null;
    if (!bytes) return { ok: false, error: { code: 'malformed', message: `${host} sent an image that could not be read` } };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers as Record<string, unknown>)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return checkImage(host, headers, bytes);
  }
}

function userOf(route: RouteContext): { userId?: string } {
  return route.credentials.userId ? { userId: route.credentials.userId } : {};
}

function clamp(n: number): number {
  return Number.isFinite(n) ? Math.min(4000, Math.max(16, Math.round(n))) : 300;
}
