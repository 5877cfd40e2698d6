// Plex Media Server library endpoints over the generated model: sections/{id}/all with sort,
// filters and X-Plex-Container paging, metadata and children, hubs (search, continue watching),
// On Deck, recently added, and /photo/:/transcode. Shapes follow the Plex OpenAPI document and the
// real server (ratingKey as string, part ids as integers, paging attributes only when paged).
import type { IncomingMessage } from 'node:http';
import type { PlexLibraryConfig } from './config.js';
import { empty, header, queryParam, type SimResponse } from './http-util.js';
import { plexMediaId, plexPartId, ServerLibrary, type ItemType, type LibraryKind, type ListQuery, type SimItem } from './library-model.js';
import { renderImage } from './sim-image.js';

/** Plex metadata type numbers (the `type=` query parameter). */
const TYPE_NUMBERS: Record<ItemType, number> = { movie: 1, show: 2, season: 3, episode: 4, artist: 8, album: 9, track: 10, photo: 13 };
const TYPE_BY_NUMBER = new Map(Object.entries(TYPE_NUMBERS).map(([k, v]) => [String(v), k as ItemType]));
const SORT_FIELDS: Record<string, NonNullable<ListQuery['sort']>['field']> = { titleSort: 'title', title: 'title', addedAt: 'addedAt', year: 'year', rating: 'rating', updatedAt: 'updatedAt' };
const KIND: Record<PlexLibraryConfig['type'], LibraryKind> = { movie: 'movie', show: 'show', artist: 'music', photo: 'photo' };

export const POSTER_SIZE = { width: 600, height: 900 } as const;
export const ART_SIZE = { width: 1280, height: 720 } as const;
export const SQUARE_SIZE = { width: 600, height: 600 } as const;

export type PlexReply = (container: Record<string, unknown>, headers?: Record<string, string>) => SimResponse;

export function plexServerLibrary(serverId: string, libraries: readonly PlexLibraryConfig[]): ServerLibrary {
  return new ServerLibrary(
    serverId,
    libraries.map((lib, i) => ({ id: lib.key ?? String(i + 1), title: lib.title, kind: KIND[lib.type], itemCount: lib.itemCount })),
  );
}

/** The paths this module answers; search paths are the ones the search fault holds up. */
export function isPlexLibraryPath(path: string): boolean {
  return /^\/library\/sections\/[^/]+\/all$/.test(path) || path.startsWith('/library/metadata/') || path === '/hubs/search' || path === '/hubs/continueWatching' || path === '/library/onDeck' || path === '/library/recentlyAdded' || path === '/photo/:/transcode';
}

export const isPlexSearchPath = (path: string): boolean => path === '/hubs/search';

interface Paging {
  start: number;
  size: number | undefined;
  paged: boolean;
}

/** X-Plex-Container-Start/Size as header or query parameter (the real server takes both). */
function paging(req: IncomingMessage, url: URL): Paging {
  const read = (name: string) => header(req, name) ?? queryParam(url, name);
  const startRaw = read('X-Plex-Container-Start');
  const sizeRaw = read('X-Plex-Container-Size');
  const start = Math.max(0, Number.parseInt(startRaw ?? '0', 10) || 0);
  const parsedSize = sizeRaw === undefined ? undefined : Number.parseInt(sizeRaw, 10);
  const size = parsedSize === undefined || Number.isNaN(parsedSize) ? undefined : Math.max(0, parsedSize);
  return { start, size, paged: startRaw !== undefined || sizeRaw !== undefined };
}

/** One page of a list, with the container attributes and headers the real server sends. */
function page(items: readonly SimItem[], p: Paging, toMetadata: (item: SimItem) => Record<string, unknown>): { attrs: Record<string, unknown>; headers: Record<string, string> } {
  const slice = items.slice(p.start, p.size === undefined ? undefined : p.start + p.size);
  const attrs: Record<string, unknown> = { size: slice.length };
  if (p.paged) {
    attrs['totalSize'] = items.length;
    attrs['offset'] = p.start;
  }
  if (slice.length > 0) attrs['Metadata'] = slice.map(toMetadata);
  return { attrs, headers: { 'x-plex-container-start': String(p.start), 'x-plex-container-total-size': String(items.length) } };
}

export class PlexLibraryApi {
  constructor(
    readonly model: ServerLibrary,
    private readonly serverId: string,
    private readonly machineId: string,
  ) {}

