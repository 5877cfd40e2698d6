// Who may talk to the API. Three independent guards, run on every request before routing:
//  1. Host (only without an API key): the Host header must name this machine, so a DNS-rebinding
//     page cannot reach a loopback-only Marquee through a hostname it controls.
//  2. Origin (state-changing methods): same origin only — CSRF against localhost is real.
//  3. API key (only with a key): X-Api-Key, `Authorization: Bearer`, or the browser session cookie,
//     required on every route except a short explicit open list. The decision is made on the route
//     the router matched (never on the raw URL, which the router decodes differently); where no
//     route matched, on the fully decoded, normalised path. Wrong keys are rate-limited per address.
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AppConfig } from './config.js';
import { isLoopbackHost } from './config.js';
import { HttpError } from './errors.js';
import { clientBucketKey, DEFAULT_KEY_GUESS_LIMITS, FailureLogThrottle, KeyGuessLimiter, type KeyGuessLimits } from './key-guess-limiter.js';
import { inApiNamespace, inProtectedNamespace } from './request-path.js';

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

/** `Secure` when the request came over TLS, or whenever the public base URL is https. */
export function sessionCookie(config: AppConfig, value: string, secureRequest: boolean): string {
  const secure = secureRequest || (config.publicOrigin?.startsWith('https:') ?? false);
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

/** One registered route, as Fastify's onRoute hook saw it (url with the base path). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/**
 * Routes anyone may use without the key, as "METHOD url": the health check, the session routes (to
 * sign in and out), and the UI page. Everything else needs the key. The static-file wildcard and
 * unmatched requests (SPA fallback, 404) are open only outside `<base>api` and `<base>metrics`.
 */
export function openRoutes(basePath: string): ReadonlySet<string> {
  const open = new Set<string>();
  const add = (methods: string[], url: string) => methods.forEach((m) => open.add(`${m} ${url}`));
  add(['GET', 'HEAD'], `${basePath}healthz`);
  add(['GET', 'HEAD', 'POST', 'DELETE'], `${basePath}api/session`);
  add(['GET', 'HEAD'], basePath);
  add(['GET', 'HEAD'], `${basePath}index.html`);
  if (basePath !== '/') {
    add(['GET', 'HEAD'], basePath.slice(0, -1));
    add(['GET', 'HEAD'], '/');
  }
  return open;
}

function routedUrl(request: FastifyRequest): string | undefined {
  return request.is404 ? undefined : request.routeOptions.url;
}

export interface AccessPolicy {
  /** True when this request may only go on with the key (or a valid session). */
  needsKey(request: FastifyRequest): boolean;
  /** True when the request is for the API (for `cache-control: no-store`). */
  isApiRequest(request: FastifyRequest): boolean;
}

export function createAccessPolicy(basePath: string): AccessPolicy {
  const open = openRoutes(basePath);
  const staticWildcard = `${basePath}*`;
  const apiPrefix = `${basePath}api/`;
  return {
    needsKey(request) {
      const url = routedUrl(request);
      if (url === undefined || url === staticWildcard) return inProtectedNamespace(request.url, basePath);
      return !open.has(`${request.method} ${url}`);
    },
    isApiRequest(request) {
      const url = routedUrl(request);
      if (url === undefined || url === staticWildcard) return inApiNamespace(request.url, basePath);
      return url.startsWith(apiPrefix);
    },
  };
}

export interface GuardOptions {
  now?: () => number;
  limits?: KeyGuessLimits;
  /** Where the rate-limited failure summaries go (the app's logger). */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export interface Guard {
  /** onRequest: Host, Origin, header key, key requirement, and the lock-out of guessing addresses. */
  onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** preHandler: counts a wrong key in the body of POST /api/session (the body is parsed by then). */
  preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  readonly policy: AccessPolicy;
  readonly limiter: KeyGuessLimiter;
}

const UNAUTHORIZED_MESSAGE = 'This Marquee needs its API key: send X-Api-Key, or sign in with POST /api/session.';

export function createGuard(config: AppConfig, options: GuardOptions = {}): Guard {
  const now = options.now ?? Date.now;
  const warn = options.warn ?? (() => {});
  const sessionPath = `${config.basePath}api/session`;
  const publicHost = config.publicOrigin ? new URL(config.publicOrigin).host.toLowerCase() : null;
  const policy = createAccessPolicy(config.basePath);
  const limiter = new KeyGuessLimiter(options.limits ?? DEFAULT_KEY_GUESS_LIMITS);
  const failureLog = new FailureLogThrottle();

  const logSummary = (summary: ReturnType<FailureLogThrottle['noteFailure']>, client: string) => {
    if (summary) {
      warn(
        { ...summary, lastClient: client },
        `wrong API key: ${summary.failures} failed and ${summary.refused} refused attempts from ${summary.addresses} address(es) since the last such line`,
      );
    }
  };

  /** 429 before the key is even looked at: a waiting address learns nothing, right key or not. */
  const refuseIfWaiting = (request: FastifyRequest, reply: FastifyReply, client: string) => {
    const waitMs = limiter.retryAfterMs(client, now());
    if (waitMs === 0) return;
    logSummary(failureLog.noteRefused(client, now()), client);
    reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
    throw new HttpError(429, 'too_many_attempts', `Too many wrong API keys from this address; try again in ${Math.ceil(waitMs / 1000)} s.`);
  };

  const recordFailure = (client: string) => {
    limiter.recordFailure(client, now());
    logSummary(failureLog.noteFailure(client, now()), client);
  };

  const isSessionLogin = (request: FastifyRequest) => request.method === 'POST' && routedUrl(request) === sessionPath;

  async function onRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const host = (headerValue(request, 'host') ?? '').toLowerCase();

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

    // A key in a header is judged on every route, open ones included (GET /api/session would
    // otherwise tell a guesser whether it was right), and a wrong one is never silently ignored.
    let headerKeyValid = false;
    const headerKey = presentedKey(request);
    if (config.apiKey && (headerKey !== undefined || isSessionLogin(request))) {
      const client = clientBucketKey(request.ip);
      refuseIfWaiting(request, reply, client);
      if (headerKey !== undefined) {
        headerKeyValid = apiKeyMatches(headerKey, config.apiKey);
        if (!headerKeyValid) {
          recordFailure(client);
          throw new HttpError(401, 'unauthorized', UNAUTHORIZED_MESSAGE);
        }
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
        if (config.apiKey && !headerKeyValid) {
          throw new HttpError(
            403,
            'origin_required',
            'State-changing requests need an Origin header (browsers send it) or the X-Api-Key header.',
          );
        }
      }
    }

    if (config.apiKey && !headerKeyValid && policy.needsKey(request)) {
      // The session cookie is an HMAC nobody can guess, so it is not rate-limited: a signed-in
      // browser keeps working while someone else guesses from the same address.
      if (!sessionValueValid(readCookie(headerValue(request, 'cookie'), SESSION_COOKIE), config.apiKey, now())) {
        throw new HttpError(401, 'unauthorized', UNAUTHORIZED_MESSAGE);
      }
    }
  }

  async function preHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!config.apiKey || !isSessionLogin(request)) return;
    const body = request.body as { apiKey?: unknown } | null | undefined;
    const bodyKey = body && typeof body === 'object' ? body.apiKey : undefined;
    if (typeof bodyKey !== 'string') return; // the route answers 400; not a guess
    const client = clientBucketKey(request.ip);
    // Again here: parallel logins all passed onRequest before any of them was judged.
    refuseIfWaiting(request, reply, client);
    if (!apiKeyMatches(bodyKey, config.apiKey)) recordFailure(client);
  }

  return { onRequest, preHandler, policy, limiter };
}

/** For the route-walk test: every route Fastify registers, in order. */
export function collectRoute(table: RegisteredRoute[]) {
  return (route: RouteOptions) => {
    for (const method of [route.method].flat()) table.push({ method: String(method), url: route.url });
  };
}
