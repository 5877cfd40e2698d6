// Real local receivers for notification tests (issue 16), on loopback only:
// - `startHttpReceiver()`: one HTTP(S) server standing in for every HTTP service (webhook, ntfy,
//   Gotify, Discord, Slack, Telegram, Pushover). It records each request exactly as it arrived
//   (method, path, headers, raw body, arrival time, the status it was answered with) and answers
//   as the test scripts it: a status and body, a redirect, a hang, a huge or garbage body. It can
//   go down (its port refuses connections) and come back on the same port, and reads the webhook
//   payloads it accepted (`webhookMessages()`, the form docs/NOTIFICATIONS.md documents).
// - `startSmtpReceiver()`: a real SMTP server (the `smtp-server` package) with optional STARTTLS or
//   implicit TLS and a user name/password, recording every accepted message.
// - `makeTestCertificate()`: a private CA and a leaf for 127.0.0.1/localhost, made with the
//   openssl CLI at test time; trust it with the sender's `trustedCa`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface TestCertificate {
  /** PEM of the CA that signed `certPem`: what a client must trust. */
  caPem: string;
  keyPem: string;
  certPem: string;
}

let cachedCertificate: TestCertificate | undefined;

/** A CA and a leaf for 127.0.0.1, ::1 and localhost (made once per test file, with openssl). */
export function makeTestCertificate(): TestCertificate {
  if (cachedCertificate) return cachedCertificate;
  const dir = mkdtempSync(join(tmpdir(), 'marquee-notify-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Marquee Notification Test CA');
    writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
    run('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext');
    cachedCertificate = { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'), certPem: readFileSync(join(dir, 'leaf.pem'), 'utf8') };
    return cachedCertificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  /** When it arrived (Date.now()). */
  at: number;
  /** The status it was answered with; null while unanswered (a hang, a delayed answer). */
  status: number | null;
}

/** How the receiver answers one request. */
export type ReceiverReply =
  | { status: number; body?: string | Buffer; headers?: Record<string, string>; /** Answer only after this long. */ delayMs?: number }
  /** Accept the request and never answer (the socket is destroyed when the receiver goes down). */
  | { hang: true }
  /** Stream `bytes` bytes of `fill` with a 200 (a chunked body: no content-length to refuse early). */
  | { hugeBody: number; fill?: string; status?: number };

/** One JSON webhook payload as docs/NOTIFICATIONS.md documents it, `at` read as epoch ms. */
export interface WebhookMessage {
  id: string;
  event: string;
  sourceId: string | null;
  sourceName: string | null;
  title: string;
  body: string;
  url: string | null;
  at: number;
  /** When its request arrived here (Date.now()). */
  receivedAt: number;
}

export interface HttpReceiver {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Decide the reply to each request (default: 200 with `{}`). */
  reply(fn: (req: ReceivedRequest) => ReceiverReply): void;
  /** The Apprise URL of this receiver as a generic webhook: json://127.0.0.1:PORT/hook (jsons:// with TLS). */
  webhookUrl(path?: string): string;
  /** The requests answered with a 2xx, in arrival order. */
  accepted(): ReceivedRequest[];
  /** The webhook payloads of the accepted requests, in arrival order. */
  webhookMessages(): WebhookMessage[];
  /** Down: open connections are cut and the port refuses new ones until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

interface WebhookPayload {
  id: string;
  event: string;
  source: { id: string; name: string } | null;
  title: string;
  body: string;
  url: string | null;
  at: string;
}

export async function startHttpReceiver(options: { tls?: TestCertificate } = {}): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let decide: (req: ReceivedRequest) => ReceiverReply = () => ({ status: 200, body: '{}', headers: { 'content-type': 'application/json' } });
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), status: null };
      requests.push(received);
      const answer = decide(received);
      if ('hang' in answer) return;
      if ('hugeBody' in answer) {
        received.status = answer.status ?? 200;
        res.writeHead(received.status, { 'content-type': 'text/plain' });
        const piece = Buffer.alloc(16 * 1024, answer.fill ?? 'x');
        let left = answer.hugeBody;
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, piece.length);
            left -= n;
            if (!res.write(piece.subarray(0, n))) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      const respond = () => {
        received.status = answer.status;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  };
  let server: Server | null = null;
  let port = 0;
  const listen = async () => {
    const next: Server = options.tls ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, handler) : createHttpServer(handler);
    next.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    server = next;
    port = (next.address() as AddressInfo).port;
  };
  const down = () =>
    new Promise<void>((resolve) => {
      const current = server;
      server = null;
      for (const s of sockets) s.destroy();
      if (!current) return resolve();
      current.close(() => resolve());
    });
  await listen();
  const accepted = () => requests.filter((r) => r.status !== null && r.status >= 200 && r.status < 300);
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    reply(fn) {
      decide = fn;
    },
    webhookUrl: (path = '/hook') => `${options.tls ? 'jsons' : 'json'}://127.0.0.1:${port}${path}`,
    accepted,
    webhookMessages: () =>
      accepted().map((r) => {
        const p = JSON.parse(r.body) as WebhookPayload;
        return { id: p.id, event: p.event, sourceId: p.source?.id ?? null, sourceName: p.source?.name ?? null, title: p.title, body: p.body, url: p.url, at: Date.parse(p.at), receivedAt: r.at };
      }),
    down,
    up: listen,
    close: down,
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message (headers and body) as the server received it. */
  raw: string;
  /** Whether the session was encrypted (STARTTLS or implicit TLS) when the message came. */
  secure: boolean;
  /** The user name the session signed in with, if any. */
  user?: string;
}

export interface SmtpReceiver {
  port: number;
  messages: ReceivedMail[];
  /** Every sign-in attempt, accepted or not (user names only). */
  authAttempts: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1. `tls`: `starttls` offers the upgrade, `implicit` speaks TLS from
 * the first byte, `none` offers no TLS at all. With `auth`, sign-in is required (over TLS, or
 * over plain only when `tls` is `none`).
 */
export async function startSmtpReceiver(options: { tls: 'starttls' | 'implicit' | 'none'; auth?: { user: string; pass: string } }): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const authAttempts: string[] = [];
  const cert = options.tls === 'none' ? undefined : makeTestCertificate();
  const server = new SMTPServer({
    secure: options.tls === 'implicit',
    ...(cert ? { key: cert.keyPem, cert: cert.certPem } : {}),
    disabledCommands: [...(options.tls === 'none' ? ['STARTTLS'] : []), ...(options.auth ? [] : ['AUTH'])],
    authOptional: !options.auth,
    allowInsecureAuth: options.tls === 'none',
    logger: false,
    onAuth(auth, _session, callback) {
      authAttempts.push(auth.username ?? '');
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    authAttempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