  handle(req: IncomingMessage, url: URL, path: string, reply: PlexReply): SimResponse | undefined {
    const sectionAll = /^\/library\/sections\/([^/]+)\/all$/.exec(path);
    if (sectionAll) return this.sectionAll(decodeURIComponent(sectionAll[1]!), req, url, reply);
    const metadata = /^\/library\/metadata\/([^/]+)(\/children)?$/.exec(path);
    if (metadata) return metadata[2] ? this.children(metadata[1]!, req, url, reply) : this.metadata(metadata[1]!, reply);
    const image = /^\/library\/metadata\/(\d+)\/(thumb|art)\/\d+$/.exec(path);
    if (image) return this.image(`${path}`, undefined, undefined, req);
    if (path === '/hubs/search') return this.search(url, reply);
    if (path === '/hubs/continueWatching') {
      const count = Number.parseInt(queryParam(url, 'count') ?? '', 10);
      const items = this.model.resumable(Number.isNaN(count) ? 20 : Math.max(0, count));
      const hub = { key: '/hubs/continueWatching/items', hubKey: '/hubs/continueWatching/items', title: 'Continue Watching', type: 'mixed', hubIdentifier: 'home.continue', context: 'hub.home.continue', size: items.length, more: false, style: 'hero', promoted: true, ...(items.length > 0 ? { Metadata: items.map((i) => this.metadataOf(i, false)) } : {}) };
      return reply({ size: 1, allowSync: false, identifier: 'com.plexapp.plugins.library', Hub: [hub] });
    }
    if (path === '/library/onDeck') {
      const items = this.model.resumable(50);
      const { attrs, headers } = page(items, paging(req, url), (i) => this.metadataOf(i, false));
      return reply({ ...attrs, allowSync: false, identifier: 'com.plexapp.plugins.library', mediaTagPrefix: '/system/bundle/media/flags/', mediaTagVersion: 1700000000, mixedParents: true }, headers);
    }
    if (path === '/library/recentlyAdded') {
      const items = this.model.recentlyAdded(50);
      const { attrs, headers } = page(items, paging(req, url), (i) => this.metadataOf(i, false));
      return reply({ ...attrs, allowSync: false, identifier: 'com.plexapp.plugins.library', mediaTagPrefix: '/system/bundle/media/flags/', mediaTagVersion: 1700000000, mixedParents: true }, headers);
    }
    if (path === '/photo/:/transcode') {
      const target = queryParam(url, 'url');
      const width = Number.parseInt(queryParam(url, 'width') ?? '', 10);
      const height = Number.parseInt(queryParam(url, 'height') ?? '', 10);
      return this.image(target, Number.isNaN(width) ? undefined : width, Number.isNaN(height) ? undefined : height, req);
    }
    return undefined;
  }

  // --- lists --------------------------------------------------------------------------------

  private sectionAll(sectionId: string, req: IncomingMessage, url: URL, reply: PlexReply): SimResponse {
    const library = this.model.library(sectionId);
    if (!library) return notFound();
    const query: ListQuery = {};
    const typeParam = queryParam(url, 'type');
    if (typeParam !== undefined) {
      const type = TYPE_BY_NUMBER.get(typeParam);
      if (!type) return empty(400);
      query.types = [type];
    }
    const sortParam = queryParam(url, 'sort');
    if (sortParam) {
      const [fieldName = '', dir] = sortParam.split(',')[0]!.split(':');
      const field = SORT_FIELDS[fieldName];
      if (!field) return empty(400);
      query.sort = { field, descending: dir === 'desc' };
    }
    if (queryParam(url, 'unwatched') === '1') query.unwatched = true;
    const genre = queryParam(url, 'genre');
    if (genre) query.genre = genre;
    const year = queryParam(url, 'year');
    if (year) query.years = year.split(',').map(Number).filter(Number.isInteger);
    // Dates take `=`, `!=`, `>>=` (after) and `<<=` (before) — Plex's "Media Queries" in the spec;
    // `>=`/`<=` are integer and string operators. `updatedAt>>=1700000000` arrives as the key
    // "updatedAt>>"; an integer operator on the date is refused as the server refuses a bad filter.
    for (const [k, v] of url.searchParams) {
      if (k === 'updatedAt>' || k === 'updatedAt<') return empty(400);
      if (k === 'updatedAt>>') {
        const seconds = Number(v);
        if (!Number.isInteger(seconds)) return empty(400);
        query.updatedSince = seconds + 1;
      }
    }
    const title = queryParam(url, 'title');
    if (title) query.searchTerm = title;
    const items = library.list(query);
    const { attrs, headers } = page(items, paging(req, url), (i) => this.metadataOf(i, false));
    const type = query.types?.[0] ?? library.topTypes[0]!;
    return reply(
      {
        ...attrs,
        allowSync: true,
        art: `/:/resources/${type}-fanart.jpg`,
        identifier: 'com.plexapp.plugins.library',
        librarySectionID: Number(library.id) || library.ordinal,
        librarySectionTitle: library.spec.title,
        librarySectionUUID: this.sectionUuid(library.id),
        mediaTagPrefix: '/system/bundle/media/flags/',
        mediaTagVersion: 1700000000,
        thumb: `/:/resources/${type}.png`,
        title1: library.spec.title,
        title2: 'All',
        viewGroup: type,
      },
      headers,
    );
  }

