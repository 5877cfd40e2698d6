// Server-side memory of sign-ins in progress, so secrets never travel to the browser: the Plex
// account token stays here keyed by PIN id, a Jellyfin Quick Connect secret behind an opaque handle.
// Bounded (oldest evicted) and time-limited.
import { randomBytes } from 'node:crypto';
import type { JellyfinSignInResult, PlexDiscoveredServer } from '../backends/types.js';

export interface PlexPinSession {
  pinId: number;
  expiresAt: number;
  accountToken?: string;
  servers?: PlexDiscoveredServer[];
}

export interface QuickConnectSession {
  handle: string;
  url: string;
  secret: string;
  code: string;
  expiresAt: number;
  result?: JellyfinSignInResult;
}

/** How long a completed sign-in stays usable for adding sources. */
export const AUTHORIZED_TTL_MS = 30 * 60_000;
const QUICK_CONNECT_TTL_MS = 10 * 60_000;
const MAX_SESSIONS = 200;

class BoundedMap<K, V extends { expiresAt: number }> {
  private readonly map = new Map<K, V>();
  constructor(private readonly now: () => number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v && v.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > MAX_SESSIONS) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }
  get size(): number {
    return this.map.size;
  }
}

export class SignInSessions {
  private readonly pins: BoundedMap<number, PlexPinSession>;
  private readonly quickConnects: BoundedMap<string, QuickConnectSession>;
  constructor(private readonly now: () => number = Date.now) {
    this.pins = new BoundedMap(now);
    this.quickConnects = new BoundedMap(now);
  }

  addPin(pinId: number, expiresAt: number): void {
    this.pins.set(pinId, { pinId, expiresAt: Math.max(expiresAt, this.now() + 60_000) });
  }
  getPin(pinId: number): PlexPinSession | undefined {
    return this.pins.get(pinId);
  }
  authorizePin(pinId: number, accountToken: string, servers: PlexDiscoveredServer[]): void {
    this.pins.set(pinId, { pinId, accountToken, servers, expiresAt: this.now() + AUTHORIZED_TTL_MS });
  }

  addQuickConnect(url: string, code: string, secret: string): QuickConnectSession {
    const session: QuickConnectSession = {
      handle: randomBytes(18).toString('base64url'),
      url,
      code,
      secret,
      expiresAt: this.now() + QUICK_CONNECT_TTL_MS,
    };
    this.quickConnects.set(session.handle, session);
    return session;
  }
  getQuickConnect(handle: string): QuickConnectSession | undefined {
    return this.quickConnects.get(handle);
  }
  authorizeQuickConnect(handle: string, result: JellyfinSignInResult): void {
    const s = this.quickConnects.get(handle);
    if (s) this.quickConnects.set(handle, { ...s, result, expiresAt: this.now() + AUTHORIZED_TTL_MS });
  }
}
