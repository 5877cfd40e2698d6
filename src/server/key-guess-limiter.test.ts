import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { clientBucketKey, FailureLogThrottle, KeyGuessLimiter } from './key-guess-limiter.js';
import { createLogger } from './logger.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, SECRETS, testConfig } from '../../test/support/server-fakes.js';

describe('KeyGuessLimiter', () => {
  const limits = { burst: 3, refillMs: 1000, maxClients: 4 };

  it('allows a burst of failures, then one per refill interval', () => {
    const limiter = new KeyGuessLimiter(limits);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('a', 0)).toBe(0);
      limiter.recordFailure('a', 0);
    }
    expect(limiter.retryAfterMs('a', 0)).toBe(1000);
    expect(limiter.retryAfterMs('a', 400)).toBe(600);
    expect(limiter.retryAfterMs('b', 0)).toBe(0); // another address is not affected
    expect(limiter.retryAfterMs('a', 1000)).toBe(0);
    limiter.recordFailure('a', 1000);
    expect(limiter.retryAfterMs('a', 1000)).toBe(1000);
    // Fully refilled buckets are forgotten.
    expect(limiter.retryAfterMs('a', 10_000)).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('remembers at most maxClients addresses, forgetting the least recently failing', () => {
    const limiter = new KeyGuessLimiter(limits);
    for (let i = 0; i < 100; i++) limiter.recordFailure(`10.0.0.${i}`, 0);
    expect(limiter.size).toBe(4);
    for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.0.97', 0);
    limiter.recordFailure('10.0.0.200', 0);
    // 10.0.0.97 failed most recently but one, so it is still remembered and still waiting.
    expect(limiter.retryAfterMs('10.0.0.97', 0)).toBeGreaterThan(0);
    expect(limiter.size).toBe(4);
  });

  it('keys IPv4 as is and IPv6 by its /64', () => {
    expect(clientBucketKey('192.168.1.20')).toBe('192.168.1.20');
    expect(clientBucketKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(clientBucketKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientBucketKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientBucketKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientBucketKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientBucketKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('FailureLogThrottle', () => {
  it('reports the first failure at once, then at most one summary a minute', () => {
    const log = new FailureLogThrottle(60_000);
    expect(log.noteFailure('a', 0)).toEqual({ failures: 1, addresses: 1, refused: 0 });
    for (let t = 1; t < 59_000; t += 100) expect(log.noteFailure(Math.floor(t / 100) % 2 ? 'a' : 'b', t)).toBeNull();
    expect(log.noteRefused('c', 59_500)).toBeNull();
    const next = log.noteFailure('a', 60_000);
    expect(next).toEqual({ failures: 591, addresses: 3, refused: 1 });
  });
});

const KEY = SECRETS.apiKey;
const HOST = 'marquee.lan:8844';
const ORIGIN = `http://${HOST}`;
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function keyedApp(config: Partial<AppConfig> = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  let clock = 1_800_000_000_000;
  const app = await buildApp({
    engine: new FakeEngine(),
    plexSignIn: new FakePlexSignIn(),
    jellyfinSignIn: new FakeJellyfinSignIn(),
    config: testConfig({ apiKey: KEY, host: '0.0.0.0', ...config }),
    logger: createLogger({ level: 'warn', destination }),
    now: () => clock,
  });
  apps.push(app);
  return { app, lines, advance: (ms: number) => (clock += ms) };
}

const GUESSER = '192.168.1.66';
const NEIGHBOUR = '192.168.1.20';

describe('wrong API keys over HTTP', () => {
  it('refuses parallel POST /api/session guesses after the burst, with 429 and Retry-After', async () => {
    const { app, lines } = await keyedApp();
    const guesses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        app.inject({ method: 'POST', url: '/api/session', remoteAddress: GUESSER, headers: { host: HOST, origin: ORIGIN }, payload: { apiKey: `guess-${i}-0123456789abcdef` } }),
      ),
    );
    const statuses = guesses.map((g) => g.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(190);
    const refused = guesses.find((g) => g.statusCode === 429)!;
    expect(refused.json()).toEqual({ error: 'too_many_attempts', message: expect.stringContaining('try again in 6 s') });
    expect(refused.headers['retry-after']).toBe('6');
    // The right key from the guessing address is refused too: answering it would tell the guesser it was right.
    const rightFromGuesser = await app.inject({ method: 'POST', url: '/api/session', remoteAddress: GUESSER, headers: { host: HOST, origin: ORIGIN }, payload: { apiKey: KEY } });
    expect(rightFromGuesser.statusCode).toBe(429);
    // Another address signs in with the right key at once.
    const neighbour = await app.inject({ method: 'POST', url: '/api/session', remoteAddress: NEIGHBOUR, headers: { host: HOST, origin: ORIGIN }, payload: { apiKey: KEY } });
    expect(neighbour.statusCode).toBe(200);
    // 200 guesses, one log line (not one per guess), and no guess in it.
    const warnings = lines.filter((l) => l.includes('wrong API key'));
    expect(warnings).toHaveLength(1);
    expect(warnings.join('')).not.toContain('guess-');
  });

  it('limits X-Api-Key guesses on any route, open ones included, and lets a signed-in browser on the same address go on', async () => {
    const { app, advance } = await keyedApp();
    const login = await app.inject({ method: 'POST', url: '/api/session', remoteAddress: GUESSER, headers: { host: HOST, origin: ORIGIN }, payload: { apiKey: KEY } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const url = i % 2 ? '/api/session' : '/healthz';
      statuses.push((await app.inject({ url, remoteAddress: GUESSER, headers: { host: HOST, 'x-api-key': `guess-${i}-0123456789abcdef` } })).statusCode);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(new Set(statuses.slice(10))).toEqual(new Set([429]));
    expect((await app.inject({ url: '/api/sources', remoteAddress: GUESSER, headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(429);
    // The session cookie cannot be guessed, so it keeps working for the browser behind the same address.
    expect((await app.inject({ url: '/api/sources', remoteAddress: GUESSER, headers: { host: HOST, cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/sources', remoteAddress: NEIGHBOUR, headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
    // After the wait, one more attempt.
    advance(6_000);
    expect((await app.inject({ url: '/api/sources', remoteAddress: GUESSER, headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
  });

  it('does not charge the right key, a missing key, or a malformed login body', async () => {
    const { app } = await keyedApp();
    for (let i = 0; i < 30; i++) {
      expect((await app.inject({ url: '/api/sources', remoteAddress: GUESSER, headers: { host: HOST, 'x-api-key': KEY } })).statusCode).toBe(200);
      expect((await app.inject({ url: '/api/sources', remoteAddress: GUESSER, headers: { host: HOST } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/api/session', remoteAddress: GUESSER, headers: { host: HOST, origin: ORIGIN }, payload: { nope: 1 } })).statusCode).toBe(400);
    }
  });
});
