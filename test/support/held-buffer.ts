// Holds a player's buffer at a target number of seconds ahead by steering the route's throttle
// (the playback-stall bench, issue 15). A player left to itself keeps as much ahead as the route
// allows — Chromium's progressive loader never fell under ~4 s even with the route at 1.05× the
// clip's bitrate — so the only lever is the rate: below the bitrate while too much is ahead (the
// player drains it), about the bitrate inside the band (it stays), above it when too little is
// ahead (it refills). Pure: the caller samples `buffered end − currentTime`, applies the rate and
// makes the cut; no clock or I/O here.

export interface HeldBufferSettings {
  /** Band of seconds ahead to hold, inclusive. */
  lowSec: number;
  highSec: number;
  /** Rates as multiples of the clip's bitrate: above the band, in it, under it. */
  drainRate: number;
  holdRate: number;
  refillRate: number;
  /** Cut once the buffer has stayed in the band this long without leaving it (0: on entering it). */
  dwellMs: number;
}

/** The brief's numbers: 2 s ± 0.2 s, drained at 0.5×, held at 1.05×, refilled at 1.5×, 1 s in band. */
export const HOLD_TWO_SECONDS: HeldBufferSettings = { lowSec: 1.8, highSec: 2.2, drainRate: 0.5, holdRate: 1.05, refillRate: 1.5, dwellMs: 1_000 };

export interface HeldBufferState {
  /** When the buffer last entered the band (caller's clock, ms); null while outside it. */
  inBandSince: number | null;
}

export interface HeldBufferStep {
  state: HeldBufferState;
  /** The route's rate to apply now, as a multiple of the clip's bitrate. */
  rate: number;
  /** True: the buffer has been held long enough — cut now. */
  cut: boolean;
  /** How long it has been in the band without a break, ms (0 outside it). */
  inBandMs: number;
}

export const HELD_BUFFER_START: HeldBufferState = { inBandSince: null };

/** One control step for a sample of `aheadSec` seconds buffered ahead taken at `nowMs`. */
export function holdBufferStep(settings: HeldBufferSettings, state: HeldBufferState, aheadSec: number, nowMs: number): HeldBufferStep {
  if (aheadSec > settings.highSec) return { state: { inBandSince: null }, rate: settings.drainRate, cut: false, inBandMs: 0 };
  if (aheadSec < settings.lowSec) return { state: { inBandSince: null }, rate: settings.refillRate, cut: false, inBandMs: 0 };
  const inBandSince = state.inBandSince ?? nowMs;
  const inBandMs = nowMs - inBandSince;
  return { state: { inBandSince }, rate: settings.holdRate, cut: inBandMs >= settings.dwellMs, inBandMs };
}
