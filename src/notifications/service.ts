// Notifications (issue 16): listens to the engine's stream, asks the pure policy
// (src/core/notification-policy.ts) what deserves a message and which targets get it, writes the
// messages to the durable outbox, and lets the OutboxWorker deliver them. Also the targets' CRUD
// and "Send test" for the API. Nothing here can change a source's status: the engine only
// publishes to us, and every failure here is caught and logged.
import { randomUUID } from 'node:crypto';
import { NOTIFICATION_EVENTS, type DeliveryResult, type NotificationEvent, type NotificationMessage } from '../core/notifications.js';
import {
  crashRestartNotification,
  createNotificationPolicy,
  NEW_TARGET_STATE,
  nextDueAt,
  observe,
  routeToTarget,
  testNotification,
  tick,
  type NotificationPolicyState,
  type PlannedNotification,
  type QuietHours,
  type SourceObservation,
  type TargetDeliveryState,
} from '../core/notification-policy.js';
import { redactSecrets } from '../core/redact.js';
import { compareRoutes } from '../core/selection.js';
import type { NotificationSettings } from '../core/settings.js';
import type { Clock, TimerHandle } from '../monitor/clock.js';
import type { Engine, EngineStreamMessage } from '../monitor/engine-types.js';
import type { NotificationsRepo, SettingsRepo, StoredTarget } from '../store/index.js';
import { OutboxWorker } from './outbox-worker.js';
import type { NotificationLogger, NotificationParts } from './types.js';

/** Set at start, removed at a clean stop: found at start, the last run ended in a crash. */
export const RUNNING_MARKER_KEY = 'notifications.runningSince';

/** A target as the API shows it: the URL redacted. */
export interface TargetView extends Omit<StoredTarget, 'createdAt'> {
  /** Redacted: the secret part of the URL never leaves the server. */
  url: string;
  /** Messages waiting in the outbox for this target. */
  pending: number;
}

export interface TargetInput {
  name: string;
  url: string;
  sources?: string[] | null;
  events?: NotificationEvent[] | null;
  quietHours?: QuietHours | null;
}

export type TargetResult = { ok: true; target: TargetView } | { ok: false; code: 'not_found' | 'invalid_url'; message: string };

export interface NotificationServiceOptions {
  engine: Pick<Engine, 'subscribe' | 'getSource'>;
  repo: NotificationsRepo;
  settingsRepo: SettingsRepo;
  parts: NotificationParts;
  clock: Clock;
  settings: NotificationSettings;
  logger: NotificationLogger;
  /** The source's page, when a public base URL is set. */
  sourceLink?: (sourceId: string) => string | undefined;
  random?: () => number;
}

export class NotificationService {
  private policy: NotificationPolicyState;
  private readonly targetStates = new Map<string, TargetDeliveryState>();
  private readonly worker: OutboxWorker;
  private unsubscribe: (() => void) | null = null;
  private timer: TimerHandle | null = null;

  constructor(private readonly options: NotificationServiceOptions) {
    const { settings } = options;
    this.policy = createNotificationPolicy({ holdDownMs: settings.holdDownMs, fallbackAfterMs: settings.fallbackAfterMs, windowMs: settings.windowMs });
    this.worker = new OutboxWorker({
      repo: options.repo,
      send: options.parts.send,
      clock: options.clock,
      timeoutMs: settings.timeoutMs,
      retryCapMs: settings.retryCapMs,
      maxAgeMs: settings.maxAgeMs,
      logger: options.logger,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  get supportedSchemes(): readonly string[] {
    return this.options.parts.supportedSchemes;
  }

  /** Subscribes to the engine (call before the engine starts, so nothing is missed) and starts delivering what is queued. */
  start(): void {
    const now = this.options.clock.now();
    try {
      const previous = this.options.settingsRepo.get(RUNNING_MARKER_KEY);
      if (previous !== null) this.dispatch([crashRestartNotification(now, Number.isFinite(Number(previous)) ? Number(previous) : null)]);
      this.options.settingsRepo.set(RUNNING_MARKER_KEY, String(now));
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'could not check or set the clean-stop marker');
    }
    this.unsubscribe = this.options.engine.subscribe((message) => this.onMessage(message));
    this.worker.start();
  }

  /** A clean stop: the marker goes, so the next start sends no "restarted after a crash". */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.worker.stop();
    try {
      this.options.settingsRepo.delete(RUNNING_MARKER_KEY);
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'could not clear the clean-stop marker');
    }
  }

