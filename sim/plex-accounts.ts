// plex.tv's token book, shared by the fake plex.tv and the fake servers: account tokens (one per
// signed-in device) and per-server access tokens (one per server and user, as in /resources).
import { createHmac } from 'node:crypto';
import { plexToken, randomHex, stableHex } from './ids.js';

export interface PlexAccount {
  id: number;
  uuid: string;
  username: string;
  email: string;
  /** The most recently minted account token. */
  token: string;
}

export type TokenEntry =
  /** `expiresAt` (ms): a plex.tv JWT, answered 498 once past it; legacy tokens never expire. */
  | { kind: 'account'; username: string; seq: number; revoked: boolean; expiresAt?: number }
  | { kind: 'server'; username: string; serverId: string; seq: number; revoked: boolean };

export class PlexAccounts {
  private readonly accounts = new Map<string, PlexAccount>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly serverTokens = new Map<string, string>();
  private readonly generations = new Map<string, number>();
  private seq = 0;

  /**
   * `seed` derives the per-server access tokens, so several simulator processes sharing a seed
   * (a sharded scale run) agree on them without talking to each other.
   */
  constructor(
    accounts: { username: string; email?: string | undefined; token?: string | undefined }[],
    private readonly seed: string = randomHex(32),
  ) {
    accounts.forEach((a, i) => {
      const account: PlexAccount = {
        id: 10_000_000 + i * 7919,
        uuid: stableHex(`plex-account:${a.username}`, 16),
        username: a.username,
        email: a.email ?? `${a.username}@example.invalid`,
        token: '',
      };
      this.accounts.set(a.username, account);
      account.token = this.mintAccountToken(a.username, a.token);
    });
  }

  get defaultUsername(): string {
    return [...this.accounts.keys()][0] ?? 'demo';
  }

  account(username = this.defaultUsername): PlexAccount {
    const account = this.accounts.get(username);
    if (!account) throw new Error(`unknown plex.tv account "${username}"`);
    return account;
  }

  /** A sequence mark: tokens minted before it can be revoked in one go. */
  nextSeq(): number {
    return ++this.seq;
  }

  mintAccountToken(username: string, fixed?: string): string {
    const token = fixed ?? plexToken();
    this.tokens.set(token, { kind: 'account', username, seq: ++this.seq, revoked: false });
    this.account(username).token = token;
    return token;
  }

  /** Registers a plex.tv JWT (minted by PlexJwtIssuer) as an account token of `username`. */
  addJwt(username: string, token: string, expiresAt: number): void {
    this.tokens.set(token, { kind: 'account', username, seq: ++this.seq, revoked: false, expiresAt });
  }

  /** Every JWT of the user is past its expiry from now on (498), as if a week went by. */
  expireJwts(username: string): void {
    for (const entry of this.tokens.values()) if (entry.kind === 'account' && entry.username === username && entry.expiresAt !== undefined) entry.expiresAt = Date.now() - 1;
  }

  /** The accessToken /resources gives `username` for `serverId` (created on first use). */
  serverToken(serverId: string, username: string): string {
    const key = `${serverId}\u0000${username}`;
    let token = this.serverTokens.get(key);
    if (!token) {
      const generation = this.generations.get(serverId) ?? 0;
      token = createHmac('sha256', this.seed).update(`${serverId}\u0000${username}\u0000${generation}`).digest('base64url').slice(0, 20);
      this.serverTokens.set(key, token);
      this.tokens.set(token, { kind: 'server', username, serverId, seq: ++this.seq, revoked: false });
    }
    return token;
  }

  /** New access tokens for every user of a server (after its old ones were revoked). */
  rotateServerTokens(serverId: string): void {
    this.generations.set(serverId, (this.generations.get(serverId) ?? 0) + 1);
    for (const key of [...this.serverTokens.keys()]) if (key.startsWith(`${serverId}\u0000`)) this.serverTokens.delete(key);
  }

  /**
   * The server's owner rotated its access tokens: every per-server token of `serverId` stops working
   * (401 at the server) and /resources hands out new ones. Account tokens are not touched.
   */
  revokeServerTokens(serverId: string): void {
    for (const entry of this.tokens.values()) if (entry.kind === 'server' && entry.serverId === serverId) entry.revoked = true;
    this.rotateServerTokens(serverId);
  }

  /** A JWT past its expiry (plex.tv and the servers answer 498). */
  expired(entry: TokenEntry): boolean {
    return entry.kind === 'account' && entry.expiresAt !== undefined && entry.expiresAt <= Date.now();
  }

  lookup(token: string | undefined): TokenEntry | undefined {
    if (!token) return undefined;
    const entry = this.tokens.get(token);
    return entry && !entry.revoked ? entry : undefined;
  }

  /** plex.tv-level sign-out: every account token of the user stops working everywhere. */
  revokeAccountTokens(username: string): void {
    for (const entry of this.tokens.values()) if (entry.kind === 'account' && entry.username === username) entry.revoked = true;
  }
}

