// Play sessions from the browser's side (issue 15): create one, stop one — and, on a cold load of
// `/play/{sourceId}/{itemId}`, create it while the app is still booting. The route is known from
// the address before React has rendered anything, and `POST api/play` (the server's decision) is
// the slowest step before the video can get its `src`; started from main.tsx's first import it
// overlaps the app's boot instead of following it.
import type { ApiPlaySession } from '../../api/types';
import { apiFetch, apiUrl, basePath } from './api';
import { parseLocation } from './router';

export interface CreatePlayInput {
  sourceId: string;
  itemId: string;
  startMs?: number;
  audioTrackId?: string;
}

/** An early session nobody took (the app never showed the player) is stopped after this long. */
const UNCLAIMED_STOP_MS = 15_000;

export function createPlaySession(input: CreatePlayInput): Promise<ApiPlaySession> {
  const body: CreatePlayInput = { sourceId: input.sourceId, itemId: input.itemId };
  if (input.startMs !== undefined) body.startMs = Math.round(input.startMs);
  if (input.audioTrackId !== undefined) body.audioTrackId = input.audioTrackId;
  return apiFetch<ApiPlaySession>('play', { method: 'POST', body });
}

/**
 * Stops a session, saying where the player was (the server's stopped report carries it; without
 * it, the last reported position). One request: a separate last report raced the DELETE. With
 * `keepalive` the browser finishes it after the page is gone (sendBeacon cannot say DELETE).
 */
export function stopPlaySession(sessionId: string, positionMs?: number): void {
  try {
    void fetch(apiUrl(`play/${encodeURIComponent(sessionId)}`), {
      method: 'DELETE',
      keepalive: true,
      credentials: 'same-origin',
      headers: positionMs === undefined ? {} : { 'content-type': 'application/json' },
      body: positionMs === undefined ? undefined : JSON.stringify({ positionMs: Math.round(positionMs) }),
    }).catch(() => undefined);
  } catch {
    // Nothing to do when leaving: the session expires on the server by itself.
  }
}

interface EarlyPlay {
  sourceId: string;
  itemId: string;
  session: Promise<ApiPlaySession>;
  claimed: boolean;
}

let early: EarlyPlay | null = null;

/** Stops an early session once it answers, if no player took it (replaced, or never shown). */
function stopIfUnclaimed(entry: EarlyPlay): void {
  entry.session.then(
    (created) => {
      if (entry.claimed) return;
      if (early === entry) early = null;
      stopPlaySession(created.id);
    },
    () => undefined,
  );
}

/**
 * On a player address, asks for the session now: at boot (main.tsx, before the app renders) and on
 * an in-app navigation to a player address (before the page switches). A player that does not take
 * it within UNCLAIMED_STOP_MS, or a newer early session, stops it.
 */
export function startPlayEarly(location: Pick<Location, 'pathname' | 'search' | 'hash'> = window.location): void {
  const route = parseLocation(location.pathname, location.search, location.hash, basePath());
  if (route.page !== 'play' || !route.sourceId || !route.itemId) return;
  // `early` is only ever an entry nobody took (taking it clears it).
  if (early) stopIfUnclaimed(early);
  const session = createPlaySession({ sourceId: route.sourceId, itemId: route.itemId });
  const entry: EarlyPlay = { sourceId: route.sourceId, itemId: route.itemId, session, claimed: false };
  early = entry;
  // The player that takes it says the error (or asks again); nobody else needs to hear it.
  session.catch(() => undefined);
  setTimeout(() => {
    if (!entry.claimed) stopIfUnclaimed(entry);
  }, UNCLAIMED_STOP_MS);
}

/** The session asked for early (boot or navigation) for this item, once; null when there is none to take. */
export function takeEarlyPlay(sourceId: string, itemId: string): Promise<ApiPlaySession> | null {
  if (!early || early.sourceId !== sourceId || early.itemId !== itemId) return null;
  const { session } = early;
  early.claimed = true;
  early = null;
  return session;
}
