// Jellyfin library endpoints over the generated model: /Items with its query parameters,
// item detail, seasons and episodes, resume, latest, search hints and item images. DTOs in the
// server's wire shape (PascalCase, nulls omitted, ids as 32 hex, 1 tick = 100 ns) and validated
// against the Jellyfin OpenAPI document in the tests.
import type { IncomingMessage } from 'node:http';
import type { JellyfinLibraryConfig } from './config.js';
import { empty, header, json, queryList, queryParam, text, type SimResponse } from './http-util.js';
import { stableHex } from './ids.js';
import { jfDate, omitNulls } from './jellyfin-dto.js';
import { jellyfinIdCodec, matches, mix, ServerLibrary, type ItemType, type LibraryKind, type ListQuery, type SimItem, type SimLibrary } from './library-model.js';
import { blurHash, renderImage } from './sim-image.js';

const TICKS_PER_MS = 10_000;
const TYPE_NAMES: Record<ItemType, string> = { movie: 'Movie', show: 'Series', season: 'Season', episode: 'Episode', artist: 'MusicArtist', album: 'MusicAlbum', track: 'Audio', photo: 'Photo' };
const TYPE_BY_NAME = new Map(Object.entries(TYPE_NAMES).map(([k, v]) => [v.toLowerCase(), k as ItemType]));
const SORT_FIELDS: Record<string, NonNullable<ListQuery['sort']>['field']> = {
  sortname: 'title',
  name: 'title',
  default: 'title',
  datecreated: 'addedAt',
  productionyear: 'year',
  premieredate: 'year',
  communityrating: 'rating',
};
/** ItemSortBy values that mean the children's own order (index numbers), which the model keeps. */
const NATURAL_ORDER_SORTS = new Set(['indexnumber', 'parentindexnumber', 'airedepisodeorder']);
const KIND_BY_COLLECTION: Record<string, LibraryKind> = { movies: 'movie', musicvideos: 'movie', trailers: 'movie', tvshows: 'show', music: 'music', photos: 'photo', homevideos: 'photo' };
const NATURAL = { poster: { width: 600, height: 900 }, wide: { width: 1280, height: 720 }, square: { width: 600, height: 600 } } as const;

/** The Id /UserViews gives a library (kept as it was before libraries had items). */
export const jellyfinViewId = (serverId: string, name: string): string => stableHex(`jf-view:${serverId}:${name}`, 32);

export function jellyfinServerLibrary(configId: string, machineId: string, libraries: readonly JellyfinLibraryConfig[]): ServerLibrary {
  return new ServerLibrary(
    configId,
    libraries.map((lib) => ({ id: jellyfinViewId(machineId, lib.name), title: lib.name, kind: (lib.collectionType && KIND_BY_COLLECTION[lib.collectionType]) ?? 'mixed', itemCount: lib.itemCount })),
  );
}

export function isJellyfinSearch(path: string, url: URL): boolean {
  return path === '/search/hints' || ((path === '/items' || /^\/users\/[^/]+\/items$/.test(path)) && !!queryParam(url, 'searchTerm'));
}

/** Lower-cased paths this module answers (after the caller's auth check). */
export function isJellyfinLibraryPath(path: string): boolean {
  return (
    path === '/items' ||
    path === '/items/latest' ||
    path === '/useritems/resume' ||
    path === '/search/hints' ||
    /^\/items\/[0-9a-f-]{32,36}$/.test(path) ||
    /^\/users\/[0-9a-f-]{32,36}\/items(\/latest|\/resume|\/[0-9a-f-]{32,36})?$/.test(path) ||
    /^\/shows\/[0-9a-f-]{32,36}\/(seasons|episodes)$/.test(path)
  );
}

/** Item images need no token on the real server. */
export const isJellyfinImagePath = (path: string): boolean => /^\/items\/[0-9a-f-]{32,36}\/images\/[a-z]+(\/\d+)?$/.test(path);

export class JellyfinLibraryApi {
  readonly codec: ReturnType<typeof jellyfinIdCodec>;

  constructor(
    readonly model: ServerLibrary,
    private readonly serverId: string,
  ) {
    this.codec = jellyfinIdCodec(stableHex(`jf-items:${serverId}`, 20));
  }

