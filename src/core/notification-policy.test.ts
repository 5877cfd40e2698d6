import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createNotificationPolicy,
  formatDuration,
  NEW_TARGET_STATE,
  nextDueAt,
  observe,
  quietHoursEnd,
  routeToTarget,
  tick,
  type NotificationPolicyState,
  type PlannedNotification,
  type SourceObservation,
  type TargetFilter,
} from './notification-policy.js';

const NAME = 'Living-room Plex';
const down = (at: number, sourceId = 's1'): SourceObservation => ({ type: 'down', sourceId, sourceName: NAME, at });
const up = (at: number, sourceId = 's1', onFallback = false): SourceObservation => ({ type: 'up', sourceId, sourceName: NAME, at, routeKind: 'local', onFallback });

/** Runs observations in time order, ticking at every due time in between (what the service does). */
function run(observations: SourceObservation[], until: number, state: NotificationPolicyState = createNotificationPolicy()): PlannedNotification[] {
  const sent: PlannedNotification[] = [];
  let current = state;
  const advanceTo = (t: number) => {
    for (let guard = 0; guard < 10_000; guard++) {
      const due = nextDueAt(current);
      if (due === null || due > t) return;
      const ticked = tick(current, due);
      current = ticked.state;
      sent.push(...ticked.messages);
      if (ticked.messages.length === 0 && nextDueAt(current) === due) return; // nothing more at this instant
    }
  };
  for (const o of observations) {
    advanceTo(o.at);
    const r = observe(current, o);
    current = r.state;
    sent.push(...r.messages);
  }
  advanceTo(until);
  return sent;
}

