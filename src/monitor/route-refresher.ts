// Routes and tokens that refresh (issue 13 §3): the I/O side. src/core/route-refresh.ts decides
// (when to ask, what changed, whether a rejected token is replaced); this class asks plex.tv and
// the servers and hands the answers to the engine, which stores them and tells the monitor.
//
// - Plex: the account's resources are re-read every `refresh.routesMs` (once per account, however
//   many of its servers are sources), and at once (at most every `minGapMs`) when every route of a
//   Plex source fails or a server rejects its per-server token. Routes of origin `plex.tv` follow the
//   list (ids kept for unchanged URLs); a new per-server token is stored silently.
// - Jellyfin: on the same cadence, the LocalAddress a connected server reports (anonymous
//   /System/Info/Public through its current route) replaces its `server-reported` route — only after
//   the same server id answered anonymously at the new address, as at sign-in.
import type { Credentials, JellyfinPublicInfoApi, PlexAccountApi, PlexDiscoveredServer, PlexResourcesAnswer } from '../backends/types.js';
import { reportedAddressProblem } from '../core/addresses.js';
import {
  decideRejectedToken,
  describeRouteChange,
  mergeManagedRoutes,
  nextPeriodicRefreshAt,
  planLocalAddressRefresh,
  resourcesRefreshDue,
  type AccountAnswer,
  type KnownRoute,
  type RefreshTiming,
  type RefreshTrigger,
  type RouteMerge,
} from '../core/route-refresh.js';
import type { RefreshSettings } from '../core/settings.js';
import type { RouteOrigin, Source } from '../core/types.js';
import { clampDelay, type Clock, type TimerHandle } from './clock.js';

export interface RefresherLogger {
  warn(obj: object, msg?: string): void;
}

export interface RouteRefresherOptions {
  clock: Clock;
  settings: RefreshSettings;
  plexAccount?: PlexAccountApi;
  jellyfinInfo?: JellyfinPublicInfoApi;
  /** The URL of the route a source is connected through now (null: not connected). */
  currentRouteUrl(sourceId: string): string | null;
  /** Notes something that did not change the routes (a reported address refused) in the source's history. */
  noteHistory(sourceId: string, words: string): void;
  /** Every source the engine knows now. */
  sources(): Iterable<Source>;
  getSource(sourceId: string): Source | undefined;
  /** The stored routes of a source with their origins. */
  routesOf(sourceId: string): KnownRoute[];
  getCredentials(sourceId: string): Credentials | null;
  /** Stores new credentials without a user action (no re-check is asked: the caller decides). */
  putCredentials(sourceId: string, credentials: Credentials): void;
  /** Stores a changed route list (ids kept by URL) and notes `words` in the source's history. */
  applyRoutes(sourceId: string, merge: RouteMerge, origin: RouteOrigin, words: string): void;
  logger?: RefresherLogger;
}

interface AccountState extends RefreshTiming {
  /** The last answer plex.tv gave (reused inside `minGapMs`). */
  answer: PlexResourcesAnswer | null;
  inFlight: Promise<PlexResourcesAnswer | null> | null;
}

export class RouteRefresher {
  private readonly accounts = new Map<string, AccountState>();
  private timer: TimerHandle | null = null;
  private running = false;
  private readonly pending = new Set<Promise<unknown>>();
  private periodic: RefreshTiming = { lastAnsweredAt: null, lastAttemptAt: null };
  /** Per Jellyfin source: the last reported address refused (noted once, not every hour). */
  private readonly refusedLocal = new Map<string, string>();
  private readonly jellyfinInFlight = new Set<string>();

