// What deserves a notification, and to which target (issue 16). Pure: time is passed in, state is
// explicit and never mutated, so it is tested with a fake `now` (src/core/notification-policy.test.ts).
//
// Per source (the same damping as the toasts — src/core/damping-policy.ts — plus a hold-down):
//  - a source down for less than `holdDownMs` sends nothing; after it, one "lost";
//  - "back" (with the outage length and the route) only if its "lost" was sent;
//  - a flapping source (the shared flapping rule) sends one "unstable", then nothing until it has
//    stayed unchanged for `windowMs`; then the truth: "back" if its loss had been sent and it is
//    up, "lost" if it is down past the hold-down;
//  - on a less preferred route for longer than `fallbackAfterMs`: one "fallback" per episode;
//  - sign-in needed: one message per episode;
//  - at most one message per source per `windowMs`: a message owed inside the window waits for its
//    end and is then re-judged on the source's state at that moment (so a "back" owed after a sent
//    "lost" is never dropped: it is sent late, or the source is down again and the "lost" stands).
// Per target (`routeToTarget`): its event and source filters, its rate limit, its quiet hours.
import { stillUnstable, trackFlapping, type FlapTracker, NEW_FLAP_TRACKER } from './damping-policy.js';
import type { NotificationEvent } from './notifications.js';
import type { RouteKind } from './types.js';

export interface NotificationPolicyOptions {
  /** A loss shorter than this sends nothing (default 30 s). */
  holdDownMs: number;
  /** On a less preferred route for longer than this: one "fallback" message. */
  fallbackAfterMs: number;
  /** The damping window: at most one message per source per window; the flapping rule's window. */
  windowMs: number;
  /** The flapping rule's threshold of changes within the window. */
  unstableThreshold: number;
}

export const DEFAULT_NOTIFICATION_POLICY: NotificationPolicyOptions = {
  holdDownMs: 30_000,
  fallbackAfterMs: 10 * 60_000,
  windowMs: 60_000,
  unstableThreshold: 3,
};

/** What the edge tells the policy, in domain terms (from the engine's events). */
export type SourceObservation =
  | { type: 'down'; sourceId: string; sourceName: string; at: number }
  | { type: 'up'; sourceId: string; sourceName: string; at: number; routeKind: RouteKind; onFallback: boolean }
  /** The source moved to another route while up (no loss). */
  | { type: 'route'; sourceId: string; sourceName: string; at: number; routeKind: RouteKind; onFallback: boolean }
  | { type: 'auth'; sourceId: string; sourceName: string; at: number; required: boolean }
  | { type: 'removed'; sourceId: string; at: number };

/** A message the policy decided on; the edge gives it an id and hands it to the outbox. */
export interface PlannedNotification {
  event: NotificationEvent;
  sourceId: string | null;
  sourceName: string | null;
  title: string;
  body: string;
  at: number;
}

interface SourceState {
  name: string;
  up: boolean;
  /** When the current outage began (kept across a short "up" while its "lost" was sent). */
  downSince: number | null;
  /** Set when the outage's "lost" was sent; cleared when its "back" is sent. */
  lossAnnounced: boolean;
  upAt: number | null;
  routeKind: RouteKind | null;
  fallbackSince: number | null;
  fallbackAnnounced: boolean;
  authRequired: boolean;
  authAnnounced: boolean;
  flap: FlapTracker<'down' | 'up'>;
  unstableAnnounced: boolean;
  lastSentAt: number;
}

export interface NotificationPolicyState {
  options: NotificationPolicyOptions;
  sources: Readonly<Record<string, SourceState>>;
}

export function createNotificationPolicy(options: Partial<NotificationPolicyOptions> = {}): NotificationPolicyState {
  return { options: { ...DEFAULT_NOTIFICATION_POLICY, ...options }, sources: {} };
}

function fresh(name: string): SourceState {
  return {
    name,
    up: true,
    downSince: null,
    lossAnnounced: false,
    upAt: null,
    routeKind: null,
    fallbackSince: null,
    fallbackAnnounced: false,
    authRequired: false,
    authAnnounced: false,
    flap: NEW_FLAP_TRACKER,
    unstableAnnounced: false,
    lastSentAt: Number.NEGATIVE_INFINITY,
  };
}

