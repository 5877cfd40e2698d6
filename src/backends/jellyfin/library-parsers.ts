// Pure parsers for Jellyfin library answers (issue 14): `BaseItemDtoQueryResult` (`/Items`,
// `/UserItems/Resume`, `/Shows/{id}/Seasons`, `/Shows/{id}/Episodes`), a bare `BaseItemDto[]`
// (`/Items/Latest`) and one `BaseItemDto` (`/Items/{id}`). Input: the body string or the JSON
// value axios decoded. Skip/fail policy in ../library-parse.ts. Never throws (fuzzed).
import { z } from 'zod';
import type { ItemType, LibraryItem } from '../../core/library.js';
import {
  MAX_CAST,
  MAX_GENRES,
  MAX_OVERVIEW,
  MAX_TITLE,
  andThen,
  blankItem,
  countOrNull,
  imageRef,
  isoToMs,
  lenient,
  parseItemList,
  positiveMsOrNull,
  ratingOrNull,
  text,
  yearOrNull,
  type ParsedItems,
} from '../library-parse.js';
import { chain, decodeJson, malformed, validate, type Parsed } from '../parse.js';

const JF_ITEM_TYPES: Record<string, ItemType> = {
  Movie: 'movie',
  Series: 'show',
  Season: 'season',
  Episode: 'episode',
  MusicArtist: 'artist',
  MusicAlbum: 'album',
  Audio: 'track',
  Photo: 'photo',
  Video: 'video',
  MusicVideo: 'video',
  Folder: 'folder',
  CollectionFolder: 'folder',
  BoxSet: 'folder',
  PhotoAlbum: 'folder',
};

/** Ids go into URL paths (`/Items/{id}/Images/Primary`): a conservative alphabet (Jellyfin: 32 hex). */
const itemId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const ticks = z.number().finite();
const str = z.string();
const userDataSchema = z.object({
  Played: lenient(z.boolean()),
  PlaybackPositionTicks: lenient(ticks),
  LastPlayedDate: lenient(str),
});
const personSchema = z.object({ Name: text(200).pipe(z.string().min(1)), Role: lenient(text(200)), Type: lenient(str) });

const itemSchema = z.object({
  Id: itemId,
  Type: z.string().min(1).max(40),
  Name: text(MAX_TITLE),
  SortName: lenient(text(MAX_TITLE)),
  ProductionYear: lenient(z.number()),
  DateCreated: lenient(str),
  // Not in the 10.11 BaseItemDto schema; read when a server sends it anyway.
  DateLastSaved: lenient(str),
  CommunityRating: lenient(z.number()),
  RunTimeTicks: lenient(ticks),
  Overview: lenient(text(MAX_OVERVIEW)),
  Genres: lenient(z.array(z.unknown())),
  People: lenient(z.array(z.unknown())),
  IndexNumber: lenient(z.number()),
  ParentIndexNumber: lenient(z.number()),
  SeasonName: lenient(text(MAX_TITLE)),
  SeriesName: lenient(text(MAX_TITLE)),
  Album: lenient(text(MAX_TITLE)),
  AlbumArtist: lenient(text(MAX_TITLE)),
  ChildCount: lenient(z.number()),
  UserData: lenient(userDataSchema),
  ImageTags: lenient(z.record(z.string(), z.unknown())),
  BackdropImageTags: lenient(z.array(z.unknown())),
  ParentBackdropItemId: lenient(itemId),
  ParentBackdropImageTags: lenient(z.array(z.unknown())),
  ImageBlurHashes: lenient(z.record(z.string(), z.unknown())),
  SeasonId: lenient(itemId),
  SeriesId: lenient(itemId),
  AlbumId: lenient(itemId),
  AlbumArtists: lenient(z.array(z.unknown())),
  ParentId: lenient(itemId),
});

const tag = z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/);
const firstTag = (list: unknown[] | undefined): string | undefined => {
  const p = tag.safeParse(list?.[0]);
  return p.success ? p.data : undefined;
};
const TICKS_PER_MS = 10_000;
const ticksToMs = (t: number | undefined) => (t === undefined ? null : positiveMsOrNull(t / TICKS_PER_MS));

