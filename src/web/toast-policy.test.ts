import { describe, expect, it } from 'vitest';
import {
  createToastPolicy,
  decideToast,
  forgetSource,
  isUnstable,
  sourceToastId,
  TOAST_DURATION_MS,
  toastDismissed,
  visibleToast,
  type ToastKind,
  type ToastPolicyState,
} from './toast-policy';

/**
 * Feeds a sequence of [atMs, sourceId, kind] and returns what was shown: `+` a new toast, `~` the
 * source's visible toast rewritten in place.
 */
function run(state: ToastPolicyState, steps: [number, string, ToastKind][]) {
  const shown: string[] = [];
  const suppressed: string[] = [];
  let current = state;
  for (const [at, source, kind] of steps) {
    const { state: next, decision } = decideToast(current, source, kind, at);
    current = next;
    if (decision.show) shown.push(`${at}:${source}:${decision.replace ? '~' : '+'}${decision.kind}`);
    else suppressed.push(`${at}:${source}:${kind}:${decision.why}`);
  }
  return { shown, suppressed, state: current };
}

/** Alternating changes of one source every `everyMs` from `from` to `to` (exclusive). */
function flap(from: number, to: number, everyMs: number, kinds: [ToastKind, ToastKind] = ['remote', 'local']): [number, string, ToastKind][] {
  const steps: [number, string, ToastKind][] = [];
  for (let at = from, i = 0; at < to; at += everyMs, i++) steps.push([at, 'a', kinds[i % 2]!]);
  return steps;
}