/** Feed one observation; returns the messages to send now (at most one per source). */
export function observe(state: NotificationPolicyState, observation: SourceObservation): { state: NotificationPolicyState; messages: PlannedNotification[] } {
  const { options } = state;
  if (observation.type === 'removed') {
    if (!(observation.sourceId in state.sources)) return { state, messages: [] };
    const sources = { ...state.sources };
    delete sources[observation.sourceId];
    return { state: { options, sources }, messages: [] };
  }
  const at = observation.at;
  const s: SourceState = { ...(state.sources[observation.sourceId] ?? fresh(observation.sourceName)), name: observation.sourceName };
  switch (observation.type) {
    case 'down': {
      if (s.up) {
        const flap = trackFlapping(s.flap, 'down', at, options);
        s.flap = flap.tracker;
        s.up = false;
        if (s.downSince === null || !s.lossAnnounced) s.downSince = at;
      }
      s.fallbackSince = null;
      s.fallbackAnnounced = false;
      break;
    }
    case 'up': {
      if (!s.up) {
        s.flap = trackFlapping(s.flap, 'up', at, options).tracker;
        s.up = true;
        s.upAt = at;
        if (!s.lossAnnounced) s.downSince = null;
      }
      s.routeKind = observation.routeKind;
      setFallback(s, observation.onFallback, at);
      break;
    }
    case 'route': {
      s.routeKind = observation.routeKind;
      setFallback(s, observation.onFallback, at);
      break;
    }
    case 'auth': {
      s.authRequired = observation.required;
      if (!observation.required) s.authAnnounced = false;
      break;
    }
  }
  return judge({ options, sources: { ...state.sources, [observation.sourceId]: s } }, observation.sourceId, at);
}

function setFallback(s: SourceState, onFallback: boolean, at: number): void {
  if (!onFallback) {
    s.fallbackSince = null;
    s.fallbackAnnounced = false;
  } else if (s.fallbackSince === null) {
    s.fallbackSince = at;
  }
}

/** Time passed: hold-downs that ended, fallbacks that lasted, sources stable again, owed messages whose window ended. */
export function tick(state: NotificationPolicyState, now: number): { state: NotificationPolicyState; messages: PlannedNotification[] } {
  let current = state;
  const messages: PlannedNotification[] = [];
  for (const sourceId of Object.keys(state.sources)) {
    const judged = judge(current, sourceId, now);
    current = judged.state;
    messages.push(...judged.messages);
  }
  return { state: current, messages };
}

/** The earliest time `tick` could have something to do, or null. */
export function nextDueAt(state: NotificationPolicyState): number | null {
  const { holdDownMs, fallbackAfterMs, windowMs } = state.options;
  let due: number | null = null;
  const consider = (t: number) => {
    if (due === null || t < due) due = t;
  };
  for (const s of Object.values(state.sources)) {
    const gate = s.lastSentAt + windowMs;
    // While quiet (unstable, said so), nothing else is told before the source is stable again.
    const quietUntil = s.flap.unstable ? s.flap.lastChangeAt + windowMs : Number.NEGATIVE_INFINITY;
    if (s.flap.unstable) consider(s.unstableAnnounced ? quietUntil : Math.max(gate, s.flap.lastChangeAt));
    const after = (t: number) => consider(Math.max(t, gate, quietUntil));
    if (!s.up && !s.lossAnnounced && s.downSince !== null) after(s.downSince + holdDownMs);
    if (s.up && s.lossAnnounced) after(s.upAt ?? gate);
    if (s.up && s.fallbackSince !== null && !s.fallbackAnnounced) after(s.fallbackSince + fallbackAfterMs);
    if (s.authRequired && !s.authAnnounced) after(gate);
  }
  return due;
}

/** What the source is owed now, if anything and if its window allows one message. */
function judge(state: NotificationPolicyState, sourceId: string, now: number): { state: NotificationPolicyState; messages: PlannedNotification[] } {
  const { options } = state;
  const previous = state.sources[sourceId]!;
  const s: SourceState = { ...previous };
  const unstable = stillUnstable(s.flap, now, options.windowMs);
  if (!unstable && s.flap.unstable) {
    // Stable again: the flapping rule starts afresh; the truth is re-told below.
    s.flap = NEW_FLAP_TRACKER;
    s.unstableAnnounced = false;
  }
  let message: PlannedNotification | null = null;
  if (now - s.lastSentAt >= options.windowMs) {
    const say = (event: NotificationEvent, title: string, body: string) => ({ event, sourceId, sourceName: s.name, title, body, at: now });
    if (unstable && !s.unstableAnnounced) {
      s.unstableAnnounced = true;
      message = say('unstable', `${s.name} is unstable`, `${s.name} keeps losing and regaining its connection; Marquee stays quiet about it until it is stable for ${formatDuration(options.windowMs)}.`);
    } else if (!unstable) {
      if (s.authRequired && !s.authAnnounced) {
        s.authAnnounced = true;
        message = say('sign_in_needed', `${s.name} needs a new sign-in`, `${s.name} needs a new sign-in: open Marquee and choose "Sign in again".`);
      } else if (!s.up && !s.lossAnnounced && s.downSince !== null && now - s.downSince >= options.holdDownMs) {
        s.lossAnnounced = true;
        message = say('lost', `${s.name} lost its connection`, `${s.name} lost its connection ${formatDuration(now - s.downSince)} ago; Marquee keeps trying.`);
      } else if (s.up && s.lossAnnounced) {
        const upAt = s.upAt ?? now;
        const outage = s.downSince === null ? null : upAt - s.downSince;
        s.lossAnnounced = false;
        s.downSince = null;
        const route = s.routeKind ? ` — ${s.routeKind} route` : '';
        message = say('back', `${s.name} is back`, `${s.name} is back${outage === null ? '' : ` after ${formatDuration(outage)}`}${route}`);
      } else if (s.up && s.fallbackSince !== null && !s.fallbackAnnounced && now - s.fallbackSince >= options.fallbackAfterMs) {
        s.fallbackAnnounced = true;
        message = say('fallback', `${s.name} is on a fallback route`, `${s.name} has been on its ${s.routeKind ?? 'fallback'} route for ${formatDuration(now - s.fallbackSince)}; its preferred route does not answer.`);
      }
    }
  }
  if (message) s.lastSentAt = now;
  return { state: { options, sources: { ...state.sources, [sourceId]: s } }, messages: message ? [message] : [] };
}

