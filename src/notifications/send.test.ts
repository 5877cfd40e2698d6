// Every HTTP service against a real receiver on loopback: the exact request each public API
// documents (method, path, headers, JSON or form body), and the hardening (deadline, no redirects,
// capped answers, retryable or not, no secret in any result).
import { createHmac } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpReceiver, makeTestCertificate, type HttpReceiver } from '../../test/support/notify-receivers.js';
import { parseTargetUrl, type FixedHostService, type NotificationTarget } from '../core/notification-targets.js';
import type { DeliveryResult, NotificationMessage } from '../core/notifications.js';
import { IDEMPOTENCY_HEADER, MAX_ANSWER_BYTES, sendNotification, SIGNATURE_HEADER } from './send.js';

const TG_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const PO_USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';
const PO_TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi';
const WEBHOOK_SECRET = 'whsec-0123456789abcdef';

const message: NotificationMessage = {
  id: 'msg-42',
  event: 'back',
  sourceId: 'src-1',
  sourceName: 'Living-room Plex',
  title: 'Living-room Plex is back',
  body: 'Living-room Plex is back after 4 min 12 s — local route',
  url: 'https://marquee.example.org/sources/src-1',
  at: Date.UTC(2026, 11, 7, 12, 0, 0),
};

let receiver: HttpReceiver;
let bases: Record<FixedHostService, string>;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  bases = { ntfy: receiver.url, discord: receiver.url, slack: receiver.url, telegram: receiver.url, pushover: receiver.url };
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.reply(() => ({ status: 200, body: '{}', headers: { 'content-type': 'application/json' } }));
});

function target(url: string): NotificationTarget {
  const parsed = parseTargetUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.target;
}

async function send(url: string, timeoutMs = 3000): Promise<DeliveryResult> {
  return sendNotification(target(url), message, { timeoutMs, serviceBaseUrls: bases });
}

function only() {
  expect(receiver.requests).toHaveLength(1);
  return receiver.requests[0]!;
}

