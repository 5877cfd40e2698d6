// The image proxy's cache: only the cached item's own ref is fetched (no SSRF), the bytes are
// type-checked, kept under the cap with LRU eviction, and served offline from disk.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageCache, sniffImage } from './image-cache.js';
import { makeItem, makeItems, PNG_BYTES, startLibraryRig, type LibraryRig } from '../../test/support/library.js';

let rig: LibraryRig;
afterEach(async () => rig?.close());

/** A PNG of about `size` bytes (a real signature, padding after). */
const png = (size: number, fill: number) => Uint8Array.from([...PNG_BYTES, ...new Array<number>(Math.max(0, size - PNG_BYTES.length)).fill(fill)]);

async function synced(r: LibraryRig, count: number): Promise<string> {
  const id = r.addSource('Plex');
  r.browser.libraries.set('1', makeItems(count));
  await r.layer.sync.syncLibrary(id, '1');
  return id;
}

describe('ImageCache', () => {
  it('fetches only the cached ref of a known item with the width asked; unknown items and missing images are not found', async () => {
    rig = startLibraryRig();
    const id = await synced(rig, 3);
    const answer = await rig.layer.images.get(id, 'item-1', 'poster', 300);
    expect(answer).toMatchObject({ ok: true, contentType: 'image/png', etag: expect.stringMatching(/^".+"$/) });
    const fetched = rig.browser.calls.filter((c) => c.method === 'image');
    expect(fetched).toEqual([{ method: 'image', arg: { ref: makeItem(1).poster, size: { width: 300 } } }]);

    expect(await rig.layer.images.get(id, 'item-999', 'poster', 300)).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await rig.layer.images.get(id, 'item-1', 'backdrop', 300)).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await rig.layer.images.get('other', 'item-1', 'poster', 300)).toMatchObject({ ok: false, reason: 'not_found' });
    expect(rig.browser.calls.filter((c) => c.method === 'image')).toHaveLength(1);
  });

  it('serves a hit from disk without asking the server, also while the source is away', async () => {
    rig = startLibraryRig();
    const id = await synced(rig, 3);
    const first = await rig.layer.images.get(id, 'item-2', 'poster', 200);
    rig.engine.setLost(id);
    const second = await rig.layer.images.get(id, 'item-2', 'poster', 200);
    expect(second).toEqual(first);
    expect(rig.browser.calls.filter((c) => c.method === 'image')).toHaveLength(1);
    expect(await rig.layer.images.get(id, 'item-0', 'poster', 200)).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('refuses bytes that are not an image whatever the content type says', async () => {
    rig = startLibraryRig();
    const id = await synced(rig, 2);
    rig.browser.images.set(makeItem(1).poster!.path, { ok: true, value: { contentType: 'image/png', bytes: new TextEncoder().encode('<html>not an image</html>') } });
    expect(await rig.layer.images.get(id, 'item-1', 'poster', 300)).toMatchObject({ ok: false, reason: 'unavailable', message: expect.stringContaining('not an image') });
    expect(sniffImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
  });

  it('stays under its cap, evicting the least recently used; a restart finds what was kept', async () => {
    rig = startLibraryRig();
    const id = await synced(rig, 10);
    const cache = new ImageCache({ dir: join(rig.dataDir, 'small-cache'), maxBytes: 10_000, engine: rig.engine, caller: rig.caller, cache: rig.store.libraryCache, clock: rig.clock, timeoutMs: 1000 });
    for (let i = 0; i < 10; i++) rig.browser.images.set(makeItem(i).poster!.path, { ok: true, value: { contentType: 'image/png', bytes: png(3_000, i) } });
    for (let i = 0; i < 3; i++) await cache.get(id, `item-${i}`, 'poster', 100);
    await cache.get(id, 'item-0', 'poster', 100); // item-0 is now the most recent
    await cache.get(id, 'item-3', 'poster', 100); // over the cap: item-1 (least recent) goes
    expect(cache.size).toBeLessThanOrEqual(10_000);
    expect(cache.count).toBe(3);
    const before = rig.browser.calls.filter((c) => c.method === 'image').length;
    await cache.get(id, 'item-0', 'poster', 100);
    expect(rig.browser.calls.filter((c) => c.method === 'image')).toHaveLength(before);
    await cache.get(id, 'item-1', 'poster', 100);
    expect(rig.browser.calls.filter((c) => c.method === 'image')).toHaveLength(before + 1);
    for (let i = 0; i < 10; i++) await cache.get(id, `item-${i}`, 'poster', 100);
    await new Promise((resolve) => setTimeout(resolve, 50)); // evicted files are removed in the background
    const onDisk = readdirSync(join(rig.dataDir, 'small-cache')).filter((f) => f.endsWith('.img')).reduce((sum, f) => sum + statSync(join(rig.dataDir, 'small-cache', f)).size, 0);
    expect(onDisk).toBeLessThanOrEqual(10_000);

    const reopened = new ImageCache({ dir: join(rig.dataDir, 'small-cache'), maxBytes: 10_000, engine: rig.engine, caller: { call: () => Promise.reject(new Error('must not be asked')) }, cache: rig.store.libraryCache, clock: rig.clock, timeoutMs: 1000 });
    expect(reopened.count).toBe(3);
    expect(await reopened.get(id, 'item-9', 'poster', 100)).toMatchObject({ ok: true, contentType: 'image/png' });
  });
});
