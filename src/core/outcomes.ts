// What the monitor learned, as data: the reducer's input alphabet.
import type { LossReason, ProbeError, ProbeResult, Route } from './types.js';

export type Outcome =
  /** A full check: every route probed (results may be partial when decided early). */
  | {
      type: 'selection';
      routes: readonly Route[];
      results: readonly ProbeResult[];
      /** The route the selection picked; ignored unless it is an ok result of a known route. */
      chosenRouteId: string | null;
      /** Uniform random in [0, 1) for the backoff jitter. */
      jitter: number;
    }
  /** A light check of the current route only. */
  | { type: 'light_check'; result: ProbeResult; jitter?: number }
  /** Libraries fetched through `routeId`. */
  | { type: 'libraries'; routeId: string; ok: true; libraryCount: number }
  | { type: 'libraries'; routeId: string; ok: false; error: ProbeError }
  /**
   * The push channel closed or went silent, or the server announced it is going away
   * (reason server_shutting_down / server_restarting).
   */
  | { type: 'push_lost'; reason?: LossReason; jitter?: number }
  /** The host's network interfaces changed. */
  | { type: 'network_changed' }
  /** The user signed in again: try the new token at once. */
  | { type: 'credentials_updated' }
  /** No credentials are stored for the source. */
  | { type: 'credentials_missing' }
  | { type: 'renamed'; name: string };

export type OutcomeType = Outcome['type'];

/** The outcome as a row of the transition table. */
export type OutcomeClass =
  | 'selection_ok'
  | 'selection_unauthorized'
  | 'selection_failed'
  | 'light_ok'
  | 'light_failed'
  | 'libraries_ok'
  | 'libraries_unauthorized'
  | 'libraries_failed'
  | 'server_going_away'
  | 'push_lost'
  | 'network_changed'
  | 'credentials_updated'
  | 'credentials_missing'
  | 'renamed';
