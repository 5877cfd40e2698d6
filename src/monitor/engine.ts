// The engine: the monitor, the push channels and the store, wired by hand. It hands out domain
// snapshots; the HTTP layer turns them into the wire view (src/server/views.ts).
// Data flows one way: probe -> reducer (inside the monitor) -> events -> store + stream -> SSE.
import type { Credentials, IdentityAnswer, JellyfinPublicInfoApi, MediaBackend, PlexAccountApi } from '../backends/types.js';
import { inferRouteKind, isManagedOrigin, nextPriority, normaliseRouteUrl, planRouteMove, sameServerId } from '../core/route-edits.js';
import type { MonitorState } from '../core/monitor-state.js';
import type { RouteMerge } from '../core/route-refresh.js';
import type { MonitorSettingsInput, PushSettings } from '../core/settings.js';
import { REASON_WORDS, type EngineEvent, type Library, type ProbeResult, type RouteKind, type Source, type SourceKind, type SourceStatus } from '../core/types.js';
import type { Store } from '../store/index.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { ConnectionMonitor } from './connection-monitor.js';
import type {
  CheckWaitResult,
  Engine,
  EngineEventRecord,
  EngineHealth,
  EngineStreamMessage,
  NewRouteInput,
  NewSourceInput,
  RouteCheck,
  RouteEditResult,
  RoutePatch,
  SourceDetailSnapshot,
  SourcePatch,
  SourceSnapshot,
} from './engine-types.js';
import { EventBus } from './event-bus.js';
import type { MonitorListener } from './monitor-listener.js';
import { NetworkWatcher, type NetworkWatcherOptions } from './network-watcher.js';
import { PushSupervisor, type PushState } from './push-supervisor.js';
import { RouteRefresher } from './route-refresher.js';

export interface EngineLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineOptions {
  store: Store;
  backends: Record<SourceKind, MediaBackend>;
  clock?: Clock;
  random?: () => number;
  settings?: MonitorSettingsInput;
  push?: Partial<PushSettings>;
  /**
   * Re-check every source when the host's network interfaces change (default on). An object turns
   * it on with another interface reader or sampling interval (a test changes the network this way).
   */
  watchNetwork?: boolean | Pick<NetworkWatcherOptions, 'read' | 'intervalMs'>;
  /** Called for every probe (metrics). */
  onProbe?(source: Source, result: ProbeResult): void;
  logger?: EngineLogger;
  /** plex.tv with the stored account token: routes and per-server tokens refresh (issue 13 §3). Without it they never do. */
  plexAccount?: PlexAccountApi;
  /** Jellyfin's anonymous public info: a changed LocalAddress updates the managed route. Without it it never does. */
  jellyfinInfo?: JellyfinPublicInfoApi;
}

/** How often routes kept with `force` are asked again who answers there (also on "Check now"). */
export const PENDING_ROUTE_RECHECK_MS = 60_000;
/** The longest an added address may take to say who it is. */
const IDENTITY_CHECK_MAX_MS = 5_000;

/** Status transitions read for a source's detail (GET /api/sources/:id shows this many history rows). */
const DETAIL_HISTORY = 60;
/** Probes per route read for a source's detail. */
const DETAIL_CHECKS_PER_ROUTE = 10;

/** A caller of `checkNowAndWait`: waits for the next full check to start, then for it to finish. */
interface CheckWaiter {
  /** The full check it waits for has started (a cancelled one puts it back to waiting for the next). */
  armed: boolean;
  settle(completed: boolean): void;
}

interface SourceTimes {
  lastCheckedAt: number | null;
  /** Since when the current status holds. */
  since: number | null;
}

/**
 * Up to this many sources every completed check re-publishes the source's view (its check times
 * move); above, a check publishes only what a viewer would notice — status, route, push state,
 * libraries, errors, a latency that moved notably — so 10,000 quiet sources do not stream 10,000
 * identical views to every browser. Snapshots and GET /api/sources always carry the current times.
 */
const PUBLISH_EVERY_CHECK_UP_TO = 200;

