// Who may talk to the API. Three independent guards, run on every request before routing:
//  1. Host (only without an API key): the Host header must name this machine, so a DNS-rebinding
//     page cannot reach a loopback-only Marquee through a hostname it controls.
//  2. Origin (state-changing methods): same origin only — CSRF against localhost is real.
//  3. API key (only with a key): X-Api-Key, `Authorization: Bearer`, or the browser session cookie.
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from './config.js';
import { isLoopbackHost } from './config.js';
import { HttpError } from './errors.js';

export const SESSION_COOKIE = 'marquee_session';
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison (hashing first hides the length). */
export function apiKeyMatches(provided: string | undefined, key: string): boolean {
  if (typeof provided !== 'string' || provided === '') return false;
  return timingSafeEqual(digest(provided), digest(key));
}

function sessionMac(key: string, issuedAt: number): string {
  return createHmac('sha256', key).update(`marquee-session:v1:${issuedAt}`).digest('base64url');
}

/** Stateless session value: survives restarts and dies when the key changes. */
export function createSessionValue(key: string, now: number): string {
  return `v1.${now}.${sessionMac(key, now)}`;
}

export function sessionValueValid(value: string | undefined, key: string, now: number): boolean {
  if (!value) return false;
  const m = /^v1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const issuedAt = Number(m[1]);
  if (issuedAt > now + 60_000 || now - issuedAt > SESSION_MAX_AGE_S * 1000) return false;
  return timingSafeEqual(Buffer.from(sessionMac(key, issuedAt)), Buffer.from(m[2]!));
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(config: AppConfig, value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=${config.basePath}; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(config: AppConfig): string {
  return `${SESSION_COOKIE}=; Path=${config.basePath}; Max-Age=0; HttpOnly; SameSite=Strict`;
}

export function isSecureRequest(request: FastifyRequest): boolean {
  return request.protocol === 'https' || String(request.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The key the request presents in a header (X-Api-Key or Bearer), if any. */
function presentedKey(request: FastifyRequest): string | undefined {
  const direct = headerValue(request, 'x-api-key');
  if (direct) return direct;
  const auth = headerValue(request, 'authorization');
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

export function isAuthenticated(request: FastifyRequest, config: AppConfig, now: number): boolean {
  if (!config.apiKey) return true;
  if (apiKeyMatches(presentedKey(request), config.apiKey)) return true;
  return sessionValueValid(readCookie(headerValue(request, 'cookie'), SESSION_COOKIE), config.apiKey, now);
}

function hostOf(value: string): string | null {
  try {
    return new URL(`http://${value}`).host.toLowerCase();
  } catch {
    return null;
  }
}

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}

export interface Guard {
  (request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export function createGuard(config: AppConfig, now: () => number = Date.now): Guard {
  const apiPrefix = `${config.basePath}api/`;
  const sessionPath = `${config.basePath}api/session`;
  const metricsPath = `${config.basePath}metrics`;
  const publicHost = config.publicOrigin ? new URL(config.publicOrigin).host.toLowerCase() : null;

  return async function guard(request) {
    const host = (headerValue(request, 'host') ?? '').toLowerCase();
    const path = request.url.split('?')[0] ?? '';

    if (!config.apiKey) {
      const hostname = hostnameOf(host);
      if (!(isLoopbackHost(hostname) || (publicHost !== null && host === publicHost))) {
        throw new HttpError(
          403,
          'host_not_allowed',
          'This Marquee listens on loopback only; open it through localhost or 127.0.0.1 (or set MARQUEE_BASE_URL to its public URL).',
        );
      }
    }

    if (STATE_CHANGING.has(request.method)) {
      const origin = headerValue(request, 'origin');
      if (origin !== undefined) {
        let originHost: string | null = null;
        let originFull: string | null = null;
        if (origin !== 'null') {
          try {
            const u = new URL(origin);
            originHost = u.host.toLowerCase();
            originFull = u.origin;
          } catch {
            originHost = null;
          }
        }
        const sameHost = originHost !== null && originHost === hostOf(host);
        const samePublic = originFull !== null && config.publicOrigin !== null && originFull === config.publicOrigin;
        if (!sameHost && !samePublic) {
          throw new HttpError(403, 'cross_origin', 'Cross-origin requests may not change anything here.');
        }
      } else {
        const site = headerValue(request, 'sec-fetch-site');
        if (site && site !== 'same-origin' && site !== 'none') {
          throw new HttpError(403, 'cross_origin', 'Cross-origin requests may not change anything here.');
        }
        if (config.apiKey && !apiKeyMatches(presentedKey(request), config.apiKey)) {
          throw new HttpError(
            403,
            'origin_required',
            'State-changing requests need an Origin header (browsers send it) or the X-Api-Key header.',
          );
        }
      }
    }

    if (config.apiKey && path !== sessionPath && (path.startsWith(apiPrefix) || path === metricsPath)) {
      if (!isAuthenticated(request, config, now())) {
        throw new HttpError(401, 'unauthorized', 'This Marquee needs its API key: send X-Api-Key, or sign in with POST /api/session.');
      }
    }
  };
}
