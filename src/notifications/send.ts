// Delivers one notification to one target (issue 16) and says what happened in plain words.
// `sendNotification` never throws. For every HTTP service:
// - a hard deadline (AbortSignal plus undici's headers/body timeouts at the same budget);
// - redirects are never followed: a 3xx is a failure naming only where it pointed;
// - the answer body is read to at most 64 KB, then the socket is dropped and the cut reported;
// - 4xx are not retryable except 408/429, 5xx, timeouts, resets and refusals are;
// - secrets travel in headers or in the documented path, and every message is scrubbed of them.
// Email goes through nodemailer (SMTP, STARTTLS, implicit TLS, auth); certificates are verified,
// a private CA (tests, self-hosted mail servers) is trusted through `trustedCa`, never by turning
// verification off.
import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { Agent, request } from 'undici';
import { classifyNetworkError, describeHost, formatSeconds } from '../backends/http.js';
import {
  DEFAULT_SERVICE_BASE_URLS,
  targetSecrets,
  type EmailTarget,
  type FixedHostService,
  type NotificationTarget,
} from '../core/notification-targets.js';
import type { DeliveryResult, NotificationMessage } from '../core/notifications.js';
import { redactSecrets } from '../core/redact.js';

export const MAX_ANSWER_BYTES = 64 * 1024;
/** How much of an answer a result quotes. */
const QUOTE_CHARS = 200;
/** The header a webhook's HMAC-SHA256 signature travels in: `sha256=<hex>` over the raw body. */
export const SIGNATURE_HEADER = 'X-Marquee-Signature';
/** The header carrying the message id, stable across retries, for receivers to drop duplicates. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const USER_AGENT = 'Marquee (notifications)';

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Replaces the base URL of a fixed-host service (`https://discord.com`, …), e.g. with a loopback
   * receiver in tests. Set from configuration or tests only, never from a browser request.
   */
  serviceBaseUrls?: Partial<Record<FixedHostService, string>>;
  /** PEM of extra certificate authorities to trust (HTTPS and SMTP), e.g. a test CA. */
  trustedCa?: string;
}

/** Delivers `message` to `target`. Never throws; the result never contains a secret. */
export async function sendNotification(target: NotificationTarget, message: NotificationMessage, options: SendOptions): Promise<DeliveryResult> {
  const secrets = targetSecrets(target);
  try {
    const result = target.service === 'email' ? await sendEmail(target, message, options) : await sendHttp(target, message, options);
    return scrubResult(result, secrets);
  } catch {
    // Defence in depth: every path above returns a result; an unexpected throw is still a result.
    return { ok: false, retryable: true, message: `sending to ${serviceName(target)} failed unexpectedly` };
  }
}

function serviceName(target: NotificationTarget): string {
  switch (target.service) {
    case 'webhook':
      return 'the webhook';
    case 'ntfy':
      return 'ntfy';
    case 'gotify':
      return 'Gotify';
    case 'discord':
      return 'Discord';
    case 'slack':
      return 'Slack';
    case 'telegram':
      return 'Telegram';
    case 'email':
      return 'the mail server';
    case 'pushover':
      return 'Pushover';
  }
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = redactSecrets(text);
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

function scrubResult(result: DeliveryResult, secrets: readonly string[]): DeliveryResult {
  return result.ok ? { ...result, detail: scrubText(result.detail, secrets) } : { ...result, message: scrubText(result.message, secrets) };
}

// ---------------------------------------------------------------------------------------------
// HTTP services

interface HttpPlan {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Reads a 2xx answer the service documents a body for; null: it is the success it should be. */
  checkAnswer?: (body: string) => string | null;
}

function baseUrl(service: FixedHostService, options: SendOptions): string {
  return (options.serviceBaseUrls?.[service] ?? DEFAULT_SERVICE_BASE_URLS[service]).replace(/\/+$/, '');
}

function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'user-agent': USER_AGENT, ...extra };
}