  private sectionUuid(id: string): string {
    const h = (n: number) => (this.model.seed + n * 0x9e3779b1 + id.length).toString(16).padStart(8, '0').slice(-8);
    return `${h(1)}-${h(2).slice(0, 4)}-${h(3).slice(0, 4)}-${h(4).slice(0, 4)}-${h(5)}${h(6).slice(0, 4)}`;
  }

  private metadata(ids: string, reply: PlexReply): SimResponse {
    const items = ids.split(',').map((id) => (/^\d+$/.test(id) ? this.model.item(Number(id)) : undefined));
    if (items.some((i) => !i)) return notFound();
    const list = items as SimItem[];
    const first = list[0]!;
    return reply({
      size: list.length,
      allowSync: true,
      identifier: 'com.plexapp.plugins.library',
      librarySectionID: Number(first.library.id) || first.library.ordinal,
      librarySectionTitle: first.library.spec.title,
      librarySectionUUID: this.sectionUuid(first.library.id),
      mediaTagPrefix: '/system/bundle/media/flags/',
      mediaTagVersion: 1700000000,
      Metadata: list.map((i) => this.metadataOf(i, true)),
    });
  }

  private children(id: string, req: IncomingMessage, url: URL, reply: PlexReply): SimResponse {
    const parent = /^\d+$/.test(id) ? this.model.item(Number(id)) : undefined;
    if (!parent) return notFound();
    const kids = this.model.children(parent);
    const { attrs, headers } = page(kids, paging(req, url), (i) => this.metadataOf(i, false));
    return reply(
      {
        ...attrs,
        allowSync: true,
        art: `/library/metadata/${parent.key}/art/${parent.updatedAt}`,
        identifier: 'com.plexapp.plugins.library',
        key: String(parent.key),
        librarySectionID: Number(parent.library.id) || parent.library.ordinal,
        librarySectionTitle: parent.library.spec.title,
        mediaTagPrefix: '/system/bundle/media/flags/',
        mediaTagVersion: 1700000000,
        parentIndex: parent.type === 'season' || parent.type === 'album' ? parent.index : undefined,
        parentTitle: parent.title,
        parentYear: parent.year,
        thumb: `/library/metadata/${parent.key}/thumb/${parent.updatedAt}`,
        title1: parent.library.spec.title,
        title2: parent.title,
        viewGroup: kids[0]?.type ?? 'secondary',
      },
      headers,
    );
  }

  private search(url: URL, reply: PlexReply): SimResponse {
    const query = queryParam(url, 'query') ?? '';
    const limit = Math.max(1, Math.min(100, Number.parseInt(queryParam(url, 'limit') ?? '', 10) || 10));
    const found = this.model.search(query, limit);
    const types = new Set<ItemType>();
    for (const lib of this.model.libraries) for (const t of lib.kind === 'music' ? (['artist', 'album'] as ItemType[]) : lib.topTypes) types.add(t);
    const hubTitle: Record<string, string> = { movie: 'Movies', show: 'Shows', artist: 'Artists', album: 'Albums', photo: 'Photos' };
    const hubs = [...types].map((type) => {
      const items = found.get(type) ?? [];
      return { title: hubTitle[type] ?? type, type, hubIdentifier: type, context: `hub.${type}`, size: items.length, more: false, style: 'shelf', ...(items.length > 0 ? { Metadata: items.map((i) => this.metadataOf(i, false)) } : {}) };
    });
    return reply({ size: hubs.length, identifier: 'com.plexapp.plugins.library', Hub: hubs });
  }

