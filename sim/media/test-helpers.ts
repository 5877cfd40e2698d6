// Helpers for the media tests: raw HTTP reads (to see cut bodies exactly) and file hashes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

export interface RawResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** True when the body ended early (connection closed before Content-Length bytes). */
  cutShort: boolean;
  ms: number;
}

/** One request on a fresh connection; resolves when the body ends or the connection dies. */
export function rawGet(url: string, headers: Record<string, string> = {}, method = 'GET', timeoutMs = 30_000): Promise<RawResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (cutShort: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cutShort, ms: performance.now() - started });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(false));
      res.on('aborted', () => finish(true));
      res.on('error', () => finish(true));
      res.on('close', () => finish(!res.complete));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
export const fileHash = (path: string) => sha256(readFileSync(path));
