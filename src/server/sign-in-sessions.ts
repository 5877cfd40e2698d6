// Sign-ins in progress, kept server-side so secrets never travel to the browser: the Plex account
// token stays here keyed by PIN id, a Jellyfin Quick Connect secret behind an opaque handle. The
// rows live in the store (SQLite: a restart mid-sign-in does not lose them); this class decides
// their lifetimes. Bounded (oldest evicted) and time-limited; expired ones are pruned.
import { randomBytes } from 'node:crypto';
import type { JellyfinSignInResult, PlexDiscoveredServer } from '../backends/types.js';
import { MemorySignInSessions, type PlexPinSession, type QuickConnectSession, type SignInSessionStore } from '../store/index.js';

export type { PlexPinSession, QuickConnectSession };

/** How long a completed sign-in stays usable for adding sources. */
export const AUTHORIZED_TTL_MS = 30 * 60_000;
const QUICK_CONNECT_TTL_MS = 10 * 60_000;
/** A PIN plex.tv says expires sooner is still remembered this long (clock skew, slow approval). */
const MIN_PIN_TTL_MS = 60_000;

export class SignInSessions {
  constructor(
    private readonly now: () => number = Date.now,
    /** Default: memory, for an app built without a database (the runtime passes the store's). */
    private readonly store: SignInSessionStore = new MemorySignInSessions(),
  ) {}

  addPin(pinId: number, expiresAt: number): void {
    this.store.putPlexPin({ pinId, expiresAt: Math.max(expiresAt, this.now() + MIN_PIN_TTL_MS) });
  }
  getPin(pinId: number): PlexPinSession | undefined {
    return this.store.getPlexPin(pinId, this.now()) ?? undefined;
  }
  authorizePin(pinId: number, accountToken: string, servers: PlexDiscoveredServer[]): void {
    this.store.putPlexPin({ pinId, accountToken, servers, expiresAt: this.now() + AUTHORIZED_TTL_MS });
  }

  addQuickConnect(url: string, code: string, secret: string): QuickConnectSession {
    const session: QuickConnectSession = {
      handle: randomBytes(18).toString('base64url'),
      url,
      code,
      secret,
      expiresAt: this.now() + QUICK_CONNECT_TTL_MS,
    };
    this.store.putQuickConnect(session);
    return session;
  }
  getQuickConnect(handle: string): QuickConnectSession | undefined {
    return this.store.getQuickConnect(handle, this.now()) ?? undefined;
  }
  authorizeQuickConnect(handle: string, result: JellyfinSignInResult): void {
    const s = this.getQuickConnect(handle);
    if (s) this.store.putQuickConnect({ ...s, result, expiresAt: this.now() + AUTHORIZED_TTL_MS });
  }
}
