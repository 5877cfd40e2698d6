// Three fixed items every server can play, one per clip, outside the generated libraries: the
// media tests address them directly. The servers chain them after their library's catalog
// (sim/library-model.ts `chainCatalogs`).
import type { MediaCatalog, SimMediaVariant, SimPlayable } from '../media-catalog.js';
import { stableHex } from '../ids.js';
import { CLIP_PARAMS } from './clips.js';

const VARIANTS: { variant: SimMediaVariant; title: string }[] = [
  { variant: 'h264-aac', title: 'Test Pattern (H.264)' },
  { variant: 'hevc-ac3', title: 'Test Pattern (HEVC)' },
  { variant: 'audio-aac', title: 'Test Tone' },
];

/** The fallback items of one server: Plex ratingKeys 90001–90003 (parts 190001–190003), Jellyfin 32-hex ids. */
export function fallbackPlayables(kind: 'plex' | 'jellyfin', serverId: string): SimPlayable[] {
  return VARIANTS.map(({ variant, title }, i) => {
    if (kind === 'plex') return { itemId: String(90001 + i), partId: String(190001 + i), title, variant, durationMs: CLIP_PARAMS.durationSec * 1000 };
    // Jellyfin's MediaSource Id of a single-version item is the item's own Id.
    const id = stableHex(`sim-media:${serverId}:${variant}`, 32);
    return { itemId: id, partId: id, title, variant, durationMs: CLIP_PARAMS.durationSec * 1000 };
  });
}

export function fallbackCatalog(kind: 'plex' | 'jellyfin', serverId: string): Required<MediaCatalog> {
  const items = fallbackPlayables(kind, serverId);
  return {
    playable: (itemId) => items.find((i) => i.itemId === itemId) ?? null,
    playableByPart: (partId) => items.find((i) => i.partId === partId) ?? null,
  };
}