  handle(req: IncomingMessage, url: URL, path: string): SimResponse {
    const fields = new Set(queryList(url, 'fields').map((f) => f.toLowerCase()));
    const dto = (item: SimItem, all = false) => this.itemDto(item, all ? 'all' : fields);
    const listed = (item: SimItem) => dto(item);
    const image = /^\/items\/([0-9a-f-]{32,36})\/images\/([a-z]+)(?:\/\d+)?$/.exec(path);
    if (image) return this.image(image[1]!, image[2]!, url, req);
    const detail = /^\/(?:users\/[0-9a-f-]{32,36}\/)?items\/([0-9a-f-]{32,36})$/.exec(path);
    if (detail) {
      const item = this.lookup(detail[1]!);
      return item ? json(200, dto(item, true)) : errorText(404);
    }
    if (path === '/items/latest' || /^\/users\/[^/]+\/items\/latest$/.test(path)) {
      const limit = intParam(url, 'limit') ?? 20;
      const parentId = queryParam(url, 'parentId');
      const library = parentId ? this.libraryOf(parentId) : undefined;
      if (parentId && !library) return errorText(404);
      return json(200, this.model.recentlyAdded(limit, library?.id).map(listed));
    }
    if (path === '/useritems/resume' || /^\/users\/[^/]+\/items\/resume$/.test(path)) {
      const parentId = queryParam(url, 'parentId');
      const library = parentId ? this.libraryOf(parentId) : undefined;
      const media = queryList(url, 'mediaTypes').map((m) => m.toLowerCase());
      const all = this.model.resumable(10_000).filter((i) => (!library || i.library === library) && (media.length === 0 || media.includes(i.type === 'track' ? 'audio' : 'video')));
      return this.queryResult(all, url, listed);
    }
    if (path === '/search/hints') return this.searchHints(url);
    const shows = /^\/shows\/([0-9a-f-]{32,36})\/(seasons|episodes)$/.exec(path);
    if (shows) {
      const series = this.lookup(shows[1]!);
      if (!series || series.type !== 'show') return errorText(404);
      const seasons = this.model.children(series);
      if (shows[2] === 'seasons') return this.queryResult(seasons, url, listed);
      const seasonId = queryParam(url, 'seasonId');
      const seasonNumber = intParam(url, 'season');
      const chosen = seasonId ? seasons.filter((s) => s.key === this.codec.decode(seasonId)) : seasonNumber !== undefined ? seasons.filter((s) => s.index === seasonNumber) : seasons;
      if (seasonId && chosen.length === 0) return errorText(404);
      return this.queryResult(chosen.flatMap((s) => this.model.children(s)), url, listed);
    }
    if (path === '/items' || /^\/users\/[^/]+\/items$/.test(path)) return this.items(url, listed);
    return empty(404);
  }

  // --- /Items --------------------------------------------------------------------------------