  /** Deliveries in flight have finished (tests). */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  // ---- targets (API) ----

  listTargets(): TargetView[] {
    return this.options.repo.listTargets().map((t) => this.view(t));
  }

  getTarget(id: string): TargetView | null {
    const target = this.options.repo.getTarget(id);
    return target ? this.view(target) : null;
  }

  addTarget(input: TargetInput): TargetResult {
    const valid = this.options.parts.validateTargetUrl(input.url);
    if (!valid.ok) return { ok: false, code: 'invalid_url', message: valid.message };
    const stored = this.options.repo.createTarget({
      id: randomUUID(),
      name: input.name,
      url: input.url,
      sources: input.sources ?? null,
      events: input.events ?? null,
      quietHours: input.quietHours ?? null,
    });
    return { ok: true, target: this.view(stored) };
  }

  updateTarget(id: string, patch: Partial<TargetInput>): TargetResult {
    if (patch.url !== undefined) {
      const valid = this.options.parts.validateTargetUrl(patch.url);
      if (!valid.ok) return { ok: false, code: 'invalid_url', message: valid.message };
    }
    const updated = this.options.repo.updateTarget(id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.sources !== undefined ? { sources: patch.sources } : {}),
      ...(patch.events !== undefined ? { events: patch.events } : {}),
      ...(patch.quietHours !== undefined ? { quietHours: patch.quietHours } : {}),
    });
    return updated ? { ok: true, target: this.view(updated) } : { ok: false, code: 'not_found', message: `No notification target with id "${id.slice(0, 80)}".` };
  }

  deleteTarget(id: string): boolean {
    this.targetStates.delete(id);
    return this.options.repo.deleteTarget(id);
  }

  /** Sends a test message now, outside the outbox, and answers the target's real result in words. */
  async sendTest(id: string): Promise<{ ok: true; result: DeliveryResult } | { ok: false }> {
    const target = this.options.repo.getTarget(id);
    if (!target) return { ok: false };
    const now = this.options.clock.now();
    const message = this.toMessage(testNotification(now, target.name));
    let result: DeliveryResult;
    try {
      result = await this.options.parts.send(target.url, message, { timeoutMs: this.options.settings.timeoutMs, signal: AbortSignal.timeout(this.options.settings.timeoutMs + 1000) });
    } catch (error) {
      result = { ok: false, retryable: true, message: `sending failed (${errorText(error)})` };
    }
    try {
      this.options.repo.recordResult(id, this.options.clock.now(), result.ok ? { ok: true } : { ok: false, error: `Test message: ${result.message}` });
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'could not record a test result');
    }
    return { ok: true, result };
  }

  // ---- engine stream ----

  private onMessage(message: EngineStreamMessage): void {
    try {
      const observation = this.toObservation(message);
      if (!observation) return;
      const result = observe(this.policy, observation);
      this.policy = result.state;
      this.dispatch(result.messages);
      this.scheduleTick();
    } catch (error) {
      // Never let notifications disturb the engine's stream.
      this.options.logger.error({ err: errorText(error) }, 'notification policy failed on an engine message');
    }
  }

  private toObservation(message: EngineStreamMessage): SourceObservation | null {
    if (message.type === 'removed') return { type: 'removed', sourceId: message.sourceId, at: this.options.clock.now() };
    if (message.type !== 'engine') return null;
    const event = message.message.event;
    const base = { sourceId: event.sourceId, sourceName: event.sourceName, at: event.at };
    switch (event.type) {
      case 'ConnectionLost':
        return { ...base, type: 'down' };
      case 'ConnectionRestored':
        return { ...base, type: 'up', routeKind: event.routeKind, onFallback: this.onFallback(event.sourceId, event.routeId) };
      case 'ConnectionChanged':
        return { ...base, type: 'route', routeKind: event.routeKind, onFallback: this.onFallback(event.sourceId, event.routeId) };
      case 'AuthStatusChanged':
        return { ...base, type: 'auth', required: event.authRequired };
      // Told through the events above, or not worth a message (libraries).
      case 'Reconnecting':
      case 'StatusChanged':
      case 'SyncFailed':
      case 'SyncRestored':
        return null;
    }
  }

  /** On a route other than the source's most preferred one. */
  private onFallback(sourceId: string, routeId: string): boolean {
    const routes = this.options.engine.getSource(sourceId)?.source.routes ?? [];
    const best = [...routes].sort(compareRoutes)[0];
    return best !== undefined && best.id !== routeId;
  }

  /**
   * Arms one timer for the policy's next due time. `tickedAt`: the time of the tick just run —
   * anything due by then was judged, so a due time at or before it means nothing can happen yet
   * (wait a second rather than spin); a due time that passed only while the tick was queuing
   * messages (a slow disk) is run at once, not a second late.
   */
  private scheduleTick(tickedAt?: number): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    const due = nextDueAt(this.policy);
    if (due === null) return;
    const now = this.options.clock.now();
    const stuck = tickedAt !== undefined && due <= tickedAt;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      const at = this.options.clock.now();
      try {
        const result = tick(this.policy, at);
        this.policy = result.state;
        this.dispatch(result.messages);
      } catch (error) {
        this.options.logger.error({ err: errorText(error) }, 'notification policy failed on a tick');
      }
      this.scheduleTick(at);
    }, stuck ? 1000 : Math.max(0, due - now));
  }

  /** Gives each planned message an id, routes it to the matching targets and queues it durably. */
  private dispatch(planned: PlannedNotification[]): void {
    if (planned.length === 0) return;
    let targets: StoredTarget[];
    try {
      targets = this.options.repo.listTargets();
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'notification targets unreadable; messages not queued');
      return;
    }
    const now = this.options.clock.now();
    const utcOffsetMinutes = -new Date(now).getTimezoneOffset();
    const rows: Array<{ message: NotificationMessage; targetId: string; dueAt: number }> = [];
    for (const plan of planned) {
      const message = this.toMessage(plan);
      for (const target of targets) {
        const state = this.targetStates.get(target.id) ?? NEW_TARGET_STATE;
        const routed = routeToTarget(state, target, message, now, { ratePerMinute: this.options.settings.ratePerMinute, utcOffsetMinutes });
        this.targetStates.set(target.id, routed.state);
        if (routed.decision.deliver) rows.push({ message, targetId: target.id, dueAt: routed.decision.notBefore ?? now });
        else if (routed.decision.why === 'rate') this.options.logger.warn({ targetId: target.id, event: message.event }, 'notification dropped by the target’s rate limit');
      }
      this.options.logger.info({ event: message.event, sourceId: message.sourceId, targets: rows.filter((r) => r.message === message).length }, `notification: ${message.title}`);
    }
    try {
      this.options.repo.enqueue(rows);
    } catch (error) {
      this.options.logger.error({ err: errorText(error) }, 'could not queue notifications (storage unavailable)');
      return;
    }
    this.worker.wake();
  }

  private toMessage(plan: PlannedNotification): NotificationMessage {
    const link = plan.sourceId ? this.options.sourceLink?.(plan.sourceId) : undefined;
    return { id: randomUUID(), ...plan, ...(link ? { url: link } : {}) };
  }

  private view(target: StoredTarget): TargetView {
    let pending = 0;
    try {
      pending = this.options.repo.pendingCount(target.id);
    } catch {
      // shown as 0 while storage is unavailable
    }
    return {
      id: target.id,
      name: target.name,
      url: this.options.parts.redact(target.url),
      sources: target.sources,
      events: target.events,
      quietHours: target.quietHours,
      lastSuccessAt: target.lastSuccessAt,
      lastErrorAt: target.lastErrorAt,
      lastError: target.lastError,
      pending,
    };
  }
}

export const ALL_NOTIFICATION_EVENTS = NOTIFICATION_EVENTS.filter((e) => e !== 'test');

function errorText(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
