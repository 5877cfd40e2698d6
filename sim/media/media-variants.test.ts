// Config `mediaVariants`: chosen items play another clip than their generated one (the ~3 Mbps
// H.264 clip for throughput benches), through the same catalog the part and stream URLs use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimConfigSchema } from '../config.js';
import { createSimulation, ensureClips, fallbackPlayables, type ClipSet, type Simulation } from '../index.js';
import { smallConfig } from '../test-fixtures.js';
import { rawGet } from './test-helpers.js';

let sim: Simulation;
let clips: ClipSet;
const [jellyfinItem] = fallbackPlayables('jellyfin', 'jf');

beforeAll(async () => {
  clips = await ensureClips();
  const config = smallConfig();
  config.servers = (config.servers ?? []).map((s) =>
    s.id === 'plex-a' ? { ...s, mediaVariants: { '100000000': 'h264-aac-high' } } : s.id === 'jf' ? { ...s, mediaVariants: { [jellyfinItem!.itemId]: 'h264-aac-high' } } : s,
  );
  sim = await createSimulation(config);
}, 180_000);
afterAll(() => sim?.close());

describe('mediaVariants', () => {
  it('a listed Plex item serves the high-bitrate clip at its part URL; its neighbour keeps its own', async () => {
    const media = sim.server('plex-a').media;
    expect(media.catalog.playable('100000000')?.variant).toBe('h264-aac-high');
    expect(media.catalog.playableByPart?.('1000000002')?.variant).toBe('h264-aac-high');
    expect(media.catalog.playable('100001000')?.variant).toBe('h264-aac');
    const base = sim.servers.find((s) => s.id === 'plex-a')!.routes[0]!.url;
    const token = sim.plexTv.serverToken('plex-a');
    const high = await rawGet(`${base}/library/parts/1000000002/1/file.mp4`, { 'X-Plex-Token': token, Range: 'bytes=0-0' });
    expect(high.status).toBe(206);
    expect(high.headers['content-range']).toBe(`bytes 0-0/${clips.files['h264-aac-high'].size}`);
    const plain = await rawGet(`${base}/library/parts/1000010002/1/file.mp4`, { 'X-Plex-Token': token, Range: 'bytes=0-0' });
    expect(plain.headers['content-range']).toBe(`bytes 0-0/${clips.files['h264-aac'].size}`);
  });

  it('a listed Jellyfin item plays the high-bitrate clip', () => {
    expect(jellyfinItem!.variant).not.toBe('h264-aac-high');
    expect(sim.server('jf').media.catalog.playable(jellyfinItem!.itemId)?.variant).toBe('h264-aac-high');
  });

  it('the config refuses an unknown clip and a key that is not the server kind\'s item id', () => {
    const base = smallConfig();
    const withVariants = (id: string, variants: Record<string, string>) => ({ ...base, servers: (base.servers ?? []).map((s) => (s.id === id ? { ...s, mediaVariants: variants } : s)) });
    expect(SimConfigSchema.safeParse(withVariants('plex-a', { '100000000': 'h264-aac-high' })).success).toBe(true);
    expect(SimConfigSchema.safeParse(withVariants('plex-a', { '100000000': 'vp9-opus' })).success).toBe(false);
    expect(SimConfigSchema.safeParse(withVariants('plex-a', { abc: 'h264-aac' })).success).toBe(false);
    expect(SimConfigSchema.safeParse(withVariants('jf', { '100000000': 'h264-aac' })).success).toBe(false);
  });
});