/** "4 min 12 s", "45 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

export function crashRestartNotification(at: number, previousStartAt: number | null): PlannedNotification {
  const since = previousStartAt === null ? '' : ` (it had been running since ${new Date(previousStartAt).toISOString()})`;
  return {
    event: 'crash_restart',
    sourceId: null,
    sourceName: null,
    title: 'Marquee restarted after a crash',
    body: `Marquee started again after it had stopped without shutting down cleanly${since}.`,
    at,
  };
}

export function testNotification(at: number, targetName: string): PlannedNotification {
  return { event: 'test', sourceId: null, sourceName: null, title: 'Marquee test message', body: `This is a test message from Marquee to "${targetName}".`, at };
}

// ---- per target ----

/** "HH:MM"–"HH:MM" in the server's local time; an end before the start spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

export interface TargetFilter {
  /** null: every source. */
  sources: readonly string[] | null;
  /** null: every event. */
  events: readonly NotificationEvent[] | null;
  quietHours: QuietHours | null;
}

export interface TargetDeliveryState {
  /** When messages were accepted for this target within the last minute. */
  recent: readonly number[];
  /** Sources whose "lost" this target was given: only they get a "back". */
  lossesGiven: readonly string[];
}

export const NEW_TARGET_STATE: TargetDeliveryState = { recent: [], lossesGiven: [] };

export type TargetDecision =
  /** `notBefore`: quiet hours hold the message until they end (null: send now). */
  | { deliver: true; notBefore: number | null }
  | { deliver: false; why: 'event' | 'source' | 'no_loss_given' | 'rate' };

const RATE_WINDOW_MS = 60_000;

/**
 * Whether a message goes to a target. Quiet hours HOLD messages (they are delivered when the quiet
 * hours end, in order), they never drop them. The rate limit drops, but never a "back" whose
 * "lost" the target was given; a dropped "lost" means no "back" for that outage either.
 * `utcOffsetMinutes`: the server's local offset at `now` (the edge reads it; core has no clock).
 */
export function routeToTarget(
  state: TargetDeliveryState,
  filter: TargetFilter,
  message: PlannedNotification,
  now: number,
  options: { ratePerMinute: number; utcOffsetMinutes: number },
): { state: TargetDeliveryState; decision: TargetDecision } {
  if (message.event !== 'test') {
    if (filter.events !== null && !filter.events.includes(message.event)) return { state, decision: { deliver: false, why: 'event' } };
    if (message.sourceId !== null && filter.sources !== null && !filter.sources.includes(message.sourceId)) return { state, decision: { deliver: false, why: 'source' } };
  }
  const sourceId = message.sourceId;
  if (message.event === 'back' && (sourceId === null || !state.lossesGiven.includes(sourceId))) return { state, decision: { deliver: false, why: 'no_loss_given' } };
  const recent = state.recent.filter((t) => now - t < RATE_WINDOW_MS);
  const exempt = message.event === 'back' || message.event === 'test';
  if (!exempt && recent.length >= options.ratePerMinute) return { state: { ...state, recent }, decision: { deliver: false, why: 'rate' } };
  let lossesGiven = state.lossesGiven;
  if (sourceId !== null && message.event === 'lost' && !lossesGiven.includes(sourceId)) lossesGiven = [...lossesGiven, sourceId];
  if (sourceId !== null && message.event === 'back') lossesGiven = lossesGiven.filter((id) => id !== sourceId);
  const notBefore = message.event === 'test' || !filter.quietHours ? null : quietHoursEnd(filter.quietHours, now, options.utcOffsetMinutes);
  return { state: { recent: [...recent, now], lossesGiven }, decision: { deliver: true, notBefore } };
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function parseHhMm(text: string): number | null {
  const match = HHMM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** When the quiet hours containing `now` end (epoch ms), or null when `now` is outside them. */
export function quietHoursEnd(quiet: QuietHours, now: number, utcOffsetMinutes: number): number | null {
  const start = parseHhMm(quiet.start);
  const end = parseHhMm(quiet.end);
  if (start === null || end === null || start === end) return null;
  const DAY_MIN = 24 * 60;
  const localMs = now + utcOffsetMinutes * 60_000;
  const minuteOfDay = Math.floor(localMs / 60_000) % DAY_MIN;
  const inside = start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
  if (!inside) return null;
  const minutesLeft = (end - minuteOfDay + DAY_MIN) % DAY_MIN;
  const startOfMinute = now - (localMs % 60_000);
  return startOfMinute + minutesLeft * 60_000;
}