function expectNoSecret(result: DeliveryResult, ...secrets: string[]) {
  const text = JSON.stringify(result);
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('each service gets the request its public API documents', () => {
  it('webhook: POST JSON {id, event, source, title, body, url, at}, idempotency key, HMAC-SHA256 signature over the raw body', async () => {
    const port = receiver.port;
    const result = await send(`json://127.0.0.1:${port}/hooks/marquee?secret=${WEBHOOK_SECRET}&+X-Team=ops`);
    expect(result).toMatchObject({ ok: true, status: 200 });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/marquee');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req.headers[IDEMPOTENCY_HEADER.toLowerCase()]).toBe('msg-42');
    expect(req.headers['x-marquee-event']).toBe('back');
    expect(req.headers['x-team']).toBe('ops');
    expect(JSON.parse(req.body)).toEqual({
      id: 'msg-42',
      event: 'back',
      source: { id: 'src-1', name: 'Living-room Plex' },
      title: 'Living-room Plex is back',
      body: 'Living-room Plex is back after 4 min 12 s — local route',
      url: 'https://marquee.example.org/sources/src-1',
      at: '2026-12-07T12:00:00.000Z',
    });
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(req.body, 'utf8').digest('hex')}`;
    expect(req.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(expected);
    expectNoSecret(result, WEBHOOK_SECRET);
  });

  it('webhook: without a secret no signature; user:password@ becomes Basic auth', async () => {
    await send(`json://hook:pw123@127.0.0.1:${receiver.port}/in`);
    const req = only();
    expect(req.headers[SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
    expect(req.headers['authorization']).toBe(`Basic ${Buffer.from('hook:pw123').toString('base64')}`);
  });

  it('ntfy (ntfy.sh form, base URL overridden): JSON publish to / with topic, title, message, priority, tags, click and a Bearer token', async () => {
    const result = await send('ntfys://plex-alerts?priority=high&tags=warning,tv');
    expect(result.ok).toBe(true);
    expect(JSON.parse(only().body)).toEqual({ topic: 'plex-alerts', title: message.title, message: message.body, priority: 4, tags: ['warning', 'tv'], click: message.url });
    receiver.requests.length = 0;
    // Self-hosted: the host comes from the URL, auth in the Authorization header.
    const selfHosted = await send(`ntfy://tk_secrettoken42@127.0.0.1:${receiver.port}/alerts?priority=5`);
    expect(selfHosted.ok).toBe(true);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.headers['authorization']).toBe('Bearer tk_secrettoken42');
    expect(JSON.parse(req.body)).toMatchObject({ topic: 'alerts', priority: 5 });
    receiver.requests.length = 0;
    await send(`ntfy://me:ntfypass1@127.0.0.1:${receiver.port}/alerts`);
    expect(only().headers['authorization']).toBe(`Basic ${Buffer.from('me:ntfypass1').toString('base64')}`);
  });

  it('Gotify: POST {base}/message with X-Gotify-Key and {title, message, priority, extras}', async () => {
    const result = await send(`gotify://127.0.0.1:${receiver.port}/gotify/AzyoeNSD4iJLVa?priority=high`);
    expect(result.ok).toBe(true);
    const req = only();
    expect(req.path).toBe('/gotify/message');
    expect(req.headers['x-gotify-key']).toBe('AzyoeNSD4iJLVa');
    expect(JSON.parse(req.body)).toEqual({
      title: message.title,
      message: message.body,
      priority: 8,
      extras: { 'client::notification': { click: { url: message.url } } },
    });
    expectNoSecret(result, 'AzyoeNSD4iJLVa');
  });

  it('Discord: POST /api/webhooks/{id}/{token} {content, username, allowed_mentions}', async () => {
    receiver.reply(() => ({ status: 204 }));
    const result = await send('discord://Marquee@123456789012345678/AbC-def_GhI-secret');
    expect(result).toMatchObject({ ok: true, status: 204 });
    const req = only();
    expect(req.path).toBe('/api/webhooks/123456789012345678/AbC-def_GhI-secret');
    expect(JSON.parse(req.body)).toEqual({
      content: `**${message.title}**\n${message.body}\n${message.url}`,
      username: 'Marquee',
      allowed_mentions: { parse: [] },
    });
    expectNoSecret(result, 'AbC-def_GhI-secret');
  });

  it('Slack: POST /services/A/B/C {text} with mrkdwn escaped', async () => {
    receiver.reply(() => ({ status: 200, body: 'ok' }));
    const result = await sendNotification(target('slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ'), { ...message, title: 'A <b> & c' }, { timeoutMs: 3000, serviceBaseUrls: bases });
    expect(result.ok).toBe(true);
    const req = only();
    expect(req.path).toBe('/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ');
    expect(JSON.parse(req.body)).toEqual({ text: `*A &lt;b&gt; &amp; c*\n${message.body}\n<${message.url}|Open in Marquee>` });
  });

  it('Telegram: POST /bot{token}/sendMessage {chat_id, text} per chat; a missing {"ok": true} is a failure', async () => {
    receiver.reply(() => ({ status: 200, body: '{"ok":true,"result":{}}' }));
    const result = await send(`tgram://${TG_TOKEN}/-1001234567/42`);
    expect(result.ok).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual([`/bot${TG_TOKEN}/sendMessage`, `/bot${TG_TOKEN}/sendMessage`]);
    expect(receiver.requests.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { chat_id: '-1001234567', text: `${message.title}\n${message.body}\n${message.url}`, disable_web_page_preview: true },
      { chat_id: '42', text: `${message.title}\n${message.body}\n${message.url}`, disable_web_page_preview: true },
    ]);
    receiver.reply(() => ({ status: 200, body: '<html>portal</html>' }));
    const garbage = await send(`tgram://${TG_TOKEN}/42`);
    expect(garbage).toMatchObject({ ok: false, retryable: true });
    expectNoSecret(garbage, TG_TOKEN, TG_TOKEN.split(':')[1]!);
  });

  it('Pushover: POST /1/messages.json as a form {token, user, message, title, url, priority, device}', async () => {
    receiver.reply(() => ({ status: 200, body: '{"status":1,"request":"abc"}' }));
    const result = await send(`pover://${PO_USER}@${PO_TOKEN}/phone?priority=high`);
    expect(result.ok).toBe(true);
    const req = only();
    expect(req.path).toBe('/1/messages.json');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      token: PO_TOKEN,
      user: PO_USER,
      message: message.body,
      title: message.title,
      url: message.url,
      priority: '1',
      device: 'phone',
    });
    receiver.reply(() => ({ status: 400, body: `{"user":"invalid","errors":["application token is invalid: ${PO_TOKEN}"],"status":0}` }));
    const refused = await send(`pover://${PO_USER}@${PO_TOKEN}`);
    expect(refused).toMatchObject({ ok: false, retryable: false, status: 400 });
    expect(refused.ok ? '' : refused.message).toContain('application token is invalid: ***');
    expectNoSecret(refused, PO_TOKEN);
  });

  it('HTTPS targets trust a private CA through trustedCa, and refuse it without (certificate error, not retryable)', async () => {
    const cert = makeTestCertificate();
    const tlsReceiver = await startHttpReceiver({ tls: cert });
    try {
      const url = `jsons://127.0.0.1:${tlsReceiver.port}/in`;
      expect(await sendNotification(target(url), message, { timeoutMs: 3000, trustedCa: cert.caPem })).toMatchObject({ ok: true });
      const untrusted = await sendNotification(target(url), message, { timeoutMs: 3000 });
      expect(untrusted).toMatchObject({ ok: false, retryable: false });
      expect(untrusted.ok ? '' : untrusted.message).toMatch(/certificate or TLS/);
    } finally {
      await tlsReceiver.close();
    }
  });
});

