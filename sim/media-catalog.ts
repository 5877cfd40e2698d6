// The seam between the simulated libraries (what items exist) and the simulated media (the bytes
// a player fetches). The library side answers which items are playable and how; the media side
// serves clips, ranges and HLS for them. Both halves live in sim/ and import nothing from src/.

/**
 * Which test clip an item plays: one Chromium plays directly, one it cannot (forces a transcode),
 * audio only, and `h264-aac-high` — the H.264 clip at ~3 Mbps, above any Plex relay cap (1/2 Mbps):
 * it plays directly on a fast route and needs a transcode on the relay. No generated item uses it;
 * tests give it to an item through `media.catalog`.
 */
export type SimMediaVariant = 'h264-aac' | 'hevc-ac3' | 'audio-aac' | 'h264-aac-high';

export interface SimPlayable {
  /** Plex ratingKey or Jellyfin item Id (32 hex). */
  itemId: string;
  title: string;
  /** The clip's duration: what the server reports as runtime for this item. */
  durationMs: number;
  variant: SimMediaVariant;
  /** Plex: the part id of the item's one media part; Jellyfin: the MediaSource Id. */
  partId: string;
}

/** What one simulated server's library knows about playable items. */
export interface MediaCatalog {
  playable(itemId: string): SimPlayable | null;
  /**
   * Plex part URLs (`/library/parts/{partId}/…`) name only the part: the item owning it. Optional;
   * without it the media side only knows parts of items it was asked about by item id.
   */
  playableByPart?(partId: string): SimPlayable | null;
}
