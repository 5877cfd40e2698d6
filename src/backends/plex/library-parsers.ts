// Pure parsers for Plex Media Server library answers (issue 14): `/library/sections/{id}/all`,
// `/library/metadata/{id}` and `/children`, `/hubs/continueWatching`, `/library/onDeck`,
// `/library/recentlyAdded`, `/hubs/search`. JSON only (Marquee asks `Accept: application/json`).
// Skip/fail policy in ../library-parse.ts. Never throws (fuzzed through test/support/parser-fuzz.ts).
import { z } from 'zod';
import type { ItemType, LibraryItem } from '../../core/library.js';
import {
  MAX_CAST,
  andThen,
  MAX_GENRES,
  MAX_OVERVIEW,
  MAX_TITLE,
  blankItem,
  countOrNull,
  epochSecondsToMs,
  idString,
  imageRef,
  lenient,
  num,
  parseItemList,
  positiveMsOrNull,
  ratingOrNull,
  serverPath,
  text,
  yearOrNull,
  type ParsedItems,
} from '../library-parse.js';
import { chain, decodeJson, malformed, validate, type Parsed } from '../parse.js';

const PLEX_ITEM_TYPES: Record<string, ItemType> = {
  movie: 'movie',
  show: 'show',
  season: 'season',
  episode: 'episode',
  artist: 'artist',
  album: 'album',
  track: 'track',
  photo: 'photo',
  clip: 'video',
  photoalbum: 'folder',
  collection: 'folder',
};

/** Fields a container may hoist from its children (a season's episodes share parentTitle…): the same schema both places. */
const hoistableFields = {
  librarySectionID: lenient(idString),
  parentTitle: lenient(text(MAX_TITLE)),
  grandparentTitle: lenient(text(MAX_TITLE)),
  parentIndex: lenient(num),
};

const tagList = z.array(z.unknown()).transform((list) => list);
const metadataSchema = z.object({
  ratingKey: idString,
  type: z.string().min(1).max(40),
  title: text(MAX_TITLE),
  titleSort: lenient(text(MAX_TITLE)),
  year: lenient(num),
  addedAt: lenient(num),
  updatedAt: lenient(num),
  rating: lenient(num),
  audienceRating: lenient(num),
  duration: lenient(num),
  summary: lenient(text(MAX_OVERVIEW)),
  Genre: lenient(tagList),
  Role: lenient(tagList),
  index: lenient(num),
  leafCount: lenient(num),
  viewedLeafCount: lenient(num),
  childCount: lenient(num),
  viewCount: lenient(num),
  viewOffset: lenient(num),
  lastViewedAt: lenient(num),
  thumb: lenient(z.string()),
  art: lenient(z.string()),
  parentRatingKey: lenient(idString),
  ...hoistableFields,
});

const tagSchema = z.object({ tag: text(200), role: lenient(text(200)) });

/** Values the container hoists from its children (a season's episodes share parentTitle…). */
export interface PlexContainerContext {
  librarySectionID?: string | undefined;
  parentTitle?: string | undefined;
  grandparentTitle?: string | undefined;
  parentIndex?: number | undefined;
  parentRatingKey?: string | undefined;
}

/** One `Metadata` entry → a LibraryItem, or null when its identity is unusable. */
export function plexItem(raw: unknown, context: PlexContainerContext = {}): LibraryItem | null {
  const r = metadataSchema.safeParse(raw);
  if (!r.success) return null;
  const m = r.data;
  const type = PLEX_ITEM_TYPES[m.type] ?? 'other';
  const item = blankItem(m.ratingKey, type, m.title);
  const tags = (list: unknown[] | undefined, max: number) =>
    (list ?? []).slice(0, max * 2).flatMap((t) => {
      const p = tagSchema.safeParse(t);
      return p.success && p.data.tag ? [p.data] : [];
    }).slice(0, max);
  const leafCount = countOrNull(m.leafCount);
  const viewedLeafCount = countOrNull(m.viewedLeafCount);
  const isContainer = type === 'show' || type === 'season' || type === 'artist' || type === 'album';
  return {
    ...item,
    libraryId: m.librarySectionID ?? context.librarySectionID ?? null,
    parentId: m.parentRatingKey ?? context.parentRatingKey ?? null,
    sortTitle: m.titleSort || m.title,
    year: yearOrNull(m.year),
    addedAt: epochSecondsToMs(m.addedAt),
    updatedAt: epochSecondsToMs(m.updatedAt),
    rating: ratingOrNull(m.rating ?? m.audienceRating),
    durationMs: positiveMsOrNull(m.duration),
    overview: m.summary || null,
    genres: tags(m.Genre, MAX_GENRES).map((t) => t.tag),
    cast: tags(m.Role, MAX_CAST).map((t) => ({ name: t.tag, ...(t.role ? { role: t.role } : {}) })),
    index: countOrNull(m.index),
    parentIndex: countOrNull(m.parentIndex) ?? countOrNull(context.parentIndex),
    parentTitle: m.parentTitle ?? context.parentTitle ?? null,
    grandparentTitle: m.grandparentTitle ?? context.grandparentTitle ?? null,
    // A show counts seasons (childCount), a season or album its leaves.
    childCount: countOrNull(m.childCount) ?? leafCount,
    // A container is watched when all its leaves are; a leaf when it was played to the end once.
    watched: isContainer ? leafCount !== null && leafCount > 0 && viewedLeafCount !== null && viewedLeafCount >= leafCount : (countOrNull(m.viewCount) ?? 0) > 0,
    resumeMs: positiveMsOrNull(m.viewOffset),
    lastViewedAt: epochSecondsToMs(m.lastViewedAt),
    poster: imageRef('poster', serverPath(m.thumb)),
    backdrop: imageRef('backdrop', serverPath(m.art)),
  };
}

