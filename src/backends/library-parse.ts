// Shared pieces of the library parsers (issue 14, plex/library-parsers.ts and
// jellyfin/library-parsers.ts). The policy, the same for both servers:
// - the envelope (MediaContainer / QueryResult / bare array) must be right, else the whole answer
//   is `malformed`;
// - one item whose identity is unusable (no id, no title, unknown shape) is SKIPPED and counted,
//   so one odd entry does not hide a page of good ones — but a non-empty page where EVERY item is
//   bad is `malformed` (an empty-looking page would make a sync believe the library is empty);
// - an optional field of the wrong type is dropped (null), never fatal: a year sent as "abc"
//   does not lose the movie;
// - strings and lists are cut to sane lengths (a 10 MB overview or 100,000 genres end small).
// Nothing here throws.
import { z } from 'zod';
import type { ImageRef, LibraryItem } from '../core/library.js';
import { malformed, type Parsed } from './parse.js';

export const MAX_TITLE = 500;
export const MAX_OVERVIEW = 10_000;
export const MAX_GENRES = 30;
export const MAX_CAST = 50;
/** Items read from one answer at most (a page is far smaller; a bigger list is cut, not parsed). */
export const MAX_ITEMS_PER_ANSWER = 10_000;

/** An optional field that turns into undefined when absent, null or of the wrong type. */
export function lenient<S extends z.ZodType>(schema: S) {
  return schema.optional().catch(undefined);
}

export const text = (max: number) => z.string().transform((s) => s.slice(0, max));
/** Plex sends numbers as JSON numbers (or strings in XML-ish proxies); accept both. */
export const num = z.union([z.number(), z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/).transform(Number)]).pipe(z.number().finite());
export const idString = z.union([z.string(), z.number().int().nonnegative().transform(String)]).pipe(z.string().min(1).max(200));

export const epochSecondsToMs = (s: number | undefined): number | null =>
  s !== undefined && Number.isFinite(s) && s > 0 && s < 1e11 ? Math.round(s * 1000) : null;
export const isoToMs = (s: string | undefined): number | null => {
  if (!s) return null;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
};
export const yearOrNull = (y: number | undefined): number | null => (y !== undefined && Number.isInteger(y) && y > 0 && y < 10_000 ? y : null);
export const ratingOrNull = (r: number | undefined): number | null => (r !== undefined && Number.isFinite(r) && r >= 0 ? Math.min(10, Math.round(r * 10) / 10) : null);
export const countOrNull = (n: number | undefined): number | null => (n !== undefined && Number.isInteger(n) && n >= 0 ? n : null);
export const positiveMsOrNull = (ms: number | undefined): number | null => (ms !== undefined && Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null);

/** A server-relative image path: starts with one '/', printable ASCII, no '..' (never a URL). */
export function serverPath(path: string | undefined): string | null {
  if (!path || path.length > 1000 || !/^\/(?!\/)[\x21-\x7e]*$/.test(path) || path.includes('..') || path.includes('\\')) return null;
  return path;
}

export function imageRef(kind: ImageRef['kind'], path: string | null, tag?: string): ImageRef | null {
  if (!path) return null;
  return { kind, path, ...(tag ? { tag } : {}) };
}

/** A list of items parsed one by one: bad ones skipped and counted; all bad (and some) → malformed. */
export interface ParsedItems {
  items: LibraryItem[];
  skipped: number;
}
export function parseItemList(raw: readonly unknown[], what: string, parseOne: (raw: unknown) => LibraryItem | null): Parsed<ParsedItems> {
  const items: LibraryItem[] = [];
  let skipped = 0;
  for (const entry of raw.slice(0, MAX_ITEMS_PER_ANSWER)) {
    let item: LibraryItem | null = null;
    try {
      item = parseOne(entry);
    } catch {
      item = null;
    }
    if (item) items.push(item);
    else skipped += 1;
  }
  if (items.length === 0 && skipped > 0) return malformed(`${what}: unexpected answer from the server (none of its ${skipped} items could be read)`);
  return { ok: true, value: { items, skipped } };
}

/** A blank item with every optional field empty: parsers fill what the server said. */
export function blankItem(id: string, type: LibraryItem['type'], title: string): LibraryItem {
  return {
    id,
    libraryId: null,
    parentId: null,
    type,
    title,
    sortTitle: title,
    year: null,
    addedAt: null,
    updatedAt: null,
    rating: null,
    durationMs: null,
    overview: null,
    genres: [],
    cast: [],
    index: null,
    parentIndex: null,
    parentTitle: null,
    grandparentTitle: null,
    childCount: null,
    watched: false,
    resumeMs: null,
    lastViewedAt: null,
    poster: null,
    backdrop: null,
    blurhash: null,
  };
}

/** `chain` for typed values: the next step runs only on success. */
export function andThen<A, B>(parsed: Parsed<A>, next: (value: A) => Parsed<B>): Parsed<B> {
  return parsed.ok ? next(parsed.value) : parsed;
}