/** Title, body and link as one plain text (chat services without separate fields). */
function plainText(message: NotificationMessage): string {
  return [message.body, message.url].filter(Boolean).join('\n');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** The request each service's public API documents. */
export function planHttpRequest(target: Exclude<NotificationTarget, EmailTarget>, message: NotificationMessage, options: SendOptions): HttpPlan[] {
  switch (target.service) {
    case 'webhook': {
      const body = JSON.stringify({
        id: message.id,
        event: message.event,
        source: message.sourceId !== null ? { id: message.sourceId, name: message.sourceName } : null,
        title: message.title,
        body: message.body,
        url: message.url ?? null,
        at: new Date(message.at).toISOString(),
      });
      const headers = jsonHeaders({ ...target.headers, [IDEMPOTENCY_HEADER]: message.id, 'X-Marquee-Event': message.event });
      if (target.basicAuth) headers['authorization'] = basicAuth(target.basicAuth.user, target.basicAuth.password);
      if (target.secret) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', target.secret).update(body, 'utf8').digest('hex')}`;
      return [{ url: target.url, headers, body }];
    }
    case 'ntfy': {
      // ntfy's JSON publish form (POST to the server root): no header encoding limits on the title.
      const base = target.baseUrl ?? baseUrl('ntfy', options);
      const headers = jsonHeaders();
      if (target.auth?.kind === 'basic') headers['authorization'] = basicAuth(target.auth.user, target.auth.password);
      if (target.auth?.kind === 'token') headers['authorization'] = `Bearer ${target.auth.token}`;
      const body = {
        topic: target.topic,
        title: message.title,
        message: message.body,
        ...(target.priority ? { priority: target.priority } : {}),
        ...(target.tags.length ? { tags: target.tags } : {}),
        ...(message.url ? { click: message.url } : {}),
      };
      return [{ url: `${base}/`, headers, body: JSON.stringify(body) }];
    }
    case 'gotify': {
      const body = {
        title: message.title,
        message: message.body,
        priority: target.priority,
        ...(message.url ? { extras: { 'client::notification': { click: { url: message.url } } } } : {}),
      };
      return [{ url: `${target.baseUrl}/message`, headers: jsonHeaders({ 'X-Gotify-Key': target.token }), body: JSON.stringify(body) }];
    }
    case 'discord': {
      const body = {
        content: truncate(`**${message.title}**\n${plainText(message)}`, 2000),
        ...(target.username ? { username: target.username } : {}),
        // A server name like "@everyone's Plex" must not ping a whole channel.
        allowed_mentions: { parse: [] },
      };
      const url = `${baseUrl('discord', options)}/api/webhooks/${encodeURIComponent(target.webhookId)}/${encodeURIComponent(target.webhookToken)}`;
      return [{ url, headers: jsonHeaders(), body: JSON.stringify(body) }];
    }
    case 'slack': {
      const link = message.url ? `\n<${message.url}|Open in Marquee>` : '';
      const body = { text: `*${escapeSlack(message.title)}*\n${escapeSlack(message.body)}${link}`, ...(target.username ? { username: target.username } : {}) };
      const url = `${baseUrl('slack', options)}/services/${target.tokenA}/${target.tokenB}/${target.tokenC}`;
      return [{ url, headers: jsonHeaders(), body: JSON.stringify(body) }];
    }
    case 'telegram':
      // Plain text (no parse_mode): a server name with * or _ cannot break the formatting.
      return target.chatIds.map((chatId) => ({
        url: `${baseUrl('telegram', options)}/bot${target.botToken}/sendMessage`,
        headers: jsonHeaders(),
        body: JSON.stringify({ chat_id: chatId, text: truncate(`${message.title}\n${plainText(message)}`, 4096), disable_web_page_preview: true }),
        checkAnswer: (answer) => (jsonField(answer, 'ok') === true ? null : 'Telegram did not answer {"ok": true}'),
      }));
    case 'pushover': {
      const form = new URLSearchParams({ token: target.token, user: target.userKey, message: truncate(message.body, 1024), title: truncate(message.title, 250) });
      if (message.url) form.set('url', message.url);
      if (target.priority !== undefined) form.set('priority', String(target.priority));
      if (target.devices.length) form.set('device', target.devices.join(','));
      return [
        {
          url: `${baseUrl('pushover', options)}/1/messages.json`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
          body: form.toString(),
          checkAnswer: (answer) => (jsonField(answer, 'status') === 1 ? null : 'Pushover did not answer {"status": 1}'),
        },
      ];
    }
  }
}

function jsonField(text: string, field: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

async function sendHttp(target: Exclude<NotificationTarget, EmailTarget>, message: NotificationMessage, options: SendOptions): Promise<DeliveryResult> {
  const plans = planHttpRequest(target, message, options);
  const name = serviceName(target);
  let last: DeliveryResult = { ok: false, retryable: false, message: `${name}: nothing to send` };
  // Several chat ids (Telegram): one request each, stopping at the first failure, all within the
  // one deadline of this delivery.
  const endAt = performance.now() + options.timeoutMs;
  for (const [index, plan] of plans.entries()) {
    last = await postOnce(plan, name, options, Math.max(1, Math.round(endAt - performance.now())));
    if (!last.ok) {
      if (index > 0) last = { ...last, message: `${last.message} (after ${index} of ${plans.length} chats received it)` };
      return last;
    }
  }
  return last;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body was longer than MAX_ANSWER_BYTES and was cut. */
  cut: boolean;
}

/** A short, printable quote of an answer body. */
function quote(answer: Answer): string {
  const printable = answer.text
    .replace(/[^\x20-\x7e\u00a0-\uffff]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!printable) return answer.cut ? ' (an answer longer than 64 KB, cut)' : '';
  const shown = printable.length > QUOTE_CHARS ? `${printable.slice(0, QUOTE_CHARS)}…` : printable;
  return `: “${shown}”${answer.cut ? ' (answer longer than 64 KB, cut)' : ''}`;
}

/** One POST within `budgetMs` (what is left of the delivery's deadline). */
async function postOnce(plan: HttpPlan, name: string, options: SendOptions, budgetMs: number): Promise<DeliveryResult> {
  const host = describeHost(plan.url);
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort(new Error('deadline'));
  }, budgetMs);
  const onCallerAbort = () => deadline.abort(new Error('cancelled'));
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  // One short-lived agent per delivery: notifications are rare, and no pooled socket can go stale
  // between them; `ca` adds a private authority without turning verification off.
  const agent = new Agent({
    connect: { timeout: budgetMs, ...(options.trustedCa ? { ca: options.trustedCa } : {}), rejectUnauthorized: true },
    headersTimeout: budgetMs,
    bodyTimeout: budgetMs,
  });
  try {
    let answer: Answer;
    try {
      const res = await request(plan.url, { dispatcher: agent, method: 'POST', headers: plan.headers, body: plan.body, signal: deadline.signal });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
      const chunks: Buffer[] = [];
      let size = 0;
      let cut = false;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        const room = MAX_ANSWER_BYTES - size;
        chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
        size += Math.min(buf.length, room);
        if (buf.length > room) {
          cut = true;
          res.body.destroy();
          break;
        }
      }
      answer = { status: res.statusCode, headers, text: Buffer.concat(chunks).toString('utf8'), cut };
    } catch (err) {
      if (!timedOut && options.signal?.aborted) return { ok: false, retryable: true, message: `sending to ${name} at ${host} was cancelled` };
      const error = classifyNetworkError(err, plan.url, options.timeoutMs, timedOut);
      if (timedOut) return { ok: false, retryable: true, message: `${name} at ${host} gave no answer within ${formatSeconds(options.timeoutMs)}` };
      // A certificate or an invalid address will not fix itself by retrying.
      const retryable = error.code !== 'tls' && error.code !== 'malformed';
      return { ok: false, retryable, message: `${name}: ${error.message}` };
    }
    return judge(answer, plan, name, host);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    void agent.destroy().catch(() => undefined);
  }
}