describe('toast policy: one toast slot per source, at most one new toast per source per window', () => {
  it('tells an ordinary story in ONE toast: remote, lost, back within a minute ends as "is back"', () => {
    const { shown, state } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [3_000, 'a', 'lost'], // the remote toast is still on screen: rewritten
      [30_000, 'a', 'restored'], // 'lost' is sticky, so "is back" replaces it
    ]);
    expect(shown).toEqual(['0:a:+remote', '3000:a:~lost', '30000:a:~restored']);
    expect(visibleToast(state, 'a', 30_000)).toBe('restored');
    // "is back" is not sticky: it goes after its duration.
    expect(visibleToast(state, 'a', 30_000 + TOAST_DURATION_MS.restored - 1)).toBe('restored');
    expect(visibleToast(state, 'a', 30_000 + TOAST_DURATION_MS.restored)).toBeNull();
  });

  it('keeps a "lost" or "sign-in needed" toast on screen until it is replaced', () => {
    const { shown, state } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [0, 'b', 'auth'],
      [600_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:+lost', '0:b:+auth', '600000:a:~restored']);
    expect(visibleToast(state, 'b', 3_600_000)).toBe('auth');
    expect(TOAST_DURATION_MS.lost).toBe(Number.POSITIVE_INFINITY);
    expect(TOAST_DURATION_MS.auth).toBe(Number.POSITIVE_INFINITY);
  });

  it('suppresses a change after a non-sticky toast has gone, within the window (rate)', () => {
    const { shown, suppressed, state } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [10_000, 'a', 'local'], // the remote toast left the screen at 6 s
      [59_999, 'a', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:+remote']);
    expect(suppressed).toEqual(['10000:a:local:rate', '59999:a:lost:rate']);
    // Nothing stale is left on screen: no toast at all.
    expect(visibleToast(state, 'a', 59_999)).toBeNull();
  });

  it('opens a new toast again once a window has passed since the last new one', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [10_000, 'a', 'local'],
      [60_000, 'a', 'relay'],
      [120_000, 'a', 'lost'], // the relay toast (6 s) is gone, the last new one is a window old
    ]);
    expect(shown).toEqual(['0:a:+remote', '60000:a:+relay', '120000:a:+lost']);
  });

  it('does not rewrite a toast that already says the same thing', () => {
    const { shown, suppressed } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [5_000, 'a', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:+lost']);
    expect(suppressed).toEqual(['5000:a:lost:duplicate']);
  });

  it('a flap is one new toast, rewritten to "unstable", then silence', () => {
    const { shown, suppressed, state } = run(createToastPolicy(), flap(0, 20_000, 1_000));
    expect(shown).toEqual(['0:a:+remote', '1000:a:~local', '2000:a:~unstable']);
    expect(suppressed.every((s) => s.endsWith(':unstable'))).toBe(true);
    expect(isUnstable(state, 'a', 19_000)).toBe(true);
    expect(visibleToast(state, 'a', 2_000 + TOAST_DURATION_MS.unstable - 1)).toBe('unstable');
    expect(visibleToast(state, 'a', 2_000 + TOAST_DURATION_MS.unstable)).toBeNull();
  });

  it('a flap noticed after the toast has gone stays silent: still one new toast per window', () => {
    const { shown, suppressed, state } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [10_000, 'a', 'local'],
      [20_000, 'a', 'remote'], // back and forth: unstable, but a new toast opened 20 s ago
      [25_000, 'a', 'local'],
    ]);
    expect(shown).toEqual(['0:a:+remote']);
    expect(suppressed).toEqual(['10000:a:local:rate', '20000:a:remote:rate', '25000:a:local:unstable']);
    expect(isUnstable(state, 'a', 25_000)).toBe(true);
  });

  it('stays silent while changes keep coming less than a window apart, even over many minutes', () => {
    // One change every 30 s for 10 minutes: never stable for a full minute.
    const { shown } = run(createToastPolicy(), flap(0, 600_000, 30_000, ['lost', 'restored']));
    // 'lost' is sticky, so "is back" rewrites it; "unstable" comes a window later, as a new toast.
    expect(shown).toEqual(['0:a:+lost', '30000:a:~restored', '60000:a:+unstable']);
  });

  it('speaks again after the source has been stable for a whole window', () => {
    const { shown, state } = run(createToastPolicy(), [
      ...flap(0, 4_000, 1_000, ['lost', 'restored']),
      // quiet from 3 000 to 63 000 → stable again
      [63_000, 'a', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:+lost', '1000:a:~restored', '2000:a:~unstable', '63000:a:+lost']);
    expect(isUnstable(state, 'a', 63_000)).toBe(false);
  });

  it('is not stable again one millisecond before the window has passed', () => {
    const { shown, suppressed } = run(createToastPolicy(), [...flap(0, 3_000, 1_000, ['lost', 'restored']), [61_999, 'a', 'restored']]);
    expect(shown).toEqual(['0:a:+lost', '1000:a:~restored', '2000:a:~unstable']);
    expect(suppressed).toEqual(['61999:a:restored:unstable']);
  });

  it('the story turning into back-and-forth becomes "unstable" in the same toast', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [3_000, 'a', 'lost'],
      [30_000, 'a', 'restored'],
      [33_000, 'a', 'lost'],
      [36_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:+remote', '3000:a:~lost', '30000:a:~restored', '33000:a:~unstable']);
  });

  it('counts only changes inside the window towards instability', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [50_000, 'a', 'restored'],
      [100_000, 'a', 'lost'], // the change at 0 has left the window: 2 changes, not 3
      [105_000, 'a', 'restored'], // 3 changes within the window, 'restored' repeats → unstable
    ]);
    expect(shown).toEqual(['0:a:+lost', '50000:a:~restored', '100000:a:+lost', '105000:a:~unstable']);
  });

  it('honours a configurable window and threshold', () => {
    const { shown, suppressed } = run(createToastPolicy({ windowMs: 5_000, unstableThreshold: 4 }), [
      [0, 'a', 'remote'],
      [1_000, 'a', 'local'],
      [2_000, 'a', 'remote'], // 3 changes: not yet unstable with a threshold of 4
      [3_000, 'a', 'local'], // 4th change → unstable
      [4_000, 'a', 'remote'],
      [9_000, 'a', 'remote'], // 5 s after the last change → stable again; the "unstable" toast is still up
    ]);
    expect(shown).toEqual(['0:a:+remote', '1000:a:~local', '2000:a:~remote', '3000:a:~unstable', '9000:a:~remote']);
    expect(suppressed).toEqual(['4000:a:remote:unstable']);
  });

  it('damps per source: a flapping source does not silence a healthy one', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'],
      [3_000, 'b', 'auth'],
      [4_000, 'a', 'restored'],
      [5_000, 'c', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:+lost', '1000:a:~restored', '2000:a:~unstable', '3000:b:+auth', '5000:c:+lost']);
  });

  it('a manually dismissed toast is gone: the next change within the window is not a new toast', () => {
    let { state } = run(createToastPolicy(), [[0, 'a', 'lost']]);
    expect(visibleToast(state, 'a', 5_000)).toBe('lost');
    state = toastDismissed(state, 'a');
    expect(visibleToast(state, 'a', 5_000)).toBeNull();
    expect(toastDismissed(state, 'a')).toBe(state); // nothing on screen: unchanged
    expect(toastDismissed(state, 'unknown')).toBe(state);
    const after = run(state, [
      [10_000, 'a', 'restored'],
      [70_000, 'a', 'lost'],
    ]);
    expect(after.suppressed).toEqual(['10000:a:restored:rate']);
    expect(after.shown).toEqual(['70000:a:+lost']);
  });

  it('does not mutate the state it is given', () => {
    const initial = run(createToastPolicy(), [[0, 'a', 'lost']]).state;
    const frozen = JSON.stringify(initial);
    decideToast(initial, 'a', 'restored', 1_000);
    decideToast(initial, 'a', 'lost', 2_000);
    toastDismissed(initial, 'a');
    expect(JSON.stringify(initial)).toBe(frozen);
    expect(visibleToast(initial, 'a', 3_000)).toBe('lost');
  });

  it('forgets a removed source', () => {
    const { state } = run(createToastPolicy(), flap(0, 3_000, 1_000, ['lost', 'restored']));
    const cleared = forgetSource(state, 'a');
    expect(isUnstable(cleared, 'a', 2_000)).toBe(false);
    expect(decideToast(cleared, 'a', 'lost', 2_500).decision).toEqual({ show: true, kind: 'lost', replace: false });
    expect(forgetSource(cleared, 'a')).toBe(cleared);
  });

  it('names one toast id per source', () => {
    expect(sourceToastId('abc')).toBe('source-abc');
    expect(sourceToastId('abc')).not.toBe(sourceToastId('abd'));
  });

  it('rejects nonsensical options', () => {
    expect(() => createToastPolicy({ unstableThreshold: 1 })).toThrow(RangeError);
    expect(() => createToastPolicy({ windowMs: Number.NaN })).toThrow(RangeError);
  });

  it('random sequences: at most one new toast per source per window, and the toast on screen never lies', () => {
    // Deterministic pseudo-random sequence, so a failure is reproducible.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kinds: ToastKind[] = ['lost', 'restored', 'remote', 'relay', 'local', 'auth', 'sync_failed'];
    const sources = ['a', 'b'];
    let state = createToastPolicy();
    let now = 0;
    const created = new Map<string, number[]>();
    let replaced = 0;
    for (let i = 0; i < 4_000; i++) {
      // Mostly quick changes, sometimes a quiet spell longer than the window, sometimes a dismissal.
      now += random() < 0.08 ? 60_000 + Math.floor(random() * 60_000) : Math.floor(random() * 12_000);
      const source = sources[Math.floor(random() * sources.length)]!;
      if (random() < 0.05) state = toastDismissed(state, source);
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      const before = visibleToast(state, source, now);
      const result = decideToast(state, source, kind, now);
      state = result.state;
      const after = visibleToast(state, source, now);
      const { decision } = result;
      if (decision.show) {
        // Rewrites only what is on screen; a new toast only when nothing is.
        expect(decision.replace).toBe(before !== null);
        expect(after).toBe(decision.kind);
        if (!decision.replace) created.set(source, [...(created.get(source) ?? []), now]);
        else replaced++;
      } else if (decision.why === 'duplicate') {
        expect(after).toBe(kind);
      } else if (decision.why === 'rate') {
        expect(after).toBeNull();
      } else {
        // Unstable and quiet: the toast, if still there, says exactly that.
        expect(after === null || after === 'unstable').toBe(true);
      }
    }
    for (const times of created.values()) {
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60_000);
      expect(times.length).toBeGreaterThan(10);
    }
    expect(replaced).toBeGreaterThan(10);
  });
});
