// Deterministic generated libraries for the simulated servers. Pure: no I/O, no clock (callers pass
// `now`). Nothing is generated up front: an item is a function of (server seed, numeric key), so a
// 50,000-item library costs nothing until a request lists it, and ids survive restarts.
//
// Key layout (fits a double exactly, and doubles as the Plex ratingKey):
//   key = library ordinal × 1e8 + top index × 1000 + a × 100 + b
// top = movie / show / artist / photo; a = season or album number (1–9, 0 for the top item);
// b = episode or track number (1–99, 0 for the season or album itself).
import type { PlayStateStore } from './media/playback.js';
import type { MediaCatalog, SimMediaVariant, SimPlayable } from './media-catalog.js';

export type LibraryKind = 'movie' | 'show' | 'music' | 'photo' | 'mixed';
export type ItemType = 'movie' | 'show' | 'season' | 'episode' | 'artist' | 'album' | 'track' | 'photo';

export const MAX_ITEMS_PER_LIBRARY = 50_000;
/** The media helper's test clip: every video item and track reports this runtime. */
export const CLIP_DURATION_MS = 180_000;

export interface LibrarySpec {
  /** Plex section key or Jellyfin view Id: how requests name the library. */
  id: string;
  title: string;
  kind: LibraryKind;
  itemCount: number;
}

export interface SimItem {
  key: number;
  type: ItemType;
  library: SimLibrary;
  title: string;
  sortTitle: string;
  year: number;
  genres: string[];
  /** 0–10, one decimal. */
  rating: number;
  summary: string;
  cast: string[];
  /** Season / episode / album / track number. */
  index: number;
  parentKey: number | undefined;
  grandparentKey: number | undefined;
  /** Seconds since the epoch (Plex addedAt, Jellyfin DateCreated). */
  addedAt: number;
  /** Seconds (Plex updatedAt, Jellyfin DateLastSaved). */
  updatedAt: number;
  viewCount: number;
  /** Resume position in ms (0: none). */
  viewOffsetMs: number;
  lastViewedAt: number | undefined;
  /** Playable items only (movie, episode, track). */
  durationMs: number | undefined;
  variant: SimMediaVariant | undefined;
  childCount: number;
}

interface ItemOverride {
  title?: string;
  viewCount?: number;
  viewOffsetMs?: number;
  lastViewedAt?: number;
  updatedAt?: number;
}

const TOP_STRIDE = 1000;
const LIB_STRIDE = 100_000_000;
/** Generated dates fall between 2020-01-01 and about 2024-10. */
const EPOCH_BASE = 1_577_836_800;
const EPOCH_SPAN = 150_000_000;

const ADJECTIVES = ['Silent', 'Crimson', 'Hidden', 'Last', 'Golden', 'Broken', 'Distant', 'Midnight', 'Wild', 'Frozen', 'Electric', 'Lonely', 'Burning', 'Secret', 'Northern', 'Velvet', 'Iron', 'Paper', 'Quiet', 'Lucky', 'Hollow', 'Bright', 'Falling', 'Endless'];
const NOUNS = ['Harbor', 'Garden', 'Signal', 'River', 'Empire', 'Orchard', 'Lantern', 'Summit', 'Voyage', 'Mirror', 'Station', 'Horizon', 'Canyon', 'Letter', 'Machine', 'Island', 'Forest', 'Bridge', 'Comet', 'Tide', 'Kingdom', 'Circus', 'Desert', 'Archive'];
const GENRES = ['Action', 'Comedy', 'Drama', 'Thriller', 'Science Fiction', 'Documentary', 'Animation', 'Romance', 'Horror', 'Adventure', 'Mystery', 'Family'];
const MUSIC_GENRES = ['Rock', 'Jazz', 'Electronic', 'Classical', 'Folk', 'Hip-Hop', 'Pop', 'Ambient'];
const FIRST_NAMES = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Lars', 'Mira', 'Nadia', 'Omar', 'Paula'];
const LAST_NAMES = ['Andersen', 'Bakker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Horvat', 'Ivanova', 'Jansen', 'Kowalski', 'Lindqvist', 'Moreau', 'Novak'];
const PLACES = ['Beach', 'Mountains', 'City', 'Garden', 'Birthday', 'Harbour', 'Snow', 'Picnic'];

