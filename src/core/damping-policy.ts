// One damping policy, shared by the toasts (src/web/toast-policy.ts re-exports it) and the
// notifications (src/core/notification-policy.ts uses its flapping rule, `trackFlapping`).
//
// Damping for toasts. Indicators always show the truth at once; toasts are interruptions, so each
// source has ONE toast slot, and at most one NEW toast per source per `windowMs` (issues 5 and 7:
// "at most one toast-worthy notification per source per minute"):
//  - while the source's toast is on screen, a change rewrites it in place ("Living-room Plex lost
//    its connection" becomes "Living-room Plex is back"): the user sees the truth, not a stack;
//  - when no toast of the source is on screen, a change opens a new one, unless one was opened
//    less than `windowMs` ago (suppressed: 'rate'; the sidebar and header still tell it at once);
//  - a source with `unstableThreshold` or more changes within `windowMs`, one of them repeating an
//    earlier kind (it is going back and forth), has its toast turned into "unstable", then silence
//    until it has stayed unchanged for `windowMs`.
// The policy models what is on screen itself (a toast is visible until `shownAt + duration`, and
// 'lost'/'auth' stay until replaced or dismissed), so Node tests and the browser decide alike; the
// UI passes the same durations to sonner and reports manual dismissals (`toastDismissed`).
// Pure: time is passed in, state is explicit, so it is tested with a fake `now`.

/** The kinds of change that deserve a toast. */
export type ToastKind = 'lost' | 'restored' | 'remote' | 'relay' | 'local' | 'auth' | 'sync_failed';
/** What a source's toast slot can say. */
export type ToastSlotKind = ToastKind | 'unstable';

/**
 * How long a toast stays on screen. Trouble the user must act on or know about until it ends —
 * lost, sign-in needed — stays until replaced or dismissed (Infinity, as sonner takes it).
 */
export const TOAST_DURATION_MS: Readonly<Record<ToastSlotKind, number>> = {
  lost: Number.POSITIVE_INFINITY,
  auth: Number.POSITIVE_INFINITY,
  restored: 6_000,
  remote: 6_000,
  relay: 6_000,
  local: 6_000,
  sync_failed: 8_000,
  unstable: 10_000,
};

export function toastDurationMs(kind: ToastSlotKind): number {
  return TOAST_DURATION_MS[kind];
}

/** The toast id of a source's slot (sonner replaces a toast created with the same id). */
export function sourceToastId(sourceId: string): string {
  return `source-${sourceId}`;
}

export interface ToastPolicyOptions {
  windowMs: number;
  unstableThreshold: number;
}

export const DEFAULT_TOAST_POLICY: ToastPolicyOptions = { windowMs: 60_000, unstableThreshold: 3 };

interface SourceDamping {
  /** Recent toast-worthy changes (shown or not), oldest first, within the window. */
  changes: { at: number; kind: ToastKind }[];
  unstable: boolean;
  lastChangeAt: number;
  /** When the source's last NEW toast was opened (in-place updates do not count). */
  createdAt: number;
  /** What the source's toast says and until when it is visible; null once dismissed. */
  slot: { kind: ToastSlotKind; visibleUntil: number } | null;
}

export interface ToastPolicyState {
  options: ToastPolicyOptions;
  sources: Record<string, SourceDamping>;
}

/**
 * `replace: false` is a new toast — a toast-worthy notification, at most one per source per window;
 * `replace: true` rewrites the source's toast that is on screen.
 */
export type ToastDecision =
  | { show: true; kind: ToastSlotKind; replace: boolean }
  | { show: false; why: 'duplicate' | 'unstable' | 'rate' };

export function createToastPolicy(options: Partial<ToastPolicyOptions> = {}): ToastPolicyState {
  const merged = { ...DEFAULT_TOAST_POLICY, ...options };
  if (!(merged.windowMs >= 0)) throw new RangeError('windowMs must be a non-negative number');
  if (!(merged.unstableThreshold >= 2)) throw new RangeError('unstableThreshold must be at least 2');
  return { options: merged, sources: {} };
}

function visible(damping: SourceDamping, now: number): boolean {
  return damping.slot !== null && now < damping.slot.visibleUntil;
}

/** The flapping rule's memory of one source: its recent changes and whether it is unstable. */
export interface FlapTracker<K extends string = string> {
  /** Changes within the window, oldest first. */
  changes: { at: number; kind: K }[];
  unstable: boolean;
  lastChangeAt: number;
}

export const NEW_FLAP_TRACKER: FlapTracker<never> = { changes: [], unstable: false, lastChangeAt: Number.NEGATIVE_INFINITY };

