// Keeps one push channel (Plex notifications WebSocket, Jellyfin /socket) open on each connected
// source's current route, and turns what the channel says into monitor triggers: a closed or
// silent channel asks for an immediate full check; a "server going away" message carries its
// reason. The monitor stays the only place that decides a status.
import type { Credentials, MediaBackend, PushChannel, PushOptions } from '../backends/types.js';
import type { LossReason, Route, Source, SourceStatus } from '../core/types.js';
import type { Clock, TimerHandle } from './clock.js';

export type PushState = 'open' | 'polling' | 'connecting' | 'off';

export interface PushManagerOptions {
  clock: Clock;
  getBackend(kind: Source['kind']): MediaBackend | undefined;
  getCredentials(sourceId: string): Credentials | null;
  /** The channel closed, errored or went silent, or the server announced it is going away. */
  onLost(sourceId: string, reason?: LossReason): void;
  /** The push state of a source changed (for the UI). */
  onStateChange(sourceId: string, state: PushState): void;
  options: PushOptions;
  /** Channels that fail before ever opening this many times in a row fall back to polling. */
  maxFailedOpens?: number;
  /** How long a source stays on polling after its server refused the channel. */
  pollingFallbackMs?: number;
}

interface Channel {
  routeId: string;
  channel: PushChannel | null;
  state: PushState;
  /** Consecutive failures before the channel opened. */
  failedOpens: number;
  /** No new attempt before this time (polling fallback or reopen backoff). */
  notBefore: number;
  retryTimer: TimerHandle | null;
  /** Set once a "going away" message has been forwarded, so the close that follows is not reported twice. */
  goingAway: boolean;
  generation: number;
}

export class PushManager {
  private readonly channels = new Map<string, Channel>();
  private readonly sources = new Map<string, Source>();
  private readonly maxFailedOpens: number;
  private readonly pollingFallbackMs: number;
  private stopped = false;

  constructor(private readonly opts: PushManagerOptions) {
    this.maxFailedOpens = opts.maxFailedOpens ?? 3;
    this.pollingFallbackMs = opts.pollingFallbackMs ?? 5 * 60_000;
  }

  state(sourceId: string): PushState {
    return this.channels.get(sourceId)?.state ?? 'off';
  }

  /**
   * Bring the channel in line with the source's status: open on the current route while connected,
   * closed otherwise. Idempotent; called after every check.
   */
  reconcile(source: Source, status: SourceStatus): void {
    if (this.stopped) return;
    this.sources.set(source.id, source);
    const wanted = source.monitoring.push !== false && (status.state === 'connected' || status.state === 'sync_failed') ? status.routeId : null;
    const current = this.channels.get(source.id);
    if (!wanted) {
      if (current) this.close(source.id, current, source.monitoring.push === false ? 'off' : 'off');
      return;
    }
    if (current && current.routeId === wanted && (current.channel || current.retryTimer || current.state === 'polling')) {
      if (current.state === 'polling' && current.notBefore <= this.opts.clock.now() && !current.channel) this.open(source, current);
      return;
    }
    if (current) this.close(source.id, current, 'off');
    const entry: Channel = { routeId: wanted, channel: null, state: 'off', failedOpens: 0, notBefore: 0, retryTimer: null, goingAway: false, generation: 0 };
    this.channels.set(source.id, entry);
    this.open(source, entry);
  }

  remove(sourceId: string): void {
    const current = this.channels.get(sourceId);
    if (current) this.close(sourceId, current, 'off', false);
    this.channels.delete(sourceId);
    this.sources.delete(sourceId);
  }

  stop(): void {
    this.stopped = true;
    for (const [id, entry] of this.channels) this.close(id, entry, 'off', false);
    this.channels.clear();
  }

  private open(source: Source, entry: Channel): void {
    const backend = this.opts.getBackend(source.kind);
    const route = source.routes.find((r) => r.id === entry.routeId);
    const credentials = this.opts.getCredentials(source.id);
    if (!backend?.openPush || !route || !credentials) {
      this.setState(source.id, entry, 'polling');
      return;
    }
    entry.generation += 1;
    const generation = entry.generation;
    entry.goingAway = false;
    this.setState(source.id, entry, 'connecting');
    const isCurrent = () => !this.stopped && this.channels.get(source.id) === entry && entry.generation === generation;
    entry.channel = backend.openPush({ kind: source.kind, serverId: source.serverId }, route as Route, credentials, {
      onOpen: () => {
        if (!isCurrent()) return;
        entry.failedOpens = 0;
        this.setState(source.id, entry, 'open');
      },
      onServerGoingAway: (reason) => {
        if (!isCurrent()) return;
        entry.goingAway = true;
        this.drop(entry);
        this.setState(source.id, entry, 'connecting');
        this.opts.onLost(source.id, reason);
      },
      onLost: (detail) => {
        if (!isCurrent()) return;
        const wasOpen = entry.state === 'open';
        this.drop(entry);
        if (entry.goingAway) return;
        if (detail.code === 'refused' && !wasOpen) {
          // The server does not offer the channel (or refuses it): poll instead, and say so.
          entry.notBefore = this.opts.clock.now() + this.pollingFallbackMs;
          this.setState(source.id, entry, 'polling');
          return;
        }
        if (!wasOpen) entry.failedOpens += 1;
        if (entry.failedOpens >= this.maxFailedOpens) {
          entry.notBefore = this.opts.clock.now() + this.pollingFallbackMs;
          this.setState(source.id, entry, 'polling');
        } else {
          this.setState(source.id, entry, 'connecting');
          // Reopen after the check the loss triggers has confirmed the route (reconcile), but never in
          // a tight loop if the server closes the channel at once while HTTP still answers.
          const delay = Math.min(30_000, 1_000 * 2 ** entry.failedOpens);
          entry.retryTimer = this.opts.clock.setTimeout(() => {
            entry.retryTimer = null;
            const latest = this.sources.get(source.id);
            if (isCurrent() && latest) this.open(latest, entry);
          }, delay);
        }
        this.opts.onLost(source.id);
      },
    }, this.opts.options);
  }

  private drop(entry: Channel): void {
    const channel = entry.channel;
    entry.channel = null;
    try {
      channel?.close();
    } catch {
      // Closing a dead socket may throw; it is gone either way.
    }
  }

  private close(sourceId: string, entry: Channel, state: PushState, notify = true): void {
    entry.generation += 1;
    if (entry.retryTimer) this.opts.clock.clearTimeout(entry.retryTimer);
    entry.retryTimer = null;
    this.drop(entry);
    this.channels.delete(sourceId);
    if (notify && entry.state !== state) this.opts.onStateChange(sourceId, state);
  }

  private setState(sourceId: string, entry: Channel, state: PushState): void {
    if (entry.state === state) return;
    entry.state = state;
    this.opts.onStateChange(sourceId, state);
  }
}
