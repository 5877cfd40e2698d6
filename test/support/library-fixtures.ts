// Library answers shaped exactly like the real servers' (issue 14), for backend and parser tests.
// Each builder's output is validated against /work/shared/specs in src/backends/*/browse.test.ts.
export const JF_USER = 'aaaaaaaabbbbbbbbccccccccdddddddd';
export const JF_LIBRARY = 'f137a2dd21bbc1b99aa5c0f6bf02a805';

// ---- Plex ---------------------------------------------------------------------------------

export function plexMovie(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ratingKey: String(1000 + n),
    key: `/library/metadata/${1000 + n}`,
    guid: `plex://movie/${(1000 + n).toString(16).padStart(24, '0')}`,
    type: 'movie',
    title: `Movie ${n}`,
    titleSort: `Movie ${String(n).padStart(4, '0')}`,
    librarySectionID: 1,
    summary: `The story of movie ${n}.`,
    rating: 7.5,
    audienceRating: 8.1,
    year: 2000 + (n % 20),
    duration: 5_400_000,
    addedAt: 1_700_000_000 + n,
    updatedAt: 1_700_100_000 + n,
    thumb: `/library/metadata/${1000 + n}/thumb/1700100000`,
    art: `/library/metadata/${1000 + n}/art/1700100000`,
    Genre: [{ tag: 'Drama' }, { tag: 'Comedy' }],
    Role: [{ tag: 'Ann Actor', role: 'Herself' }],
    ...extra,
  };
}

export function plexShow(): Record<string, unknown> {
  return {
    ratingKey: '2000',
    key: '/library/metadata/2000/children',
    type: 'show',
    title: 'The Show',
    titleSort: 'Show',
    librarySectionID: 2,
    year: 2019,
    addedAt: 1_690_000_000,
    updatedAt: 1_690_000_500,
    childCount: 2,
    leafCount: 20,
    viewedLeafCount: 20,
    thumb: '/library/metadata/2000/thumb/1690000500',
  };
}

export function plexSeason(index: number): Record<string, unknown> {
  return {
    ratingKey: String(2000 + index),
    key: `/library/metadata/${2000 + index}/children`,
    parentRatingKey: '2000',
    type: 'season',
    title: `Season ${index}`,
    index,
    leafCount: 10,
    viewedLeafCount: 3,
    thumb: `/library/metadata/${2000 + index}/thumb/1690000500`,
  };
}

export function plexEpisode(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ratingKey: String(3000 + n),
    key: `/library/metadata/${3000 + n}`,
    parentRatingKey: '2001',
    grandparentRatingKey: '2000',
    type: 'episode',
    title: `Episode ${n}`,
    grandparentTitle: 'The Show',
    parentTitle: 'Season 1',
    index: n,
    parentIndex: 1,
    duration: 1_500_000,
    viewOffset: 600_000,
    lastViewedAt: 1_700_200_000,
    librarySectionID: 2,
    thumb: `/library/metadata/${3000 + n}/thumb/1690000500`,
    ...extra,
  };
}

export function plexContainer(metadata: unknown[], extra: Record<string, unknown> = {}): { MediaContainer: Record<string, unknown> } {
  return { MediaContainer: { size: metadata.length, allowSync: true, identifier: 'com.plexapp.plugins.library', Metadata: metadata, ...extra } };
}

export function plexHubs(hubs: { type: string; items: unknown[] }[]): { MediaContainer: Record<string, unknown> } {
  return {
    MediaContainer: {
      size: hubs.length,
      identifier: 'com.plexapp.plugins.library',
      Hub: hubs.map((h) => ({ hubIdentifier: h.type, title: h.type, type: h.type, size: h.items.length, more: false, Metadata: h.items })),
    },
  };
}

// ---- Jellyfin ------------------------------------------------------------------------------

const hex = (n: number) => n.toString(16).padStart(32, '0');
export const jfId = hex;

export function jfMovie(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: `Movie ${n}`,
    ServerId: 'a'.repeat(32),
    Id: hex(0x1000 + n),
    SortName: `movie ${String(n).padStart(4, '0')}`,
    DateCreated: '2023-11-14T22:13:20.0000000Z',
    ProductionYear: 2001,
    CommunityRating: 7.2,
    RunTimeTicks: 54_000_000_000,
    Overview: `The story of movie ${n}.`,
    Genres: ['Drama'],
    Type: 'Movie',
    IsFolder: false,
    UserData: { PlaybackPositionTicks: 12_000_000_000, PlayCount: 0, IsFavorite: false, Played: false, Key: String(n), ItemId: hex(0x1000 + n), LastPlayedDate: '2024-01-02T03:04:05.0000000Z' },
    ImageTags: { Primary: `tag${n}` },
    BackdropImageTags: [`bd${n}`],
    ImageBlurHashes: { Primary: { [`tag${n}`]: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj' } },
    MediaType: 'Video',
    ...extra,
  };
}

export function jfSeries(): Record<string, unknown> {
  return { Name: 'The Show', Id: hex(0x2000), Type: 'Series', IsFolder: true, ChildCount: 2, ProductionYear: 2019, UserData: { Played: true, PlaybackPositionTicks: 0, PlayCount: 0, IsFavorite: false, Key: 's', ItemId: hex(0x2000) }, ImageTags: { Primary: 'showtag' } };
}

export function jfSeason(index: number): Record<string, unknown> {
  return { Name: `Season ${index}`, Id: hex(0x2000 + index), Type: 'Season', IsFolder: true, IndexNumber: index, SeriesId: hex(0x2000), SeriesName: 'The Show', ParentId: hex(0x2000), ChildCount: 10 };
}

export function jfEpisode(n: number): Record<string, unknown> {
  return {
    Name: `Episode ${n}`,
    Id: hex(0x3000 + n),
    Type: 'Episode',
    IsFolder: false,
    IndexNumber: n,
    ParentIndexNumber: 1,
    SeriesId: hex(0x2000),
    SeriesName: 'The Show',
    SeasonId: hex(0x2001),
    SeasonName: 'Season 1',
    RunTimeTicks: 15_000_000_000,
    UserData: { PlaybackPositionTicks: 6_000_000_000, PlayCount: 0, IsFavorite: false, Played: false, Key: 'e', ItemId: hex(0x3000 + n) },
    ParentBackdropItemId: hex(0x2000),
    ParentBackdropImageTags: ['showbd'],
  };
}

export function jfQueryResult(items: unknown[], total = items.length, start = 0): { Items: unknown[]; TotalRecordCount: number; StartIndex: number } {
  return { Items: items, TotalRecordCount: total, StartIndex: start };
}

// ---- Images --------------------------------------------------------------------------------

/** A valid 1×1 PNG (the magic bytes and a real IHDR/IDAT/IEND). */
export const PNG_1X1 = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f0e7050000000049454e44ae426082', 'hex');
/** The start of a JPEG (SOI + APP0 JFIF): enough for the magic-byte check. */
export const JPEG_HEAD = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), Buffer.alloc(64, 0), Buffer.from('ffd9', 'hex')]);
