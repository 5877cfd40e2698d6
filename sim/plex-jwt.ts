// plex.tv's JWT sign-in, as the Plex OpenAPI description ("Authenticating with Plex → JWT
// Authentication") tells it: a device registers an Ed25519 public key (JWK) with an existing token
// (POST /api/v2/auth/jwk), asks a nonce (GET /api/v2/auth/nonce, valid 5 minutes), and exchanges a
// JWT it signed — nonce, scope, aud "plex.tv", iss = its client identifier — for a plex.tv JWT valid
// 7 days (POST /api/v2/auth/token → {auth_token}). An expired token gets 498; a bad signature or
// structure 422; a key already registered by another device 422 ("Thumbprint Already Taken").
// The simulator verifies the device signature with the registered JWK (node:crypto, Ed25519).
import { createHash, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

const NONCE_LIFETIME_MS = 5 * 60_000;

interface Registration {
  username: string;
  thumbprint: string;
  key: KeyObject;
}

export type JwtError = { status: 400 | 422; message: string };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RFC 7638 thumbprint of an OKP key: SHA-256 of the required members in lexicographic order. */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

function decodePart(part: string | undefined): Record<string, unknown> | null {
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class PlexJwtIssuer {
  /** plex.tv's own signing key for the JWTs it hands out. */
  private readonly signingKey = generateKeyPairSync('ed25519').privateKey;
  private readonly registrations = new Map<string, Registration>();
  private readonly thumbprints = new Map<string, { clientIdentifier: string; username: string }>();
  private readonly nonces = new Map<string, { clientIdentifier: string; expiresAt: number; used: boolean }>();

  constructor(readonly lifetimeSec: number) {}

  /** POST /api/v2/auth/jwk: the device's public key, registered for `username`. */
  register(clientIdentifier: string, username: string, body: unknown): JwtError | null {
    const jwk = (body as { jwk?: Record<string, unknown> } | null)?.jwk;
    if (!jwk || jwk['kty'] !== 'OKP' || jwk['crv'] !== 'Ed25519' || typeof jwk['x'] !== 'string') return { status: 400, message: 'jwk must be an OKP Ed25519 public key' };
    if ('d' in jwk) return { status: 400, message: 'jwk must not contain a private key' };
    let key: KeyObject;
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk['x'] }, format: 'jwk' });
    } catch {
      return { status: 400, message: 'jwk is not a valid Ed25519 public key' };
    }
    const thumbprint = jwkThumbprint({ crv: 'Ed25519', kty: 'OKP', x: jwk['x'] });
    const owner = this.thumbprints.get(thumbprint);
    if (owner && (owner.clientIdentifier !== clientIdentifier || owner.username !== username)) return { status: 422, message: 'Thumbprint Already Taken' };
    const previous = this.registrations.get(clientIdentifier);
    if (previous) this.thumbprints.delete(previous.thumbprint);
    this.registrations.set(clientIdentifier, { username, thumbprint, key });
    this.thumbprints.set(thumbprint, { clientIdentifier, username });
    return null;
  }

  /** GET /api/v2/auth/nonce: single use, 5 minutes. */
  nonce(clientIdentifier: string): string {
    const now = Date.now();
    for (const [n, v] of this.nonces) if (v.expiresAt <= now) this.nonces.delete(n);
    const nonce = randomUUID();
    this.nonces.set(nonce, { clientIdentifier, expiresAt: now + NONCE_LIFETIME_MS, used: false });
    return nonce;
  }

  /** POST /api/v2/auth/token: checks the device JWT; the username it was registered for, or an error. */
  verifyDeviceJwt(clientIdentifier: string, body: unknown): { username: string } | JwtError {
    const jwt = (body as { jwt?: unknown } | null)?.jwt;
    if (typeof jwt !== 'string' || jwt.length > 8_192) return { status: 400, message: 'jwt is required' };
    const parts = jwt.split('.');
    const header = decodePart(parts[0]);
    const payload = decodePart(parts[1]);
    if (parts.length !== 3 || !header || !payload || header['alg'] !== 'EdDSA') return { status: 422, message: 'JWT structure is invalid' };
    const registration = this.registrations.get(clientIdentifier);
    if (!registration) return { status: 422, message: 'Signature Verification Failed: no key registered for this device' };
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify(null, signed, registration.key, Buffer.from(parts[2]!, 'base64url'))) return { status: 422, message: 'Signature Verification Failed' };
    const nowSec = Date.now() / 1000;
    if (payload['iss'] !== clientIdentifier || payload['aud'] !== 'plex.tv') return { status: 422, message: 'JWT iss must be the client identifier and aud plex.tv' };
    if (typeof payload['exp'] !== 'number' || payload['exp'] <= nowSec) return { status: 422, message: 'the device JWT expired' };
    if (typeof payload['iat'] === 'number' && payload['iat'] > nowSec + 60) return { status: 422, message: 'the device JWT is issued in the future (clock skew)' };
    const nonce = typeof payload['nonce'] === 'string' ? this.nonces.get(payload['nonce']) : undefined;
    if (!nonce || nonce.used || nonce.expiresAt <= Date.now() || nonce.clientIdentifier !== clientIdentifier) return { status: 422, message: 'the nonce is unknown, used or expired' };
    nonce.used = true;
    return { username: registration.username };
  }

  /** A plex.tv JWT for the account (what /api/v2/auth/token answers as auth_token). */
  mint(username: string, clientIdentifier: string): { token: string; expiresAt: number } {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + this.lifetimeSec;
    const head = b64({ kid: 'sim-plex-tv', typ: 'JWT', alg: 'EdDSA' });
    const body = b64({ user: { username }, aud: clientIdentifier, iss: 'plex.tv', iat, exp, jti: randomUUID() });
    const signature = sign(null, Buffer.from(`${head}.${body}`), this.signingKey).toString('base64url');
    return { token: `${head}.${body}.${signature}`, expiresAt: exp * 1000 };
  }

  /** Test view: the username a device's key is registered for. */
  registeredUser(clientIdentifier: string): string | undefined {
    return this.registrations.get(clientIdentifier)?.username;
  }
}
