import { z } from 'zod';
import type { Credentials, JellyfinSignInResult, PlexDiscoveredServer } from '../../backends/types.js';
import type { StoreContext } from '../context.js';
import { credentialsSchema, parseJsonColumn, routeKindSchema, routeOriginSchema } from '../validation.js';

/** A Plex PIN sign-in in progress; `accountToken` and `servers` once the user approved it. */
export interface PlexPinSession {
  pinId: number;
  expiresAt: number;
  accountToken?: string;
  servers?: PlexDiscoveredServer[];
}

/** A Jellyfin Quick Connect request behind an opaque handle; `result` once the code was approved. */
export interface QuickConnectSession {
  handle: string;
  url: string;
  secret: string;
  code: string;
  expiresAt: number;
  result?: JellyfinSignInResult;
}

/** Where sign-ins in progress are kept: SQLite in the app, memory for an app built without a database. */
export interface SignInSessionStore {
  putPlexPin(session: PlexPinSession): void;
  /** null when unknown or expired at `now`. */
  getPlexPin(pinId: number, now: number): PlexPinSession | null;
  putQuickConnect(session: QuickConnectSession): void;
  getQuickConnect(handle: string, now: number): QuickConnectSession | null;
  /** Removes every session expired at `now`; returns how many. */
  pruneExpired(now: number): number;
}

/** At most this many sessions of each kind are kept (oldest evicted): a bound against a flood of POSTs. */
export const MAX_SIGN_IN_SESSIONS = 200;

type Kind = 'plex_pin' | 'quick_connect';

const routeCandidateSchema = z.object({ url: z.string(), kind: routeKindSchema, priority: z.number(), origin: routeOriginSchema.optional() });
const refusedRouteSchema = z.object({ url: z.string(), reason: z.string() });

// What a row may show (`state`) and what is a secret (`secret`) are stored apart, so the secret
// column can be handled like the credentials table: read only to finish the sign-in, never logged.
const plexPinStateSchema = z.object({
  servers: z
    .array(
      z.object({
        serverId: z.string(),
        name: z.string(),
        owned: z.boolean(),
        presence: z.boolean(),
        routes: z.array(routeCandidateSchema),
        refusedRoutes: z.array(refusedRouteSchema).optional(),
      }),
    )
    .optional(),
});
const plexPinSecretSchema = z.object({
  accountToken: z.string().min(1).optional(),
  /** Per-server credentials by serverId. */
  credentials: z.record(z.string(), credentialsSchema).optional(),
});
const quickConnectStateSchema = z.object({
  url: z.string(),
  code: z.string(),
  result: z
    .object({
      serverId: z.string(),
      serverName: z.string(),
      userName: z.string(),
      routes: z.array(routeCandidateSchema),
      refusedRoutes: z.array(refusedRouteSchema).optional(),
    })
    .optional(),
});
const quickConnectSecretSchema = z.object({ secret: z.string().min(1), credentials: credentialsSchema.optional() });

interface Row {
  expiresAt: number;
  state: string;
  secret: string;
}

/** Sign-ins in progress in SQLite, so `marquee serve` restarted mid-sign-in still finishes it. */
export class SignInSessionsRepo implements SignInSessionStore {
  constructor(private readonly ctx: StoreContext) {}

  putPlexPin(session: PlexPinSession): void {
    const servers = session.servers;
    const state: z.infer<typeof plexPinStateSchema> = servers
      ? { servers: servers.map((s) => ({ serverId: s.serverId, name: s.name, owned: s.owned, presence: s.presence, routes: s.routes, ...(s.refusedRoutes ? { refusedRoutes: s.refusedRoutes } : {}) })) }
      : {};
    const secret: z.infer<typeof plexPinSecretSchema> = {
      ...(session.accountToken ? { accountToken: session.accountToken } : {}),
      ...(servers ? { credentials: Object.fromEntries(servers.map((s) => [s.serverId, s.credentials])) } : {}),
    };
    this.put('plex_pin', String(session.pinId), session.expiresAt, state, secret);
  }

  getPlexPin(pinId: number, now: number): PlexPinSession | null {
    const row = this.row('plex_pin', String(pinId), now);
    if (!row) return null;
    const state = this.parse(plexPinStateSchema, row.state, 'plex_pin');
    const secret = this.parse(plexPinSecretSchema, row.secret, 'plex_pin');
    if (!state || !secret) return null;
    let servers: PlexDiscoveredServer[] | undefined;
    if (state.servers) {
      servers = [];
      for (const s of state.servers) {
        const credentials: Credentials | undefined = secret.credentials?.[s.serverId];
        if (credentials) servers.push({ ...s, credentials });
      }
    }
    return { pinId, expiresAt: row.expiresAt, ...(secret.accountToken ? { accountToken: secret.accountToken } : {}), ...(servers ? { servers } : {}) };
  }

