// Push-based detection (issue 6): keep one push channel open per connected source, on its current
// route, and turn what the channel reports into monitor signals — a closed or silent channel runs an
// immediate full check, a server's "going away" message sets the reason at once. Optional: the
// monitor works without it (polling only), and a server that refuses the channel falls back to polling.
import type { Credentials, MediaBackend, PushChannel, PushHandlers } from '../backends/types.js';
import type { MonitorState } from '../core/monitor-state.js';
import { PushSettingsSchema, type PushSettings } from '../core/settings.js';
import type { LossReason, Route, Source, SourceKind } from '../core/types.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import type { MonitorListener } from './monitor-listener.js';

/** As shown on the sources page (ApiSource.push). */
export type PushState = 'open' | 'polling' | 'connecting' | 'off';

/** The push knobs (documented on PushSettingsSchema) without `enabled`, which the engine decides on. */
export type PushSupervisorSettings = Omit<PushSettings, 'enabled'>;

export const DEFAULT_PUSH_SETTINGS: PushSupervisorSettings = (({ enabled: _enabled, ...settings }) => settings)(PushSettingsSchema.parse({}));

/** The part of ConnectionMonitor the supervisor drives. */
export interface PushTarget {
  pushLost(sourceId: string, reason?: LossReason): boolean;
  checkNow(sourceId: string): boolean;
  getState(sourceId: string): MonitorState | undefined;
  /** The channel is overdue (a ping unanswered for an interval): check the routes early. */
  suspect?(sourceId: string): boolean;
  /** The overdue channel answered after all: an early check still running is a false alarm. */
  suspectCleared?(sourceId: string): boolean;
  /** Told when a channel opens or closes (an open channel stands in for light checks). */
  setPushOpen?(sourceId: string, open: boolean): void;
  /** Sources watched, for the ping budget (default: the channels this supervisor knows). */
  readonly sourceCount?: number;
}

export interface PushSupervisorOptions {
  monitor: PushTarget;
  getSource(sourceId: string): Source | undefined;
  getBackend(kind: SourceKind): MediaBackend | undefined;
  getCredentials(sourceId: string): Credentials | null | undefined | Promise<Credentials | null | undefined>;
  clock?: Clock;
  settings?: Partial<PushSupervisorSettings>;
  onPushState?(sourceId: string, state: PushState, detail?: string): void;
  onError?(sourceId: string, error: unknown): void;
  /**
   * The server said its libraries changed (Plex timeline/activity, Jellyfin LibraryChanged), debounced
   * like the re-check it triggers: at most one per `libraryRefreshMinIntervalMs` per source.
   */
  onLibraryActivity?(sourceId: string): void;
}

interface Slot {
  channel: PushChannel | null;
  /** Waiting for credentials before the channel is opened. */
  opening: boolean;
  /** The route the channel is (or was last) on. */
  routeId: string | null;
  /** Bumped whenever the channel is replaced, so callbacks of an old channel are ignored. */
  generation: number;
  openedAt: number | null;
  state: PushState;
  /** The server refused the channel on this route: poll instead until the route changes. */
  refusedRouteId: string | null;
  quickFailures: number;
  /** Channels on this route that failed in a row before opening. */
  failedOpens: number;
  reopenTimer: TimerHandle | null;
  lastLibraryRefreshAt: number | null;
  libraryTimer: TimerHandle | null;
}

export class PushSupervisor {
  private readonly slots = new Map<string, Slot>();
  private readonly clock: Clock;
  private readonly settings: PushSupervisorSettings;
  private stopped = false;

  constructor(private readonly options: PushSupervisorOptions) {
    this.clock = options.clock ?? realClock;
    this.settings = { ...DEFAULT_PUSH_SETTINGS, ...options.settings };
  }

  /** Wire into the monitor's listener (e.g. with combineListeners): every check and event reconciles. */
  listener(): MonitorListener {
    return {
      onEvents: (sourceId) => this.reconcile(sourceId),
      onCheckCompleted: (sourceId) => this.reconcile(sourceId),
    };
  }

  getPushState(sourceId: string): PushState {
    return this.slots.get(sourceId)?.state ?? 'off';
  }

