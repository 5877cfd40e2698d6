// Real, deterministic image bytes for simulated posters and backdrops: a PNG (node:zlib) drawn from
// two colours derived from the item, at the size asked (bounded), plus a BlurHash of the same
// picture for Jellyfin's ImageBlurHashes. A few KB each; recently drawn images are kept in memory.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export const MAX_IMAGE_SIDE = 1500;
const CACHE_ENTRIES = 256;

export interface ImageRequest {
  /** Any stable text naming the picture (server, item, image kind). */
  seed: string;
  /** Natural size when nothing is asked. */
  width: number;
  height: number;
  maxWidth?: number | undefined;
  maxHeight?: number | undefined;
}

export interface SimImage {
  body: Buffer;
  contentType: 'image/png';
  etag: string;
  width: number;
  height: number;
}

interface Palette {
  a: [number, number, number];
  b: [number, number, number];
  stripes: number;
}

function palette(seed: string): Palette {
  const d = createHash('sha256').update(seed).digest();
  return { a: [d[0]!, d[1]!, d[2]!], b: [d[3]!, d[4]!, d[5]!], stripes: 3 + (d[6]! % 6) };
}

/**
 * The picture as a function: a vertical gradient between two colours, posterised into bands, with
 * a few darker vertical stripes. Rows are runs of one colour, so a poster deflates to a few KB.
 */
function pixel(p: Palette, u: number, v: number): [number, number, number] {
  const t = Math.floor(v * 24) / 24;
  const stripe = Math.floor(u * p.stripes * 2) % 2 === 0 ? 1 : 0.8;
  return [0, 1, 2].map((c) => Math.round((p.a[c]! * (1 - t) + p.b[c]! * t) * stripe)) as [number, number, number];
}

/** Fits the natural size into maxWidth/maxHeight (keeping the aspect), never above MAX_IMAGE_SIDE. */
export function fitSize(width: number, height: number, maxWidth?: number, maxHeight?: number): { width: number; height: number } {
  let scale = 1;
  if (maxWidth && maxWidth > 0) scale = Math.min(scale, maxWidth / width);
  if (maxHeight && maxHeight > 0) scale = Math.min(scale, maxHeight / height);
  scale = Math.min(scale, MAX_IMAGE_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Scaled-up requests (width above the natural size) are allowed up to the bound, as Plex's minSize does. */
export function targetSize(req: ImageRequest): { width: number; height: number } {
  if (req.maxWidth && req.maxHeight && req.maxWidth > 0 && req.maxHeight > 0) {
    // Both given: fit the natural aspect inside the box, scaling up if the box is larger.
    const scale = Math.min(req.maxWidth / req.width, req.maxHeight / req.height, MAX_IMAGE_SIDE / Math.max(req.width, req.height));
    return { width: Math.max(1, Math.round(req.width * scale)), height: Math.max(1, Math.round(req.height * scale)) };
  }
  return fitSize(req.width, req.height, req.maxWidth, req.maxHeight);
}

const cache = new Map<string, SimImage>();

export function renderImage(req: ImageRequest): SimImage {
  const { width, height } = targetSize(req);
  const cacheKey = `${req.seed}|${width}x${height}`;
  const hit = cache.get(cacheKey);
  if (hit) {
    cache.delete(cacheKey);
    cache.set(cacheKey, hit);
    return hit;
  }
  const p = palette(req.seed);
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const line = Buffer.alloc(stride);
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(p, x / width, y / height);
      line[x * 3] = r;
      line[x * 3 + 1] = g;
      line[x * 3 + 2] = b;
    }
    // PNG filter "Up": a row equal to the one above becomes zeros, which deflate to almost nothing.
    const row = y * (stride + 1);
    raw[row] = 2;
    for (let i = 0; i < stride; i++) raw[row + 1 + i] = (line[i]! - previous[i]! + 256) & 0xff;
    previous = line;
  }
  const body = encodePng(width, height, raw);
  const image: SimImage = { body, contentType: 'image/png', etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"`, width, height };
  cache.set(cacheKey, image);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return image;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

function encodePng(width: number, height: number, raw: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  header[10] = 0;
  header[11] = 0;
  header[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}

// --- BlurHash (https://github.com/woltapp/blurhash, the reference algorithm) ---------------------

const BASE83 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

function encode83(value: number, length: number): string {
  let out = '';
  for (let i = 1; i <= length; i++) out += BASE83[Math.floor(value / 83 ** (length - i)) % 83];
  return out;
}

const sRgbToLinear = (v: number) => {
  const x = v / 255;
  return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
};
const linearToSRgb = (v: number) => {
  const x = Math.max(0, Math.min(1, v));
  return x <= 0.0031308 ? Math.round(x * 12.92 * 255 + 0.5) : Math.round((1.055 * x ** (1 / 2.4) - 0.055) * 255 + 0.5);
};
const signPow = (v: number, e: number) => Math.sign(v) * Math.abs(v) ** e;

const hashCache = new Map<string, string>();

/** A valid BlurHash (4×3 components) of the same picture renderImage draws for `seed`. */
export function blurHash(seed: string, aspect: number, componentsX = 4, componentsY = 3): string {
  const cached = hashCache.get(`${seed}|${aspect}`);
  if (cached) return cached;
  const p = palette(seed);
  // A coarse sampling is plenty for a placeholder and keeps a 100-item page cheap.
  const w = 12;
  const h = Math.max(4, Math.round(12 / aspect));
  const factors: [number, number, number][] = [];
  for (let j = 0; j < componentsY; j++) {
    for (let i = 0; i < componentsX; i++) {
      const normalisation = i === 0 && j === 0 ? 1 : 2;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const basis = normalisation * Math.cos((Math.PI * i * x) / w) * Math.cos((Math.PI * j * y) / h);
          const [pr, pg, pb] = pixel(p, x / w, y / h);
          r += basis * sRgbToLinear(pr);
          g += basis * sRgbToLinear(pg);
          b += basis * sRgbToLinear(pb);
        }
      }
      const scale = 1 / (w * h);
      factors.push([r * scale, g * scale, b * scale]);
    }
  }
  const [dc, ...ac] = factors as [[number, number, number], ...[number, number, number][]];
  let hash = encode83(componentsX - 1 + (componentsY - 1) * 9, 1);
  let maxValue = 1;
  if (ac.length > 0) {
    const actualMax = Math.max(...ac.map((f) => Math.max(Math.abs(f[0]), Math.abs(f[1]), Math.abs(f[2]))));
    const quantisedMax = Math.floor(Math.max(0, Math.min(82, Math.floor(actualMax * 166 - 0.5))));
    maxValue = (quantisedMax + 1) / 166;
    hash += encode83(quantisedMax, 1);
  } else hash += encode83(0, 1);
  hash += encode83((linearToSRgb(dc[0]) << 16) + (linearToSRgb(dc[1]) << 8) + linearToSRgb(dc[2]), 4);
  for (const f of ac) {
    const q = (v: number) => Math.floor(Math.max(0, Math.min(18, Math.floor(signPow(v / maxValue, 0.5) * 9 + 9.5))));
    hash += encode83(q(f[0]) * 19 * 19 + q(f[1]) * 19 + q(f[2]), 2);
  }
  hashCache.set(`${seed}|${aspect}`, hash);
  if (hashCache.size > 20_000) hashCache.delete(hashCache.keys().next().value as string);
  return hash;
}
