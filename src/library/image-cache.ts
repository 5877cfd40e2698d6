// The image proxy's cache (issue 14). An image is resolved from the library cache — the item's own
// ImageRef of a known source, never a URL or path from the client (no SSRF) — fetched over the
// source's own routes with the width asked (the server resizes), type-checked by its first bytes,
// and kept on disk under the data dir within a size cap, least recently used evicted first. An
// offline source's posters are served from what was kept.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageBody } from '../backends/types.js';
import type { ImageKind, ImageRef } from '../core/library.js';
import type { Clock } from '../monitor/clock.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { LibraryCacheRepo } from '../store/index.js';

export type ImageContentType = ImageBody['contentType'];

export type ImageAnswer =
  | { ok: true; bytes: Buffer; contentType: ImageContentType; etag: string }
  /** not_found: no such source or item, or it has no image of that kind; unavailable: neither the server nor the cache has it now. */
  | { ok: false; reason: 'not_found' | 'unavailable'; message: string };

export interface ImageCacheOptions {
  dir: string;
  maxBytes: number;
  engine: Pick<Engine, 'getSource'>;
  caller: RoutedCaller;
  cache: LibraryCacheRepo;
  clock: Pick<Clock, 'now'>;
  timeoutMs: number;
  /** Larger image bodies are refused (the backends cap bodies too). */
  maxImageBytes?: number;
}

interface Entry {
  file: string;
  size: number;
  contentType: ImageContentType;
  etag: string;
  usedAt: number;
}

/** Magic numbers: what the bytes really are, whatever the server's Content-Type says. */
export function sniffImage(bytes: Uint8Array): ImageContentType | null {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return null;
}

export class ImageCache {
  /** Insertion order = least recently used first (a hit moves its entry to the end). */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly inFlight = new Map<string, Promise<ImageAnswer>>();

  constructor(private readonly options: ImageCacheOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.load();
  }

  /** Bytes on disk now (always ≤ the cap once a write finished). */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  async get(sourceId: string, itemId: string, kind: ImageKind, width: number): Promise<ImageAnswer> {
    const source = this.options.engine.getSource(sourceId);
    const item = source ? this.options.cache.findItem(sourceId, itemId) : null;
    const ref = item ? (kind === 'poster' ? item.poster : item.backdrop) : null;
    if (!source || !item || !ref) return { ok: false, reason: 'not_found', message: 'There is no such image.' };
    const version = ref.tag ?? ref.path + String(item.updatedAt ?? '');
    const key = createHash('sha256').update(JSON.stringify([sourceId, itemId, kind, width, version])).digest('hex');
    const hit = await this.read(key);
    if (hit) return hit;
    const running = this.inFlight.get(key);
    if (running) return running;
    const fetching = this.fetch(sourceId, ref, width, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, fetching);
    return fetching;
  }

  private async read(key: string): Promise<ImageAnswer | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    try {
      const bytes = await readFile(entry.file);
      this.entries.delete(key);
      entry.usedAt = this.options.clock.now();
      this.entries.set(key, entry);
      return { ok: true, bytes, contentType: entry.contentType, etag: entry.etag };
    } catch {
      this.forget(key);
      return null;
    }
  }

  private async fetch(sourceId: string, ref: ImageRef, width: number, key: string): Promise<ImageAnswer> {
    const { caller, timeoutMs } = this.options;
    const answer = await caller.call(
      sourceId,
      (use, signal) =>
        use.backend.browse
          ? use.backend.browse.image(use, ref, { width }, { timeoutMs, signal })
          : Promise.resolve({ ok: false as const, error: { code: 'http_error' as const, message: 'this kind of server cannot be browsed' } }),
      { timeoutMs },
    );
    if (!answer.ok) return { ok: false, reason: 'unavailable', message: answer.reason === 'offline' ? 'The server is away and this image was never cached.' : `The server did not send the image: ${answer.message}` };
    const body = answer.value;
    const sniffed = sniffImage(body.bytes);
    if (!sniffed) return { ok: false, reason: 'unavailable', message: 'The server sent something that is not an image.' };
    if (body.bytes.length > (this.options.maxImageBytes ?? 10_000_000)) return { ok: false, reason: 'unavailable', message: 'The image is too large.' };
    const bytes = Buffer.from(body.bytes);
    const etag = `"${createHash('sha1').update(bytes).digest('base64url')}"`;
    await this.store(key, bytes, sniffed, etag);
    return { ok: true, bytes, contentType: sniffed, etag };
  }

  private async store(key: string, bytes: Buffer, contentType: ImageContentType, etag: string): Promise<void> {
    if (bytes.length > this.options.maxBytes) return; // larger than the whole cache: served, not kept
    const file = join(this.options.dir, `${key}.img`);
    const entry: Entry = { file, size: bytes.length, contentType, etag, usedAt: this.options.clock.now() };
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
      await writeFile(`${join(this.options.dir, key)}.json`, JSON.stringify({ contentType, etag, size: bytes.length, usedAt: entry.usedAt }), { mode: 0o600 });
    } catch {
      return; // a full or read-only disk: the image is served, just not kept
    }
    this.forget(key, false);
    this.entries.set(key, entry);
    this.bytes += entry.size;
    await this.evict();
  }

  private async evict(): Promise<void> {
    for (const [key] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.forget(key);
    }
  }

  private forget(key: string, removeFiles = true): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
    if (removeFiles) {
      void rm(entry.file, { force: true });
      void rm(`${join(this.options.dir, key)}.json`, { force: true });
    }
  }

  /** What an earlier run kept, oldest use first; anything unreadable is removed. */
  private load(): void {
    const found: Array<[string, Entry]> = [];
    for (const name of readdirSync(this.options.dir)) {
      const match = /^([0-9a-f]{64})\.json$/.exec(name);
      if (!match) {
        if (name.endsWith('.tmp')) rmSync(join(this.options.dir, name), { force: true });
        continue;
      }
      const key = match[1]!;
      try {
        const meta = JSON.parse(readFileSync(join(this.options.dir, name), 'utf8')) as { contentType: ImageContentType; etag: string; size: number; usedAt: number };
        if (typeof meta.size !== 'number' || typeof meta.etag !== 'string' || !['image/jpeg', 'image/png', 'image/webp', 'image/gif'].includes(meta.contentType)) throw new Error('bad');
        found.push([key, { file: join(this.options.dir, `${key}.img`), size: meta.size, contentType: meta.contentType, etag: meta.etag, usedAt: Number(meta.usedAt) || 0 }]);
      } catch {
        rmSync(join(this.options.dir, name), { force: true });
        rmSync(join(this.options.dir, `${key}.img`), { force: true });
      }
    }
    found.sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key, entry] of found) {
      this.entries.set(key, entry);
      this.bytes += entry.size;
    }
    void this.evict();
  }
}
