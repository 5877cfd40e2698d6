// Quality follows the route (issue 15). On a relay, Plex caps a stream at 1 Mbps (2 Mbps with Plex
// Pass): asking for more only makes the player stall, so Marquee asks the server for a transcode
// that fits under the cap with room for audio and overhead. Back on a local or remote route the
// cap goes away and the original quality returns. The engine already holds a source on a lesser
// route until the better one has answered for its hold-down window (return-policy.ts), so the
// route kind in the source's status is "stable" by construction: a switch back happens only once
// the engine itself switched. Pure: no clock, no I/O.
import type { RouteKind, SourceKind } from './types.js';

/** Plex's relay caps (kb/s). */
export const PLEX_RELAY_CAP_KBPS = { withoutPlexPass: 1_000, withPlexPass: 2_000 } as const;
/** Share of a cap the video may use: audio (~128 kb/s), container overhead and bursts need the rest. */
export const RELAY_HEADROOM = 0.8;

export interface QualityInput {
  serverKind: SourceKind;
  /** The route the engine uses now; null while the source is away. */
  routeKind: RouteKind | null;
  /** The server owner has Plex Pass (cap 2 Mbps); null: unknown (the 1 Mbps cap is assumed). */
  plexPass: boolean | null;
  /** A cap the user set (kb/s); null: none. */
  userCapKbps?: number | null;
}

export interface QualityChoice {
  /** The cap to ask the server for; null: none (direct play when the browser can). */
  maxBitrateKbps: number | null;
  /** Why, in words, for the player's connection line; null when nothing limits it. */
  reason: string | null;
}

/** The cap this route allows. */
export function qualityFor(input: QualityInput): QualityChoice {
  const user = input.userCapKbps ?? null;
  if (input.serverKind === 'plex' && input.routeKind === 'relay') {
    const cap = input.plexPass ? PLEX_RELAY_CAP_KBPS.withPlexPass : PLEX_RELAY_CAP_KBPS.withoutPlexPass;
    const fits = Math.floor(cap * RELAY_HEADROOM);
    if (user !== null && user < fits) return { maxBitrateKbps: user, reason: `your limit of ${formatKbps(user)}` };
    return { maxBitrateKbps: fits, reason: `relay: Plex caps relayed streams at ${formatKbps(cap)}` };
  }
  if (user !== null) return { maxBitrateKbps: user, reason: `your limit of ${formatKbps(user)}` };
  return { maxBitrateKbps: null, reason: null };
}

export type QualityAction = { action: 'keep' } | { action: 'switch'; choice: QualityChoice };

/**
 * Whether a playing session should change quality now: only when the cap the route allows differs
 * from the one in use. While the source is away nothing changes (the stream waits for a route;
 * the next route decides).
 */
export function qualityAction(inUseKbps: number | null, input: QualityInput): QualityAction {
  if (input.routeKind === null) return { action: 'keep' };
  const choice = qualityFor(input);
  return choice.maxBitrateKbps === inUseKbps ? { action: 'keep' } : { action: 'switch', choice };
}

export function formatKbps(kbps: number): string {
  return kbps >= 1_000 && kbps % 100 === 0 ? `${kbps / 1_000} Mbps` : `${kbps} kb/s`;
}
