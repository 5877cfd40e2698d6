// Small HTTP plumbing shared by the simulated services: a response value that faults can rewrite
// before it reaches the wire, body reading with a cap, and query/header access.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';

/** What a handler answers. Kept as a value (not written directly) so per-route faults can rewrite it. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Logical shape of the payload, used by the `wrong-type` malformed variant. */
  json?: unknown;
  /**
   * A body too large to hold in memory (media): opened only when the response is written, piped
   * with backpressure. `headers` must then carry its content-length; `body` stays ''.
   */
  stream?: () => Readable;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value), json: value };
}

export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'content-type': contentType, ...headers }, body };
}

export function empty(status: number, headers: Record<string, string> = {}): SimResponse {
  return { status, headers, body: '' };
}

export function writeResponse(res: ServerResponse, response: SimResponse): void {
  if (res.destroyed || res.headersSent) return;
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
  res.end(body);
}

/** Answers an upgrade request with a plain HTTP response and closes the socket. */
export function rejectUpgrade(socket: Duplex, response: SimResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  const head = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`, 'Connection: close', `Content-Length: ${body.length}`];
  for (const [k, v] of Object.entries(response.headers)) head.push(`${k}: ${v}`);
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}

const MAX_BODY = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://sim.invalid');
}

/** Case-insensitive query lookup: Plex and Jellyfin both treat query keys loosely. */
export function queryParam(url: URL, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of url.searchParams) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * A Jellyfin array query parameter as the server's model binders read it
 * (`CommaDelimitedArrayModelBinder`, `PipeDelimitedArrayModelBinder`): a key given several times
 * (`fields=A&fields=B`, what @jellyfin/sdk sends) yields each value as it is; a key given once is
 * split on the delimiter (`fields=A,B`). Empty entries are dropped; absent → [].
 */
export function queryList(url: URL, name: string, delimiter: ',' | '|' = ','): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [k, v] of url.searchParams) if (k.toLowerCase() === lower) values.push(v);
  const parts = values.length > 1 ? values : (values[0] ?? '').split(delimiter);
  return parts.map((p) => p.trim()).filter(Boolean);
}
