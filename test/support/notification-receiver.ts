// A real HTTP receiver on loopback standing in for a webhook target (issue 16 tests): records every
// request (path, headers, JSON body) and answers as told — accept, fail with a status, hang, or be
// down (its port closed, then reopened on the same port).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type ReceiverMode = { answer: 'ok' } | { answer: 'status'; status: number } | { answer: 'hang' };

export class NotificationReceiver {
  readonly received: ReceivedRequest[] = [];
  mode: ReceiverMode = { answer: 'ok' };
  private server: Server | null = null;
  private readonly hung = new Set<ServerResponse>();
  port = 0;

  static async start(port = 0): Promise<NotificationReceiver> {
    const receiver = new NotificationReceiver();
    await receiver.listen(port);
    return receiver;
  }

  /** json://127.0.0.1:PORT/path — the Apprise URL of this receiver. */
  url(path = '/hook'): string {
    return `json://127.0.0.1:${this.port}${path}`;
  }

  /** The JSON webhook's payloads (docs/NOTIFICATIONS.md), in arrival order. */
  messages(): Array<{ id: string; event: string; sourceId: string | null; title: string; body: string; at: number }> {
    return this.received.map((r) => {
      const b = r.body as { id: string; event: string; source: { id: string } | null; title: string; body: string; at: string };
      return { id: b.id, event: b.event, sourceId: b.source?.id ?? null, title: b.title, body: b.body, at: Date.parse(b.at) };
    });
  }

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.mode.answer === 'hang') {
          this.hung.add(res);
          return;
        }
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = Buffer.concat(chunks).toString('utf8');
        }
        if (this.mode.answer === 'ok') this.received.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        res.statusCode = this.mode.answer === 'ok' ? 200 : this.mode.status;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Down: the port refuses connections until `listen()` again. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.down();
  }
}
