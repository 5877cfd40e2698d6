import { describe, expect, it } from 'vitest';
import { createToastPolicy, decideToast, forgetSource, isUnstable, type ToastKind, type ToastPolicyState } from './toast-policy';

/** Feeds a sequence of [atMs, sourceId, kind] and returns what was shown. */
function run(state: ToastPolicyState, steps: [number, string, ToastKind][]) {
  const shown: string[] = [];
  let current = state;
  for (const [at, source, kind] of steps) {
    const { state: next, decision } = decideToast(current, source, kind, at);
    current = next;
    if (decision.show) shown.push(`${at}:${source}:${decision.kind}`);
  }
  return { shown, state: current };
}

describe('toast policy', () => {
  it('shows the first change of each kind', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [10_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:lost', '10000:a:restored']);
  });

  it('does not repeat the same kind for the same source within the window', () => {
    const policy = createToastPolicy({ unstableThreshold: 10 });
    const { shown } = run(policy, [
      [0, 'a', 'remote'],
      [20_000, 'a', 'local'],
      [40_000, 'a', 'remote'],
      [59_999, 'a', 'local'],
    ]);
    expect(shown).toEqual(['0:a:remote', '20000:a:local']);
  });

  it('shows the same kind again once the window has passed', () => {
    const policy = createToastPolicy({ unstableThreshold: 10 });
    const { shown } = run(policy, [
      [0, 'a', 'lost'],
      [60_000, 'a', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:lost', '60000:a:lost']);
  });

  it('damps per source: another source toasts the same kind freely', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'b', 'lost'],
      [2_000, 'c', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:lost', '1000:b:lost', '2000:c:lost']);
  });

  it('turns a flapping source into one "unstable" toast, then silence', () => {
    const steps: [number, string, ToastKind][] = [];
    for (let i = 0; i < 20; i++) steps.push([i * 2_000, 'a', i % 2 === 0 ? 'lost' : 'restored']);
    const { shown, state } = run(createToastPolicy(), steps);
    expect(shown).toEqual(['0:a:lost', '2000:a:restored', '4000:a:unstable']);
    expect(isUnstable(state, 'a', 38_000)).toBe(true);
  });

  it('stays silent while changes keep coming less than a window apart, even over many minutes', () => {
    const steps: [number, string, ToastKind][] = [];
    // One change every 30 s for 10 minutes: never stable for a full minute.
    for (let i = 0; i < 20; i++) steps.push([i * 30_000, 'a', i % 2 === 0 ? 'lost' : 'restored']);
    const { shown } = run(createToastPolicy(), steps);
    expect(shown).toEqual(['0:a:lost', '30000:a:restored', '60000:a:unstable']);
  });

  it('speaks again after the source has been stable for a whole window', () => {
    const { shown, state } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'],
      [3_000, 'a', 'restored'],
      // quiet from 3 000 to 63 000 → stable again
      [63_000, 'a', 'lost'],
    ]);
    expect(shown).toEqual(['0:a:lost', '1000:a:restored', '2000:a:unstable', '63000:a:lost']);
    expect(isUnstable(state, 'a', 63_000)).toBe(false);
  });

  it('is not unstable one millisecond before the window has passed', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'],
      [61_999, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:lost', '1000:a:restored', '2000:a:unstable']);
  });

  it('tells an ordinary story in full: remote, lost, back within a minute is not a flap', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [10_000, 'a', 'lost'],
      [30_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:remote', '10000:a:lost', '30000:a:restored']);
  });

  it('the story turning into back-and-forth becomes "unstable"', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [10_000, 'a', 'lost'],
      [30_000, 'a', 'restored'],
      [35_000, 'a', 'lost'],
      [40_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:remote', '10000:a:lost', '30000:a:restored', '35000:a:unstable']);
  });

  it('counts only changes inside the window towards instability', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'remote'],
      [50_000, 'a', 'local'],
      [100_000, 'a', 'remote'], // the change at 0 has left the window: 2 changes, not 3
      [105_000, 'a', 'local'], // 3 changes within the window, 'local' repeats → unstable
    ]);
    expect(shown).toEqual(['0:a:remote', '50000:a:local', '100000:a:remote', '105000:a:unstable']);
  });

  it('honours a configurable window and threshold', () => {
    const { shown } = run(createToastPolicy({ windowMs: 5_000, unstableThreshold: 4 }), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'], // duplicate within 5 s
      [3_000, 'a', 'restored'], // 4th change → unstable
      [4_000, 'a', 'lost'],
      [9_000, 'a', 'lost'], // 5 s after the last change → stable again
    ]);
    expect(shown).toEqual(['0:a:lost', '1000:a:restored', '3000:a:unstable', '9000:a:lost']);
  });

  it('a flapping source does not silence a healthy one', () => {
    const { shown } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'],
      [3_000, 'b', 'auth'],
      [4_000, 'a', 'restored'],
    ]);
    expect(shown).toEqual(['0:a:lost', '1000:a:restored', '2000:a:unstable', '3000:b:auth']);
  });

  it('does not mutate the state it is given', () => {
    const initial = createToastPolicy();
    const frozen = JSON.stringify(initial);
    decideToast(initial, 'a', 'lost', 0);
    expect(JSON.stringify(initial)).toBe(frozen);
  });

  it('forgets a removed source', () => {
    const { state } = run(createToastPolicy(), [
      [0, 'a', 'lost'],
      [1_000, 'a', 'restored'],
      [2_000, 'a', 'lost'],
    ]);
    const cleared = forgetSource(state, 'a');
    expect(isUnstable(cleared, 'a', 2_000)).toBe(false);
    expect(decideToast(cleared, 'a', 'lost', 2_500).decision).toEqual({ show: true, kind: 'lost' });
  });

  it('rejects nonsensical options', () => {
    expect(() => createToastPolicy({ unstableThreshold: 1 })).toThrow(RangeError);
    expect(() => createToastPolicy({ windowMs: Number.NaN })).toThrow(RangeError);
  });

  it('never shows the same thing twice for a source within a window (random sequences)', () => {
    // Deterministic pseudo-random sequence, so a failure is reproducible.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kinds: ToastKind[] = ['lost', 'restored', 'remote', 'relay', 'local', 'auth'];
    let state = createToastPolicy();
    let now = 0;
    const shown: { at: number; kind: string }[] = [];
    for (let i = 0; i < 2_000; i++) {
      // Mostly quick changes, sometimes a quiet spell longer than the window.
      now += random() < 0.08 ? 60_000 + Math.floor(random() * 60_000) : Math.floor(random() * 20_000);
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      const result = decideToast(state, 'a', kind, now);
      state = result.state;
      if (result.decision.show) shown.push({ at: now, kind: result.decision.kind });
    }
    // No kind (including "unstable") twice within 60 s, hence at most 7 toasts in any window.
    const lastAt = new Map<string, number>();
    for (const toast of shown) {
      const previous = lastAt.get(toast.kind);
      if (previous !== undefined) expect(toast.at - previous).toBeGreaterThanOrEqual(60_000);
      lastAt.set(toast.kind, toast.at);
    }
    expect(shown.some((t) => t.kind === 'unstable')).toBe(true);
    expect(shown.length).toBeGreaterThan(10);
  });
});