  // --- images -------------------------------------------------------------------------------

  /** Only the thumb or art path of a known item; anything else (another host, a file path) is 404. */
  private image(target: string | undefined, width: number | undefined, height: number | undefined, req: IncomingMessage): SimResponse {
    if (!target) return empty(400);
    let path: string;
    try {
      path = new URL(target, 'http://pms.invalid').pathname;
    } catch {
      return notFound();
    }
    if (!target.startsWith('/')) return notFound();
    const match = /^\/library\/metadata\/(\d+)\/(thumb|art)\/\d+$/.exec(path);
    const item = match ? this.model.item(Number(match[1])) : undefined;
    if (!match || !item) return notFound();
    const kind = match[2] as 'thumb' | 'art';
    const natural = kind === 'art' ? ART_SIZE : item.type === 'album' || item.type === 'artist' || item.type === 'track' ? SQUARE_SIZE : item.type === 'episode' || item.type === 'photo' ? ART_SIZE : POSTER_SIZE;
    const image = renderImage({ seed: `plex:${this.serverId}:${item.key}:${kind}`, ...natural, maxWidth: width, maxHeight: height });
    const headers = { 'content-type': image.contentType, etag: image.etag, 'cache-control': 'public, max-age=3600' };
    if (header(req, 'if-none-match') === image.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: image.body };
  }

  // --- DTOs ---------------------------------------------------------------------------------

  metadataOf(item: SimItem, detail: boolean): Record<string, unknown> {
    const k = item.key;
    const lib = item.library;
    const parent = item.parentKey === undefined ? undefined : this.model.item(item.parentKey);
    const grandparent = item.grandparentKey === undefined ? undefined : this.model.item(item.grandparentKey);
    const folder = item.type === 'show' || item.type === 'season' || item.type === 'artist' || item.type === 'album';
    const out: Record<string, unknown> = {
      ratingKey: String(k),
      key: folder ? `/library/metadata/${k}/children` : `/library/metadata/${k}`,
      guid: `plex://${item.type}/${this.machineId.slice(0, 8)}${k.toString(16)}`,
      type: item.type,
      title: item.title,
      titleSort: item.sortTitle !== item.title.toLowerCase() ? item.title.replace(/^(The|A|An) /i, '') : undefined,
      librarySectionID: Number(lib.id) || lib.ordinal,
      librarySectionTitle: lib.spec.title,
      librarySectionKey: `/library/sections/${lib.id}`,
      summary: item.summary,
      index: item.type === 'season' || item.type === 'episode' || item.type === 'album' || item.type === 'track' ? item.index : undefined,
      rating: item.type === 'movie' || item.type === 'show' || item.type === 'episode' ? item.rating : undefined,
      year: item.year,
      thumb: `/library/metadata/${k}/thumb/${item.updatedAt}`,
      art: `/library/metadata/${item.grandparentKey ?? item.parentKey ?? k}/art/${item.updatedAt}`,
      duration: item.durationMs,
      originallyAvailableAt: item.type === 'movie' || item.type === 'episode' ? `${item.year}-${String(1 + (k % 12)).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')}` : undefined,
      addedAt: item.addedAt,
      updatedAt: item.updatedAt,
      viewCount: item.viewCount > 0 ? item.viewCount : undefined,
      viewOffset: item.viewOffsetMs > 0 ? item.viewOffsetMs : undefined,
      lastViewedAt: item.lastViewedAt,
    };
    if (parent) {
      Object.assign(out, { parentRatingKey: String(parent.key), parentKey: `/library/metadata/${parent.key}`, parentTitle: parent.title, parentThumb: `/library/metadata/${parent.key}/thumb/${parent.updatedAt}` });
      if (item.type === 'episode' || item.type === 'track') out['parentIndex'] = parent.index;
    }
    if (grandparent) {
      Object.assign(out, { grandparentRatingKey: String(grandparent.key), grandparentKey: `/library/metadata/${grandparent.key}`, grandparentTitle: grandparent.title, grandparentThumb: `/library/metadata/${grandparent.key}/thumb/${grandparent.updatedAt}`, grandparentArt: `/library/metadata/${grandparent.key}/art/${grandparent.updatedAt}` });
    }
    if (folder) {
      const kids = this.model.children(item);
      out['childCount'] = kids.length;
      if (item.type === 'show') {
        const episodes = kids.flatMap((season) => this.model.children(season));
        out['leafCount'] = episodes.length;
        out['viewedLeafCount'] = episodes.filter((e) => e.viewCount > 0).length;
      } else if (item.type === 'season' || item.type === 'album') {
        out['leafCount'] = kids.length;
        out['viewedLeafCount'] = kids.filter((e) => e.viewCount > 0).length;
      }
    }
    if (item.genres.length > 0 && (item.type === 'movie' || item.type === 'show' || item.type === 'artist' || item.type === 'album')) {
      out['Genre'] = item.genres.map((tag, i) => (detail ? { id: 1000 + i, filter: `genre=${encodeURIComponent(tag)}`, tag } : { tag }));
    }
    if (item.cast.length > 0) out['Role'] = item.cast.slice(0, detail ? 3 : 2).map((tag, i) => ({ ...(detail ? { id: 5000 + i, role: `Character ${i + 1}`, thumb: `/library/metadata/${k}/thumb/${item.updatedAt}` } : {}), tag }));
    if (item.variant !== undefined && item.durationMs !== undefined) out['Media'] = [this.media(item, detail)];
    if (item.type === 'photo') {
      out['Media'] = [{ id: plexMediaId(k), width: 1280, height: 720, aspectRatio: 1.78, container: 'jpeg', Part: [{ id: plexPartId(k), key: `/library/metadata/${k}/thumb/${item.updatedAt}`, file: `/data/${lib.spec.title}/${item.title}.jpg`, size: 250_000, container: 'jpeg' }] }];
    }
    return out;
  }

