// The real notification parts: Apprise-style target URLs (src/core/notification-targets.ts) and
// the senders of every supported service (./send.ts), behind the seam the outbox and the API use.
import { parseTargetUrl, redactTargetUrl, SUPPORTED_SCHEMES } from '../core/notification-targets.js';
import { sendNotification, type SendOptions } from './send.js';
import type { NotificationParts } from './types.js';

/** Options set from configuration or tests only, never from a browser request. */
export type AppriseOptions = Pick<SendOptions, 'serviceBaseUrls' | 'trustedCa'>;

export function appriseNotificationParts(options: AppriseOptions = {}): NotificationParts {
  return {
    async send(targetUrl, message, sendOptions) {
      const parsed = parseTargetUrl(targetUrl);
      // Stored URLs were validated when added; one that no longer parses cannot become sendable.
      if (!parsed.ok) return { ok: false, retryable: false, message: parsed.message };
      return sendNotification(parsed.target, message, { ...options, ...sendOptions });
    },
    validateTargetUrl(url) {
      const parsed = parseTargetUrl(url);
      return parsed.ok ? { ok: true } : { ok: false, message: parsed.message };
    },
    redact: redactTargetUrl,
    supportedSchemes: SUPPORTED_SCHEMES.map((scheme) => `${scheme}://`),
  };
}
