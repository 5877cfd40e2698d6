// Damping for toasts. Indicators always show the truth at once; toasts are interruptions, so:
//  - the same source does not toast the same kind of change again within `windowMs`;
//  - a source with `unstableThreshold` or more toast-worthy changes within `windowMs`, one of them
//    repeating an earlier kind (it is going back and forth), gets ONE "unstable" toast, then
//    silence until it has stayed unchanged for `windowMs`.
// The repeat condition keeps an ordinary story — "now on a remote route", "lost its connection",
// "is back" within a minute — told in full: three different truths, not a flap.
// Pure: time is passed in, state is explicit, so it is tested with a fake `now`.

/** The kinds of change that deserve a toast. */
export type ToastKind = 'lost' | 'restored' | 'remote' | 'relay' | 'local' | 'auth' | 'sync_failed';

export interface ToastPolicyOptions {
  windowMs: number;
  unstableThreshold: number;
}

export const DEFAULT_TOAST_POLICY: ToastPolicyOptions = { windowMs: 60_000, unstableThreshold: 3 };

interface SourceDamping {
  /** Recent toast-worthy changes (shown or not), oldest first, within the window. */
  changes: { at: number; kind: ToastKind }[];
  lastShown: Partial<Record<ToastKind, number>>;
  unstable: boolean;
  lastChangeAt: number;
}

export interface ToastPolicyState {
  options: ToastPolicyOptions;
  sources: Record<string, SourceDamping>;
}

export type ToastDecision =
  | { show: true; kind: ToastKind | 'unstable' }
  | { show: false; why: 'duplicate' | 'unstable' };

export function createToastPolicy(options: Partial<ToastPolicyOptions> = {}): ToastPolicyState {
  const merged = { ...DEFAULT_TOAST_POLICY, ...options };
  if (!(merged.windowMs >= 0)) throw new RangeError('windowMs must be a non-negative number');
  if (!(merged.unstableThreshold >= 2)) throw new RangeError('unstableThreshold must be at least 2');
  return { options: merged, sources: {} };
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
  let damping: SourceDamping = previous
    ? { changes: [...previous.changes], lastShown: { ...previous.lastShown }, unstable: previous.unstable, lastChangeAt: previous.lastChangeAt }
    : { changes: [], lastShown: {}, unstable: false, lastChangeAt: Number.NEGATIVE_INFINITY };

  // A source that stayed unchanged for a whole window is stable again: start afresh.
  if (damping.unstable && now - damping.lastChangeAt >= windowMs) {
    damping = { changes: [], lastShown: {}, unstable: false, lastChangeAt: damping.lastChangeAt };
  }

  // Inclusive: a change exactly one window ago still counts, so a steady 30 s flap is caught.
  damping.changes = damping.changes.filter((c) => now - c.at <= windowMs);
  const repeats = damping.changes.some((c) => c.kind === kind);
  damping.changes.push({ at: now, kind });
  damping.lastChangeAt = now;

  let decision: ToastDecision;
  if (damping.unstable) {
    decision = { show: false, why: 'unstable' };
  } else if (damping.changes.length >= unstableThreshold && repeats) {
    damping.unstable = true;
    decision = { show: true, kind: 'unstable' };
  } else {
    const last = damping.lastShown[kind];
    if (last !== undefined && now - last < windowMs) {
      decision = { show: false, why: 'duplicate' };
    } else {
      damping.lastShown[kind] = now;
      decision = { show: true, kind };
    }
  }
  return { state: { options: state.options, sources: { ...state.sources, [sourceId]: damping } }, decision };
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