  /** Open, keep, move or close the source's channel to match its current status and route. */
  reconcile(sourceId: string): void {
    if (this.stopped) return;
    const slot = this.slot(sourceId);
    const source = this.options.getSource(sourceId);
    const status = this.options.monitor.getState(sourceId)?.status;
    const backend = source ? this.options.getBackend(source.kind) : undefined;
    if (!source || !status || (status.state !== 'connected' && status.state !== 'sync_failed')) {
      this.close(slot);
      slot.refusedRouteId = null; // a reconnection may bring a server that accepts the channel
      slot.failedOpens = 0;
      this.setState(sourceId, slot, 'off');
      return;
    }
    if (source.monitoring.push === false || !backend?.openPush) {
      this.close(slot);
      this.setState(sourceId, slot, 'polling', source.monitoring.push === false ? 'push disabled for this source' : 'this server kind has no push channel');
      return;
    }
    const route = source.routes.find((r) => r.id === status.routeId);
    if (!route) {
      // The route in use was removed: its channel goes now; the re-selection under way picks the
      // next route and the channel opens there.
      if (slot.routeId !== null) {
        this.close(slot);
        slot.quickFailures = 0;
        slot.failedOpens = 0;
        this.setState(sourceId, slot, 'connecting');
      }
      return;
    }
    if (slot.routeId === route.id && (slot.channel || slot.opening)) return;
    if (slot.routeId !== null && slot.routeId !== route.id) {
      this.close(slot);
      slot.quickFailures = 0;
      slot.failedOpens = 0;
    }
    if (slot.refusedRouteId === route.id) {
      this.setState(sourceId, slot, 'polling', 'the server refused the push channel');
      return;
    }
    if (slot.reopenTimer !== null) return;
    void this.open(sourceId, slot, source, route, backend);
  }

  remove(sourceId: string): void {
    const slot = this.slots.get(sourceId);
    if (!slot) return;
    this.close(slot);
    this.slots.delete(sourceId);
    if (slot.state === 'open') this.options.monitor.setPushOpen?.(sourceId, false);
  }

