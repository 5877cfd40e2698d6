// Shared plumbing for the pure response parsers: bodies come in as a string (or an already decoded
// JSON value), leave as a typed value or a typed `malformed` error. Nothing here throws.
import { XMLParser } from 'fast-xml-parser';
import type { z } from 'zod';
import type { ProbeError } from '../core/types.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ProbeError };

export function malformed(message: string): { ok: false; error: ProbeError } {
  return { ok: false, error: { code: 'malformed', message } };
}

/** Decode a body that should be JSON. A non-string input is taken as already-decoded JSON. */
export function decodeJson(body: unknown): Parsed<unknown> {
  if (typeof body !== 'string') return { ok: true, value: body };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    const looksHtml = /^\s*</.test(body);
    return malformed(looksHtml ? 'the server sent a web page where data was expected' : 'the server sent data that is not valid JSON');
  }
}

// Elements that may repeat in Plex XML; always arrays so XML and JSON shapes agree.
const XML_ARRAYS = new Set(['Directory', 'Location', 'Device', 'Connection', 'Server']);
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => XML_ARRAYS.has(name),
});

/** Decode a Plex-style XML body (attributes become string properties, children arrays). */
export function decodeXml(body: string): Parsed<unknown> {
  try {
    const value = xmlParser.parse(body, true) as unknown;
    return { ok: true, value };
  } catch {
    return malformed('the server sent XML that could not be read');
  }
}

/** Plex answers JSON when asked, XML otherwise; accept either. */
export function decodeJsonOrXml(body: unknown): Parsed<unknown> {
  if (typeof body === 'string' && /^\s*<\?xml|^\s*<MediaContainer/i.test(body)) return decodeXml(body);
  return decodeJson(body);
}

/** Validate with zod; the error names the first bad field's path, never a value. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): Parsed<z.output<S>> {
  let result: ReturnType<S['safeParse']>;
  try {
    result = schema.safeParse(value) as ReturnType<S['safeParse']>;
  } catch {
    return malformed(`${what}: unexpected answer from the server`);
  }
  if (result.success) return { ok: true, value: result.data as z.output<S> };
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? ` (field ${issue.path.map(String).join('.').slice(0, 80)})` : '';
  return malformed(`${what}: unexpected answer from the server${path}`);
}

export function chain<T>(decoded: Parsed<unknown>, next: (v: unknown) => Parsed<T>): Parsed<T> {
  return decoded.ok ? next(decoded.value) : decoded;
}
