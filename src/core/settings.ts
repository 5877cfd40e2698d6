// Monitoring settings: one validated object with defaults. Every cadence, timeout and backoff knob
// of the connection engine lives here, so config files and tests override them in one place.
import { z } from 'zod';

const ms = () => z.number().int().nonnegative();
const positiveMs = () => z.number().int().positive();

export const BackoffSettingsSchema = z
  .object({
    initialMs: positiveMs().default(1_000),
    factor: z.number().min(1).max(100).default(2),
    capMs: positiveMs().default(30_000),
    /**
     * Lower bound of a delay, clamped to half the attempt's ceiling so early retries stay jittered.
     * The default 100 ms is full jitter that can never retry in a tight loop (an unlucky or broken
     * random of 0). 4000 keeps a dead route at most one request per 4 s once the backoff has grown.
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

export type MonitorSettings = z.infer<typeof MonitorSettingsSchema>;
export type MonitorSettingsInput = z.input<typeof MonitorSettingsSchema>;
export type BackoffSettings = z.infer<typeof BackoffSettingsSchema>;

/** Validates and fills in defaults; throws a ZodError naming the bad field. */
export function parseMonitorSettings(input: MonitorSettingsInput = {}): MonitorSettings {
  return MonitorSettingsSchema.parse(input);
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = parseMonitorSettings();
