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
// - Plex JWT: with `refresh.plexJwt` the account moves to plex.tv's short-lived JWTs — the install's
//   Ed25519 key registered once with the legacy token, then nonce + device-signed JWT → a 7-day
//   token — renewed `jwtRenewBeforeMs` before it expires (checked every refresh round), and at once
//   when plex.tv answers 498. A plex.tv that refuses (no JWT support, key taken) leaves the legacy
//   token in use.
import type { Credentials, JellyfinPublicInfoApi, PlexAccountApi, PlexDiscoveredServer, PlexJwt, PlexResourcesAnswer } from '../backends/types.js';
import { reportedAddressProblem } from '../core/addresses.js';
import {
  decideRejectedToken,
  describeRouteChange,
  jwtRenewalDue,
  mergeManagedRoutes,
  nextPeriodicRefreshAt,
  planLocalAddressRefresh,
  refreshAllowedAt,
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
  /** The install's device key (private JWK, JSON), made with `create` the first time. */
  deviceKey(create: () => string): string;
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
  /** Account tokens plex.tv would not move to a JWT (asked once per token, not every hour). */
  private readonly jwtRefused = new Set<string>();

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
    // The stored account token: a JWT renewed since the check read its credentials is the one to use.
    const accountToken = this.options.getCredentials(sourceId)?.accountToken ?? rejected.accountToken;
    if (!source || source.kind !== 'plex' || !accountToken) return null;
    let answer = await this.refreshAccount(accountToken, 'token_rejected');
    const stale = (a: PlexResourcesAnswer | null) => a?.ok === true && a.servers.find((s) => s.serverId === source.serverId)?.credentials.token === rejected.token;
    const state = this.accounts.get(accountToken);
    if (this.running && state && stale(answer) && this.options.getCredentials(sourceId)?.token === rejected.token) {
      // The last answer (just before the owner rotated the token?) hands out the rejected token: ask
      // again as soon as the gap allows (a tenth of minGapMs), while the check waits.
      const cadence = { intervalMs: this.options.settings.routesMs, minGapMs: this.options.settings.minGapMs };
      const now = this.options.clock.now();
      const waitMs = refreshAllowedAt('token_rejected', state, now, cadence) - now;
      if (waitMs > 0) await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, waitMs));
      answer = await this.refreshAccount(accountToken, 'token_rejected');
    }
    // Another source of the account (or an earlier refresh) may have stored a new token already.
    const stored = this.options.getCredentials(sourceId);
    if (stored && stored.token !== rejected.token) return stored;
    const decision = decideRejectedToken(rejected.token, accountAnswer(answer ?? this.accounts.get(accountToken)?.answer ?? null, source.serverId));
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
      const options = { timeoutMs: this.options.settings.timeoutMs };
      let token = await this.currentAccountToken(accountToken);
      let answer = await api.resources(token, options);
      if (!answer.ok && answer.reason === 'token_expired') {
        // 498: the JWT expired (a machine asleep past its renewal): renew, then ask again.
        const renewed = await this.renewJwt(token);
        if (renewed) {
          token = renewed;
          answer = await api.resources(token, options);
        }
      }
      own.answer = answer;
      if (token !== accountToken) this.accounts.set(token, own);
      if (answer.ok) {
        own.lastAnsweredAt = this.options.clock.now();
        this.applyAccount(token, answer.servers);
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

  // ---- plex.tv JWT -------------------------------------------------------------------------

  /** The account token to use now: a JWT renewed when due, a legacy token moved to a JWT once. */
  private async currentAccountToken(token: string): Promise<string> {
    const api = this.options.plexAccount;
    const credentials = this.credentialsOfAccount(token);
    if (!api || !credentials) return token;
    const settings = this.options.settings;
    if (credentials.accountTokenExpiresAt !== undefined && credentials.accountTokenIssuedAt !== undefined) {
      const due = jwtRenewalDue({ issuedAt: credentials.accountTokenIssuedAt, expiresAt: credentials.accountTokenExpiresAt }, this.options.clock.now(), settings.jwtRenewBeforeMs);
      return due ? ((await this.renewJwt(token)) ?? token) : token;
    }
    if (!settings.plexJwt || this.jwtRefused.has(token) || !api.registerDeviceKey || !api.newDeviceKey) return token;
    const newKey = api.newDeviceKey.bind(api);
    const registered = await api.registerDeviceKey(token, this.options.deviceKey(newKey), { timeoutMs: settings.timeoutMs });
    if (!registered.ok) {
      // Refused (no JWT support, the key registered for another account): the legacy token stays.
      if (registered.reason === 'refused') this.jwtRefused.add(token);
      this.options.logger?.warn({ reason: registered.reason, detail: registered.message }, 'the Plex account stays on its legacy token');
      return token;
    }
    return (await this.renewJwt(token)) ?? token;
  }

  /** A fresh plex.tv JWT for the account of `token`, stored with every source of the account; null if plex.tv gave none. */
  private async renewJwt(token: string): Promise<string | null> {
    const api = this.options.plexAccount;
    if (!api?.renewJwt || !api.newDeviceKey) return null;
    const newKey = api.newDeviceKey.bind(api);
    const renewed = await api.renewJwt(this.options.deviceKey(newKey), { timeoutMs: this.options.settings.timeoutMs });
    if (!renewed.ok) {
      this.options.logger?.warn({ reason: renewed.reason, detail: renewed.message }, 'the plex.tv token could not be renewed');
      return null;
    }
    this.rewriteAccount(token, renewed.value);
    return renewed.value.token;
  }

  /** Every Plex source signed in with `old` gets the new account token. */
  private rewriteAccount(old: string, jwt: PlexJwt): void {
    for (const source of this.options.sources()) {
      if (source.kind !== 'plex') continue;
      const credentials = this.options.getCredentials(source.id);
      if (credentials?.accountToken !== old) continue;
      this.options.putCredentials(source.id, { ...credentials, accountToken: jwt.token, accountTokenIssuedAt: jwt.issuedAt, accountTokenExpiresAt: jwt.expiresAt });
    }
  }

  private credentialsOfAccount(token: string): Credentials | null {
    for (const source of this.options.sources()) {
      if (source.kind !== 'plex') continue;
      const credentials = this.options.getCredentials(source.id);
      if (credentials?.accountToken === token) return credentials;
    }
    return null;
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