  putQuickConnect(session: QuickConnectSession): void {
    const { result } = session;
    const state: z.infer<typeof quickConnectStateSchema> = {
      url: session.url,
      code: session.code,
      ...(result
        ? {
            result: {
              serverId: result.serverId,
              serverName: result.serverName,
              userName: result.userName,
              routes: result.routes,
              ...(result.refusedRoutes ? { refusedRoutes: result.refusedRoutes } : {}),
            },
          }
        : {}),
    };
    const secret: z.infer<typeof quickConnectSecretSchema> = { secret: session.secret, ...(result ? { credentials: result.credentials } : {}) };
    this.put('quick_connect', session.handle, session.expiresAt, state, secret);
  }

  getQuickConnect(handle: string, now: number): QuickConnectSession | null {
    const row = this.row('quick_connect', handle, now);
    if (!row) return null;
    const state = this.parse(quickConnectStateSchema, row.state, 'quick_connect');
    const secret = this.parse(quickConnectSecretSchema, row.secret, 'quick_connect');
    if (!state || !secret) return null;
    const result: JellyfinSignInResult | undefined = state.result && secret.credentials ? { ...state.result, credentials: secret.credentials } : undefined;
    return { handle, url: state.url, code: state.code, secret: secret.secret, expiresAt: row.expiresAt, ...(result ? { result } : {}) };
  }

  /** Maintenance work: a storage fault stops it quietly (the real writes report storage health). */
  pruneExpired(now: number): number {
    if (this.ctx.sqlite.readonly) return 0;
    try {
      return this.ctx.statement('DELETE FROM sign_in_sessions WHERE expires_at <= ?').run(now).changes;
    } catch (error) {
      this.ctx.logger.warn({ op: 'prune', table: 'sign_in_sessions', err: error instanceof Error ? error.message : String(error) }, 'pruning stopped');
      return 0;
    }
  }

  /** Stored at once (a user is waiting on it); throws StoreUnavailableError when storage is unusable. */
  private put(kind: Kind, key: string, expiresAt: number, state: unknown, secret: unknown): void {
    const updatedAt = this.ctx.now();
    this.ctx.guard.foreground('signIns.put', () =>
      this.ctx.transaction(() => {
        this.ctx
          .statement(
            `INSERT INTO sign_in_sessions (kind, key, expires_at, updated_at, state, secret) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(kind, key) DO UPDATE SET expires_at = excluded.expires_at, updated_at = excluded.updated_at,
               state = excluded.state, secret = excluded.secret`,
          )
          .run(kind, key, expiresAt, updatedAt, JSON.stringify(state), JSON.stringify(secret));
        // Expired ones go with every write, the oldest beyond the bound too.
        this.ctx.statement('DELETE FROM sign_in_sessions WHERE expires_at <= ?').run(updatedAt);
        this.ctx
          .statement(
            `DELETE FROM sign_in_sessions WHERE kind = ? AND rowid NOT IN
               (SELECT rowid FROM sign_in_sessions WHERE kind = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?)`,
          )
          .run(kind, kind, MAX_SIGN_IN_SESSIONS);
      }),
    );
  }

  private row(kind: Kind, key: string, now: number): Row | null {
    const row = this.ctx.statement('SELECT expires_at AS expiresAt, state, secret FROM sign_in_sessions WHERE kind = ? AND key = ?').get(kind, key) as Row | undefined;
    return row && row.expiresAt > now ? row : null;
  }

  private parse<T>(schema: z.ZodType<T>, json: string, kind: Kind): T | null {
    const parsed = parseJsonColumn(schema, json);
    if (parsed.ok) return parsed.value;
    // Neither the key (a handle the browser holds) nor any value: only where and what.
    this.ctx.logger.warn({ table: 'sign_in_sessions', kind, problem: parsed.problem }, 'skipping unreadable sign-in row');
    return null;
  }
}

/** The same contract in memory: for an app built without a database (unit tests of the HTTP layer). */
export class MemorySignInSessions implements SignInSessionStore {
  private readonly pins = new Map<number, PlexPinSession>();
  private readonly quickConnects = new Map<string, QuickConnectSession>();

  putPlexPin(session: PlexPinSession): void {
    bounded(this.pins, session.pinId, session);
  }
  getPlexPin(pinId: number, now: number): PlexPinSession | null {
    return live(this.pins.get(pinId), now);
  }
  putQuickConnect(session: QuickConnectSession): void {
    bounded(this.quickConnects, session.handle, session);
  }
  getQuickConnect(handle: string, now: number): QuickConnectSession | null {
    return live(this.quickConnects.get(handle), now);
  }
  pruneExpired(now: number): number {
    let n = 0;
    for (const map of [this.pins, this.quickConnects] as Array<Map<unknown, { expiresAt: number }>>) {
      for (const [key, value] of map) {
        if (value.expiresAt <= now) {
          map.delete(key);
          n++;
        }
      }
    }
    return n;
  }
}

function bounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_SIGN_IN_SESSIONS) map.delete(map.keys().next().value as K);
}

function live<V extends { expiresAt: number }>(value: V | undefined, now: number): V | null {
  return value && value.expiresAt > now ? value : null;
}