  private items(url: URL, dto: (item: SimItem) => unknown): SimResponse {
    const query: ListQuery = {};
    const askedTypes = queryList(url, 'includeItemTypes').map((t) => t.toLowerCase());
    if (askedTypes.length > 0) query.types = askedTypes.map((t) => TYPE_BY_NAME.get(t)).filter((t): t is ItemType => t !== undefined);
    // Kinds this server holds none of (Video, MusicVideo…): nothing matches them.
    const noKnownType = askedTypes.length > 0 && query.types?.length === 0;
    // The first sort field the simulator implements wins; the real server sorts by all of them and
    // skips names that are not ItemSortBy values (no 400). IndexNumber & co. keep natural order.
    const sortBy = queryList(url, 'sortBy').map((f) => f.toLowerCase());
    const sortOrder = (queryList(url, 'sortOrder')[0] ?? '').toLowerCase();
    const firstSort = sortBy.find((f) => SORT_FIELDS[f] !== undefined || NATURAL_ORDER_SORTS.has(f));
    const field = firstSort === undefined ? undefined : SORT_FIELDS[firstSort];
    if (field) query.sort = { field, descending: sortOrder === 'descending' };
    else if (firstSort === undefined && sortOrder === 'descending') query.sort = { field: 'title', descending: true };
    const filters = queryList(url, 'filters').map((f) => f.toLowerCase());
    const isPlayed = queryParam(url, 'isPlayed')?.toLowerCase();
    if (filters.includes('isplayed') || isPlayed === 'true') query.watched = true;
    if (filters.includes('isunplayed') || isPlayed === 'false') query.unwatched = true;
    if (filters.includes('isresumable')) query.resumable = true;
    const genres = queryList(url, 'genres', '|');
    const years = queryList(url, 'years').map(Number).filter(Number.isInteger);
    if (years.length > 0) query.years = years;
    const searchTerm = queryParam(url, 'searchTerm');
    if (searchTerm) query.searchTerm = searchTerm;
    const since = queryParam(url, 'minDateLastSaved');
    if (since) {
      const ms = Date.parse(since);
      if (Number.isNaN(ms)) return errorText(400);
      // The model keeps seconds; the real server compares full DateLastSaved precision. Flooring
      // keeps a change made later in the same second (ceil would drop it: a lost incremental update).
      query.updatedSince = Math.floor(ms / 1000);
    }
    const recursive = queryParam(url, 'recursive')?.toLowerCase() === 'true';
    const parentId = queryParam(url, 'parentId');
    const ids = queryList(url, 'ids');
    const artistIds = queryList(url, 'artistIds');

    let items: SimItem[];
    if (noKnownType) {
      items = [];
    } else if (ids.length > 0) {
      items = ids.map((id) => this.lookup(id)).filter((i): i is SimItem => i !== undefined);
    } else if (artistIds.length > 0) {
      // Albums and tracks by these artists (the artist is the album's parent here).
      const artists = artistIds.map((id) => this.lookup(id)).filter((i): i is SimItem => i?.type === 'artist');
      items = artists.flatMap((artist) => this.descendants(artist, true)).filter((i) => (!query.types || query.types.includes(i.type)) && matches(i, query));
      items = sortItems(items, query, undefined);
    } else if (parentId) {
      const library = this.libraryOf(parentId);
      const parent = library ? undefined : this.lookup(parentId);
      if (!library && !parent) return errorText(404);
      if (library) {
        // Non-recursive: the library's own children; recursive: every descendant of the asked types.
        const wanted = query.types ?? (recursive ? allTypes(library) : library.topTypes);
        items = library.list({ ...query, types: wanted });
      } else {
        items = this.descendants(parent!, recursive).filter((i) => (!query.types || query.types.includes(i.type)));
        items = sortItems(items.filter((i) => matches(i, query)), query, parent);
      }
    } else {
      const libraries = this.model.libraries;
      items = libraries.flatMap((library) => library.list({ ...query, types: query.types ?? (recursive ? allTypes(library) : library.topTypes) }));
      if (libraries.length > 1) items = sortItems(items, query, undefined);
    }
    if (genres.length > 0) items = items.filter((i) => i.genres.some((g) => genres.some((want) => want.toLowerCase() === g.toLowerCase())));
    return this.queryResult(items, url, dto);
  }

  private descendants(parent: SimItem, recursive: boolean): SimItem[] {
    const children = this.model.children(parent);
    return recursive ? children.flatMap((c) => [c, ...this.model.children(c)]) : children;
  }

  private queryResult(items: readonly SimItem[], url: URL, dto: (item: SimItem) => unknown): SimResponse {
    const start = Math.max(0, intParam(url, 'startIndex') ?? 0);
    const limit = intParam(url, 'limit');
    const slice = items.slice(start, limit === undefined ? undefined : start + Math.max(0, limit));
    return json(200, { Items: slice.map((i) => dto(i)), TotalRecordCount: items.length, StartIndex: start });
  }

  private searchHints(url: URL): SimResponse {
    const term = queryParam(url, 'searchTerm') ?? '';
    if (!term.trim()) return errorText(400);
    const start = Math.max(0, intParam(url, 'startIndex') ?? 0);
    const limit = intParam(url, 'limit') ?? 20;
    const types = queryList(url, 'includeItemTypes').map((t) => TYPE_BY_NAME.get(t.toLowerCase())).filter((t): t is ItemType => t !== undefined);
    const found = [...this.model.search(term, 1000).values()].flat().filter((i) => types.length === 0 || types.includes(i.type));
    const hints = found.slice(start, start + limit).map((item) =>
      omitNulls({
        ItemId: this.codec.encode(item.key),
        Id: this.codec.encode(item.key),
        Name: item.title,
        MatchedTerm: term,
        IndexNumber: item.type === 'album' ? item.index : null,
        ProductionYear: item.year,
        PrimaryImageTag: this.imageTag(item, 'primary'),
        Type: TYPE_NAMES[item.type],
        IsFolder: item.type === 'show' || item.type === 'artist' || item.type === 'album',
        RunTimeTicks: item.durationMs === undefined ? null : item.durationMs * TICKS_PER_MS,
        MediaType: mediaType(item),
        AlbumArtist: item.type === 'album' && item.parentKey !== undefined ? this.model.item(item.parentKey)?.title : null,
        Artists: [],
        ChannelId: null,
      }),
    );
    return json(200, { SearchHints: hints, TotalRecordCount: found.length });
  }