const containerSchema = z.object({
  MediaContainer: z.object({
    Metadata: lenient(z.array(z.unknown())),
    Hub: lenient(z.array(z.unknown())),
    size: lenient(num),
    totalSize: lenient(num),
    offset: lenient(num),
    key: lenient(z.string()),
    ...hoistableFields,
  }),
});
type Container = z.output<typeof containerSchema>['MediaContainer'];

function container(body: unknown, what: string): Parsed<Container> {
  return chain(decodeJson(body), (v) => {
    const r = validate(containerSchema, v, what);
    return r.ok ? { ok: true, value: r.value.MediaContainer } : r;
  });
}

function contextOf(mc: Container): PlexContainerContext {
  return { librarySectionID: mc.librarySectionID, parentTitle: mc.parentTitle, grandparentTitle: mc.grandparentTitle, parentIndex: mc.parentIndex };
}

/** The Metadata of a MediaContainer (a missing Metadata is an empty list: Plex omits it when size is 0). */
export function parsePlexItems(body: unknown, what = 'Plex items'): Parsed<ParsedItems> {
  return andThen(container(body, what), (mc) => parseItemList(mc.Metadata ?? [], what, (m) => plexItem(m, contextOf(mc))));
}

export interface PlexItemPage extends ParsedItems {
  /** `totalSize` of the container (or of the X-Plex-Container-Total-Size header); null when absent. */
  total: number | null;
  /** `offset` of the container; null when absent. */
  offset: number | null;
}

/** `/library/sections/{id}/all` (paged): items plus what the container says about paging. */
export function parsePlexItemPage(body: unknown): Parsed<PlexItemPage> {
  return andThen(container(body, 'Plex library items'), (mc) => {
    const list = parseItemList(mc.Metadata ?? [], 'Plex library items', (m) => plexItem(m, contextOf(mc)));
    if (!list.ok) return list;
    return { ok: true, value: { ...list.value, total: countOrNull(mc.totalSize), offset: countOrNull(mc.offset) } };
  });
}

/** `/library/metadata/{id}`: the first Metadata entry; none (or unreadable) is malformed. */
export function parsePlexItemDetail(body: unknown): Parsed<LibraryItem> {
  return andThen(container(body, 'Plex item'), (mc) => {
    const first = mc.Metadata?.[0];
    const item = first === undefined ? null : plexItem(first, contextOf(mc));
    return item ? { ok: true, value: item } : malformed('Plex item: unexpected answer from the server (field Metadata)');
  });
}

const SEARCH_TYPES: ReadonlySet<ItemType> = new Set(['movie', 'show', 'episode', 'artist', 'album', 'track', 'photo']);
const hubSchema = z.object({ Metadata: lenient(z.array(z.unknown())) });

/**
 * `/hubs/search` and `/hubs/continueWatching`: the items of every hub, flattened in hub order
 * (Plex orders hubs by relevance). `keep` filters by type (search keeps playable and browsable
 * kinds, not people, tags or collections).
 */
export function parsePlexHubs(body: unknown, what: string, keep: (item: LibraryItem) => boolean = () => true): Parsed<ParsedItems> {
  return andThen(container(body, what), (mc) => {
    const entries: unknown[] = [];
    for (const hub of (mc.Hub ?? []).slice(0, 100)) {
      const h = hubSchema.safeParse(hub);
      if (h.success) entries.push(...(h.data.Metadata ?? []).slice(0, 1000));
    }
    // Some servers answer a hub endpoint with a flat Metadata list.
    entries.push(...(mc.Metadata ?? []));
    const list = parseItemList(entries, what, (m) => plexItem(m, contextOf(mc)));
    if (!list.ok) return list;
    return { ok: true, value: { items: list.value.items.filter(keep), skipped: list.value.skipped } };
  });
}

export const parsePlexSearch = (body: unknown) => parsePlexHubs(body, 'Plex search', (i) => SEARCH_TYPES.has(i.type));
export const parsePlexContinueWatching = (body: unknown) => parsePlexHubs(body, 'Plex continue watching');