  private media(item: SimItem, detail: boolean): Record<string, unknown> {
    const k = item.key;
    const duration = item.durationMs ?? 0;
    const partId = plexPartId(k);
    const file = `/data/${item.library.spec.title}/${item.title.replace(/[/\\]/g, '-')}/${item.title.replace(/[/\\]/g, '-')}.mp4`;
    if (item.variant === 'audio-aac') {
      return {
        id: plexMediaId(k),
        duration,
        bitrate: 128,
        audioChannels: 2,
        audioCodec: 'aac',
        container: 'mp4',
        Part: [{ id: partId, key: `/library/parts/${partId}/${item.addedAt}/file.mp4`, duration, file, size: 2_900_000, container: 'mp4', ...(detail ? { Stream: [{ id: partId * 10 + 1, streamType: 2, codec: 'aac', channels: 2, bitrate: 128, samplingRate: 44100, index: 0, selected: true, displayTitle: 'AAC (Stereo)' }] } : {}) }],
      };
    }
    const hevc = item.variant === 'hevc-ac3';
    const videoCodec = hevc ? 'hevc' : 'h264';
    const audioCodec = hevc ? 'ac3' : 'aac';
    return {
      id: plexMediaId(k),
      duration,
      bitrate: 400,
      width: 426,
      height: 240,
      aspectRatio: 1.78,
      audioChannels: hevc ? 6 : 2,
      audioCodec,
      videoCodec,
      videoResolution: '240',
      container: 'mp4',
      videoFrameRate: '24p',
      optimizedForStreaming: true,
      videoProfile: hevc ? 'main' : 'high',
      Part: [
        {
          id: partId,
          key: `/library/parts/${partId}/${item.addedAt}/file.mp4`,
          duration,
          file,
          size: 8_300_000,
          container: 'mp4',
          optimizedForStreaming: true,
          videoProfile: hevc ? 'main' : 'high',
          ...(detail
            ? {
                Stream: [
                  { id: partId * 10 + 1, streamType: 1, codec: videoCodec, index: 0, width: 426, height: 240, frameRate: 24, profile: hevc ? 'main' : 'high', default: true, displayTitle: `240p (${videoCodec.toUpperCase()})` },
                  { id: partId * 10 + 2, streamType: 2, codec: audioCodec, index: 1, channels: hevc ? 6 : 2, samplingRate: 48000, language: 'English', languageCode: 'eng', selected: true, default: true, displayTitle: `English (${audioCodec.toUpperCase()} ${hevc ? '5.1' : 'Stereo'})` },
                ],
              }
            : {}),
        },
      ],
    };
  }
}

function notFound(): SimResponse {
  return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>' };
}
