// MediaFetcher's body (issue 15, direct play): undici's own stream with one stall watchdog per body.
// A consumer that stops reading is never a stall; a server that stops sending while a read is asked
// for is, within stallMs; failures reach any reader (here a plain for-await) as MediaReadErrors; a
// body read to its end leaves its connection in the keep-alive pool.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaFake } from '../../test/support/media-fake.js';
import { MediaFetcher } from './media.js';
import { MediaReadError, type MediaResponse } from './types.js';

const FILE = randomBytes(2 * 1024 * 1024 + 7);
const STALL_MS = 300;

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function openFile(file: Buffer = FILE) {
  const fake = await MediaFake.start(file);
  const fetcher = new MediaFetcher();
  cleanups.push(() => fake.close(), () => fetcher.close());
  const open = async (): Promise<MediaResponse> => {
    const opened = await fetcher.open(`${fake.url}/file.mp4`, { 'x-plex-token': 'token-0123456789' }, { start: 0 }, { timeoutMs: 3_000, stallMs: STALL_MS });
    if (!opened.ok) throw new Error(opened.error.message);
    return opened.value;
  };
  return { fake, open };
}

/** Reads with a plain for-await (not the byte proxy's event path); `pauseAfter` bytes in, waits `pauseMs`. */
async function readAll(response: MediaResponse, pauseAfter = Infinity, pauseMs = 0): Promise<{ bytes: Buffer; error: unknown; lastByteAt: number }> {
  const chunks: Buffer[] = [];
  let got = 0;
  let paused = false;
  let lastByteAt = Date.now();
  try {
    for await (const chunk of response.body) {
      chunks.push(Buffer.from(chunk));
      got += chunk.length;
      lastByteAt = Date.now();
      if (!paused && got >= pauseAfter) {
        paused = true;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
    return { bytes: Buffer.concat(chunks), error: null, lastByteAt };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error, lastByteAt };
  }
}

describe('media body: one stall watchdog, undici stream as is', () => {
  it('a reader that stops for several stall periods is not a stall: every byte, no error', async () => {
    const { fake, open } = await openFile();
    const got = await readAll(await open(), 256 * 1024, STALL_MS * 4);
    expect(got.error).toBeNull();
    expect(got.bytes.equals(FILE)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('a server that stops sending mid-body is a stall within stallMs: a MediaReadError (timeout), the connection dropped', async () => {
    const { fake, open } = await openFile();
    fake.fault = { mode: 'hang_after', bytes: 700 * 1024 };
    const response = await open();
    const got = await readAll(response);
    const detectedAfter = Date.now() - got.lastByteAt;
    expect(got.error).toBeInstanceOf(MediaReadError);
    expect((got.error as MediaReadError).error.code).toBe('timeout');
    expect((got.error as MediaReadError).message).toMatch(/sent nothing for 0\.3 s mid-stream|sent nothing for .* mid-stream/);
    expect(got.bytes.equals(FILE.subarray(0, got.bytes.length))).toBe(true);
    expect(detectedAfter).toBeGreaterThanOrEqual(STALL_MS - 50);
    expect(detectedAfter).toBeLessThan(STALL_MS * 4);
  });

  it('a connection reset mid-body reaches the reader as a MediaReadError in words', async () => {
    const { fake, open } = await openFile();
    fake.fault = { mode: 'reset_after', bytes: 512 * 1024 };
    const got = await readAll(await open());
    expect(got.error).toBeInstanceOf(MediaReadError);
    expect((got.error as MediaReadError).error.code).toBe('refused');
    expect(got.bytes.length).toBeLessThan(FILE.length);
  });

  it('bodies read to their end reuse their connections', async () => {
    const { fake, open } = await openFile();
    for (let i = 0; i < 6; i++) expect((await readAll(await open())).bytes.equals(FILE)).toBe(true);
    expect(fake.requests).toHaveLength(6);
    // A pool, not a connection per request (the next open may start before the last one is handed back).
    expect(fake.connections).toBeLessThanOrEqual(2);
  });
});
