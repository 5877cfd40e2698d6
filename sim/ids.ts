// Identifiers in the shapes the real services use. Server ids derive from the config id so a demo
// keeps its identities across restarts; tokens and secrets are random.
import { createHash, randomBytes, randomInt } from 'node:crypto';

export function stableHex(seed: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += createHash('sha256').update(`${seed}#${i}`).digest('hex');
  return out.slice(0, length);
}

export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

/** Plex tokens are 20 characters of [A-Za-z0-9_-]. */
export function plexToken(): string {
  return randomBytes(15).toString('base64url');
}

const PIN_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function pinCode(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += PIN_ALPHABET[randomInt(PIN_ALPHABET.length)];
  return code;
}

export function sixDigitCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}