describe('notification policy: per source', () => {
  it.each([
    { name: 'a loss shorter than the hold-down sends nothing', obs: [down(0), up(29_000)], until: 200_000, expected: [] },
    { name: 'a loss past the hold-down sends one "lost" at the hold-down', obs: [down(0)], until: 200_000, expected: [['lost', 30_000]] },
    { name: 'recovery after a sent loss sends "back" (after the window)', obs: [down(0), up(252_000)], until: 400_000, expected: [['lost', 30_000], ['back', 252_000]] },
    { name: 'a "back" owed inside the window waits for its end', obs: [down(0), up(31_000)], until: 400_000, expected: [['lost', 30_000], ['back', 90_000]] },
    { name: 'down again before the owed "back": no "back", and down-up-down is flapping', obs: [down(0), up(31_000), down(40_000)], until: 400_000, expected: [['lost', 30_000], ['unstable', 90_000]] },
  ])('$name', ({ obs, until, expected }) => {
    expect(run(obs, until).map((m) => [m.event, m.at])).toEqual(expected);
  });

  it('says the outage length and the route: "… is back after 4 min 12 s — local route"', () => {
    const sent = run([down(0), up(252_000)], 400_000);
    expect(sent[1]!.body).toBe('Living-room Plex is back after 4 min 12 s — local route');
    expect(sent[0]!.title).toBe('Living-room Plex lost its connection');
  });

  it('flapping: one "unstable", then silence until stable for a window, then the truth', () => {
    const obs: SourceObservation[] = [];
    for (let t = 0; t < 120_000; t += 1000) obs.push(t % 2000 === 0 ? down(t) : up(t));
    // Flapping ends up (last observation at 119 s is "up"): nothing owed, the loss was never sent.
    const sent = run(obs, 400_000);
    expect(sent.map((m) => m.event)).toEqual(['unstable']);
    // Ends down: after a quiet window, "lost" once it is past the hold-down.
    const endsDown = run([...obs, down(120_000)], 400_000);
    expect(endsDown.map((m) => [m.event, m.at])).toEqual([['unstable', 2000], ['lost', 180_000]]);
  });

  it('a sent "lost" followed by flapping still ends with "back" once stable', () => {
    const obs: SourceObservation[] = [down(0)];
    for (let t = 50_000; t <= 80_000; t += 1000) obs.push(t % 2000 === 0 ? up(t) : down(t));
    const sent = run(obs, 500_000);
    expect(sent.map((m) => [m.event, m.at])).toEqual([['lost', 30_000], ['unstable', 90_000], ['back', 150_000]]);
    expect(sent[2]!.body).toBe('Living-room Plex is back after 1 min 20 s — local route');
  });

  it('on a fallback route longer than N minutes: one message per episode', () => {
    const policy = createNotificationPolicy({ fallbackAfterMs: 5 * 60_000 });
    const obs: SourceObservation[] = [{ type: 'route', sourceId: 's1', sourceName: NAME, at: 0, routeKind: 'remote', onFallback: true }];
    const sent = run(obs, 3_600_000, policy);
    expect(sent.map((m) => [m.event, m.at])).toEqual([['fallback', 300_000]]);
    expect(sent[0]!.body).toContain('remote route for 5 min');
    const back = run([...obs, { type: 'route', sourceId: 's1', sourceName: NAME, at: 200_000, routeKind: 'local', onFallback: false }], 3_600_000, policy);
    expect(back).toEqual([]);
  });

  it('sign-in needed: one message per episode', () => {
    const auth = (at: number, required: boolean): SourceObservation => ({ type: 'auth', sourceId: 's1', sourceName: NAME, at, required });
    expect(run([auth(0, true), auth(1000, true)], 100_000).map((m) => [m.event, m.title])).toEqual([['sign_in_needed', 'Living-room Plex needs a new sign-in']]);
    expect(run([auth(0, true), auth(10_000, false), auth(200_000, true)], 300_000).map((m) => m.at)).toEqual([0, 200_000]);
  });

  it('property: at most one message per source per window, under any sequence of changes', () => {
    const windowMs = 60_000;
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 90_000 }), kind: fc.constantFrom('down', 'up', 'auth', 'noauth', 'fallback'), source: fc.constantFrom('a', 'b') }), { maxLength: 80 }),
        (steps) => {
          let at = 0;
          const obs: SourceObservation[] = steps.map(({ gap, kind, source }) => {
            at += gap;
            if (kind === 'down') return down(at, source);
            if (kind === 'up') return up(at, source);
            if (kind === 'fallback') return up(at, source, true);
            return { type: 'auth', sourceId: source, sourceName: NAME, at, required: kind === 'auth' };
          });
          const sent = run(obs, at + 1_000_000, createNotificationPolicy({ windowMs, fallbackAfterMs: 120_000 }));
          for (const source of ['a', 'b']) {
            const times = sent.filter((m) => m.sourceId === source).map((m) => m.at);
            for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(windowMs);
          }
          // Every sent "lost" is followed by its "back" or the source ends down.
          for (const source of ['a', 'b']) {
            const events = sent.filter((m) => m.sourceId === source && (m.event === 'lost' || m.event === 'back')).map((m) => m.event);
            for (let i = 1; i < events.length; i++) expect(events[i]).not.toBe(events[i - 1]);
            const last = [...obs].reverse().find((o) => o.sourceId === source && (o.type === 'down' || o.type === 'up'));
            if (events.at(-1) === 'lost') expect(last?.type).toBe('down');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('notification policy: per target', () => {
  const all: TargetFilter = { sources: null, events: null, quietHours: null };
  const msg = (event: PlannedNotification['event'], sourceId: string | null = 's1', at = 0): PlannedNotification => ({ event, sourceId, sourceName: NAME, title: 't', body: 'b', at });
  const opts = { ratePerMinute: 2, utcOffsetMinutes: 0 };

  it('filters by event and by source; install-wide messages pass the source filter', () => {
    expect(routeToTarget(NEW_TARGET_STATE, { ...all, events: ['lost'] }, msg('unstable'), 0, opts).decision).toEqual({ deliver: false, why: 'event' });
    expect(routeToTarget(NEW_TARGET_STATE, { ...all, sources: ['s2'] }, msg('lost'), 0, opts).decision).toEqual({ deliver: false, why: 'source' });
    expect(routeToTarget(NEW_TARGET_STATE, { ...all, sources: ['s2'] }, msg('crash_restart', null), 0, opts).decision).toEqual({ deliver: true, notBefore: null });
  });

  it('"back" only to a target that was given the "lost"; the rate limit never drops that "back"', () => {
    expect(routeToTarget(NEW_TARGET_STATE, all, msg('back'), 0, opts).decision).toEqual({ deliver: false, why: 'no_loss_given' });
    let state = routeToTarget(NEW_TARGET_STATE, all, msg('lost'), 0, opts).state;
    state = routeToTarget(state, all, msg('unstable', 's2'), 1, opts).state;
    expect(routeToTarget(state, all, msg('lost', 's3'), 2, opts).decision).toEqual({ deliver: false, why: 'rate' });
    expect(routeToTarget(state, all, msg('back'), 3, opts).decision).toEqual({ deliver: true, notBefore: null });
    expect(routeToTarget(state, all, msg('lost', 's3'), 60_001, opts).decision.deliver).toBe(true);
  });

  it('quiet hours hold a message until they end (across midnight, in local time)', () => {
    const quiet = { ...all, quietHours: { start: '22:00', end: '07:00' } };
    const at2330 = Date.UTC(2025, 0, 1, 23, 30);
    expect(routeToTarget(NEW_TARGET_STATE, quiet, msg('lost'), at2330, opts).decision).toEqual({ deliver: true, notBefore: Date.UTC(2025, 0, 2, 7, 0) });
    expect(quietHoursEnd({ start: '22:00', end: '07:00' }, Date.UTC(2025, 0, 1, 12, 0), 0)).toBeNull();
    // UTC+2: 21:30 UTC is 23:30 local, so quiet until 07:00 local = 05:00 UTC.
    expect(quietHoursEnd({ start: '22:00', end: '07:00' }, Date.UTC(2025, 0, 1, 21, 30), 120)).toBe(Date.UTC(2025, 0, 2, 5, 0));
    expect(quietHoursEnd({ start: '01:00', end: '05:00' }, Date.UTC(2025, 0, 1, 4, 59, 30), 0)).toBe(Date.UTC(2025, 0, 1, 5, 0));
    // A test message ignores quiet hours.
    expect(routeToTarget(NEW_TARGET_STATE, quiet, msg('test', null), at2330, opts).decision).toEqual({ deliver: true, notBefore: null });
  });

  it('formats durations in plain words', () => {
    expect([formatDuration(45_000), formatDuration(252_000), formatDuration(7_500_000), formatDuration(97_200_000)]).toEqual(['45 s', '4 min 12 s', '2 h 5 min', '1 d 3 h']);
  });
});
