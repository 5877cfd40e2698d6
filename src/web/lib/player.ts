// Pure helpers of the player page (issue 15): the connection line, the clock, the keyboard
// shortcuts and the buffered ranges. No DOM here beyond plain data, so they are unit-tested in Node.
// And the one loader of hls.js, which stays out of the main bundle.
import type * as HlsModule from 'hls.js';
import type { ApiPlayConnection } from '../../api/types';

let hlsModule: Promise<typeof HlsModule> | null = null;

/**
 * hls.js — about half of the UI's code — fetched as its own chunk the first time an HLS stream is
 * about to play, never for the pages that do not play one. A failed fetch is tried again next time.
 */
export function loadHls(): Promise<typeof HlsModule> {
  hlsModule ??= import('hls.js').catch((error: unknown) => {
    hlsModule = null;
    throw error;
  });
  return hlsModule;
}

/** "Living-room Plex · local · direct play" / "Living-room Plex · relay · 2 Mbps transcode". */
export function connectionLine(connection: ApiPlayConnection): string {
  const route = connection.routeKind ?? 'reconnecting…';
  const how = connection.method === 'direct' ? 'direct play' : connection.bitrateKbps !== null ? `${formatBitrate(connection.bitrateKbps)} transcode` : 'transcode';
  return `${connection.sourceName} · ${route} · ${how}`;
}

/** 2000 → "2 Mbps", 1500 → "1.5 Mbps", 720 → "720 kbps". */
export function formatBitrate(kbps: number): string {
  if (kbps < 1000) return `${Math.round(kbps)} kbps`;
  const mbps = kbps / 1000;
  return `${Number.isInteger(mbps) ? mbps : mbps.toFixed(1)} Mbps`;
}

/** Seconds as the player's clock: "0:07", "2:05", "1:02:05"; unknown → "--:--". */
export function formatPlayTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export type PlayerShortcut = 'toggle-play' | 'back-10' | 'forward-10' | 'fullscreen' | 'mute';

/** What the focused element is, as far as the shortcuts care. */
export interface ShortcutTarget {
  tagName: string;
  /** `type` of an <input>, lower case. */
  inputType?: string | null;
  isContentEditable?: boolean;
}

/** Input types where keys are typing, not commands (range and buttons are not). */
const TYPING_INPUTS = new Set(['text', 'search', 'email', 'password', 'url', 'tel', 'number', 'date', 'time', 'datetime-local', 'month', 'week']);

export function isTyping(target: ShortcutTarget | null): boolean {
  if (!target) return false;
  const tag = target.tagName.toUpperCase();
  if (target.isContentEditable) return true;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && TYPING_INPUTS.has((target.inputType ?? 'text').toLowerCase());
}

/**
 * The shortcut for a key press: space (play/pause), ← / → (10 s), f (full screen), m (mute).
 * Never while typing in a field, and never with Ctrl/Alt/Meta (the browser's own shortcuts).
 */
export function shortcutFor(event: { key: string; ctrlKey?: boolean; altKey?: boolean; metaKey?: boolean }, target: ShortcutTarget | null): PlayerShortcut | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  if (isTyping(target)) return null;
  switch (event.key) {
    case ' ':
    case 'Spacebar':
    case 'k':
      return 'toggle-play';
    case 'ArrowLeft':
      return 'back-10';
    case 'ArrowRight':
      return 'forward-10';
    case 'f':
    case 'F':
      return 'fullscreen';
    case 'm':
    case 'M':
      return 'mute';
    default:
      return null;
  }
}

/** Buffered time ranges as fractions of the duration, for the seek bar (clipped to [0, 1]). */
export function bufferedSpans(ranges: readonly { start: number; end: number }[], duration: number): { left: number; width: number }[] {
  if (!Number.isFinite(duration) || duration <= 0) return [];
  return ranges
    .map(({ start, end }) => {
      const left = Math.min(1, Math.max(0, start / duration));
      const right = Math.min(1, Math.max(0, end / duration));
      return { left, width: Math.max(0, right - left) };
    })
    .filter((span) => span.width > 0);
}

/** Where a seek by `delta` seconds lands, kept inside the media. */
export function seekTarget(current: number, delta: number, duration: number): number {
  const upper = Number.isFinite(duration) && duration > 0 ? duration : Infinity;
  return Math.min(upper, Math.max(0, current + delta));
}
