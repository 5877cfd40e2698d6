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

/** Decide whether a change deserves a toast, returning the new state (the input is not mutated). */
export function decideToast(
  state: ToastPolicyState,
  sourceId: string,
  kind: ToastKind,
  now: number,
): { state: ToastPolicyState; decision: ToastDecision } {
  const { windowMs, unstableThreshold } = state.options;
  const previous = state.sources[sourceId];
  const damping: SourceDamping = previous
    ? { ...previous, changes: [...previous.changes] }
    : { changes: [], unstable: false, lastChangeAt: Number.NEGATIVE_INFINITY, createdAt: Number.NEGATIVE_INFINITY, slot: null };

  // A source that stayed unchanged for a whole window is stable again: start afresh.
  if (damping.unstable && now - damping.lastChangeAt >= windowMs) {
    damping.changes = [];
    damping.unstable = false;
  }

  // Inclusive: a change exactly one window ago still counts, so a steady 30 s flap is caught.
  damping.changes = damping.changes.filter((c) => now - c.at <= windowMs);
  const repeats = damping.changes.some((c) => c.kind === kind);
  damping.changes.push({ at: now, kind });
  damping.lastChangeAt = now;

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
  if (damping.unstable) {
    decision = { show: false, why: 'unstable' };
  } else if (damping.changes.length >= unstableThreshold && repeats) {
    damping.unstable = true;
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
  return !!damping && damping.unstable && now - damping.lastChangeAt < state.options.windowMs;
}

/** Forget a removed source. */
export function forgetSource(state: ToastPolicyState, sourceId: string): ToastPolicyState {
  if (!(sourceId in state.sources)) return state;
  const sources = { ...state.sources };
  delete sources[sourceId];
  return { options: state.options, sources };
}
