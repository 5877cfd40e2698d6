// Image answers (issue 14): what a server sends back for a poster or backdrop is checked before it
// reaches the cache or a browser — the declared Content-Type must name one of four formats AND
// match the file's magic bytes (a server, proxy or captive portal answering HTML, SVG or anything
// else with an image/* type is refused), the size is capped by the HTTP client, the ETag passed
// through. Pure: no I/O.
import type { ProbeError } from '../core/types.js';
import type { ImageBody } from './types.js';

/** Library pages (JSON) and images are allowed this much (the probes keep the 1 MB cap). */
export const LIBRARY_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const IMAGE_MAX_BODY_BYTES = 8 * 1024 * 1024;

export type ImageContentType = ImageBody['contentType'];

/** The format the bytes actually are, by their signature; null for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageContentType | null {
  const at = (i: number) => bytes[i];
  if (bytes.length >= 3 && at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'image/png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'image/gif';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** `image/jpeg; charset=…` → `image/jpeg`; the old `image/jpg` spelling counts as JPEG. */
function declaredType(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'image/jpg' || type === 'image/pjpeg' ? 'image/jpeg' : type;
}

/** A 2xx image answer → an ImageBody, or `malformed` in words naming the server. */
export function checkImage(host: string, headers: Record<string, string>, bytes: Uint8Array): { ok: true; value: ImageBody } | { ok: false; error: ProbeError } {
  const declared = declaredType(headers['content-type']);
  const actual = sniffImageType(bytes);
  if (bytes.length === 0) return { ok: false, error: { code: 'malformed', message: `${host} sent an empty image` } };
  if (!actual) {
    const what = declared ? `"${declared.slice(0, 60)}"` : 'no content type';
    return { ok: false, error: { code: 'malformed', message: `${host} sent something that is not a JPEG, PNG, WebP or GIF image (${what})` } };
  }
  if (declared !== actual) {
    const what = declared ? `"${declared.slice(0, 60)}"` : 'no content type';
    return { ok: false, error: { code: 'malformed', message: `${host} sent a ${actual.slice(6).toUpperCase()} image labelled ${what}` } };
  }
  const etag = headers['etag'];
  return { ok: true, value: { contentType: actual, bytes, ...(etag && etag.length <= 200 ? { etag } : {}) } };
}
