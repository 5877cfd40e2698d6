// Monitoring settings: one validated object with defaults. Every cadence, timeout and backoff knob
// of the connection engine lives here, so config files and tests override them in one place.
import { z } from 'zod';

const ms = () => z.number().int().nonnegative();
const positiveMs = () => z.number().int().positive();

export const BackoffSettingsSchema = z
  .object({
    initialMs: positiveMs().default(1_000),
    factor: z.number().min(1).max(100).default(2),
    /** The cap once an outage is older than `recentWindowMs` (issue 3: 30 s). */
    capMs: positiveMs().default(30_000),
    /**
     * The cap while the outage is younger than `recentWindowMs`: one request per 4.05–4.5 s per route
     * (≈ 0.23 /s, issue 6: "at most one request per 4 s once grown"), so a server that comes back is
     * seen within ~4.5 s (issue 7: recovery p95 ≤ 5 s).
     */
    recentCapMs: positiveMs().default(4_500),
    recentWindowMs: ms().default(600_000),
    /** At a cap the delay is uniform in [cap * (1 - capJitter), cap]: enough spread that sources desynchronise. */
    capJitter: z.number().min(0).max(1).default(0.1),
    /**
     * Lower bound of a delay while the backoff grows, clamped to half the attempt's ceiling so early
     * retries stay jittered. The default 100 ms is full jitter that can never retry in a tight loop
     * (an unlucky or broken random of 0).
     */
    minDelayMs: ms().default(100),
  })
  .strict()
  .refine((b) => b.capMs >= b.initialMs, { message: 'backoff.capMs must be >= backoff.initialMs' });

export const ReselectSettingsSchema = z.object({
  local: positiveMs().default(300_000),
  remote: positiveMs().default(120_000),
  relay: positiveMs().default(30_000),
  /** When no route kind is known (e.g. auth_required: how often to try the token again). */
  unknown: positiveMs().default(60_000),
}).strict();

export const MonitorSettingsSchema = z.object({
  /** Light check of the current route. */
  baseTickMs: positiveMs().default(10_000),
  /**
   * Light check of the current route while the source's push channel is open: the channel's pongs
   * already prove the server and the route alive every ping, so this only re-confirms the HTTP API
   * and the sign-in (a revoked token, a server answering 5xx behind a live socket).
   */
  pushOpenTickMs: positiveMs().default(60_000),
  /**
   * Cost at scale (issue 6): the cadences stretch with the number of sources so that, overall,
   * light checks stay at or below `maxLightChecksPerS` and full re-selections at or below
   * `maxFullChecksPerS`. Installations up to a few hundred sources never reach these budgets and
   * keep the cadences above unchanged.
   */
  maxLightChecksPerS: z.number().positive().default(20),
  maxFullChecksPerS: z.number().positive().default(20),
  /**
   * Retries of unreachable sources across the install. Only a mass outage reaches it (the host's own
   * network went away: 10,000 sources failing at once would otherwise retry ~2,300 times a second);
   * the retry caps then stretch as (unreachable sources) / budget.
   */
  maxRetryChecksPerS: z.number().positive().default(100),
  /** Full re-selection cadence by the current route kind. */
  reselectMs: ReselectSettingsSchema.prefault({}),
  /** Per-route probe timeout (a source's monitoring.probeTimeoutMs overrides it). */
  probeTimeoutMs: positiveMs().default(5_000),
  /**
   * Per-route timeout of the immediate check after a push channel went silent or closed: the channel
   * has already waited its pong timeout, so a cut network is confirmed sooner (issue 6).
   */
  suspectProbeTimeoutMs: positiveMs().default(2_000),
  /**
   * Per-route timeout of the early check run when a push channel is overdue (a ping unanswered for a
   * whole ping interval, before its pong timeout): it ends about when the pong timeout fires, so a
   * cut network is reported within ~ping interval + pong timeout (issue 6: "within three").
   */
  earlySuspectTimeoutMs: positiveMs().default(1_000),
  /** After a less preferred route answered, how long to wait for a better one. */
  graceMs: ms().default(100),
  librariesTimeoutMs: positiveMs().default(10_000),
  backoff: BackoffSettingsSchema.prefault({}),
  /** Failed reconnection attempts before `reconnecting` becomes `disconnected`. */
  disconnectAfterAttempts: z.number().int().min(1).max(1000).default(3),
  /** Checks running at once across all sources. */
  maxConcurrentChecks: z.number().int().min(1).max(10_000).default(64),
}).strict(); // a misspelt setting is an error, not silently ignored

/** Push channels (issue 6): one WebSocket per connected source on its current route (src/monitor/push-supervisor.ts). */
export const PushSettingsSchema = z
  .object({
    /** Off: polling only, for every source. */
    enabled: z.boolean().default(true),
    /** Ping cadence of one channel (small installations: this exactly). */
    pingIntervalMs: positiveMs().default(1_000),
    /**
     * Cost at scale (issue 6): the ping cadence stretches with the number of sources so that all
     * channels together send at most this many pings per second (N sources → interval ≥ N / budget).
     * A crash or a closed socket is still seen at once (TCP reset / close frame); only the silent
     * failures that need the ping to notice (a cut network, a hung server) take longer on large installs.
     */
    maxPingsPerS: z.number().positive().default(500),
    /** No pong (or any frame) this long after a ping: the channel is lost. */
    pongTimeoutMs: positiveMs().default(2_000),
    /**
     * An unanswered ping is "overdue" (the monitor checks every route at once, status unchanged) after
     * the channel's usual pong round trip plus margin (srtt + 4 * rttvar), but never sooner than this.
     * On a LAN that is this floor: a cut network is suspected ~0.25 s after the next ping, not a whole
     * ping interval later (issue 6: a cut network noticed within three seconds).
     */
    suspectMinMs: positiveMs().default(250),
    connectTimeoutMs: positiveMs().default(5_000),
    /** A channel that dies young is reopened after a growing delay (initial, doubling, capped). */
    reopenInitialMs: positiveMs().default(1_000),
    reopenCapMs: positiveMs().default(30_000),
    /** A channel that lived this long resets the reopen delay. */
    stableAfterMs: positiveMs().default(10_000),
    /** "Library changed" notifications re-check (and re-fetch libraries) at most this often. */
    libraryRefreshMinIntervalMs: ms().default(10_000),
    /**
     * Channels on one route that failed this many times in a row without ever opening (e.g. every
     * upgrade reset by a proxy) count as refused: the source is polled and the view says so.
     */
    refuseAfterFailedOpens: z.number().int().min(1).max(1000).default(3),
  })
  .strict()
  .refine((p) => p.pongTimeoutMs > p.suspectMinMs, { message: 'push.pongTimeoutMs must be greater than push.suspectMinMs' });

export type PushSettings = z.infer<typeof PushSettingsSchema>;

export type MonitorSettings = z.infer<typeof MonitorSettingsSchema>;
export type MonitorSettingsInput = z.input<typeof MonitorSettingsSchema>;
export type BackoffSettings = z.infer<typeof BackoffSettingsSchema>;

/** Validates and fills in defaults; throws a ZodError naming the bad field. */
export function parseMonitorSettings(input: MonitorSettingsInput = {}): MonitorSettings {
  return MonitorSettingsSchema.parse(input);
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = parseMonitorSettings();
