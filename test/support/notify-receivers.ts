// Real local receivers for notification tests (issue 16), on loopback only:
// - `startHttpReceiver()`: one HTTP(S) server standing in for every HTTP service (webhook, ntfy,
//   Gotify, Discord, Slack, Telegram, Pushover). It records each request exactly as it arrived
//   (method, path, headers, raw body) and answers as the test scripts it: a status and body,
//   a redirect, a hang, a huge or garbage body.
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
}

/** How the receiver answers one request. */
export type ReceiverReply =
  | { status: number; body?: string | Buffer; headers?: Record<string, string>; /** Answer only after this long. */ delayMs?: number }
  /** Accept the request and never answer (the socket is destroyed when the receiver closes). */
  | { hang: true }
  /** Stream `bytes` bytes of `fill` with a 200 (a chunked body: no content-length to refuse early). */
  | { hugeBody: number; fill?: string; status?: number };

export interface HttpReceiver {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Decide the reply to each request (default: 200 with `{}`). */
  reply(fn: (req: ReceivedRequest) => ReceiverReply): void;
  close(): Promise<void>;
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
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const answer = decide(received);
      if ('hang' in answer) return;
      if ('hugeBody' in answer) {
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' });
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
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, handler) : createHttpServer(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    reply(fn) {
      decide = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
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