function judge(answer: Answer, plan: HttpPlan, name: string, host: string): DeliveryResult {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    const problem = plan.checkAnswer?.(answer.text) ?? null;
    // A 2xx that is not the service's documented answer: something else answered (a captive
    // portal, a proxy page); trying again later may reach the service.
    if (problem) return { ok: false, retryable: true, status, message: `${problem} (HTTP ${status})${quote(answer)}` };
    return { ok: true, status, detail: `${name} at ${host} accepted the message (HTTP ${status})${answer.cut ? '; its answer was longer than 64 KB and was cut' : ''}` };
  }
  if (status >= 300 && status < 400) {
    let where = 'another address';
    const location = answer.headers['location'];
    if (location) {
      try {
        where = new URL(location, plan.url).origin;
      } catch {
        where = 'an invalid address';
      }
    }
    return { ok: false, retryable: false, status, message: `${name} at ${host} redirected to ${where} (HTTP ${status}); redirects are not followed — check the target URL` };
  }
  if (status === 401 || status === 403) {
    return { ok: false, retryable: false, status, message: `${name} at ${host} refused the credentials in the target URL (HTTP ${status})${quote(answer)}` };
  }
  if (status === 429) return { ok: false, retryable: true, status, message: `${name} at ${host} asks to slow down (HTTP 429, too many requests)` };
  if (status === 408) return { ok: false, retryable: true, status, message: `${name} at ${host} timed out reading the message (HTTP 408)` };
  if (status >= 400 && status < 500) return { ok: false, retryable: false, status, message: `${name} at ${host} rejected the message (HTTP ${status})${quote(answer)}` };
  return { ok: false, retryable: true, status, message: `${name} at ${host} failed (HTTP ${status})${quote(answer)}` };
}

// ---------------------------------------------------------------------------------------------
// Email

