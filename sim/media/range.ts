// Static file answers with real HTTP range semantics (RFC 9110 §14): 200 whole, 206 one range,
// 416 unsatisfiable, validators (ETag, Last-Modified), If-Range. Bodies are streamed from disk
// with backpressure by the dispatcher, which never opens the stream for HEAD.
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { header, type SimResponse } from '../http-util.js';

export interface ServedFile {
  path: string;
  size: number;
  mimeType: string;
  etag: string;
  lastModified: Date;
}

export type ByteRange = { start: number; end: number };

/**
 * One `bytes=` range against a file of `size` bytes: a range, 'unsatisfiable' (→ 416), or
 * undefined when the header is absent, malformed, multi-range or another unit (→ the whole file,
 * as RFC 9110 lets a server ignore a Range it does not support).
 */
export function parseRange(value: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // syntactically invalid: ignored
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Number(last);
  return { start, end: Math.min(end, size - 1) };
}

/** GET or HEAD of a file; `extraHeaders` are added to every answer (e.g. Content-Disposition). */
export function fileResponse(req: IncomingMessage, file: ServedFile, extraHeaders: Record<string, string> = {}): SimResponse {
  const base: Record<string, string> = {
    'accept-ranges': 'bytes',
    etag: file.etag,
    'last-modified': file.lastModified.toUTCString(),
    'content-type': file.mimeType,
    ...extraHeaders,
  };
  let range = parseRange(header(req, 'range'), file.size);
  // If-Range with a validator that no longer matches: the client's partial copy is stale, send it all.
  const ifRange = header(req, 'if-range');
  if (range !== undefined && ifRange !== undefined && ifRange !== file.etag && ifRange !== file.lastModified.toUTCString()) range = undefined;
  if (range === 'unsatisfiable') return { status: 416, headers: { ...base, 'content-range': `bytes */${file.size}`, 'content-length': '0' }, body: '' };
  if (range === undefined) {
    return { status: 200, headers: { ...base, 'content-length': String(file.size) }, body: '', stream: () => createReadStream(file.path) };
  }
  const { start, end } = range;
  return {
    status: 206,
    headers: { ...base, 'content-range': `bytes ${start}-${end}/${file.size}`, 'content-length': String(end - start + 1) },
    body: '',
    stream: () => createReadStream(file.path, { start, end }),
  };
}