  // --- images -------------------------------------------------------------------------------

  private image(id: string, rawType: string, url: URL, req: IncomingMessage): SimResponse {
    const item = this.lookup(id);
    const type = rawType.toLowerCase();
    if (!item || (type !== 'primary' && type !== 'backdrop') || (type === 'backdrop' && !hasBackdrop(item))) return errorText(404);
    const tag = queryParam(url, 'tag');
    if (tag && tag !== this.imageTag(item, type)) return errorText(404);
    const natural = type === 'backdrop' ? NATURAL.wide : naturalPrimary(item);
    const image = renderImage({
      seed: `jf:${this.serverId}:${item.key}:${type}`,
      ...natural,
      maxWidth: intParam(url, 'maxWidth') ?? intParam(url, 'width') ?? intParam(url, 'fillWidth'),
      maxHeight: intParam(url, 'maxHeight') ?? intParam(url, 'height') ?? intParam(url, 'fillHeight'),
    });
    // A tagged URL names one version of the image for good; untagged ones may change.
    const headers = { 'content-type': image.contentType, etag: image.etag, 'cache-control': tag ? 'public, max-age=31536000, immutable' : 'public', 'last-modified': new Date(item.addedAt * 1000).toUTCString() };
    if (header(req, 'if-none-match') === image.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: image.body };
  }

  imageTag(item: SimItem, type: 'primary' | 'backdrop'): string {
    return stableHex(`jf-tag:${this.serverId}:${item.key}:${type}`, 32);
  }

  // --- lookups ------------------------------------------------------------------------------

  lookup(id: string): SimItem | undefined {
    const key = this.codec.decode(id);
    return key === undefined ? undefined : this.model.item(key);
  }

  libraryOf(id: string): SimLibrary | undefined {
    const clean = id.replace(/-/g, '').toLowerCase();
    return this.model.libraries.find((l) => l.id === clean);
  }

  // --- DTO ----------------------------------------------------------------------------------