async function sendEmail(target: EmailTarget, message: NotificationMessage, options: SendOptions): Promise<DeliveryResult> {
  const where = `${target.host}:${target.port}`;
  const transportOptions: SMTPTransport.Options = {
    host: target.host,
    port: target.port,
    // ssl: implicit TLS from the first byte; starttls: the upgrade is required; plain: nodemailer
    // still upgrades when the server offers STARTTLS.
    secure: target.security === 'ssl',
    requireTLS: target.security === 'starttls',
    ...(target.user ? { auth: { user: target.user, pass: target.password ?? '' } } : {}),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
    tls: { rejectUnauthorized: true, ...(options.trustedCa ? { ca: options.trustedCa } : {}) },
  };
  const transport = nodemailer.createTransport(transportOptions);
  let timer: NodeJS.Timeout | undefined;
  let onCallerAbort = () => {};
  try {
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), Math.max(1, options.timeoutMs));
    });
    // One listener, removed in `finally`: an outbox may pass the same shutdown signal to
    // thousands of sends.
    const cancelled = new Promise<'cancelled'>((resolve) => {
      onCallerAbort = () => resolve('cancelled');
      if (options.signal?.aborted) resolve('cancelled');
      options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    });
    const sent = transport
      .sendMail({
        from: target.from,
        to: target.to,
        subject: message.title,
        text: `${message.body}${message.url ? `\n\n${message.url}` : ''}\n`,
        date: new Date(message.at),
        // Stable across retries: mail clients and servers that dedupe on Message-ID drop a resend.
        messageId: `<${message.id.replace(/[^A-Za-z0-9._-]/g, '_')}@marquee.notifications>`,
        headers: { 'X-Marquee-Event': message.event },
      })
      .then(
        (info) => ({ info }),
        (error: unknown) => ({ error }),
      );
    const outcome = await Promise.race([sent, deadline, cancelled]);
    if (outcome === 'deadline') return { ok: false, retryable: true, message: `the mail server ${where} did not finish within ${formatSeconds(options.timeoutMs)}` };
    if (outcome === 'cancelled') return { ok: false, retryable: true, message: `sending mail through ${where} was cancelled` };
    if ('error' in outcome) return emailFailure(outcome.error, where);
    const rejected = outcome.info.rejected.length;
    if (rejected > 0 && outcome.info.accepted.length === 0) return { ok: false, retryable: false, message: `the mail server ${where} refused every recipient` };
    return {
      ok: true,
      detail: `the mail server ${where} accepted the message for ${outcome.info.accepted.length} recipient(s)${rejected ? `, refused ${rejected}` : ''}`,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    transport.close();
  }
}

function emailFailure(error: unknown, where: string): DeliveryResult {
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown; command?: unknown; response?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const text = typeof e.message === 'string' ? e.message : '';
  if (code === 'EAUTH') {
    return { ok: false, retryable: false, message: `the mail server ${where} refused the user name or password${responseCode ? ` (SMTP ${responseCode})` : ''}` };
  }
  // The server answered STARTTLS with an error (it does not offer it): with requireTLS the
  // session stops there, before any password is sent.
  if (e.command === 'STARTTLS' && typeof e.response === 'string' && /^[45]\d\d/.test(e.response)) {
    return { ok: false, retryable: false, message: `the mail server ${where} does not offer STARTTLS, which mailtos:// requires` };
  }
  if (code === 'ETLS' || /certificate|self[- ]signed|CERT_|ERR_TLS|SSL/i.test(text)) {
    return { ok: false, retryable: false, message: `secure connection to the mail server ${where} failed (certificate or TLS error)` };
  }
  if (code === 'ETIMEDOUT') return { ok: false, retryable: true, message: `the mail server ${where} gave no answer in time` };
  if (code === 'EDNS') return { ok: false, retryable: true, message: `the mail server's name ${where.replace(/:\d+$/, '')} could not be resolved` };
  if (code === 'ECONNECTION' || code === 'ESOCKET' || /ECONNREFUSED|ECONNRESET/.test(text)) {
    return { ok: false, retryable: true, message: `could not talk to the mail server ${where} (${/ECONNREFUSED/.test(text) ? 'connection refused' : 'connection failed or was reset'})` };
  }
  if (responseCode !== undefined) {
    // SMTP: 4xx are temporary by definition, 5xx permanent.
    const retryable = responseCode < 500;
    return { ok: false, retryable, message: `the mail server ${where} refused the message (SMTP ${responseCode}${retryable ? ', temporary' : ''})` };
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return { ok: false, retryable: false, message: `the mail server ${where} refused the sender or the recipients` };
  return { ok: false, retryable: true, message: `sending mail through ${where} failed` };
}
