// The seams of the notification layer: how a message is sent to a target URL and how a URL is
// judged and shown. The runtime wires the real ones (src/cli/runtime.ts, `notificationParts`);
// tests pass their own.
import type { DeliveryResult, NotificationMessage } from '../core/notifications.js';

/** Sends one message to one target; never throws (a failure is a DeliveryResult in words). */
export type Sender = (targetUrl: string, message: NotificationMessage, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<DeliveryResult>;

/** Whether a target URL is one Marquee can send to; `message` names the supported schemes. */
export type TargetUrlValidator = (url: string) => { ok: true } | { ok: false; message: string };

/** The URL with every secret (password, token) masked, for API answers and logs. */
export type TargetUrlRedactor = (url: string) => string;

export interface NotificationParts {
  send: Sender;
  validateTargetUrl: TargetUrlValidator;
  redact: TargetUrlRedactor;
  /** The schemes the form lists, e.g. ["json://", "jsons://"]. */
  supportedSchemes: readonly string[];
}

/** The few pino methods the notification layer logs with (secrets never passed in). */
export interface NotificationLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}
