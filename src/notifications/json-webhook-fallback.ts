// A stand-in until the real target parser and senders (src/core/notification-targets.ts,
// src/notifications/send.ts) are wired: Apprise's generic webhook only — `json://host:port/path`
// (HTTP) and `jsons://…` (HTTPS) — POSTing the message as JSON with undici. Delete this file once
// runtime.ts's `notificationParts` uses the real ones.
import { request } from 'undici';
import type { DeliveryResult, NotificationMessage } from '../core/notifications.js';
import type { NotificationParts } from './types.js';

const SCHEMES = ['json://', 'jsons://'] as const;
const MAX_ANSWER_BYTES = 4096;

function toHttpUrl(url: string): URL | null {
  const scheme = SCHEMES.find((s) => url.toLowerCase().startsWith(s));
  if (!scheme) return null;
  try {
    const parsed = new URL(`${scheme === 'jsons://' ? 'https' : 'http'}://${url.slice(scheme.length)}`);
    return parsed.hostname ? parsed : null;
  } catch {
    return null;
  }
}

export function validateJsonWebhookUrl(url: string): { ok: true } | { ok: false; message: string } {
  if (toHttpUrl(url)) return { ok: true };
  return { ok: false, message: `Not a supported notification URL: use one of ${SCHEMES.join(', ')} (e.g. json://host:port/path).` };
}

export function redactJsonWebhookUrl(url: string): string {
  const http = toHttpUrl(url);
  if (!http) return '(unreadable URL)';
  const scheme = url.slice(0, url.indexOf('://') + 3).toLowerCase();
  const auth = http.username || http.password ? `${http.username ? '***' : ''}${http.password ? ':***' : ''}@` : '';
  return `${scheme}${auth}${http.host}${http.pathname === '/' ? '' : http.pathname}${http.search ? '?***' : ''}`;
}

export async function sendJsonWebhook(url: string, message: NotificationMessage, options: { timeoutMs: number; signal?: AbortSignal }): Promise<DeliveryResult> {
  const http = toHttpUrl(url);
  if (!http) return { ok: false, retryable: false, message: 'the target URL is not a json:// or jsons:// URL' };
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': message.id };
  if (http.username || http.password) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(http.username)}:${decodeURIComponent(http.password)}`).toString('base64')}`;
  const target = new URL(http.pathname + http.search, `${http.protocol}//${http.host}`);
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  try {
    const answer = await request(target, {
      method: 'POST',
      headers,
      body: JSON.stringify({ version: '1.0', title: message.title, message: message.body, type: message.event === 'lost' ? 'failure' : 'info', marquee: message }),
      signal: AbortSignal.any(signals),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    let size = 0;
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_ANSWER_BYTES) break;
    }
    answer.body.destroy();
    if (answer.statusCode >= 200 && answer.statusCode < 300) return { ok: true, status: answer.statusCode, detail: `accepted (HTTP ${answer.statusCode})` };
    if (answer.statusCode >= 300 && answer.statusCode < 400) return { ok: false, retryable: false, status: answer.statusCode, message: `the target answered with a redirect (HTTP ${answer.statusCode}), which is not followed` };
    const retryable = answer.statusCode >= 500 || answer.statusCode === 429 || answer.statusCode === 408;
    return { ok: false, retryable, status: answer.statusCode, message: `the target refused the message (HTTP ${answer.statusCode})` };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const name = (error as { name?: string }).name ?? '';
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { ok: false, retryable: true, message: `no answer within ${Math.round(options.timeoutMs / 1000)} s` };
    if (code === 'ECONNREFUSED') return { ok: false, retryable: true, message: 'the target refused the connection (nothing listens there)' };
    if (code === 'ENOTFOUND') return { ok: false, retryable: true, message: 'the target host name is not known' };
    return { ok: false, retryable: true, message: `sending failed (${code || name || 'network error'})` };
  }
}

export const jsonWebhookFallbackParts: NotificationParts = {
  send: sendJsonWebhook,
  validateTargetUrl: validateJsonWebhookUrl,
  redact: redactJsonWebhookUrl,
  supportedSchemes: SCHEMES,
};