/**
 * The flapping rule, one for toasts and notifications: a source with `unstableThreshold` or more
 * changes within `windowMs`, one of them repeating an earlier kind (it goes back and forth), is
 * unstable — say so once ('became_unstable'), then stay quiet ('quiet') until it has stayed
 * unchanged for a whole window. 'normal': judge the change on its own. Pure; the input is not mutated.
 */
export function trackFlapping<K extends string>(
  previous: FlapTracker<K>,
  kind: K,
  now: number,
  options: { windowMs: number; unstableThreshold: number },
): { tracker: FlapTracker<K>; verdict: 'normal' | 'became_unstable' | 'quiet' } {
  const { windowMs, unstableThreshold } = options;
  let changes = previous.changes;
  let unstable = previous.unstable;
  // A source that stayed unchanged for a whole window is stable again: start afresh.
  if (unstable && now - previous.lastChangeAt >= windowMs) {
    changes = [];
    unstable = false;
  }
  // Inclusive: a change exactly one window ago still counts, so a steady 30 s flap is caught.
  changes = changes.filter((c) => now - c.at <= windowMs);
  const repeats = changes.some((c) => c.kind === kind);
  changes = [...changes, { at: now, kind }];
  const tracker = (u: boolean): FlapTracker<K> => ({ changes, unstable: u, lastChangeAt: now });
  if (unstable) return { tracker: tracker(true), verdict: 'quiet' };
  if (changes.length >= unstableThreshold && repeats) return { tracker: tracker(true), verdict: 'became_unstable' };
  return { tracker: tracker(false), verdict: 'normal' };
}

/** Whether a tracker is still in its "unstable, stay quiet" phase at `now`. */
export function stillUnstable(tracker: FlapTracker, now: number, windowMs: number): boolean {
  return tracker.unstable && now - tracker.lastChangeAt < windowMs;
}

/** Decide whether a change deserves a toast, returning the new state (the input is not mutated). */
export function decideToast(
  state: ToastPolicyState,
  sourceId: string,
  kind: ToastKind,
  now: number,
): { state: ToastPolicyState; decision: ToastDecision } {
  const { windowMs } = state.options;
  const previous = state.sources[sourceId];
  const damping: SourceDamping = previous
    ? { ...previous, changes: [...previous.changes] }
    : { changes: [], unstable: false, lastChangeAt: Number.NEGATIVE_INFINITY, createdAt: Number.NEGATIVE_INFINITY, slot: null };

  const flapping = trackFlapping(damping, kind, now, state.options);
  damping.changes = flapping.tracker.changes;
  damping.unstable = flapping.tracker.unstable;
  damping.lastChangeAt = flapping.tracker.lastChangeAt;

  const place = (shown: ToastSlotKind): ToastDecision => {
    const slot = { kind: shown, visibleUntil: now + toastDurationMs(shown) };
    if (visible(damping, now)) {
      damping.slot = slot;
      return { show: true, kind: shown, replace: true };
    }
    if (now - damping.createdAt < windowMs) return { show: false, why: 'rate' };
    damping.slot = slot;
    damping.createdAt = now;
    return { show: true, kind: shown, replace: false };
  };

  let decision: ToastDecision;
  if (flapping.verdict === 'quiet') {
    decision = { show: false, why: 'unstable' };
  } else if (flapping.verdict === 'became_unstable') {
    decision = place('unstable');
  } else if (visible(damping, now) && damping.slot!.kind === kind) {
    decision = { show: false, why: 'duplicate' };
  } else {
    decision = place(kind);
  }
  return { state: { options: state.options, sources: { ...state.sources, [sourceId]: damping } }, decision };
}

/** The user closed the source's toast (or the UI removed it): nothing of it is on screen now. */
export function toastDismissed(state: ToastPolicyState, sourceId: string): ToastPolicyState {
  const damping = state.sources[sourceId];
  if (!damping?.slot) return state;
  return { options: state.options, sources: { ...state.sources, [sourceId]: { ...damping, slot: null } } };
}

/** What the source's toast says while it is on screen, else null. */
export function visibleToast(state: ToastPolicyState, sourceId: string, now: number): ToastSlotKind | null {
  const damping = state.sources[sourceId];
  return damping && visible(damping, now) ? damping.slot!.kind : null;
}

/** Whether the source is currently in the "unstable, stay quiet" phase. */
export function isUnstable(state: ToastPolicyState, sourceId: string, now: number): boolean {
  const damping = state.sources[sourceId];
  return !!damping && stillUnstable(damping, now, state.options.windowMs);
}

/** Forget a removed source. */
export function forgetSource(state: ToastPolicyState, sourceId: string): ToastPolicyState {
  if (!(sourceId in state.sources)) return state;
  const sources = { ...state.sources };
  delete sources[sourceId];
  return { options: state.options, sources };
}