  itemDto(item: SimItem, fields: Set<string> | 'all'): Record<string, unknown> {
    const want = (f: string) => fields === 'all' || fields.has(f.toLowerCase());
    const id = this.codec.encode(item.key);
    const parent = item.parentKey === undefined ? undefined : this.model.item(item.parentKey);
    const grandparent = item.grandparentKey === undefined ? undefined : this.model.item(item.grandparentKey);
    const folder = item.type === 'show' || item.type === 'season' || item.type === 'artist' || item.type === 'album';
    const kids = folder ? this.model.children(item) : [];
    const leaves = item.type === 'show' || item.type === 'artist' ? kids.flatMap((k) => this.model.children(k)) : kids;
    const primaryTag = this.imageTag(item, 'primary');
    const backdropTag = hasBackdrop(item) ? this.imageTag(item, 'backdrop') : undefined;
    const natural = naturalPrimary(item);
    const aspect = natural.width / natural.height;
    const series = item.type === 'episode' ? grandparent : item.type === 'season' ? parent : undefined;
    const album = item.type === 'track' ? parent : undefined;
    const artist = item.type === 'track' ? grandparent : item.type === 'album' ? parent : undefined;
    const played = folder ? leaves.length > 0 && leaves.every((l) => l.viewCount > 0) : item.viewCount > 0;
    const runTimeTicks = item.durationMs === undefined ? undefined : item.durationMs * TICKS_PER_MS;
    return omitNulls({
      Name: item.title,
      ServerId: this.serverId,
      Id: id,
      Etag: want('Etag') ? stableHex(`jf-etag:${item.key}:${item.updatedAt}:${item.title}`, 32) : null,
      DateCreated: want('DateCreated') ? jfDate(new Date(item.addedAt * 1000)) : null,
      CanDelete: false,
      CanDownload: !folder,
      SortName: want('SortName') ? item.sortTitle : null,
      PremiereDate: item.type === 'movie' || item.type === 'episode' || item.type === 'show' ? `${item.year}-01-01T00:00:00.0000000Z` : null,
      Container: item.variant ? 'mp4' : null,
      Path: want('Path') ? `/media/${item.library.spec.title}/${item.title}` : null,
      Overview: want('Overview') && item.summary ? item.summary : null,
      Genres: want('Genres') ? item.genres : null,
      GenreItems: want('Genres') ? item.genres.map((g) => ({ Name: g, Id: stableHex(`jf-genre:${g}`, 32) })) : null,
      CommunityRating: item.type === 'movie' || item.type === 'show' || item.type === 'episode' ? item.rating : null,
      RunTimeTicks: runTimeTicks,
      ProductionYear: item.year,
      IndexNumber: item.type === 'season' || item.type === 'episode' || item.type === 'track' ? item.index : null,
      ParentIndexNumber: item.type === 'episode' || item.type === 'track' ? parent?.index : null,
      IsFolder: folder,
      ParentId: parent ? this.codec.encode(parent.key) : item.library.id,
      Type: TYPE_NAMES[item.type],
      People: want('People') && item.cast.length > 0 ? item.cast.map((name, i) => ({ Name: name, Id: stableHex(`jf-person:${name}`, 32), Role: `Character ${i + 1}`, Type: 'Actor' })) : null,
      UserData: {
        PlaybackPositionTicks: item.viewOffsetMs * TICKS_PER_MS,
        PlayCount: folder ? 0 : item.viewCount,
        IsFavorite: mix(this.model.seed, item.key, 40) % 11 === 0,
        Played: played,
        Key: stableHex(`jf-key:${item.key}`, 32),
        ItemId: id,
        LastPlayedDate: item.lastViewedAt ? jfDate(new Date(item.lastViewedAt * 1000)) : null,
        PlayedPercentage: item.viewOffsetMs > 0 && item.durationMs ? (100 * item.viewOffsetMs) / item.durationMs : null,
        UnplayedItemCount: folder ? leaves.filter((l) => l.viewCount === 0).length : null,
      },
      ChildCount: folder ? kids.length : null,
      RecursiveItemCount: folder ? leaves.length : null,
      SeriesName: series?.title,
      SeriesId: series ? this.codec.encode(series.key) : null,
      SeasonId: item.type === 'episode' && parent ? this.codec.encode(parent.key) : null,
      SeasonName: item.type === 'episode' ? parent?.title : null,
      Album: album?.title,
      AlbumId: album ? this.codec.encode(album.key) : null,
      AlbumArtist: artist?.title,
      Artists: artist ? [artist.title] : null,
      ArtistItems: artist ? [{ Name: artist.title, Id: this.codec.encode(artist.key) }] : null,
      AlbumArtists: artist ? [{ Name: artist.title, Id: this.codec.encode(artist.key) }] : null,
      PrimaryImageAspectRatio: aspect,
      ImageTags: { Primary: primaryTag },
      BackdropImageTags: backdropTag ? [backdropTag] : [],
      ImageBlurHashes: want('ImageBlurHashes')
        ? { Primary: { [primaryTag]: blurHash(`jf:${this.serverId}:${item.key}:primary`, aspect) }, ...(backdropTag ? { Backdrop: { [backdropTag]: blurHash(`jf:${this.serverId}:${item.key}:backdrop`, 16 / 9) } } : {}) }
        : null,
      LocationType: 'FileSystem',
      MediaType: mediaType(item),
      VideoType: item.variant && item.variant !== 'audio-aac' ? 'VideoFile' : null,
      MediaSources: want('MediaSources') && item.variant ? [this.mediaSource(item, id)] : null,
      MediaStreams: want('MediaStreams') && item.variant ? mediaStreams(item) : null,
      Width: item.type === 'photo' ? 1280 : null,
      Height: item.type === 'photo' ? 720 : null,
    });
  }

  /** One source per item, Id = the item's Id (as on the real server), codecs per clip variant. */
  private mediaSource(item: SimItem, id: string): Record<string, unknown> {
    const audio = item.variant === 'audio-aac';
    return {
      Protocol: 'File',
      Id: id,
      Path: `/media/${item.library.spec.title}/${item.title}.mp4`,
      Type: 'Default',
      Container: audio ? 'm4a' : 'mp4',
      Size: audio ? 2_900_000 : 8_300_000,
      Name: item.title,
      IsRemote: false,
      ETag: stableHex(`jf-source:${item.key}`, 32),
      RunTimeTicks: (item.durationMs ?? 0) * TICKS_PER_MS,
      ReadAtNativeFramerate: false,
      IgnoreDts: false,
      IgnoreIndex: false,
      GenPtsInput: false,
      SupportsTranscoding: true,
      SupportsDirectStream: true,
      SupportsDirectPlay: true,
      IsInfiniteStream: false,
      UseMostCompatibleTranscodingProfile: false,
      RequiresOpening: false,
      RequiresClosing: false,
      RequiresLooping: false,
      SupportsProbing: true,
      VideoType: audio ? undefined : 'VideoFile',
      MediaStreams: mediaStreams(item),
      MediaAttachments: [],
      Formats: [],
      Bitrate: audio ? 128_000 : 400_000,
      RequiredHttpHeaders: {},
      TranscodingSubProtocol: 'http',
      DefaultAudioStreamIndex: audio ? 0 : 1,
      HasSegments: false,
    };
  }
}