/** One `BaseItemDto` → a LibraryItem, or null when its identity is unusable. `libraryId` when the caller knows it. */
export function jellyfinItem(raw: unknown, libraryId: string | null = null): LibraryItem | null {
  const r = itemSchema.safeParse(raw);
  if (!r.success) return null;
  const d = r.data;
  const type = JF_ITEM_TYPES[d.Type] ?? 'other';
  const primaryTag = tag.safeParse(d.ImageTags?.['Primary']);
  const blurhashes = d.ImageBlurHashes?.['Primary'];
  const blurhash =
    primaryTag.success && blurhashes && typeof blurhashes === 'object' ? (blurhashes as Record<string, unknown>)[primaryTag.data] : undefined;
  const ownBackdrop = firstTag(d.BackdropImageTags);
  const parentBackdrop = d.ParentBackdropItemId ? firstTag(d.ParentBackdropImageTags) : undefined;
  const albumArtist = z.object({ Id: itemId }).safeParse(d.AlbumArtists?.[0]);
  const parentId = type === 'episode' ? (d.SeasonId ?? d.ParentId) : type === 'season' ? (d.SeriesId ?? d.ParentId) : type === 'track' ? (d.AlbumId ?? d.ParentId) : type === 'album' && albumArtist.success ? albumArtist.data.Id : undefined;
  const genres = (d.Genres ?? []).filter((g): g is string => typeof g === 'string' && g.length > 0).slice(0, MAX_GENRES).map((g) => g.slice(0, 200));
  const cast = (d.People ?? []).slice(0, MAX_CAST * 4).flatMap((p) => {
    const q = personSchema.safeParse(p);
    // Crew (directors, writers) is not cast.
    return q.success && (q.data.Type === undefined || q.data.Type === 'Actor' || q.data.Type === 'GuestStar') ? [{ name: q.data.Name, ...(q.data.Role ? { role: q.data.Role } : {}) }] : [];
  }).slice(0, MAX_CAST);
  const position = ticksToMs(d.UserData?.PlaybackPositionTicks);
  return {
    ...blankItem(d.Id, type, d.Name),
    libraryId,
    parentId: parentId ?? null,
    sortTitle: d.SortName || d.Name,
    year: yearOrNull(d.ProductionYear),
    addedAt: isoToMs(d.DateCreated),
    updatedAt: isoToMs(d.DateLastSaved),
    rating: ratingOrNull(d.CommunityRating),
    durationMs: ticksToMs(d.RunTimeTicks),
    overview: d.Overview || null,
    genres,
    cast,
    index: countOrNull(d.IndexNumber),
    parentIndex: countOrNull(d.ParentIndexNumber),
    parentTitle: (type === 'track' ? d.Album : d.SeasonName) ?? null,
    grandparentTitle: (type === 'track' || type === 'album' ? d.AlbumArtist : d.SeriesName) ?? null,
    childCount: countOrNull(d.ChildCount),
    watched: d.UserData?.Played ?? false,
    resumeMs: position,
    lastViewedAt: isoToMs(d.UserData?.LastPlayedDate),
    poster: primaryTag.success ? imageRef('poster', `/Items/${d.Id}/Images/Primary`, primaryTag.data) : null,
    backdrop: ownBackdrop
      ? imageRef('backdrop', `/Items/${d.Id}/Images/Backdrop`, ownBackdrop)
      : parentBackdrop && d.ParentBackdropItemId
        ? imageRef('backdrop', `/Items/${d.ParentBackdropItemId}/Images/Backdrop`, parentBackdrop)
        : null,
    blurhash: typeof blurhash === 'string' && blurhash.length > 0 && blurhash.length <= 200 ? blurhash : null,
  };
}

const queryResultSchema = z.object({
  Items: z.array(z.unknown()),
  TotalRecordCount: lenient(z.number()),
  StartIndex: lenient(z.number()),
});

export interface JellyfinItemPage extends ParsedItems {
  total: number | null;
  start: number | null;
}

/** `{Items, TotalRecordCount, StartIndex}`: the items and what the server says about paging. */
export function parseJellyfinItemPage(body: unknown, libraryId: string | null = null, what = 'Jellyfin items'): Parsed<JellyfinItemPage> {
  return chain(decodeJson(body), (v) => {
    const r = validate(queryResultSchema, v, what);
    if (!r.ok) return r;
    const list = parseItemList(r.value.Items, what, (i) => jellyfinItem(i, libraryId));
    if (!list.ok) return list;
    return { ok: true, value: { ...list.value, total: countOrNull(r.value.TotalRecordCount), start: countOrNull(r.value.StartIndex) } };
  });
}

/** `/Items/Latest`: a bare array of items. */
export function parseJellyfinItemArray(body: unknown, what = 'Jellyfin recently added'): Parsed<ParsedItems> {
  return chain(decodeJson(body), (v) => {
    const r = validate(z.array(z.unknown()), v, what);
    return andThen(r, (list) => parseItemList(list, what, (i) => jellyfinItem(i)));
  });
}

/** `/Items/{id}`: one item; unreadable is malformed. */
export function parseJellyfinItemDetail(body: unknown): Parsed<LibraryItem> {
  return chain(decodeJson(body), (v) => {
    const item = jellyfinItem(v);
    return item ? { ok: true, value: item } : malformed('Jellyfin item: unexpected answer from the server');
  });
}