  constructor(private readonly options: RouteRefresherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    // The first periodic refresh comes one interval after start: sign-in read resources just now.
    const now = this.options.clock.now();
    this.periodic = { lastAnsweredAt: now, lastAttemptAt: now };
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.pending]);
  }

  /** Every route of a Plex source failed: plex.tv may list a new address (bounded by `minGapMs`). */
  allRoutesFailed(sourceId: string): void {
    const source = this.find(sourceId);
    if (!source || source.kind !== 'plex') return;
    const accountToken = this.options.getCredentials(sourceId)?.accountToken;
    if (accountToken) void this.refreshAccount(accountToken, 'all_routes_failed');
  }

  /**
   * A server rejected the source's token (monitor's `refreshCredentials`): the credentials to retry
   * with, or null when the rejection stands (the account sign-in is gone, or nothing new to try).
   */
  async tokenRejected(sourceId: string, rejected: Credentials): Promise<Credentials | null> {
    const source = this.find(sourceId);
    if (!source || source.kind !== 'plex' || !rejected.accountToken) return null;
    const answer = await this.refreshAccount(rejected.accountToken, 'token_rejected');
    // Another source of the account (or an earlier refresh) may have stored a new token already.
    const stored = this.options.getCredentials(sourceId);
    if (stored && stored.token !== rejected.token) return stored;
    const decision = decideRejectedToken(rejected.token, accountAnswer(answer ?? this.accounts.get(rejected.accountToken)?.answer ?? null, source.serverId));
    if (decision.action === 'retry_with' && stored) return { ...stored, token: decision.token };
    return null;
  }

  /** Re-reads everything now (tests, and the periodic timer). */
  async refreshAll(trigger: RefreshTrigger = 'periodic'): Promise<void> {
    const tokens = new Set<string>();
    for (const source of this.options.sources()) {
      if (source.kind !== 'plex') continue;
      const token = this.options.getCredentials(source.id)?.accountToken;
      if (token) tokens.add(token);
    }
    const jellyfin = [...this.options.sources()].filter((s) => s.kind === 'jellyfin').map((s) => this.refreshLocalAddress(s));
    await Promise.all([...[...tokens].map((token) => this.refreshAccount(token, trigger)), ...jellyfin]);
  }

  // ---- Jellyfin -----------------------------------------------------------------------------

  /** Follows a changed LocalAddress of a connected Jellyfin server (see the header). */
  private async refreshLocalAddress(source: Source): Promise<void> {
    const api = this.options.jellyfinInfo;
    const through = this.options.currentRouteUrl(source.id);
    if (!api || !through || this.jellyfinInFlight.has(source.id)) return;
    this.jellyfinInFlight.add(source.id);
    try {
      const timeoutMs = this.options.settings.timeoutMs;
      const info = await api.publicInfo(through, { timeoutMs });
      // Another server answering there is the probes' business (wrong_server), not a LocalAddress to follow.
      if (!info.ok || !sameServerId(info.serverId, source.serverId)) return;
      const routes = this.options.routesOf(source.id);
      const plan = planLocalAddressRefresh(routes, info.localAddress, reportedAddressProblem);
      if (plan.action === 'none') return;
      if (plan.action === 'verify') {
        const there = await api.publicInfo(plan.url, { timeoutMs });
        if (there.ok && sameServerId(there.serverId, source.serverId)) {
          this.refusedLocal.delete(source.id);
          const priority = routes.some((r) => r.kind === 'local' && r.origin !== 'server-reported') ? 1 : 0;
          const merge = mergeManagedRoutes(routes, 'server-reported', [{ url: plan.url, kind: 'local', priority }]);
          const words = describeRouteChange(merge, 'server-reported');
          if (words && this.options.getSource(source.id)) this.options.applyRoutes(source.id, merge, 'server-reported', words);
          return;
        }
        const reason = there.ok ? 'a different Jellyfin server answers there' : `nothing answered there as a Jellyfin server (${there.error.message})`;
        this.refuse(source.id, plan.url, reason);
        return;
      }
      this.refuse(source.id, plan.url, plan.reason);
    } catch (error) {
      this.options.logger?.warn({ sourceId: source.id, err: error instanceof Error ? error.message : String(error) }, 'LocalAddress refresh failed');
    } finally {
      this.jellyfinInFlight.delete(source.id);
    }
  }

  /** A reported address that will not receive the token: noted once in the history, the routes unchanged. */
  private refuse(sourceId: string, url: string, reason: string): void {
    if (this.refusedLocal.get(sourceId) === url) return;
    this.refusedLocal.set(sourceId, url);
    this.options.noteHistory(sourceId, `The server reports a new address ${url}; not used: ${reason}`.slice(0, 500));
  }

  // ---- plex.tv ------------------------------------------------------------------------------

  /** One resources call per account at a time; the answer is applied to every source of the account. */
  private refreshAccount(accountToken: string, trigger: RefreshTrigger): Promise<PlexResourcesAnswer | null> {
    const api = this.options.plexAccount;
    if (!api) return Promise.resolve(null);
    let state = this.accounts.get(accountToken);
    if (!state) {
      state = { lastAnsweredAt: null, lastAttemptAt: null, answer: null, inFlight: null };
      this.accounts.set(accountToken, state);
    }
    if (state.inFlight) return state.inFlight;
    const now = this.options.clock.now();
    const cadence = { intervalMs: this.options.settings.routesMs, minGapMs: this.options.settings.minGapMs };
    // The periodic timer covers every account at once; its own timing decided already.
    if (trigger !== 'periodic' && !resourcesRefreshDue(trigger, state, now, cadence)) return Promise.resolve(state.answer);
    state.lastAttemptAt = now;
    const own = state;
    const run = (async () => {
      const answer = await api.resources(accountToken, { timeoutMs: this.options.settings.timeoutMs });
      own.answer = answer;
      if (answer.ok) {
        own.lastAnsweredAt = this.options.clock.now();
        this.applyAccount(accountToken, answer.servers);
      } else {
        this.options.logger?.warn({ reason: answer.reason, detail: answer.message }, 'plex.tv resources could not be refreshed');
      }
      return answer;
    })()
      .catch((error: unknown) => {
        this.options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'plex.tv resources refresh failed');
        return null;
      })
      .finally(() => {
        own.inFlight = null;
      });
    state.inFlight = run;
    return this.track(run);
  }

  /** plex.tv's answer → each source of the account: its routes of origin plex.tv and its per-server token. */
  private applyAccount(accountToken: string, servers: readonly PlexDiscoveredServer[]): void {
    for (const source of this.options.sources()) {
      if (source.kind !== 'plex') continue;
      const credentials = this.options.getCredentials(source.id);
      if (credentials?.accountToken !== accountToken) continue;
      const server = servers.find((s) => s.serverId === source.serverId);
      // A server plex.tv no longer lists (unshared, removed) keeps its routes: its probes tell the story.
      if (!server) continue;
      const merge = mergeManagedRoutes(this.options.routesOf(source.id), 'plex.tv', server.routes);
      const words = describeRouteChange(merge, 'plex.tv');
      if (words) this.options.applyRoutes(source.id, merge, 'plex.tv', words);
      if (server.credentials.token !== credentials.token) this.options.putCredentials(source.id, { ...credentials, token: server.credentials.token });
    }
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private schedule(): void {
    if (!this.running) return;
    const now = this.options.clock.now();
    const at = nextPeriodicRefreshAt(this.periodic, now, { intervalMs: this.options.settings.routesMs, minGapMs: this.options.settings.minGapMs });
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      if (!this.running) return;
      const started = this.options.clock.now();
      this.periodic.lastAttemptAt = started;
      void this.track(
        this.refreshAll('periodic').finally(() => {
          this.periodic.lastAnsweredAt = started;
          this.schedule();
        }),
      );
    }, clampDelay(at - now));
  }

  private find(sourceId: string): Source | undefined {
    return this.options.getSource(sourceId);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
    return promise;
  }
}

function sameServerId(a: string, b: string): boolean {
  return a.replace(/-/g, '').toLowerCase() === b.replace(/-/g, '').toLowerCase();
}

function accountAnswer(answer: PlexResourcesAnswer | null, serverId: string): AccountAnswer {
  if (!answer) return { kind: 'unknown' };
  if (answer.ok) return { kind: 'listed', serverToken: answer.servers.find((s) => s.serverId === serverId)?.credentials.token ?? null };
  return answer.reason === 'account_rejected' ? { kind: 'account_rejected' } : { kind: 'unknown' };
}
