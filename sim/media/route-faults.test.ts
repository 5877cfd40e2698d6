import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, ensureClips, fallbackPlayables, type ClipSet, type Simulation } from '../index.js';
import { smallConfig } from '../test-fixtures.js';
import { rawGet } from './test-helpers.js';

let sim: Simulation;
let clips: ClipSet;
let partUrl: string;
let token: Record<string, string>;
const [h264] = fallbackPlayables('plex', 'plex-a');

beforeAll(async () => {
  clips = await ensureClips();
  sim = await createSimulation(smallConfig());
  const base = sim.servers.find((s) => s.id === 'plex-a')!.routes[0]!.url;
  partUrl = `${base}/library/parts/${h264!.partId}/1700000000/file.mp4`;
  token = { 'X-Plex-Token': sim.plexTv.serverToken('plex-a') };
}, 180_000);
afterAll(() => sim?.close());

describe('route fault: cut', () => {
  it('cuts every body after N bytes (new connections too) until the mode changes', async () => {
    const route = sim.route('plex-a-local');
    await route.fault({ mode: 'cut', afterBytes: 100_000 });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await rawGet(partUrl, token);
        expect(res.status).toBe(200);
        expect(Number(res.headers['content-length'])).toBe(clips.files['h264-aac'].size);
        expect(res.cutShort).toBe(true);
        expect(res.body.length).toBe(100_000);
      }
      // Small JSON answers are cut too.
      const small = await rawGet(`${route.url}/identity`, { Accept: 'application/json' });
      expect(small.body.length).toBeLessThanOrEqual(100_000);
    } finally {
      await route.fault({ mode: 'up' });
    }
    const whole = await rawGet(partUrl, token);
    expect(whole.cutShort).toBe(false);
    expect(whole.body.length).toBe(clips.files['h264-aac'].size);
  });

  it('cuts a transfer already under way when the mode is set mid-stream', async () => {
    const route = sim.route('plex-a-local');
    await route.fault({ mode: 'throttle', bytesPerSecond: 500_000 });
    try {
      const pending = rawGet(partUrl, token);
      await new Promise((r) => setTimeout(r, 500));
      await route.fault({ mode: 'cut', afterBytes: 10_000 });
      const res = await pending;
      expect(res.cutShort).toBe(true);
      // ~250 kB sent while throttled, then at most 10 kB more.
      expect(res.body.length).toBeGreaterThan(100_000);
      expect(res.body.length).toBeLessThan(600_000);
    } finally {
      await route.fault({ mode: 'up' });
    }
  });
});

describe('route fault: throttle', () => {
  it('caps a connection at bytesPerSecond (measured), and lifts at once', async () => {
    const route = sim.route('plex-a-local');
    const size = 600_000;
    const unthrottled = await rawGet(partUrl, { ...token, Range: `bytes=0-${size - 1}` });
    await route.fault({ mode: 'throttle', bytesPerSecond: 200_000 });
    let res;
    try {
      res = await rawGet(partUrl, { ...token, Range: `bytes=0-${size - 1}` });
    } finally {
      await route.fault({ mode: 'up' });
    }
    expect(res.body.length).toBe(size);
    expect(res.body.equals(unthrottled.body)).toBe(true);
    const rate = size / (res.ms / 1000);
    console.log(`throttle 200000 B/s: measured ${Math.round(rate)} B/s over ${Math.round(res.ms)} ms; unthrottled ${Math.round(unthrottled.ms)} ms`);
    expect(rate).toBeLessThanOrEqual(200_000 * 1.1);
    expect(rate).toBeGreaterThan(200_000 * 0.6);
  });

  it('applies a new rate to a body already under way, and lifts it there too (the playback-stall bench steers it live)', async () => {
    const route = sim.route('plex-a-local');
    const size = 2_500_000;
    await route.fault({ mode: 'throttle', bytesPerSecond: 1_000_000 });
    /** Bytes received by the time of each mark, read as they arrive. */
    const received: { at: number; bytes: number }[] = [];
    let total = 0;
    const done = new Promise<void>((resolve, reject) => {
      const req = http.request(partUrl, { headers: { ...token, Range: `bytes=0-${size - 1}` }, agent: false }, (res) => {
        res.on('data', (c: Buffer) => {
          total += c.length;
          received.push({ at: performance.now(), bytes: total });
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      setTimeout(() => req.destroy(new Error('the throttled body did not finish within 15 s')), 15_000).unref();
      req.end();
    });
    const bytesBy = (t: number) => received.filter((r) => r.at <= t).at(-1)?.bytes ?? 0;
    try {
      await new Promise((r) => setTimeout(r, 400));
      const slowedAt = performance.now();
      await route.fault({ mode: 'throttle', bytesPerSecond: 100_000 });
      await new Promise((r) => setTimeout(r, 1_300));
      const liftedAt = performance.now();
      await route.fault({ mode: 'up' });
      await done;
      // Skip the first 200 ms after the change (pieces already written), then one second at the new rate.
      const slowed = bytesBy(slowedAt + 1_200) - bytesBy(slowedAt + 200);
      console.log(`throttle 1,000,000 → 100,000 B/s mid-body: ${slowed} B in the 1 s window; before the change ${bytesBy(slowedAt)} B; the rest ${size - bytesBy(liftedAt)} B in ${Math.round(received.at(-1)!.at - liftedAt)} ms after the lift`);
      expect(total).toBe(size);
      expect(bytesBy(slowedAt)).toBeGreaterThan(200_000); // it ran at ~1 MB/s before
      expect(slowed).toBeLessThanOrEqual(100_000 * 1.3);
      expect(slowed).toBeGreaterThan(100_000 * 0.5);
      // Lifted mid-body: the remaining ~1.8 MB come at loopback speed, not at 100 kB/s (18 s).
      expect(received.at(-1)!.at - liftedAt).toBeLessThan(2_000);
    } finally {
      await route.fault({ mode: 'up' });
    }
  });
});
