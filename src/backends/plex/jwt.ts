// plex.tv's short-lived JWTs (the Plex OpenAPI description, "Authenticating with Plex → JWT
// Authentication"): the install's Ed25519 device key, the device-signed JWT exchanged for a 7-day
// plex.tv token, and the token's times. node:crypto only. The private key is a JWK kept in the
// SQLite settings table (never logged, never sent anywhere); only its public half goes to plex.tv.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';

/** The public half as plex.tv's POST /api/v2/auth/jwk wants it. */
export interface PlexPublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  use: 'sig';
  alg: 'EdDSA';
}

/** A new Ed25519 device key, as a private JWK in JSON (stored once per install). */
export function generateDeviceKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return JSON.stringify(privateKey.export({ format: 'jwk' }));
}

export function publicJwkOf(privateJwk: string): PlexPublicJwk {
  const exported = createPublicKey(createPrivateKey({ key: JSON.parse(privateJwk) as JsonWebKey, format: 'jwk' })).export({ format: 'jwk' });
  if (typeof exported.x !== 'string') throw new Error('the device key is not an Ed25519 key');
  return { kty: 'OKP', crv: 'Ed25519', x: exported.x, use: 'sig', alg: 'EdDSA' };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The device JWT of step 2: nonce, scope, aud plex.tv, iss = the client identifier, valid 5 minutes. */
export function signDeviceJwt(privateJwk: string, claims: { clientIdentifier: string; nonce: string; nowMs: number }): string {
  const key = createPrivateKey({ key: JSON.parse(privateJwk) as JsonWebKey, format: 'jwk' });
  const iat = Math.floor(claims.nowMs / 1000);
  const head = b64({ alg: 'EdDSA', typ: 'JWT' });
  const body = b64({ nonce: claims.nonce, scope: 'username', aud: 'plex.tv', iss: claims.clientIdentifier, iat, exp: iat + 300 });
  return `${head}.${body}.${sign(null, Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
}

/**
 * `iat` / `exp` of a plex.tv JWT in ms, read without verifying it (plex.tv verifies; the times only
 * decide when to renew). Null for a legacy token or a JWT without both times.
 */
export function jwtTimes(token: string): { issuedAt: number; expiresAt: number } | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || !(payload.exp > payload.iat)) return null;
    return { issuedAt: payload.iat * 1000, expiresAt: payload.exp * 1000 };
  } catch {
    return null;
  }
}