describe('hardening', () => {
  const webhook = () => `json://127.0.0.1:${receiver.port}/in`;

  it('4xx is not retryable, 401/403 say the credentials were refused, 429 and 5xx are retryable', async () => {
    const answers: Array<[number, boolean, RegExp]> = [
      [400, false, /rejected the message \(HTTP 400\): “bad field”/],
      [401, false, /refused the credentials/],
      [404, false, /HTTP 404/],
      [408, true, /HTTP 408/],
      [429, true, /slow down \(HTTP 429/],
      [500, true, /failed \(HTTP 500\): “bad field”/],
      [503, true, /HTTP 503/],
    ];
    for (const [status, retryable, words] of answers) {
      receiver.reply(() => ({ status, body: 'bad field' }));
      const result = await send(webhook());
      expect(result, `HTTP ${status}`).toMatchObject({ ok: false, retryable, status });
      expect(result.ok ? '' : result.message).toMatch(words);
    }
  });

  it('a redirect is not followed: one request, a failure naming only where it pointed', async () => {
    receiver.reply((req) => (req.path === '/in' ? { status: 302, headers: { location: `${receiver.url}/elsewhere?token=leak` } } : { status: 200 }));
    const result = await send(webhook());
    expect(result).toMatchObject({ ok: false, retryable: false, status: 302 });
    expect(result.ok ? '' : result.message).toMatch(/redirected to http:\/\/127\.0\.0\.1:\d+ \(HTTP 302\); redirects are not followed/);
    expect(result.ok ? '' : result.message).not.toContain('leak');
    expect(receiver.requests.map((r) => r.path)).toEqual(['/in']);
  });

  it('a target that hangs is bounded by the timeout, and is retryable', async () => {
    receiver.reply(() => ({ hang: true }));
    const started = performance.now();
    const result = await send(webhook(), 400);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? '' : result.message).toMatch(/gave no answer within 0\.4 s/);
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(2000);
  });

  it('several Telegram chats share one deadline; a failure says how many chats got it', async () => {
    // The first chat answers late (700 ms of the 1 s budget), the second never: the delivery ends
    // at the 1 s deadline, not 1 s after the first answer.
    receiver.reply(() => (receiver.requests.length === 1 ? { status: 200, body: '{"ok":true}', delayMs: 700 } : { hang: true }));
    const started = performance.now();
    const result = await send(`tgram://${TG_TOKEN}/1/2/3`, 1000);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? '' : result.message).toMatch(/\(after 1 of 3 chats received it\)/);
    expect(receiver.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(1450);
  });

  it('a shared caller signal keeps no listener once a send is over', async () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 3; i++) expect(await sendNotification(target(webhook()), message, { timeoutMs: 3000, signal: shutdown.signal })).toMatchObject({ ok: true });
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('a caller abort ends the send at once', async () => {
    receiver.reply(() => ({ hang: true }));
    const controller = new AbortController();
    const pending = sendNotification(target(webhook()), message, { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const result = await pending;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? '' : result.message).toMatch(/cancelled/);
  });

  it('a huge answer is read to 64 KB only and reported; the status still decides', async () => {
    receiver.reply(() => ({ hugeBody: 20 * 1024 * 1024 }));
    const ok = await send(webhook());
    expect(ok).toMatchObject({ ok: true, status: 200 });
    expect(ok.ok ? ok.detail : '').toMatch(/longer than 64 KB and was cut/);
    receiver.reply(() => ({ hugeBody: 20 * 1024 * 1024, status: 502, fill: 'e' }));
    const failed = await send(webhook());
    expect(failed).toMatchObject({ ok: false, retryable: true, status: 502 });
    const words = failed.ok ? '' : failed.message;
    expect(words).toMatch(/answer longer than 64 KB, cut/);
    expect(words.length).toBeLessThan(400); // quoted, not dumped
    expect(MAX_ANSWER_BYTES).toBe(64 * 1024);
  });

  it('a garbage (binary) answer is summarised in printable words', async () => {
    receiver.reply(() => ({ status: 500, body: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x41, 0x42, 0x07, 0x1b]) }));
    const result = await send(webhook());
    expect(result).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(result.ok ? '' : result.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a refused connection and a reset are retryable, in words', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await send(`json://127.0.0.1:${port}/in`);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.ok ? '' : refused.message).toMatch(/connection refused by 127\.0\.0\.1/);

    const resetter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
    try {
      const reset = await send(`json://127.0.0.1:${(resetter.address() as { port: number }).port}/in`);
      expect(reset).toMatchObject({ ok: false, retryable: true });
    } finally {
      await new Promise<void>((r) => resetter.close(() => r()));
    }
  });

  it('an answer echoing a secret is scrubbed', async () => {
    receiver.reply((req) => ({ status: 403, body: `forbidden for ${req.headers['x-gotify-key'] ?? ''}` }));
    const result = await send(`gotify://127.0.0.1:${receiver.port}/EchoedTokenValue123`);
    expect(result).toMatchObject({ ok: false, retryable: false, status: 403 });
    expectNoSecret(result, 'EchoedTokenValue123');
  });
});