export class MarqueeEngine implements Engine {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly monitor: ConnectionMonitor;
  private readonly push: PushSupervisor | null;
  private readonly network: NetworkWatcher | null;
  private readonly refresher: RouteRefresher;
  private readonly bus = new EventBus<{ message: EngineStreamMessage }>();
  private readonly libraryActivity = new Set<(sourceId: string) => void>();
  private readonly sources = new Map<string, Source>();
  private readonly times = new Map<string, SourceTimes>();
  private readonly libraries = new Map<string, Library[]>();
  /** What each source's last streamed snapshot showed (see PUBLISH_EVERY_CHECK_UP_TO). */
  private readonly published = new Map<string, { key: string; latencyMs: number | null }>();
  private readonly logger: EngineLogger | undefined;
  private running = false;
  private unsubscribeHealth: (() => void) | null = null;
  /** Sources with routes kept with `force` that have not answered as their server yet. */
  private readonly pendingSources = new Set<string>();
  /** Pending routes being asked right now (never twice at once). */
  private readonly verifying = new Set<string>();
  private pendingTimer: TimerHandle | null = null;
  /** Callers of checkNowAndWait, per source. */
  private readonly checkWaiters = new Map<string, Set<CheckWaiter>>();

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger;
    const getBackend = (kind: SourceKind) => options.backends[kind];
    const getCredentials = (id: string) => this.credentialsFor(id);
    this.monitor = new ConnectionMonitor({
      getBackend,
      getCredentials,
      refreshCredentials: (id, rejected) => this.refresher.tokenRejected(id, rejected),
      clock: this.clock,
      ...(options.random ? { random: options.random } : {}),
      ...(options.settings ? { settings: options.settings } : {}),
      listener: this.listener(),
    });
    const { enabled: pushEnabled, ...pushSettings } = options.push ?? {};
    this.push =
      pushEnabled === false
        ? null
        : new PushSupervisor({
            monitor: this.monitor,
            getSource: (id) => this.sources.get(id),
            getBackend,
            getCredentials,
            clock: this.clock,
            settings: pushSettings,
            onPushState: (id) => this.publishSource(id, true),
            onLibraryActivity: (id) => {
              for (const listener of this.libraryActivity) listener(id);
            },
            onError: (sourceId, error) => this.logger?.warn({ sourceId, err: error instanceof Error ? error.message : String(error) }, 'push channel error'),
          });
    this.refresher = new RouteRefresher({
      clock: this.clock,
      settings: this.monitor.settings.refresh,
      ...(options.plexAccount ? { plexAccount: options.plexAccount } : {}),
      ...(options.jellyfinInfo ? { jellyfinInfo: options.jellyfinInfo } : {}),
      currentRouteUrl: (id) => this.currentRouteUrl(id),
      noteHistory: (id, words) => this.noteHistory(id, words),
      sources: () => this.sources.values(),
      getSource: (id) => this.sources.get(id),
      routesOf: (id) => this.store.routes.listForSource(id),
      getCredentials,
      putCredentials: (id, credentials) => this.storeRefreshedCredentials(id, credentials),
      deviceKey: (create) => this.store.settings.getOrCreate('plexDeviceKey', create),
      applyRoutes: (id, merge, _origin, words) => this.applyRefreshedRoutes(id, merge, words),
      ...(this.logger ? { logger: this.logger } : {}),
    });
    const watch = options.watchNetwork ?? true;
    this.network =
      watch === false ? null : new NetworkWatcher({ clock: this.clock, ...(watch === true ? {} : watch), onChange: () => this.monitor.networkChanged() });
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.running) return;
    const stored = new Map(this.store.status.loadAll().map((s) => [s.sourceId, s]));
    const libraries = this.store.libraries.listAll();
    for (const source of this.store.sources.list()) {
      const last = stored.get(source.id);
      this.sources.set(source.id, source);
      this.libraries.set(source.id, libraries.get(source.id) ?? []);
      this.times.set(source.id, { lastCheckedAt: last?.lastCheckedAt ?? null, since: last?.updatedAt ?? null });
      // The last-known status is served at once; the monitor re-verifies it with an immediate check.
      this.monitor.addSource(source, { status: last?.status ?? null });
    }
    for (const id of this.store.routes.sourcesWithPendingRoutes()) if (this.sources.has(id)) this.pendingSources.add(id);
    this.unsubscribeHealth = this.store.onHealthChange(() => this.bus.emit('message', { type: 'health', health: this.health() }));
    this.monitor.start();
    this.refresher.start();
    this.push?.start();
    this.network?.start();
    this.running = true;
    this.schedulePendingCheck();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const id of [...this.checkWaiters.keys()]) this.settleWaiters(id, () => true, false);
    if (this.pendingTimer !== null) this.clock.clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
    this.unsubscribeHealth?.();
    this.unsubscribeHealth = null;
    this.network?.stop();
    this.push?.stop();
    await this.refresher.stop();
    await this.monitor.stop();
    this.store.flush();
  }

  health(): EngineHealth {
    const storage = this.store.health();
    return {
      database: storage.state === 'ok' ? 'ok' : 'degraded',
      monitor: this.running && this.monitor.isRunning ? 'running' : 'stopped',
      ...(storage.state === 'ok' ? {} : { detail: storage.detail }),
    };
  }

  // ---- reads --------------------------------------------------------------------------------

  listSources(): SourceSnapshot[] {
    return [...this.sources.keys()].map((id) => this.snapshot(id)).filter((v): v is SourceSnapshot => v !== null);
  }

  hasServer(serverId: string): boolean {
    for (const source of this.sources.values()) if (source.serverId === serverId) return true;
    return false;
  }

  getSource(id: string): SourceSnapshot | null {
    return this.snapshot(id);
  }

  getSourceDetail(id: string): SourceDetailSnapshot | null {
    const source = this.sources.get(id);
    const base = this.snapshot(id);
    if (!source || !base) return null;
    const latencies = this.store.probes.recentLatenciesForSource(id);
    const routes = this.store.routes.listForSource(id).map(({ sourceId: _sourceId, ...r }) => ({ ...r, recentLatencies: latencies.get(r.id) ?? [] }));
    const transitions = this.store.status.recentHistory(id, DETAIL_HISTORY).map((h) => ({
      at: h.at,
      state: h.state,
      routeKind: h.routeKind,
      detail: h.detail,
    }));
    const checks: RouteCheck[] = [];
    for (const route of source.routes) {
      for (const probe of this.store.probes.recent(route.id, DETAIL_CHECKS_PER_ROUTE)) {
        checks.push({ at: probe.at, routeKind: route.kind, ok: probe.ok, code: probe.code });
      }
    }
    return {
      ...base,
      routes,
      transitions,
      checks,
      probeTimeoutMs: source.monitoring.probeTimeoutMs ?? this.monitor.settings.probeTimeoutMs,
    };
  }

  getCredentials(id: string): Credentials | null {
    return this.credentialsFor(id);
  }

  lastSeq(): number {
    return this.store.events.latestSeq();
  }

  eventsSince(seq: number): EngineEventRecord[] | null {
    const stored = this.store.events.since(seq);
    if (!stored) return null;
    return stored.map((e) => ({ seq: e.seq, event: e.event, source: this.snapshot(e.event.sourceId) }));
  }

  subscribe(listener: (message: EngineStreamMessage) => void): () => void {
    return this.bus.on('message', listener);
  }

  onLibraryActivity(listener: (sourceId: string) => void): () => void {
    this.libraryActivity.add(listener);
    return () => this.libraryActivity.delete(listener);
  }

  // ---- writes -------------------------------------------------------------------------------

  addSource(input: NewSourceInput): SourceSnapshot {
    const source = this.store.sources.create({
      name: input.name,
      kind: input.kind,
      serverId: input.serverId,
      routes: input.routes,
      credentials: input.credentials,
      ...(input.monitoring ? { monitoring: input.monitoring } : {}),
    });
    this.sources.set(source.id, source);
    this.libraries.set(source.id, []);
    this.times.set(source.id, { lastCheckedAt: null, since: this.clock.now() });
    this.monitor.addSource(source);
    this.publishSource(source.id);
    return this.snapshot(source.id)!;
  }

  updateSource(id: string, patch: SourcePatch): SourceSnapshot | null {
    if (!this.sources.has(id)) return null;
    if (patch.name !== undefined) this.store.sources.rename(id, patch.name);
    if (patch.monitoring) {
      const current = this.sources.get(id)!;
      this.store.sources.updateMonitoring(id, { ...current.monitoring, ...patch.monitoring });
    }
    const updated = this.store.sources.get(id);
    if (!updated) return null;
    this.sources.set(id, updated);
    this.monitor.updateSource(updated);
    const state = this.monitor.getState(id);
    if (this.push && state) this.push.reconcile(id);
    this.publishSource(id);
    return this.snapshot(id);
  }

  updateCredentials(id: string, credentials: Credentials): boolean {
    const source = this.sources.get(id);
    if (!source) return false;
    this.store.credentials.put(source.credentialRef, credentials);
    this.push?.remove(id);
    this.monitor.credentialsUpdated(id);
    return true;
  }

  removeSource(id: string): boolean {
    if (!this.sources.has(id)) return false;
    this.monitor.removeSource(id);
    this.push?.remove(id);
    this.store.sources.delete(id);
    this.sources.delete(id);
    this.times.delete(id);
    this.libraries.delete(id);
    this.published.delete(id);
    this.pendingSources.delete(id);
    this.settleWaiters(id, () => true, false);
    this.bus.emit('message', { type: 'removed', sourceId: id });
    return true;
  }

  /** A full check now; routes kept with `force` are asked again who answers there, too. */
  checkNow(id: string): boolean {
    if (this.pendingSources.has(id)) void this.verifyPendingRoutes(id);
    return this.monitor.checkNow(id);
  }

  checkNowAndWait(id: string, timeoutMs: number): Promise<CheckWaitResult | null> {
    if (!this.sources.has(id)) return Promise.resolve(null);
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const waiter: CheckWaiter = {
        armed: false,
        settle: (completed) => {
          if (timer !== null) this.clock.clearTimeout(timer);
          timer = null;
          this.checkWaiters.get(id)?.delete(waiter);
          if (this.checkWaiters.get(id)?.size === 0) this.checkWaiters.delete(id);
          const snapshot = this.snapshot(id);
          resolve(snapshot ? { snapshot, completed } : null);
        },
      };
      let waiters = this.checkWaiters.get(id);
      if (!waiters) this.checkWaiters.set(id, (waiters = new Set()));
      // Someone already waits for a check that has not started yet: that one serves both.
      const joining = [...waiters].some((w) => !w.armed);
      waiters.add(waiter);
      timer = this.clock.setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
      // Registered before asking: the check it waits for cannot start unseen.
      if (!joining && !this.checkNow(id)) waiter.settle(false);
    });
  }

  private settleWaiters(id: string, which: (waiter: CheckWaiter) => boolean, completed: boolean): void {
    const waiters = this.checkWaiters.get(id);
    if (!waiters) return;
    for (const waiter of [...waiters]) if (which(waiter)) waiter.settle(completed);
  }

  // ---- routes the user edits (issue 13 item 1) --------------------------------------------------

  async addRoute(sourceId: string, input: NewRouteInput): Promise<RouteEditResult> {
    const source = this.sources.get(sourceId);
    if (!source) return sourceNotFound(sourceId);
    const normalised = normaliseRouteUrl(input.url);
    if (!normalised.ok) return { ok: false, code: 'invalid_url', message: normalised.reason };
    const url = normalised.url;
    const duplicate = this.duplicateRoute(sourceId, url);
    if (duplicate) return duplicate;
    // Who answers there, asked without a token: no token goes to an address before its server is known.
    const identity = await this.identifyAt(source, url);
    const current = this.sources.get(sourceId);
    if (!current) return sourceNotFound(sourceId);
    const again = this.duplicateRoute(sourceId, url); // another request may have added it meanwhile
    if (again) return again;
    const serverWord = kindWord(source.kind);
    if (identity.ok && !sameServerId(identity.serverId, source.serverId)) {
      const named = identity.serverName ? ` (“${identity.serverName.slice(0, 100)}”)` : '';
      return { ok: false, code: 'wrong_server', message: `a different ${serverWord} server${named} answers at ${hostOf(url)}, not ${source.name}; the address was not added and no token was sent there` };
    }
    if (!identity.ok && input.force !== true) {
      return {
        ok: false,
        code: 'unreachable',
        message: `nothing answered as a ${serverWord} server at ${hostOf(url)} (${identity.error.message}); to keep the address anyway send force: true — it is used only once ${source.name} answers there`,
      };
    }
    const kind = input.kind ?? inferRouteKind(url);
    const records = this.store.routes.listForSource(sourceId);
    const added = this.store.routes.add(sourceId, { url, kind, priority: nextPriority(records, kind), origin: 'user', pending: !identity.ok });
    if (!added) return sourceNotFound(sourceId);
    if (!identity.ok) {
      this.store.routes.recordResult({ ok: false, routeId: added.id, at: this.clock.now(), latencyMs: 0, error: identity.error });
      this.pendingSources.add(sourceId);
      this.schedulePendingCheck();
    }
    this.routesChanged(sourceId);
    return { ok: true, routeId: added.id, detail: this.getSourceDetail(sourceId)! };
  }

  updateRoute(sourceId: string, routeId: string, patch: RoutePatch): RouteEditResult {
    const source = this.sources.get(sourceId);
    if (!source) return sourceNotFound(sourceId);
    const records = this.store.routes.listForSource(sourceId);
    const route = records.find((r) => r.id === routeId);
    if (!route) return routeNotFound(routeId);
    if (patch.kind !== undefined && patch.kind !== route.kind && isManagedOrigin(route.origin)) {
      return { ok: false, code: 'managed', message: `${managedWords(route.origin)}: its kind comes from there. It can be moved among the ${route.kind} routes, not changed` };
    }
    const changes = planRouteMove(records, routeId, { ...(patch.kind !== undefined ? { kind: patch.kind } : {}), ...(patch.position !== undefined ? { position: patch.position } : {}) }) ?? [];
    this.store.routes.reorder(sourceId, changes);
    if (changes.length > 0) this.routesChanged(sourceId);
    return { ok: true, routeId, detail: this.getSourceDetail(sourceId)! };
  }

  removeRoute(sourceId: string, routeId: string): RouteEditResult {
    const source = this.sources.get(sourceId);
    if (!source) return sourceNotFound(sourceId);
    const records = this.store.routes.listForSource(sourceId);
    const route = records.find((r) => r.id === routeId);
    if (!route) return routeNotFound(routeId);
    if (isManagedOrigin(route.origin)) {
      return { ok: false, code: 'managed', message: `${managedWords(route.origin)} and would only come back from there; move it to the end of its kind instead` };
    }
    if (!route.pending && records.filter((r) => !r.pending).length === 1) {
      return { ok: false, code: 'last_route', message: `this is the only route to ${source.name}; add another address first, or remove the server` };
    }
    if (!this.store.routes.remove(sourceId, routeId)) return routeNotFound(routeId);
    if (!records.some((r) => r.pending && r.id !== routeId)) this.pendingSources.delete(sourceId);
    this.routesChanged(sourceId);
    return { ok: true, routeId, detail: this.getSourceDetail(sourceId)! };
  }

  /**
   * Asks every route kept with `force` (of one source, or of all) who answers there, anonymously:
   * the right server makes it a route like any other (the monitor re-selects at once); anything
   * else is recorded as its last result and it stays unused.
   */
  async verifyPendingRoutes(sourceId?: string): Promise<void> {
    const work: Promise<void>[] = [];
    for (const id of sourceId ? [sourceId] : [...this.pendingSources]) {
      const source = this.sources.get(id);
      if (!source) continue;
      const pending = this.store.routes.listForSource(id).filter((r) => r.pending);
      if (pending.length === 0) this.pendingSources.delete(id);
      for (const route of pending) if (!this.verifying.has(route.id)) work.push(this.verifyPendingRoute(source, route.id, route.url));
    }
    await Promise.all(work);
  }

  private async verifyPendingRoute(source: Source, routeId: string, url: string): Promise<void> {
    this.verifying.add(routeId);
    try {
      const identity = await this.identifyAt(source, url);
      if (!this.sources.has(source.id)) return;
      const at = this.clock.now();
      if (identity.ok && sameServerId(identity.serverId, source.serverId)) {
        if (!this.store.routes.markVerified(source.id, routeId)) return;
        if (!this.store.routes.listForSource(source.id).some((r) => r.pending)) this.pendingSources.delete(source.id);
        this.routesChanged(source.id);
        return;
      }
      const error = identity.ok
        ? { code: 'wrong_server' as const, message: `a different ${kindWord(source.kind)} server answers at this address`, foundServerId: identity.serverId.slice(0, 64) }
        : identity.error;
      this.store.routes.recordResult({ ok: false, routeId, at, latencyMs: 0, error });
      this.publishSource(source.id);
    } catch (error) {
      this.logger?.warn({ sourceId: source.id, err: error instanceof Error ? error.message : String(error) }, 'checking a pending route failed');
    } finally {
      this.verifying.delete(routeId);
    }
  }

  private schedulePendingCheck(): void {
    if (!this.running || this.pendingTimer !== null || this.pendingSources.size === 0) return;
    this.pendingTimer = this.clock.setTimeout(() => {
      this.pendingTimer = null;
      void this.verifyPendingRoutes().finally(() => this.schedulePendingCheck());
    }, PENDING_ROUTE_RECHECK_MS);
  }

  /** Who answers at `url`, anonymously, within the source's probe timeout (at most 5 s). Never throws. */
  private async identifyAt(source: Source, url: string): Promise<IdentityAnswer> {
    const backend = this.options.backends[source.kind];
    if (!backend.identify) return { ok: false, error: { code: 'malformed', message: `a ${kindWord(source.kind)} server cannot be asked who it is` } };
    const timeoutMs = Math.min(source.monitoring.probeTimeoutMs ?? this.monitor.settings.probeTimeoutMs, IDENTITY_CHECK_MAX_MS);
    try {
      return await backend.identify(url, { timeoutMs });
    } catch (error) {
      return { ok: false, error: { code: 'malformed', message: error instanceof Error ? error.message : 'the identity check failed' } };
    }
  }

  private duplicateRoute(sourceId: string, url: string): RouteEditResult | null {
    const same = this.store.routes.listForSource(sourceId).find((r) => r.url === url);
    return same ? { ok: false, code: 'duplicate', message: `${url} is already a route of this server` } : null;
  }

  /** Routes were stored anew: the monitor re-selects at once, a push channel on a removed route closes. */
  private routesChanged(sourceId: string): void {
    const updated = this.store.sources.get(sourceId);
    if (!updated || !this.sources.has(sourceId)) return;
    this.sources.set(sourceId, updated);
    this.monitor.updateSource(updated);
    if (this.push && this.running) this.push.reconcile(sourceId);
    this.publishSource(sourceId);
  }

  /** Re-reads plex.tv resources now for every account (the hourly refresh, at once). */
  refreshRoutes(): Promise<void> {
    return this.refresher.refreshAll('periodic');
  }

  pushState(id: string): PushState {
    return this.push?.getPushState(id) ?? 'off';
  }

  // ---- wiring -------------------------------------------------------------------------------

  private credentialsFor(id: string): Credentials | null {
    const source = this.sources.get(id);
    return source ? this.store.credentials.get(source.credentialRef) : null;
  }

  /**
   * A refreshed token (plex.tv handed out a new per-server token, or renewed the account's): stored
   * without a user action. The push channel reopens with it; the monitor is not asked to re-check —
   * the check that found the old token rejected retries with the new one itself.
   */
  private storeRefreshedCredentials(id: string, credentials: Credentials): void {
    const source = this.sources.get(id);
    if (!source) return;
    const tokenChanged = this.store.credentials.get(source.credentialRef)?.token !== credentials.token;
    try {
      this.store.credentials.put(source.credentialRef, credentials);
    } catch (error) {
      this.logger?.warn({ sourceId: id, err: error instanceof Error ? error.message : String(error) }, 'a refreshed token could not be stored');
      return;
    }
    // A renewed account token does not touch the server: its channel stays as it is.
    if (!tokenChanged) return;
    this.push?.remove(id);
    if (this.running) this.push?.reconcile(id);
  }

  private currentRouteUrl(id: string): string | null {
    const status = this.monitor.getStatus(id);
    if (status?.state !== 'connected' && status?.state !== 'sync_failed') return null;
    return this.sources.get(id)?.routes.find((r) => r.id === status.routeId)?.url ?? null;
  }

  /** A line in the source's history that is not a status change (its state repeated), in words. */
  private noteHistory(id: string, words: string): void {
    const status = this.monitor.getStatus(id);
    if (status) this.store.status.appendHistory({ sourceId: id, at: this.clock.now(), state: status.state, routeKind: routeKindOf(status), detail: words });
  }

  /** Routes an origin reports now (plex.tv, the server's LocalAddress): stored, re-checked, noted in the history in words. */
  private applyRefreshedRoutes(id: string, merge: RouteMerge, words: string): void {
    if (!this.sources.has(id)) return;
    let updated: Source | null;
    try {
      this.store.sources.replaceRoutes(id, merge.routes);
      updated = this.store.sources.get(id);
    } catch (error) {
      this.logger?.warn({ sourceId: id, err: error instanceof Error ? error.message : String(error) }, 'refreshed routes could not be stored');
      return;
    }
    if (!updated) return;
    this.sources.set(id, updated);
    this.monitor.updateSource(updated);
    this.noteHistory(id, words);
    this.publishSource(id);
  }

  private snapshot(id: string): SourceSnapshot | null {
    const source = this.sources.get(id);
    const state = this.monitor.getState(id);
    if (!source || !state) return null;
    const times = this.times.get(id);
    return {
      source,
      status: state.status,
      lastCheckedAt: times?.lastCheckedAt ?? null,
      since: 'since' in state.status ? state.status.since : (times?.since ?? null),
      nextCheckAt: this.monitor.nextCheckAt(id),
      libraries: this.libraries.get(id) ?? [],
      push: this.pushState(id),
    };
  }

  /** Streams the source's snapshot; with `onlyIfChanged`, only when it differs notably from the last one streamed. */
  private publishSource(id: string, onlyIfChanged = false): void {
    const snapshot = this.snapshot(id);
    if (!snapshot) return;
    if (!this.remember(id, snapshot) && onlyIfChanged) return;
    this.bus.emit('message', { type: 'source', source: snapshot });
  }

  /**
   * Records a snapshot as streamed; true when it differs notably from the previous one: anything
   * but the check times and small latency moves (the source itself — name, routes — status, push
   * state, libraries).
   */
  private remember(id: string, snapshot: SourceSnapshot): boolean {
    const { lastCheckedAt: _checked, nextCheckAt: _next, status, ...rest } = snapshot;
    const latencyMs = 'latencyMs' in status ? status.latencyMs : null;
    const key = JSON.stringify([rest, 'latencyMs' in status ? { ...status, latencyMs: null } : status]);
    const last = this.published.get(id);
    this.published.set(id, { key, latencyMs });
    return !last || last.key !== key || latencyMoved(last.latencyMs, latencyMs);
  }

  private listener(): MonitorListener {
    return {
      onEvents: (sourceId, events, state) => this.recordEvents(sourceId, events, state),
      onProbe: (sourceId, result) => {
        this.store.routes.recordResult(result);
        this.store.probes.appendMany([result]);
        const source = this.sources.get(sourceId);
        if (source) this.options.onProbe?.(source, result);
      },
      onLibraries: (sourceId, libraries) => {
        const previous = this.libraries.get(sourceId);
        this.libraries.set(sourceId, libraries);
        // Every full check reports the libraries; rewrite the rows only when they changed.
        if (!previous || !sameLibraries(previous, libraries)) this.store.libraries.replace(sourceId, libraries);
        this.publishSource(sourceId, true);
      },
      onCheckStarted: (sourceId, info) => {
        if (info.kind !== 'full') return;
        for (const waiter of this.checkWaiters.get(sourceId) ?? []) waiter.armed = true;
      },
      onCheckCompleted: (sourceId, info) => {
        if (info.cancelled) {
          // It decided nothing: wait for the check that replaces it.
          for (const waiter of this.checkWaiters.get(sourceId) ?? []) waiter.armed = false;
          return;
        }
        const times = this.times.get(sourceId);
        if (times) times.lastCheckedAt = info.finishedAt;
        if (this.push && this.running) this.push.reconcile(sourceId);
        // The whole row, not touch(): the store coalesces queued writes per key, so a touch queued
        // before a save of the same batch would run first and the save would reset lastCheckedAt.
        this.store.status.save(sourceId, info.state.status, { updatedAt: times?.since ?? info.finishedAt, lastCheckedAt: info.finishedAt, nextCheckAt: this.monitor.nextCheckAt(sourceId) });
        this.publishSource(sourceId, this.sources.size > PUBLISH_EVERY_CHECK_UP_TO);
        if (info.kind === 'full') this.settleWaiters(sourceId, (waiter) => waiter.armed, true);
      },
      onError: (sourceId, error) => {
        this.logger?.error({ sourceId, err: error instanceof Error ? { message: error.message } : String(error) }, 'monitor error');
      },
    };
  }

  private recordEvents(sourceId: string, events: readonly EngineEvent[], state: MonitorState): void {
    const now = this.clock.now();
    const times = this.times.get(sourceId);
    const statusChange = events.find((e): e is Extract<EngineEvent, { type: 'StatusChanged' }> => e.type === 'StatusChanged');
    if (statusChange && times) times.since = statusChange.at;
    // Keep the last check time: this row is what a restart serves, and save() replaces the whole row.
    this.store.status.save(sourceId, state.status, { updatedAt: times?.since ?? now, lastCheckedAt: times?.lastCheckedAt ?? null, nextCheckAt: state.next.at });
    if (statusChange) {
      this.store.status.appendHistory({
        sourceId,
        at: statusChange.at,
        state: state.status.state,
        routeKind: routeKindOf(state.status),
        detail: detailOf(state.status),
      });
      // Leaving a connected state closes the push channel at once (no stale "open" in the UI).
      if (this.push && this.running) this.push.reconcile(sourceId);
    }
    // One snapshot for the batch: the state does not change between its events.
    const snapshot = this.snapshot(sourceId);
    if (snapshot) this.remember(sourceId, snapshot);
    // Every route of a Plex source failed: plex.tv may list a new address (a changed public IP, a new relay).
    if (events.some((e) => e.type === 'ConnectionLost' || e.type === 'Reconnecting')) this.refresher.allRoutesFailed(sourceId);
    for (const event of events) {
      const seq = this.store.events.append(event);
      this.bus.emit('message', { type: 'engine', message: { seq, event, source: snapshot } });
    }
  }
}

