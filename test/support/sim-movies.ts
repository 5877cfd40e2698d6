// Movies of the harness's simulated libraries by media variant (the playback engine tests pick a
// direct-play H.264/AAC item or a transcoded HEVC/AC-3 one).
import type { SimPlayable } from '../../sim/media-catalog.js';
import { JELLYFIN_ID, PLEX_ID, SIM_ROUTES, type EngineHarness } from './engine-harness.js';

/** Plex ratingKeys of the 'Movies' library (library 1) with the variant asked, in order. */
export function simPlexMovies(h: EngineHarness, variant: SimPlayable['variant']): string[] {
  const catalog = h.sim.library(PLEX_ID).mediaCatalog();
  const keys: string[] = [];
  for (let i = 0; i < 40; i++) {
    const key = String(100_000_000 + i * 1000);
    if (catalog.playable(key)?.variant === variant) keys.push(key);
  }
  if (keys.length === 0) throw new Error(`no ${variant} movie in the simulated Plex library`);
  return keys;
}

/** A Jellyfin movie Id with the variant asked, listed straight from the simulated server with the source's token. */
export async function simJellyfinMovie(h: EngineHarness, variant: SimPlayable['variant']): Promise<string> {
  const creds = h.engine.getCredentials(h.jellyfinSourceId)!;
  const res = await fetch(`${h.sim.route(SIM_ROUTES.jellyfinLocal).url}/Items?recursive=true&includeItemTypes=Movie&limit=20&userId=${creds.userId}`, { headers: { authorization: `MediaBrowser Token="${creds.token}"` } });
  const ids = ((await res.json()) as { Items: { Id: string }[] }).Items.map((i) => i.Id);
  const catalog = h.sim.library(JELLYFIN_ID).mediaCatalog();
  const id = ids.find((m) => catalog.playable(m)?.variant === variant);
  if (!id) throw new Error(`no ${variant} movie in the simulated Jellyfin library`);
  return id;
}