  stop(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) this.close(slot);
    this.slots.clear();
  }

  start(): void {
    this.stopped = false;
  }

  private slot(sourceId: string): Slot {
    let slot = this.slots.get(sourceId);
    if (!slot) {
      slot = { channel: null, opening: false, routeId: null, generation: 0, openedAt: null, state: 'off', refusedRouteId: null, quickFailures: 0, failedOpens: 0, reopenTimer: null, lastLibraryRefreshAt: null, libraryTimer: null };
      this.slots.set(sourceId, slot);
    }
    return slot;
  }

  private async open(sourceId: string, slot: Slot, source: Source, route: Route, backend: MediaBackend): Promise<void> {
    const generation = ++slot.generation;
    slot.routeId = route.id;
    slot.openedAt = null;
    this.setState(sourceId, slot, 'connecting');
    slot.opening = true;
    let credentials: Credentials | null | undefined;
    try {
      credentials = await this.options.getCredentials(sourceId);
    } catch (error) {
      this.options.onError?.(sourceId, error);
    }
    if (slot.generation !== generation || this.stopped) return;
    slot.opening = false;
    if (!credentials || !backend.openPush) {
      this.setState(sourceId, slot, 'polling', 'no credentials for the push channel');
      return;
    }
    const current = () => slot.generation === generation && !this.stopped;
    const handlers: PushHandlers = {
      onOpen: () => {
        if (!current()) return;
        slot.openedAt = this.clock.now();
        slot.failedOpens = 0;
        this.setState(sourceId, slot, 'open');
      },
      onServerGoingAway: (reason) => {
        if (current()) this.options.monitor.pushLost(sourceId, reason);
      },
      onSuspect: () => {
        if (current()) this.options.monitor.suspect?.(sourceId);
      },
      onSuspectCleared: () => {
        if (current()) this.options.monitor.suspectCleared?.(sourceId);
      },
      onActivity: (hint) => {
        if (current() && hint === 'library_changed') this.refreshLibraries(sourceId, slot);
      },
      onLost: (detail) => {
        if (!current()) return;
        const lived = slot.openedAt === null ? 0 : this.clock.now() - slot.openedAt;
        slot.channel = null;
        slot.generation++;
        slot.quickFailures = lived >= this.settings.stableAfterMs ? 0 : slot.quickFailures + 1;
        slot.failedOpens = slot.openedAt === null ? slot.failedOpens + 1 : 0;
        if (detail.code === 'refused') {
          slot.refusedRouteId = route.id;
          this.setState(sourceId, slot, 'polling', 'the server refused the push channel');
          return;
        }
        if (slot.failedOpens >= this.settings.refuseAfterFailedOpens) {
          // Never opens although the checks each failure ran kept passing: this route does not carry
          // the channel. Poll; the check below still tells a dead server from a refusing one.
          slot.refusedRouteId = route.id;
          this.setState(sourceId, slot, 'polling', 'the push channel never opened on this route');
          this.options.monitor.pushLost(sourceId);
          return;
        }
        this.setState(sourceId, slot, 'connecting', detail.message);
        if (slot.quickFailures > 0) this.delayReopen(sourceId, slot);
        // The truth first: a full check now decides whether the route, or the server, is gone.
        this.options.monitor.pushLost(sourceId);
      },
    };
    try {
      const channel = backend.openPush({ kind: source.kind, serverId: source.serverId }, route, credentials, handlers, {
        pingIntervalMs: this.pingIntervalMs(),
        pongTimeoutMs: this.settings.pongTimeoutMs,
        suspectMinMs: this.settings.suspectMinMs,
        connectTimeoutMs: this.settings.connectTimeoutMs,
      });
      if (current()) slot.channel = channel;
      else channel.close(); // lost synchronously or superseded
    } catch (error) {
      this.options.onError?.(sourceId, error);
      this.setState(sourceId, slot, 'polling', 'the push channel could not be opened');
    }
  }

  /** The ping cadence for a channel opened now: the configured one, stretched to the ping budget. */
  pingIntervalMs(): number {
    const sources = this.options.monitor.sourceCount ?? this.slots.size;
    return Math.max(this.settings.pingIntervalMs, Math.ceil((sources / this.settings.maxPingsPerS) * 1000));
  }

  /** Debounced: a library scan sends many notifications, the server gets one check per interval. */
  private refreshLibraries(sourceId: string, slot: Slot): void {
    if (slot.libraryTimer !== null) return;
    const now = this.clock.now();
    const dueAt = slot.lastLibraryRefreshAt === null ? now : slot.lastLibraryRefreshAt + this.settings.libraryRefreshMinIntervalMs;
    const run = () => {
      slot.libraryTimer = null;
      slot.lastLibraryRefreshAt = this.clock.now();
      this.options.monitor.checkNow(sourceId);
      this.options.onLibraryActivity?.(sourceId);
    };
    if (dueAt <= now) run();
    else slot.libraryTimer = this.clock.setTimeout(run, dueAt - now);
  }

  private delayReopen(sourceId: string, slot: Slot): void {
    const delay = Math.min(this.settings.reopenCapMs, this.settings.reopenInitialMs * 2 ** Math.min(slot.quickFailures - 1, 20));
    slot.reopenTimer = this.clock.setTimeout(() => {
      slot.reopenTimer = null;
      this.reconcile(sourceId);
    }, delay);
  }

  private close(slot: Slot): void {
    slot.generation++;
    slot.opening = false;
    if (slot.reopenTimer !== null) this.clock.clearTimeout(slot.reopenTimer);
    slot.reopenTimer = null;
    if (slot.libraryTimer !== null) this.clock.clearTimeout(slot.libraryTimer);
    slot.libraryTimer = null;
    const channel = slot.channel;
    slot.channel = null;
    slot.routeId = null;
    slot.openedAt = null;
    if (channel) {
      try {
        channel.close();
      } catch {
        // already closed
      }
    }
  }

  private setState(sourceId: string, slot: Slot, state: PushState, detail?: string): void {
    if (slot.state === state) return;
    const wasOpen = slot.state === 'open';
    slot.state = state;
    try {
      if (wasOpen !== (state === 'open')) this.options.monitor.setPushOpen?.(sourceId, state === 'open');
      this.options.onPushState?.(sourceId, state, detail);
    } catch (error) {
      this.options.onError?.(sourceId, error);
    }
  }
}
