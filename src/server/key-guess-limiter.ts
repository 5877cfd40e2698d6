// Limits how fast one client address may guess the API key. Pure: the caller passes the clock.
//
// A token bucket per address, charged only by *failed* attempts: a client that sends the right key
// never spends anything. Each address may fail `burst` times at once, then one more time every
// `refillMs`. While an address has no token left, the caller must refuse every key attempt from it
// *before* looking at the key (else "429 for a wrong key, 200 for the right one" would still answer
// guesses at full speed); the right key from another address is not affected.
import { isIP } from 'node:net';

export interface KeyGuessLimits {
  /** Failed attempts an address may make in a row before it must wait. */
  burst: number;
  /** One more failed attempt is allowed per this many milliseconds. */
  refillMs: number;
  /** At most this many addresses are remembered; the least recently failing ones are forgotten first. */
  maxClients: number;
}

/** 10 wrong keys at once, then 1 per 6 s (10 a minute, 14,400 a day) per address. */
export const DEFAULT_KEY_GUESS_LIMITS: KeyGuessLimits = Object.freeze({ burst: 10, refillMs: 6_000, maxClients: 10_000 });

interface Bucket {
  tokens: number;
  /** When `tokens` was last computed. */
  at: number;
}

export class KeyGuessLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: KeyGuessLimits = DEFAULT_KEY_GUESS_LIMITS) {}

  /** Milliseconds this client must wait before its next key attempt; 0 when it may try now. */
  retryAfterMs(client: string, now: number): number {
    const tokens = this.tokensOf(client, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.limits.refillMs);
  }

  /** One wrong key from this client. */
  recordFailure(client: string, now: number): void {
    const tokens = Math.max(0, this.tokensOf(client, now) - 1);
    // Delete and set again: Map keeps insertion order, so the first entry is the least recently failing.
    this.buckets.delete(client);
    this.buckets.set(client, { tokens, at: now });
    while (this.buckets.size > this.limits.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }

  /** Addresses currently remembered (bounded by maxClients). */
  get size(): number {
    return this.buckets.size;
  }

  private tokensOf(client: string, now: number): number {
    const bucket = this.buckets.get(client);
    if (!bucket) return this.limits.burst;
    const tokens = Math.min(this.limits.burst, bucket.tokens + Math.max(0, now - bucket.at) / this.limits.refillMs);
    // A full bucket says nothing a missing one would not: forget it.
    if (tokens >= this.limits.burst) this.buckets.delete(client);
    return tokens;
  }
}

/**
 * The address a bucket is kept for: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64,
 * since one host usually owns a whole /64 and could otherwise walk through fresh addresses.
 */
export function clientBucketKey(ip: string): string {
  const bare = ip.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  if (isIP(bare) !== 6) return bare;
  const [head = '', tail] = bare.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headParts : [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export interface FailureSummary {
  /** Wrong keys since the previous summary (this one included). */
  failures: number;
  /** Distinct addresses among them (counted up to 1000). */
  addresses: number;
  /** Key attempts refused with 429 since the previous summary. */
  refused: number;
}

const MAX_COUNTED_ADDRESSES = 1000;

/**
 * Turns a stream of failures into at most one log line per `intervalMs`: the first failure is
 * reported at once, later ones are counted and reported with the next line.
 */
export class FailureLogThrottle {
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private refused = 0;
  private readonly addresses = new Set<string>();

  constructor(private readonly intervalMs = 60_000) {}

  /** A wrong key; returns the summary to log now, or null to stay quiet. */
  noteFailure(client: string, now: number): FailureSummary | null {
    this.failures++;
    if (this.addresses.size < MAX_COUNTED_ADDRESSES) this.addresses.add(client);
    return this.flushIfDue(now);
  }

  /** An attempt refused while its address waits; returns the summary to log now, or null. */
  noteRefused(client: string, now: number): FailureSummary | null {
    this.refused++;
    if (this.addresses.size < MAX_COUNTED_ADDRESSES) this.addresses.add(client);
    return this.flushIfDue(now);
  }

  private flushIfDue(now: number): FailureSummary | null {
    if (now - this.lastLineAt < this.intervalMs) return null;
    const summary = { failures: this.failures, addresses: this.addresses.size, refused: this.refused };
    this.lastLineAt = now;
    this.failures = 0;
    this.refused = 0;
    this.addresses.clear();
    return summary;
  }
}
