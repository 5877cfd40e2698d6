// Email through a real SMTP server on loopback (smtp-server): plain, STARTTLS and implicit TLS
// with a test CA trusted through `trustedCa`, sign-in, and the failures people meet.
import { getEventListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestCertificate, startSmtpReceiver, type SmtpReceiver } from '../../test/support/notify-receivers.js';
import { parseTargetUrl, type NotificationTarget } from '../core/notification-targets.js';
import type { NotificationMessage } from '../core/notifications.js';
import { sendNotification } from './send.js';

const message: NotificationMessage = {
  id: 'msg-7',
  event: 'lost',
  sourceId: 'src-2',
  sourceName: "Friend's Plex",
  title: "Friend's Plex lost its connection",
  body: "Friend's Plex has not answered for 30 s on any route",
  url: 'https://marquee.example.org/sources/src-2',
  at: Date.UTC(2026, 11, 7, 12, 0, 0),
};
const PASSWORD = 'correct-horse-battery';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function smtp(options: Parameters<typeof startSmtpReceiver>[0]): Promise<SmtpReceiver> {
  const server = await startSmtpReceiver(options);
  cleanups.push(() => server.close());
  return server;
}

function target(url: string): NotificationTarget {
  const parsed = parseTargetUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.target;
}

const ca = () => makeTestCertificate().caPem;

describe('email', () => {
  it('mailtos:// (STARTTLS required) with sign-in: delivered over TLS, subject, body, link and a stable Message-ID', async () => {
    const server = await smtp({ tls: 'starttls', auth: { user: 'alice', pass: PASSWORD } });
    const url = `mailtos://alice:${PASSWORD}@127.0.0.1:${server.port}?from=marquee@example.org&to=ops@example.org`;
    const result = await sendNotification(target(url), message, { timeoutMs: 5000, trustedCa: ca() });
    expect(result).toMatchObject({ ok: true });
    expect(result.ok ? result.detail : '').toMatch(/accepted the message for 1 recipient/);
    expect(server.messages).toHaveLength(1);
    const mail = server.messages[0]!;
    expect(mail).toMatchObject({ from: 'marquee@example.org', to: ['ops@example.org'], secure: true, user: 'alice' });
    expect(mail.raw).toMatch(/^Subject: Friend's Plex lost its connection\r?$/m);
    expect(mail.raw).toMatch(/^Message-ID: <msg-7@marquee\.notifications>\r?$/im);
    expect(mail.raw).toMatch(/^X-Marquee-Event: lost\r?$/m);
    expect(mail.raw).toContain("Friend's Plex has not answered for 30 s on any route");
    expect(mail.raw).toContain('https://marquee.example.org/sources/src-2');
  });

  it('mailtos://…?mode=ssl speaks implicit TLS from the first byte', async () => {
    const server = await smtp({ tls: 'implicit', auth: { user: 'alice', pass: PASSWORD } });
    const url = `mailtos://alice:${PASSWORD}@127.0.0.1:${server.port}/ops@example.org?mode=ssl&from=marquee@example.org`;
    const result = await sendNotification(target(url), message, { timeoutMs: 5000, trustedCa: ca() });
    expect(result).toMatchObject({ ok: true });
    expect(server.messages.map((m) => m.secure)).toEqual([true]);
  });

  it('mailto:// upgrades with STARTTLS when the server offers it, and sends plain when it does not', async () => {
    const offering = await smtp({ tls: 'starttls' });
    const upgraded = await sendNotification(target(`mailto://127.0.0.1:${offering.port}/ops@example.org?from=m@example.org`), message, { timeoutMs: 5000, trustedCa: ca() });
    expect(upgraded).toMatchObject({ ok: true });
    expect(offering.messages.map((m) => m.secure)).toEqual([true]);

    const plainOnly = await smtp({ tls: 'none' });
    const plain = await sendNotification(target(`mailto://127.0.0.1:${plainOnly.port}/ops@example.org?from=m@example.org`), message, { timeoutMs: 5000 });
    expect(plain).toMatchObject({ ok: true });
    expect(plainOnly.messages.map((m) => m.secure)).toEqual([false]);
  });

  it('a shared caller signal (e.g. shutdown) keeps no listener once a send is over', async () => {
    const server = await smtp({ tls: 'none' });
    const shutdown = new AbortController();
    for (let i = 0; i < 3; i++) {
      const result = await sendNotification(target(`mailto://127.0.0.1:${server.port}/ops@example.org?from=m@example.org`), message, { timeoutMs: 5000, signal: shutdown.signal });
      expect(result).toMatchObject({ ok: true });
    }
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('a wrong password is a clear failure, not retryable, without the password', async () => {
    const server = await smtp({ tls: 'starttls', auth: { user: 'alice', pass: PASSWORD } });
    const url = `mailtos://alice:wrong-password-123@127.0.0.1:${server.port}?from=marquee@example.org`;
    const result = await sendNotification(target(url), message, { timeoutMs: 5000, trustedCa: ca() });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok ? '' : result.message).toMatch(/refused the user name or password \(SMTP 535\)/);
    expect(JSON.stringify(result)).not.toContain('wrong-password-123');
    expect(server.authAttempts).toEqual(['alice']);
    expect(server.messages).toHaveLength(0);
  });

  it('mailtos:// refuses a server that offers no STARTTLS (never sends the password in the clear)', async () => {
    const server = await smtp({ tls: 'none', auth: { user: 'alice', pass: PASSWORD } });
    const result = await sendNotification(target(`mailtos://alice:${PASSWORD}@127.0.0.1:${server.port}?from=m@example.org`), message, { timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok ? '' : result.message).toMatch(/does not offer STARTTLS/);
    expect(server.authAttempts).toEqual([]);
  });

  it('an untrusted certificate fails the send (verification is never turned off)', async () => {
    const server = await smtp({ tls: 'starttls' });
    const result = await sendNotification(target(`mailtos://127.0.0.1:${server.port}/ops@example.org?from=m@example.org`), message, { timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok ? '' : result.message).toMatch(/certificate or TLS error/);
    expect(server.messages).toHaveLength(0);
  });

  it('a mail server that never greets is bounded by the timeout; a closed port is retryable', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const started = performance.now();
    const hung = await sendNotification(target(`mailto://127.0.0.1:${port}/ops@example.org?from=m@example.org`), message, { timeoutMs: 500 });
    const elapsed = performance.now() - started;
    expect(hung).toMatchObject({ ok: false, retryable: true });
    expect(elapsed).toBeLessThan(3000);

    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await sendNotification(target(`mailto://127.0.0.1:${closedPort}/ops@example.org?from=m@example.org`), message, { timeoutMs: 2000 });
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.ok ? '' : refused.message).toMatch(/connection refused/);
  });
});