function sourceNotFound(id: string): RouteEditResult {
  return { ok: false, code: 'source_not_found', message: `No source with id "${id.slice(0, 80)}".` };
}

function routeNotFound(id: string): RouteEditResult {
  return { ok: false, code: 'route_not_found', message: `This source has no route with id "${id.slice(0, 80)}".` };
}

const kindWord = (kind: SourceKind) => (kind === 'plex' ? 'Plex' : 'Jellyfin');

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'that address';
  }
}

function managedWords(origin: 'typed' | 'server-reported' | 'plex.tv' | 'user'): string {
  return origin === 'plex.tv' ? 'this route is managed by plex.tv (the account’s list of this server’s addresses)' : 'this route is the server’s own reported address, managed by the server';
}

function sameLibraries(a: readonly Library[], b: readonly Library[]): boolean {
  return a.length === b.length && a.every((l, i) => l.id === b[i]!.id && l.name === b[i]!.name && l.type === b[i]!.type);
}

/**
 * A latency change worth streaming: at least 50 ms and half again (3 → 80 ms, a route moving to
 * another network, not the jitter of a busy host; every change is still stored and served).
 */
function latencyMoved(before: number | null, after: number | null): boolean {
  if (before === null || after === null) return before !== after;
  return Math.abs(after - before) >= Math.max(50, 0.5 * Math.min(before, after));
}

function routeKindOf(status: SourceStatus): RouteKind | null {
  switch (status.state) {
    case 'connected':
    case 'sync_failed':
      return status.routeKind;
    case 'reconnecting':
      return status.lastRouteKind ?? null;
    case 'connecting':
    case 'disconnected':
    case 'auth_required':
      return null;
  }
}

function detailOf(status: SourceStatus): string | null {
  switch (status.state) {
    case 'reconnecting':
    case 'disconnected':
      // Words for people (the history strip shows them as they are), never a bare reason code.
      return status.lastError?.message ?? (status.reason ? REASON_WORDS[status.reason] : null);
    case 'sync_failed':
      return status.error;
    case 'connecting':
    case 'connected':
    case 'auth_required':
      return null;
  }
}
