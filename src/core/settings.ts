// Monitoring settings: one validated object with defaults. Every cadence, timeout and backoff knob
// of the connection engine lives here, so config files and tests override them in one place.
//
// Two schemas come from one definition. The user-facing ones (`MonitorSettingsSchema`,
// `PushSettingsSchema`: the settings file) bound every knob to a sane range — `baseTickMs: 1` made
// 188 upstream requests in 5 s and `maxLightChecksPerS: 1e-300` stopped all checks. The engine's
// own (`EngineMonitorSettingsSchema`, with which ConnectionMonitor fills in defaults) checks types
// only, so tests and benchmarks can run the monitor at millisecond cadences on a fake clock.
// The ranges (docs/SETTINGS.md): no steady cadence probes a route more often than once a second; no
// timeout is shorter than a loaded LAN round trip or longer than a minute or two; budgets stay
// within what one process can do; every default lies inside its range.
import { z } from 'zod';

type Bounds = readonly [min: number, max: number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function buildSchemas(bounded: boolean) {
  const knob = (base: z.ZodNumber, unit: string, fallback: number, [min, max]: Bounds) =>
    (bounded ? base.min(min, `must be at least ${min}${unit}`).max(max, `must be at most ${max}${unit}`) : base).default(fallback);
  const ms = (fallback: number, bounds: Bounds) => knob(z.number().int().nonnegative(), ' ms', fallback, bounds);
  const positiveMs = (fallback: number, bounds: Bounds) => knob(z.number().int().positive(), ' ms', fallback, bounds);
  const perSecond = (fallback: number, bounds: Bounds) => knob(z.number().positive(), ' per second', fallback, bounds);
  const count = (fallback: number, bounds: Bounds) => knob(z.number().int().min(1).max(10_000), '', fallback, bounds);

  const backoff = z
    .object({
      /** 100 ms – 1 min: the first retry may be quick; the steady cadence is set by the caps. */
      initialMs: positiveMs(1_000, [100, MINUTE]),
      factor: knob(z.number().min(1).max(100), '', 2, [1, 10]),
      /** The cap once an outage is older than `recentWindowMs` (issue 3: 30 s). 1 s – 1 h. */
      capMs: positiveMs(30_000, [1_000, HOUR]),
      /**
       * The cap while the outage is younger than `recentWindowMs`: one request per 4.05–4.5 s per route
       * (≈ 0.23 /s, issue 6: "at most one request per 4 s once grown"), so a server that comes back is
       * seen within ~4.5 s (issue 7: recovery p95 ≤ 5 s). 1 s – 1 h.
       */
      recentCapMs: positiveMs(4_500, [1_000, HOUR]),
      /** 0 (no recent phase) – 1 day. */
      recentWindowMs: ms(600_000, [0, DAY]),
      /** At a cap the delay is uniform in [cap * (1 - capJitter), cap]: enough spread that sources desynchronise. */
      capJitter: knob(z.number().min(0).max(1), '', 0.1, [0, 1]),
      /**
       * Lower bound of a delay while the backoff grows, clamped to half the attempt's ceiling so early
       * retries stay jittered. The default 100 ms is full jitter that can never retry in a tight loop
       * (an unlucky or broken random of 0). 10 ms – 1 min (0 would allow that tight loop).
       */
      minDelayMs: ms(100, [10, MINUTE]),
    })
    .strict()
    .refine((b) => b.capMs >= b.initialMs, { message: 'backoff.capMs must be >= backoff.initialMs' });

  /** 1 s – 1 day each: a full re-selection probes every route of the source. */
  const reselectMs = (fallback: number) => positiveMs(fallback, [1_000, DAY]);
  const reselect = z
    .object({
      local: reselectMs(300_000),
      remote: reselectMs(120_000),
      relay: reselectMs(30_000),
      /** When no route kind is known (e.g. auth_required: how often to try the token again). */
      unknown: reselectMs(60_000),
    })
    .strict();

  /** Routes and tokens that refresh (issue 13 §3; src/monitor/route-refresher.ts). */
  const refresh = z
    .object({
      /**
       * Re-read plex.tv resources (new or gone routes, rotated per-server tokens) and Jellyfin's
       * LocalAddress this often. 5 min – 1 day: plex.tv is one shared service, asked once per account.
       */
      routesMs: positiveMs(3_600_000, [5 * MINUTE, DAY]),
      /**
       * A refresh asked for by a failure (every route of a Plex source down, a token rejected) comes at
       * once, but at most this often per account or source. 10 s – 1 h.
       */
      minGapMs: positiveMs(60_000, [10_000, HOUR]),
      /** Timeout of one call to plex.tv or to a reported address during a refresh. 1 s – 1 min. */
      timeoutMs: positiveMs(10_000, [1_000, MINUTE]),
      /** Move the Plex account to plex.tv's short-lived JWTs (device key, renewed before expiry). */
      plexJwt: z.boolean().default(true),
      /** Renew a plex.tv JWT this long before it expires (never later than half its lifetime). 1 min – 6 days. */
      jwtRenewBeforeMs: positiveMs(DAY, [MINUTE, 6 * DAY]),
    })
    .strict();

  /** Probe timeouts: 250 ms (a loaded LAN) – 1 min (a slow relay answers within seconds). */
  const timeoutMs = (fallback: number) => positiveMs(fallback, [250, MINUTE]);

  const monitor = z
    .object({
      /** Light check of the current route. 1 s – 1 h. */
      baseTickMs: positiveMs(10_000, [1_000, HOUR]),
      /**
       * Light check of the current route while the source's push channel is open: the channel's pongs
       * already prove the server and the route alive every ping, so this re-confirms what the pongs
       * cannot — the identity of the server that answers *new* requests on the route (a proxy or a NAT
       * now pointing at another server while the old socket stays open: 60 s left that unnoticed ~37 s
       * on average), the HTTP API and the sign-in. One request per check; above 300 sources the
       * light-check budget sets the cadence anyway. 1 s – 1 h.
       */
      pushOpenTickMs: positiveMs(15_000, [1_000, HOUR]),
      /**
       * Cost at scale (issue 6): the cadences stretch with the number of sources so that, overall,
       * light checks stay at or below `maxLightChecksPerS` and full re-selections at or below
       * `maxFullChecksPerS`. Installations up to a few hundred sources never reach these budgets and
       * keep the cadences above unchanged. 1 – 1000 per second (below 1, 10,000 sources would each
       * wait hours for a check; above 1000 the budget stops protecting the servers).
       */
      maxLightChecksPerS: perSecond(20, [1, 1_000]),
      maxFullChecksPerS: perSecond(20, [1, 1_000]),
      /**
       * Retries of unreachable sources across the install. Only a mass outage reaches it (the host's own
       * network went away: 10,000 sources failing at once would otherwise retry ~2,300 times a second);
       * the retry caps then stretch as (unreachable sources) / budget. 1 – 1000 per second.
       */
      maxRetryChecksPerS: perSecond(100, [1, 1_000]),
      /** Full re-selection cadence by the current route kind. */
      reselectMs: reselect.prefault({}),
      /**
       * Back to the best route (issue 13): while a source is on a less preferred route, each preferred
       * route that answers is re-checked about this often (±25 % jitter); one that fails is re-checked
       * like a dead route is retried (the backoff below). 1 s – 10 min. (0, engine schema only: off —
       * the source returns at its next full re-selection, the rule before issue 13; the benchmark's baseline.)
       */
      returnCheckMs: ms(1_500, [1_000, 10 * MINUTE]),
      /**
       * The hold-down window: the source returns to a preferred route only after it answered
       * `returnMinSuccesses` times in a row over at least this long; any failure restarts the window.
       * 0 – 1 h. The defaults (8 answers, ≥ 15 s, a check every ~1.5 s) return to a restored route
       * within ~15–22 s (the first answer waits at most one retry, ≤ 4.5 s) and take a route flapping at
       * 1 Hz back with a chance of ~0.5^10 per window.
       */
      returnHoldMs: ms(15_000, [0, HOUR]),
      returnMinSuccesses: count(8, [1, 100]),
      /**
       * An answer slower than the route's fastest on probation by more than this does not count and
       * restarts the window: it needed TCP retransmissions (≥ 200 ms), so packets were lost — a route
       * flapping as a pulled cable answers nearly every probe, ~200–650 ms late. Below 200 ms so one
       * retransmission shows; above ordinary jitter. 10 ms – 10 s.
       */
      returnLatencyMarginMs: positiveMs(150, [10, 10_000]),
      /** Install-wide budget of those re-checks: the cadence stretches with the sources on probation. 1 – 1000 per second. */
      maxReturnChecksPerS: perSecond(20, [1, 1_000]),
      /** Per-route probe timeout (a source's monitoring.probeTimeoutMs overrides it). */
      probeTimeoutMs: timeoutMs(5_000),
      /**
       * Per-route timeout of the immediate check after a push channel went silent or closed: the channel
       * has already waited its pong timeout, so a cut network is confirmed sooner (issue 6).
       */
      suspectProbeTimeoutMs: timeoutMs(2_000),
      /**
       * Per-route timeout of the early check run when a push channel is overdue (a ping unanswered for a
       * whole ping interval, before its pong timeout): it ends about when the pong timeout fires, so a
       * cut network is reported within ~ping interval + pong timeout (issue 6: "within three").
       */
      earlySuspectTimeoutMs: timeoutMs(1_000),
      /** After a less preferred route answered, how long to wait for a better one. 0 – 10 s. */
      graceMs: ms(100, [0, 10_000]),
      /** 1 s – 2 min: a big library list can be slow, but never worth holding a check longer. */
      librariesTimeoutMs: positiveMs(10_000, [1_000, 2 * MINUTE]),
      backoff: backoff.prefault({}),
      /** Failed reconnection attempts before `reconnecting` becomes `disconnected`. 1 – 100. */
      disconnectAfterAttempts: count(3, [1, 100]),
      /** Checks running at once across all sources. 1 – 1000 (each holds sockets and memory). */
      maxConcurrentChecks: count(64, [1, 1_000]),
      refresh: refresh.prefault({}),
    })
    .strict(); // a misspelt setting is an error, not silently ignored

  /** Push channels (issue 6): one WebSocket per connected source on its current route (src/monitor/push-supervisor.ts). */
  const push = z
    .object({
      /** Off: polling only, for every source. */
      enabled: z.boolean().default(true),
      /** Ping cadence of one channel (small installations: this exactly). 250 ms – 1 min. */
      pingIntervalMs: positiveMs(1_000, [250, MINUTE]),
      /**
       * Cost at scale (issue 6): the ping cadence stretches with the number of sources so that all
       * channels together send at most this many pings per second (N sources → interval ≥ N / budget).
       * A crash or a closed socket is still seen at once (TCP reset / close frame); only the silent
       * failures that need the ping to notice (a cut network, a hung server) take longer on large
       * installs. 1 – 5000 per second.
       */
      maxPingsPerS: perSecond(500, [1, 5_000]),
      /** No pong (or any frame) this long after a ping: the channel is lost. 500 ms – 1 min. */
      pongTimeoutMs: positiveMs(2_000, [500, MINUTE]),
      /**
       * An unanswered ping is "overdue" (the monitor checks every route at once, status unchanged) after
       * the channel's usual pong round trip plus margin (srtt + 4 * rttvar), but never sooner than this.
       * On a LAN that is this floor: a cut network is suspected ~0.25 s after the next ping, not a whole
       * ping interval later (issue 6: a cut network noticed within three seconds). 50 ms – 1 min.
       */
      suspectMinMs: positiveMs(250, [50, MINUTE]),
      /** WebSocket handshake. 500 ms – 1 min. */
      connectTimeoutMs: positiveMs(5_000, [500, MINUTE]),
      /** A channel that dies young is reopened after a growing delay (initial, doubling, capped). */
      reopenInitialMs: positiveMs(1_000, [100, MINUTE]),
      reopenCapMs: positiveMs(30_000, [1_000, HOUR]),
      /** A channel that lived this long resets the reopen delay. 1 s – 1 h. */
      stableAfterMs: positiveMs(10_000, [1_000, HOUR]),
      /** "Library changed" notifications re-check (re-fetch libraries, refresh the library cache) at most this often. 1 s – 1 h. */
      libraryRefreshMinIntervalMs: ms(10_000, [1_000, HOUR]),
      /**
       * Channels on one route that failed this many times in a row without ever opening (e.g. every
       * upgrade reset by a proxy) count as refused: the source is polled and the view says so. 1 – 100.
       */
      refuseAfterFailedOpens: count(3, [1, 100]),
    })
    .strict()
    .refine((p) => p.pongTimeoutMs > p.suspectMinMs, { message: 'push.pongTimeoutMs must be greater than push.suspectMinMs' })
    .refine((p) => p.reopenCapMs >= p.reopenInitialMs, { message: 'push.reopenCapMs must be >= push.reopenInitialMs' });

  /** Notifications (issue 16): damping, delivery (src/core/notification-policy.ts, src/notifications/). */
  const notifications = z
    .object({
      /** A source down for less than this sends nothing. 0 – 1 h. */
      holdDownMs: ms(30_000, [0, HOUR]),
      /** On a less preferred route for longer than this: one "fallback" message. 1 min – 1 day. */
      fallbackAfterMs: positiveMs(10 * MINUTE, [MINUTE, DAY]),
      /** At most one message per source per window; also the flapping rule's window. 10 s – 1 h. */
      windowMs: positiveMs(MINUTE, [10_000, HOUR]),
      /** Messages per target per minute; more are dropped (never a "back" after a sent "lost"). 1 – 600. */
      ratePerMinute: count(20, [1, 600]),
      /** One delivery attempt waits at most this long for the target. 1 s – 2 min. */
      timeoutMs: positiveMs(10_000, [1_000, 2 * MINUTE]),
      /** Retries back off from 1 s, doubling, to this cap. 1 s – 10 min. */
      retryCapMs: positiveMs(MINUTE, [1_000, 10 * MINUTE]),
      /** A message not delivered this long after it was due is dropped, with the reason recorded on its target. 1 min – 7 days. */
      maxAgeMs: positiveMs(DAY, [MINUTE, 7 * DAY]),
    })
    .strict();

  return { backoff, reselect, refresh, monitor, push, notifications };
}

const USER = buildSchemas(true);
const ENGINE = buildSchemas(false);

/** The settings file's `monitor` section: every knob bounded (docs/SETTINGS.md). */
export const MonitorSettingsSchema = USER.monitor;
/** The settings file's `push` section: every knob bounded (docs/SETTINGS.md). */
export const PushSettingsSchema = USER.push;
export const BackoffSettingsSchema = USER.backoff;
export const ReselectSettingsSchema = USER.reselect;
/**
 * Same shape and defaults, types checked but no ranges: for the engine, which is handed settings
 * already validated (from the file) or chosen by code (tests and benchmarks at fast cadences).
 */
export const EngineMonitorSettingsSchema = ENGINE.monitor;
export const EnginePushSettingsSchema = ENGINE.push;

/** The settings file's `notifications` section (docs/SETTINGS.md). */
export const NotificationSettingsSchema = USER.notifications;
/** Same shape and defaults without ranges: tests run the hold-down and retries in milliseconds. */
export const EngineNotificationSettingsSchema = ENGINE.notifications;
export type NotificationSettings = z.infer<typeof NotificationSettingsSchema>;
export type NotificationSettingsInput = z.input<typeof NotificationSettingsSchema>;

export type PushSettings = z.infer<typeof PushSettingsSchema>;

export type MonitorSettings = z.infer<typeof MonitorSettingsSchema>;
export type MonitorSettingsInput = z.input<typeof MonitorSettingsSchema>;
export type BackoffSettings = z.infer<typeof BackoffSettingsSchema>;
export type RefreshSettings = z.infer<typeof USER.refresh>;

/** Validates against the user-facing ranges and fills in defaults; throws a ZodError naming the bad field. */
export function parseMonitorSettings(input: MonitorSettingsInput = {}): MonitorSettings {
  return MonitorSettingsSchema.parse(input);
}

/** Fills in defaults without the user-facing ranges (tests, benchmarks): types are still checked. */
export function engineMonitorSettings(input: MonitorSettingsInput = {}): MonitorSettings {
  return EngineMonitorSettingsSchema.parse(input);
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = parseMonitorSettings();

// ---- The library layer (issue 14): cache sync, home, search, image proxy ----------------------

/** The settings file's `library` section (docs/SETTINGS.md): every knob bounded, defaults inside. */
export const LibrarySettingsSchema = z
  .object({
    /** Items asked per page during a sync. 50 – 1000 (Plex and Jellyfin both serve ~200–500 comfortably). */
    pageSize: z.number().int().min(50).max(1_000).default(300),
    /** Timeout of one page of a sync. 1 s – 2 min. */
    pageTimeoutMs: z.number().int().min(1_000).max(2 * MINUTE).default(30_000),
    /** Incremental refresh of every library of a connected source (changes since the last sync). 1 min – 1 day. */
    refreshMs: z.number().int().min(MINUTE).max(DAY).default(15 * MINUTE),
    /**
     * A full sync at least this often: incremental refreshes find changes, not deletions, so an item
     * removed on the server leaves the cache at the next full sync. 1 h – 30 days.
     */
    fullSyncMs: z.number().int().min(HOUR).max(30 * DAY).default(DAY),
    /** Libraries syncing at once across the install. 1 – 16. */
    maxConcurrentSyncs: z.number().int().min(1).max(16).default(2),
    /** How long a home row waits for a source before its cached row is shown. 200 ms – 10 s. */
    homeDeadlineMs: z.number().int().min(200).max(10_000).default(1_500),
    /** Per-source deadline of a search. 1 s – 1 min. */
    searchDeadlineMs: z.number().int().min(1_000).max(MINUTE).default(8_000),
    /** A search is kept this long, so asking again returns what arrived meanwhile. 1 s – 5 min. */
    searchKeepMs: z.number().int().min(1_000).max(5 * MINUTE).default(30_000),
    /** Timeout of a live item page or image. 1 s – 1 min. */
    itemTimeoutMs: z.number().int().min(1_000).max(MINUTE).default(8_000),
    /** On-disk image cache cap (bytes), least recently used evicted. 1 MB – 100 GB. */
    imageCacheBytes: z.number().int().min(1_000_000).max(100_000_000_000).default(200_000_000),
    /** Cache-Control max-age of proxied images (seconds). 0 – 30 days. */
    imageMaxAgeS: z.number().int().min(0).max(30 * 24 * 3600).default(24 * 3600),
  })
  .strict();
export type LibrarySettings = z.infer<typeof LibrarySettingsSchema>;
export type LibrarySettingsInput = z.input<typeof LibrarySettingsSchema>;
export const DEFAULT_LIBRARY_SETTINGS: LibrarySettings = LibrarySettingsSchema.parse({});
