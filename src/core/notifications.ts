// The vocabulary of notifications (issue 16), shared by the pure policy, the target parsers, the
// senders and the outbox. No I/O here; nothing in a message ever carries a token.

/** What a target can be told about. */
export type NotificationEvent =
  /** A source was lost for longer than the hold-down. */
  | 'lost'
  /** A source whose loss was sent is back (with the outage length). */
  | 'back'
  /** A source has been on a less preferred route for longer than N minutes. */
  | 'fallback'
  /** A source needs a new sign-in. */
  | 'sign_in_needed'
  /** A source is flapping: one message, then quiet until it is stable. */
  | 'unstable'
  /** Marquee started after it had not been stopped cleanly. */
  | 'crash_restart'
  /** The "Send test" button. */
  | 'test';

export const NOTIFICATION_EVENTS = ['lost', 'back', 'fallback', 'sign_in_needed', 'unstable', 'crash_restart', 'test'] as const satisfies readonly NotificationEvent[];

/** One message, as every sender receives it. */
export interface NotificationMessage {
  /** Unique per message and stable across retries: the idempotency key receivers may dedupe on. */
  id: string;
  event: NotificationEvent;
  /** Null for install-wide events (crash_restart, test). */
  sourceId: string | null;
  sourceName: string | null;
  /** Short, e.g. "Living-room Plex is back". */
  title: string;
  /** Plain words, e.g. "Living-room Plex is back after 4 min 12 s — local route". */
  body: string;
  /** A link to the source's page when a public base URL is set. */
  url?: string;
  /** When it happened (epoch ms). */
  at: number;
}

/** A sender's answer. `retryable` false: retrying cannot help (4xx, bad credentials, refused address). */
export type DeliveryResult =
  | { ok: true; status?: number; detail: string }
  | { ok: false; retryable: boolean; status?: number; message: string };