function mediaStreams(item: SimItem): Record<string, unknown>[] {
  if (item.variant === 'audio-aac') {
    return [{ Codec: 'aac', Language: 'eng', TimeBase: '1/44100', DisplayTitle: 'AAC - Stereo', IsInterlaced: false, ChannelLayout: 'stereo', BitRate: 128_000, Channels: 2, SampleRate: 44100, IsDefault: true, IsForced: false, IsHearingImpaired: false, Type: 'Audio', Index: 0, IsExternal: false, IsTextSubtitleStream: false, SupportsExternalStream: false, Level: 0 }];
  }
  const hevc = item.variant === 'hevc-ac3';
  return [
    { Codec: hevc ? 'hevc' : 'h264', TimeBase: '1/12288', VideoRange: 'SDR', VideoRangeType: 'SDR', DisplayTitle: `240p ${hevc ? 'HEVC' : 'H264'} SDR`, IsInterlaced: false, BitRate: 300_000, BitDepth: 8, RefFrames: 1, IsDefault: true, IsForced: false, IsHearingImpaired: false, Height: 240, Width: 426, AverageFrameRate: 24, RealFrameRate: 24, Profile: hevc ? 'Main' : 'High', Type: 'Video', AspectRatio: '16:9', Index: 0, IsExternal: false, IsTextSubtitleStream: false, SupportsExternalStream: false, PixelFormat: 'yuv420p', Level: 30, IsAnamorphic: false },
    { Codec: hevc ? 'ac3' : 'aac', Language: 'eng', TimeBase: '1/48000', DisplayTitle: `English - ${hevc ? 'Dolby Digital - 5.1' : 'AAC - Stereo'} - Default`, IsInterlaced: false, ChannelLayout: hevc ? '5.1' : 'stereo', BitRate: hevc ? 384_000 : 128_000, Channels: hevc ? 6 : 2, SampleRate: 48000, IsDefault: true, IsForced: false, IsHearingImpaired: false, Type: 'Audio', Index: 1, IsExternal: false, IsTextSubtitleStream: false, SupportsExternalStream: false, Level: 0 },
  ];
}

function mediaType(item: SimItem): string {
  if (item.type === 'movie' || item.type === 'episode') return 'Video';
  if (item.type === 'track') return 'Audio';
  if (item.type === 'photo') return 'Photo';
  return 'Unknown';
}

const hasBackdrop = (item: SimItem) => item.type === 'movie' || item.type === 'show';

function naturalPrimary(item: SimItem): { width: number; height: number } {
  if (item.type === 'artist' || item.type === 'album' || item.type === 'track') return NATURAL.square;
  if (item.type === 'episode' || item.type === 'photo') return NATURAL.wide;
  return NATURAL.poster;
}

function allTypes(library: SimLibrary): ItemType[] {
  const extra: ItemType[] = library.kind === 'show' || library.kind === 'mixed' ? ['season', 'episode'] : library.kind === 'music' ? ['album', 'track'] : [];
  return [...library.topTypes, ...extra];
}

/** Children keep their natural order (season, episode) unless a sort was asked; merged lists are re-sorted. */
function sortItems(items: SimItem[], query: ListQuery, parent: SimItem | undefined): SimItem[] {
  if (!query.sort && parent) return items;
  const sort = query.sort ?? { field: 'title', descending: false };
  const dir = sort.descending ? -1 : 1;
  return [...items].sort((a, b) => {
    const primary = sort.field === 'title' ? a.sortTitle.localeCompare(b.sortTitle) : a[sort.field] - b[sort.field];
    return primary !== 0 ? primary * dir : (a.key - b.key) * dir;
  });
}

function intParam(url: URL, name: string): number | undefined {
  const raw = queryParam(url, name);
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isNaN(n) ? undefined : n;
}

const errorText = (status: number) => text(status, 'Error processing request.');
