// The library vocabulary (issue 14): what a server's libraries hold, as both backends report it and
// the cache stores it. Pure data, no I/O. Images are referred to by the server's own relative path
// (Plex `thumb`, Jellyfin `Items/{id}/Images/{type}` + tag) — never a URL with a token, never a
// URL the browser chose: the image proxy resolves a ref of a known item of a known source.

/** Normalised item kinds of both servers (Plex `type`, Jellyfin `Type`). */
export type ItemType =
  | 'movie'
  | 'show'
  | 'season'
  | 'episode'
  | 'artist'
  | 'album'
  | 'track'
  | 'photo'
  | 'video'
  | 'folder'
  | 'other';
export const ITEM_TYPES = ['movie', 'show', 'season', 'episode', 'artist', 'album', 'track', 'photo', 'video', 'folder', 'other'] as const satisfies readonly ItemType[];

/** Items a player can open (the rest are containers). */
export const PLAYABLE_ITEM_TYPES: ReadonlySet<ItemType> = new Set(['movie', 'episode', 'track', 'video']);

export type ImageKind = 'poster' | 'backdrop';

/** Where the server keeps an item's image: a server-relative path, no host, no token. */
export interface ImageRef {
  kind: ImageKind;
  /** Plex: the `thumb`/`art` path (`/library/metadata/1/thumb/1700000000`). Jellyfin: `/Items/{id}/Images/{Primary|Backdrop}` (the id is needed to fetch it). */
  path: string;
  /** Jellyfin's image tag (changes when the image does); Plex encodes it in the path. */
  tag?: string;
}

export interface CastMember {
  name: string;
  role?: string;
}

/** One item as a backend reports it (no source id: the cache adds it). */
export interface LibraryItem {
  /** Plex ratingKey / Jellyfin Id. */
  id: string;
  /** The library (Plex section key / Jellyfin view Id) when the server says it. */
  libraryId: string | null;
  /** Season of an episode, show of a season, album of a track, artist of an album. */
  parentId: string | null;
  type: ItemType;
  title: string;
  /** What sorting by title uses (Plex `titleSort`, Jellyfin `SortName`); the title when absent. */
  sortTitle: string;
  year: number | null;
  /** Epoch ms it was added (Plex `addedAt`, Jellyfin `DateCreated`). */
  addedAt: number | null;
  /** Epoch ms of its last change (Plex `updatedAt`, Jellyfin `DateLastSaved`): incremental sync. */
  updatedAt: number | null;
  /** 0–10 (Plex `rating`/`audienceRating`, Jellyfin `CommunityRating`). */
  rating: number | null;
  durationMs: number | null;
  overview: string | null;
  genres: string[];
  cast: CastMember[];
  /** Episode, track or season number. */
  index: number | null;
  /** Season number of an episode, disc of a track. */
  parentIndex: number | null;
  /** Season or album title. */
  parentTitle: string | null;
  /** Show or artist name. */
  grandparentTitle: string | null;
  /** Seasons of a show, episodes of a season, tracks of an album, when the server says. */
  childCount: number | null;
  watched: boolean;
  /** Resume position (Plex `viewOffset` ms, Jellyfin `PlaybackPositionTicks` / 10,000); null when none. */
  resumeMs: number | null;
  /** When the user last watched it (epoch ms): orders Continue watching. */
  lastViewedAt: number | null;
  poster: ImageRef | null;
  backdrop: ImageRef | null;
  /** Jellyfin's `ImageBlurHashes` for the poster: a placeholder while it loads. */
  blurhash: string | null;
}