/** 32-bit string hash (FNV-1a): the server's seed. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A well-mixed 32-bit value for (seed, key, salt): cheap enough to call per field. */
export function mix(seed: number, key: number, salt = 0): number {
  let h = (seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (key % 0x100000000), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ Math.floor(key / 0x100000000), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

const pick = <T>(list: readonly T[], h: number): T => list[h % list.length] as T;
const sortTitleOf = (title: string) => title.replace(/^(The|A|An) /i, '').toLowerCase();

export interface ListQuery {
  /** Only these item types (default: the library's top level). */
  types?: readonly ItemType[];
  sort?: { field: 'title' | 'addedAt' | 'updatedAt' | 'year' | 'rating'; descending: boolean };
  unwatched?: boolean;
  watched?: boolean;
  resumable?: boolean;
  genre?: string;
  years?: readonly number[];
  /** Items with updatedAt ≥ this (seconds). */
  updatedSince?: number;
  searchTerm?: string;
}

export class SimLibrary {
  readonly ordinal: number;
  private version = 0;
  private cache: { version: number; types: string; sortKey: string; items: SimItem[] } | undefined;

  constructor(
    readonly server: ServerLibrary,
    ordinal: number,
    readonly spec: LibrarySpec,
  ) {
    this.ordinal = ordinal;
  }

  get id(): string {
    return this.spec.id;
  }

  get kind(): LibraryKind {
    return this.spec.kind;
  }

  get itemCount(): number {
    return this.spec.itemCount;
  }

  /** The library's top-level item types. */
  get topTypes(): ItemType[] {
    return { movie: ['movie'], show: ['show'], music: ['artist'], photo: ['photo'], mixed: ['movie', 'show'] }[this.kind] as ItemType[];
  }

  topKey(index: number): number {
    return this.ordinal * LIB_STRIDE + index * TOP_STRIDE;
  }

  topType(index: number): ItemType {
    switch (this.kind) {
      case 'movie':
        return 'movie';
      case 'show':
        return 'show';
      case 'music':
        return 'artist';
      case 'photo':
        return 'photo';
      case 'mixed':
        return index % 3 === 2 ? 'show' : 'movie';
    }
  }

  bump(): void {
    this.version++;
  }

  /** Every item of the given types, in key order (tops first, then their descendants as asked). */
  *walk(types: readonly ItemType[]): Generator<SimItem> {
    const wantsTop = types.some((t) => this.topTypes.includes(t));
    const wantsChildren = types.some((t) => t === 'season' || t === 'album');
    const wantsLeaves = types.some((t) => t === 'episode' || t === 'track');
    for (let i = 0; i < this.itemCount; i++) {
      const top = this.server.item(this.topKey(i));
      if (!top) continue;
      if (wantsTop && types.includes(top.type)) yield top;
      if (!wantsChildren && !wantsLeaves) continue;
      for (const child of this.server.children(top)) {
        if (types.includes(child.type)) yield child;
        if (wantsLeaves) for (const leaf of this.server.children(child)) if (types.includes(leaf.type)) yield leaf;
      }
    }
  }

  /** Filtered and sorted items; the unfiltered sorted list is cached until something changes. */
  list(query: ListQuery): SimItem[] {
    const types = query.types && query.types.length > 0 ? query.types : this.topTypes;
    const sort = query.sort ?? { field: 'title', descending: false };
    const sortKey = `${sort.field}:${sort.descending}`;
    const typesKey = [...types].sort().join(',');
    if (!this.cache || this.cache.version !== this.version || this.cache.types !== typesKey || this.cache.sortKey !== sortKey) {
      const items = [...this.walk(types)];
      items.sort(comparator(sort));
      this.cache = { version: this.version, types: typesKey, sortKey, items };
    }
    return this.cache.items.filter((item) => matches(item, query));
  }
}

function comparator(sort: NonNullable<ListQuery['sort']>): (a: SimItem, b: SimItem) => number {
  const dir = sort.descending ? -1 : 1;
  const field = sort.field;
  return (a, b) => {
    const primary = field === 'title' ? a.sortTitle.localeCompare(b.sortTitle) : a[field] - b[field];
    // Ties broken by key so every page boundary is stable.
    return primary !== 0 ? primary * dir : (a.key - b.key) * dir;
  };
}

export function matches(item: SimItem, query: ListQuery): boolean {
  if (query.unwatched && item.viewCount > 0) return false;
  if (query.watched && item.viewCount === 0) return false;
  if (query.resumable && item.viewOffsetMs === 0) return false;
  if (query.genre !== undefined && !item.genres.some((g) => g.toLowerCase() === query.genre?.toLowerCase())) return false;
  if (query.years && query.years.length > 0 && !query.years.includes(item.year)) return false;
  if (query.updatedSince !== undefined && item.updatedAt < query.updatedSince) return false;
  if (query.searchTerm && !item.title.toLowerCase().includes(query.searchTerm.toLowerCase())) return false;
  return true;
}

/** Everything one simulated server holds: its libraries and what changed since start. */
export class ServerLibrary {
  readonly seed: number;
  readonly libraries: SimLibrary[];
  private readonly overrides = new Map<number, ItemOverride>();
  private touchCursor = new Map<SimLibrary, number>();

  constructor(serverId: string, specs: readonly LibrarySpec[]) {
    this.seed = seedOf(serverId);
    this.libraries = specs.map((spec, i) => new SimLibrary(this, i + 1, spec));
  }

  library(id: string): SimLibrary | undefined {
    return this.libraries.find((l) => l.id === id);
  }

  /** The item with this key, or undefined if no such item exists. */
  item(key: number): SimItem | undefined {
    if (!Number.isSafeInteger(key) || key <= 0) return undefined;
    const ordinal = Math.floor(key / LIB_STRIDE);
    const library = this.libraries[ordinal - 1];
    if (!library) return undefined;
    const rest = key % LIB_STRIDE;
    const top = Math.floor(rest / TOP_STRIDE);
    const a = Math.floor((rest % TOP_STRIDE) / 100);
    const b = rest % 100;
    if (top >= library.itemCount) return undefined;
    const topType = library.topType(top);
    const topKey = library.topKey(top);
    if (a === 0 && b === 0) return this.build(library, topKey, topType, top, undefined, undefined);
    if (topType !== 'show' && topType !== 'artist') return undefined;
    const childCount = this.childCountOf(topKey, topType);
    if (a < 1 || a > childCount) return undefined;
    const childType: ItemType = topType === 'show' ? 'season' : 'album';
    const childKey = topKey + a * 100;
    if (b === 0) return this.build(library, childKey, childType, a, topKey, undefined);
    if (b > this.childCountOf(childKey, childType)) return undefined;
    return this.build(library, key, topType === 'show' ? 'episode' : 'track', b, childKey, topKey);
  }

  children(item: SimItem): SimItem[] {
    if (item.type !== 'show' && item.type !== 'artist' && item.type !== 'season' && item.type !== 'album') return [];
    const step = item.type === 'show' || item.type === 'artist' ? 100 : 1;
    const out: SimItem[] = [];
    for (let i = 1; i <= item.childCount; i++) {
      const child = this.item(item.key + i * step);
      if (child) out.push(child);
    }
    return out;
  }

  private childCountOf(key: number, type: ItemType): number {
    const h = mix(this.seed, key, 7);
    if (type === 'show') return 1 + (h % 4);
    if (type === 'artist') return 1 + (h % 3);
    if (type === 'season') return 6 + (h % 7);
    if (type === 'album') return 8 + (h % 5);
    return 0;
  }

  private build(library: SimLibrary, key: number, type: ItemType, index: number, parentKey: number | undefined, grandparentKey: number | undefined): SimItem {
    const s = this.seed;
    const h = (salt: number) => mix(s, key, salt);
    const topKey = grandparentKey ?? parentKey ?? key;
    const ht = (salt: number) => mix(s, topKey, salt);
    const music = type === 'artist' || type === 'album' || type === 'track';
    let title: string;
    switch (type) {
      case 'movie':
        title = `${h(1) % 5 === 0 ? 'The ' : ''}${pick(ADJECTIVES, h(2))} ${pick(NOUNS, h(3))}${h(4) % 9 === 0 ? ' II' : ''}`;
        break;
      case 'show':
        title = `The ${pick(NOUNS, h(3))} ${pick(['Files', 'Chronicles', 'Hours', 'Club', 'Years', 'Road'], h(2))}`;
        break;
      case 'season':
        title = `Season ${index}`;
        break;
      case 'artist':
        title = h(1) % 2 === 0 ? `${pick(FIRST_NAMES, h(2))} ${pick(LAST_NAMES, h(3))}` : `The ${pick(ADJECTIVES, h(2))} ${pick(NOUNS, h(3))}s`;
        break;
      case 'photo':
        title = `${pick(PLACES, h(2))} ${String(1000 + (h(3) % 9000))}`;
        break;
      case 'album':
      case 'episode':
      case 'track':
        title = `${pick(ADJECTIVES, h(2))} ${pick(NOUNS, h(3))}`;
    }
    const topYear = 1970 + (ht(5) % 55);
    const year = type === 'movie' || type === 'show' || type === 'artist' || type === 'photo' ? topYear : Math.min(2024, topYear + (type === 'album' ? index * 2 : Math.floor(((parentKey ?? key) % 1000) / 100) - 1));
    const genreList = music ? MUSIC_GENRES : GENRES;
    const genres = type === 'photo' ? [] : [pick(genreList, ht(6)), pick(genreList, ht(8))].filter((g, i, all) => all.indexOf(g) === i);
    const addedAt = EPOCH_BASE + (h(9) % EPOCH_SPAN);
    const playable = type === 'movie' || type === 'episode' || type === 'track';
    const childCount = this.childCountOf(key, type);

    // Watched state: movies and tracks by their own hash; episodes follow the show's progress
    // (watched in order up to some episode, the next one part-way), as people watch series.
    let viewCount = 0;
    let viewOffsetMs = 0;
    if (type === 'movie') {
      if (h(10) % 5 === 0) viewCount = 1 + (h(11) % 3);
      else if (h(10) % 7 === 3) viewOffsetMs = 10_000 + (h(12) % 150) * 1000;
    } else if (type === 'track') {
      if (h(10) % 4 === 0) viewCount = 1 + (h(11) % 20);
    } else if (type === 'episode' && grandparentKey !== undefined && parentKey !== undefined) {
      const progress = mix(s, grandparentKey, 13) % 4; // 0: untouched, 1: watched some, 2: watched some + one part-way, 3: untouched
      const season = Math.floor((parentKey % 1000) / 100);
      const watchedUpTo = 1 + (mix(s, grandparentKey, 14) % 5); // episodes of season 1
      if (progress === 1 || progress === 2) {
        if (season === 1 && index <= watchedUpTo) viewCount = 1;
        if (progress === 2 && season === 1 && index === watchedUpTo + 1) viewOffsetMs = 20_000 + (mix(s, grandparentKey, 15) % 120) * 1000;
      }
    }
    const lastViewedAt = viewCount > 0 || viewOffsetMs > 0 ? addedAt + 86_400 + (h(16) % 10_000_000) : undefined;
    const cast = type === 'movie' ? [0, 1, 2].map((i) => `${pick(FIRST_NAMES, h(20 + i))} ${pick(LAST_NAMES, h(30 + i))}`) : [];
    // Every fifth video (by position) is HEVC + AC-3, which Chromium cannot play: it forces a transcode.
    const position = Math.floor(key / TOP_STRIDE) + (key % TOP_STRIDE);
    const variant: SimMediaVariant | undefined = !playable ? undefined : type === 'track' ? 'audio-aac' : position % 5 === 4 ? 'hevc-ac3' : 'h264-aac';
    const item: SimItem = {
      key,
      type,
      library,
      title,
      sortTitle: sortTitleOf(title),
      year,
      genres,
      rating: type === 'photo' ? 0 : Math.round(((h(17) % 80) + 20) ) / 10,
      summary: type === 'photo' ? '' : `${title}: a ${(genres[0] ?? 'quiet').toLowerCase()} story about a ${pick(NOUNS, h(18)).toLowerCase()} and a ${pick(NOUNS, h(19)).toLowerCase()}.`,
      cast,
      index,
      parentKey,
      grandparentKey,
      addedAt,
      updatedAt: addedAt + (h(21) % 1_000_000),
      viewCount,
      viewOffsetMs,
      lastViewedAt,
      durationMs: playable ? CLIP_DURATION_MS : undefined,
      variant,
      childCount,
    };
    const override = this.overrides.get(key);
    if (override) {
      if (override.title !== undefined) {
        item.title = override.title;
        item.sortTitle = sortTitleOf(override.title);
      }
      if (override.viewCount !== undefined) item.viewCount = override.viewCount;
      if (override.viewOffsetMs !== undefined) item.viewOffsetMs = override.viewOffsetMs;
      if (override.lastViewedAt !== undefined) item.lastViewedAt = override.lastViewedAt;
      if (override.updatedAt !== undefined) item.updatedAt = override.updatedAt;
    }
    return item;
  }

  /** Items changed since start (touched or marked), any library. */
  changedKeys(): number[] {
    return [...this.overrides.keys()];
  }

  private override(item: SimItem, change: ItemOverride): void {
    this.overrides.set(item.key, { ...this.overrides.get(item.key), ...change });
    item.library.bump();
  }

  /** Marks an item watched (viewCount+1, resume cleared) or unwatched, bumping updatedAt. */
  setWatched(key: number, watched: boolean, now: number): SimItem | undefined {
    const item = this.item(key);
    if (!item) return undefined;
    const seconds = Math.floor(now / 1000);
    this.override(item, watched ? { viewCount: item.viewCount + 1, viewOffsetMs: 0, lastViewedAt: seconds, updatedAt: seconds } : { viewCount: 0, viewOffsetMs: 0, updatedAt: seconds });
    return this.item(key);
  }

  /** Sets a resume position (ms), bumping updatedAt. */
  setResume(key: number, positionMs: number, now: number): SimItem | undefined {
    const item = this.item(key);
    if (!item) return undefined;
    const seconds = Math.floor(now / 1000);
    this.override(item, { viewOffsetMs: Math.max(0, Math.round(positionMs)), lastViewedAt: seconds, updatedAt: seconds });
    return this.item(key);
  }

  /**
   * Changes n top-level items of a library (alternately the title and the watched state), each
   * with updatedAt = now: what an incremental sync must pick up. Walks the library from where the
   * last call stopped, so repeated calls touch different items. Returns the changed keys.
   */
  touchItems(libraryId: string, n: number, now: number): number[] {
    const library = this.library(libraryId);
    if (!library) throw new Error(`no library "${libraryId}"`);
    const seconds = Math.floor(now / 1000);
    const count = Math.min(Math.max(0, Math.floor(n)), library.itemCount);
    let cursor = this.touchCursor.get(library) ?? 0;
    const keys: number[] = [];
    for (let i = 0; i < count; i++) {
      const item = this.item(library.topKey(cursor % library.itemCount));
      cursor++;
      if (!item) continue;
      if (keys.length % 2 === 0) this.override(item, { title: item.title.endsWith(' (Director’s Cut)') ? item.title.replace(' (Director’s Cut)', '') : `${item.title} (Director’s Cut)`, updatedAt: seconds });
      else this.override(item, { viewCount: item.viewCount > 0 ? 0 : 1, viewOffsetMs: 0, lastViewedAt: seconds, updatedAt: seconds });
      keys.push(item.key);
    }
    this.touchCursor.set(library, cursor);
    return keys;
  }

  /** In-progress playable items of every library, most recently viewed first. */
  resumable(limit: number): SimItem[] {
    const found: SimItem[] = [];
    for (const library of this.libraries) {
      for (let i = 0; i < library.itemCount; i++) {
        const top = this.item(library.topKey(i));
        if (!top) continue;
        if (top.type === 'movie' && top.viewOffsetMs > 0) found.push(top);
        if (top.type === 'show' && (mix(this.seed, top.key, 13) % 4 === 2 || this.hasOverrideUnder(top.key))) {
          for (const season of this.children(top)) for (const ep of this.children(season)) if (ep.viewOffsetMs > 0) found.push(ep);
        }
      }
    }
    for (const key of this.overrides.keys()) {
      const item = this.item(key);
      if (item && item.viewOffsetMs > 0 && !found.some((f) => f.key === key)) found.push(item);
    }
    const seen = new Set<number>();
    return found
      .filter((item) => (seen.has(item.key) ? false : (seen.add(item.key), true)))
      .sort((a, b) => (b.lastViewedAt ?? 0) - (a.lastViewedAt ?? 0) || a.key - b.key)
      .slice(0, limit);
  }

  private hasOverrideUnder(topKey: number): boolean {
    for (const key of this.overrides.keys()) if (key > topKey && key < topKey + TOP_STRIDE) return true;
    return false;
  }

  /** Top-level items of every library (or one), newest addedAt first. */
  recentlyAdded(limit: number, libraryId?: string): SimItem[] {
    const libraries = libraryId === undefined ? this.libraries : this.libraries.filter((l) => l.id === libraryId);
    return libraries
      .flatMap((l) => l.list({ sort: { field: 'addedAt', descending: true } }).slice(0, limit))
      .sort((a, b) => b.addedAt - a.addedAt || a.key - b.key)
      .slice(0, limit);
  }

  /** Title search over top-level items and albums, per type, at most `limit` each. */
  search(term: string, limit: number): Map<ItemType, SimItem[]> {
    const found = new Map<ItemType, SimItem[]>();
    const needle = term.trim().toLowerCase();
    if (!needle) return found;
    const add = (item: SimItem) => {
      const list = found.get(item.type) ?? [];
      if (list.length < limit && item.title.toLowerCase().includes(needle)) {
        list.push(item);
        found.set(item.type, list);
      }
    };
    for (const library of this.libraries) {
      for (let i = 0; i < library.itemCount; i++) {
        const top = this.item(library.topKey(i));
        if (!top) continue;
        add(top);
        if (top.type === 'artist') for (const album of this.children(top)) add(album);
      }
    }
    return found;
  }

  /** The media side's view: playable items with their clip variant. */
  playable(key: number, itemId: string, partId: string): SimPlayable | null {
    const item = this.item(key);
    if (!item || item.durationMs === undefined || item.variant === undefined) return null;
    return { itemId, title: item.title, durationMs: item.durationMs, variant: item.variant, partId };
  }
}

/** Plex ids: ratingKey = the key; the one media part's id derives from it. */
export const plexPartId = (key: number): number => key * 10 + 2;
export const plexMediaId = (key: number): number => key * 10 + 1;

/** Jellyfin ids: 20 hex of the server's seed, then the key in 12 hex (decodable, stable). */
export function jellyfinIdCodec(serverSeedHex: string): { encode(key: number): string; decode(id: string): number | undefined } {
  const prefix = serverSeedHex.slice(0, 20).toLowerCase();
  return {
    encode: (key) => prefix + key.toString(16).padStart(12, '0'),
    decode: (id) => {
      const clean = id.replace(/-/g, '').toLowerCase();
      if (clean.length !== 32 || !clean.startsWith(prefix) || !/^[0-9a-f]{12}$/.test(clean.slice(20))) return undefined;
      return parseInt(clean.slice(20), 16);
    },
  };
}

/** The MediaCatalog of a Plex server's libraries (itemId = ratingKey, partId = the part id). */
/** The first catalog that knows an item answers (the generated library, then the media side's fixed extras). */
export function chainCatalogs(...catalogs: MediaCatalog[]): MediaCatalog {
  return {
    playable: (itemId) => catalogs.reduce<SimPlayable | null>((found, c) => found ?? c.playable(itemId), null),
    playableByPart: (partId) => catalogs.reduce<SimPlayable | null>((found, c) => found ?? c.playableByPart?.(partId) ?? null, null),
  };
}

/** A catalog whose listed items play another clip (config `mediaVariants`); everything else as `catalog` says. */
export function withMediaVariants(catalog: MediaCatalog, variants: Readonly<Record<string, SimMediaVariant>>): MediaCatalog {
  if (Object.keys(variants).length === 0) return catalog;
  const swap = (p: SimPlayable | null): SimPlayable | null => (p && Object.hasOwn(variants, p.itemId) ? { ...p, variant: variants[p.itemId]! } : p);
  return { playable: (itemId) => swap(catalog.playable(itemId)), playableByPart: (partId) => swap(catalog.playableByPart?.(partId) ?? null) };
}

export function plexMediaCatalog(library: ServerLibrary): MediaCatalog {
  const playable = (itemId: string) => {
    if (!/^\d+$/.test(itemId)) return null;
    const key = Number(itemId);
    return library.playable(key, itemId, String(plexPartId(key)));
  };
  return {
    playable,
    // A part URL names only the part: part id = key × 10 + 2.
    playableByPart: (partId) => {
      if (!/^\d+$/.test(partId) || Number(partId) % 10 !== 2) return null;
      return playable(String((Number(partId) - 2) / 10));
    },
  };
}

/**
 * Resume positions and watched state that progress reports move, kept in the generated library
 * itself, so what a player reported is what browsing the server shows next (viewOffset,
 * PlaybackPositionTicks, Played, updatedAt for incremental sync).
 */
export function libraryPlayState(library: ServerLibrary, keyOf: (itemId: string) => number | undefined, fallback: PlayStateStore, now: () => number = Date.now): PlayStateStore {
  const itemOf = (itemId: string) => {
    const key = keyOf(itemId);
    return key === undefined ? undefined : library.item(key);
  };
  return {
    get(itemId) {
      const item = itemOf(itemId);
      // Items outside the generated libraries (the media side's fixed extras) keep their own state.
      if (!item) return fallback.get(itemId);
      return {
        positionMs: item.viewOffsetMs,
        played: item.viewCount > 0,
        playCount: item.viewCount,
        lastPlayedAt: item.lastViewedAt === undefined ? null : new Date(item.lastViewedAt * 1000),
      };
    },
    setPosition(itemId, positionMs) {
      const item = itemOf(itemId);
      if (item) library.setResume(item.key, positionMs, now());
      else fallback.setPosition(itemId, positionMs);
    },
    setPlayed(itemId, played) {
      const item = itemOf(itemId);
      if (item) library.setWatched(item.key, played, now());
      else fallback.setPlayed(itemId, played);
    },
  };
}

/** The MediaCatalog of a Jellyfin server (itemId = Id; partId = the MediaSource Id, same as the item's as on the real server). */
export function jellyfinMediaCatalog(library: ServerLibrary, codec: ReturnType<typeof jellyfinIdCodec>): MediaCatalog {
  return {
    playable: (itemId) => {
      const key = codec.decode(itemId);
      if (key === undefined) return null;
      const id = codec.encode(key);
      return library.playable(key, id, id);
    },
  };
}
