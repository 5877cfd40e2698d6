// Defence in depth: error text from backends is shown to people and stored. Backends must never put
// a token in a message, but if one slips through (e.g. a URL with ?X-Plex-Token=… echoed in an
// error), it is masked here before it can reach an event, a status, the database or the browser.
import type { ProbeError } from './types.js';

const SECRET_PATTERNS: readonly RegExp[] = [
  // query or header style: X-Plex-Token=abc, api_key: abc, access_token=abc, X-Emby-Token=abc
  /\b((?:x-plex-token|x-emby-token|x-mediabrowser-token|api[_-]?key|access[_-]?token|accesstoken|token|password|pw)\s*[=:]\s*"?)[^\s"&,;]+/gi,
  // MediaBrowser authorization header: Token="abc"
  /\b(Token\s*=\s*")[^"]*/g,
  // Authorization: Bearer abc / Basic abc
  /\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+/gi,
];

export function redactSecrets(text: string): string {
  let out = String(text);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '$1[redacted]');
  return out;
}

/** A copy of a probe error safe to show and store. */
export function redactProbeError(error: ProbeError): ProbeError {
  return { ...error, message: redactSecrets(error.message) };
}
