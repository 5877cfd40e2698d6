// The test clips the simulated servers play, made with Debian's ffmpeg once and cached on disk.
// Built in a private temp dir and renamed into place, so parallel test workers (or processes)
// never see half a clip: whoever renames first wins, the others reuse its result.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SimMediaVariant } from '../media-catalog.js';

const run = promisify(execFile);

export const FFMPEG = process.env.MARQUEE_FFMPEG ?? '/usr/bin/ffmpeg';

/** Everything that shapes the clips; its hash names the cache dir, so a change rebuilds them. */
export const CLIP_PARAMS = {
  durationSec: 180,
  width: 426,
  height: 240,
  fps: 24,
  videoKbps: 300,
  /** The `h264-aac-high` clip: constant bitrate (filler data), above any Plex relay cap. */
  highVideoKbps: 3_000,
  audioKbps: 96,
  hlsSegmentSec: 4,
  version: 1,
} as const;

export interface ClipFile {
  variant: SimMediaVariant;
  path: string;
  /** File name a server would report (`container` is its extension). */
  fileName: string;
  container: 'mp4' | 'mkv' | 'm4a';
  mimeType: string;
  videoCodec: 'h264' | 'hevc' | null;
  audioCodec: 'aac' | 'ac3';
  size: number;
  /** Whole-file bitrate in bits/s (size × 8 / duration). */
  bitrate: number;
  durationMs: number;
  /** Strong validator derived from size and mtime, like most static file servers. */
  etag: string;
  lastModified: Date;
}

export interface HlsSegment {
  index: number;
  path: string;
  size: number;
  durationSec: number;
  /** Where the segment starts in the clip. */
  startSec: number;
}

export interface ClipSet {
  dir: string;
  files: Record<SimMediaVariant, ClipFile>;
  /** 4-second MPEG-TS segments cut (`-c copy`) from the H.264 clip: what every "transcode" serves. */
  hls: HlsSegment[];
  /** WebVTT, one cue every 10 s. */
  subtitles: { path: string; size: number; mimeType: string; etag: string; lastModified: Date };
  /** Seconds the last build took in this process (undefined: found in the cache). */
  builtInSec: number | undefined;
}

export class FfmpegMissingError extends Error {
  constructor(path: string) {
    super(`ffmpeg not found at ${path}: the simulated media needs Debian's ffmpeg (apt-get install ffmpeg; .ci/run installs it)`);
    this.name = 'FfmpegMissingError';
  }
}

export function clipCacheDir(): string {
  const hash = createHash('sha256').update(JSON.stringify(CLIP_PARAMS)).digest('hex').slice(0, 12);
  const root = process.env.MARQUEE_SIM_MEDIA_CACHE ?? process.env.XDG_CACHE_HOME ?? tmpdir();
  return join(root, `marquee-sim-media-${hash}`);
}

let pending: Promise<ClipSet> | undefined;

/** The clips, generated on first need (≈10–20 s on a busy 2-core machine), then reused. */
export function ensureClips(): Promise<ClipSet> {
  pending ??= loadOrBuild().catch((err: unknown) => {
    pending = undefined; // a later call may retry (e.g. after ffmpeg is installed)
    throw err;
  });
  return pending;
}

async function loadOrBuild(): Promise<ClipSet> {
  const dir = clipCacheDir();
  if (existsSync(join(dir, 'manifest.json'))) return describe(dir, undefined);
  if (!existsSync(FFMPEG)) throw new FfmpegMissingError(FFMPEG);
  const started = performance.now();
  await mkdir(join(dir, '..'), { recursive: true });
  const work = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(join(work, 'hls'), { recursive: true });
  try {
    await build(work);
    await rename(work, dir);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    // Another process finished first: its clips are as good as ours.
    if (!existsSync(join(dir, 'manifest.json'))) throw err;
  }
  return describe(dir, (performance.now() - started) / 1000);
}

async function build(work: string): Promise<void> {
  const p = CLIP_PARAMS;
  const video = ['-f', 'lavfi', '-i', `testsrc2=size=${p.width}x${p.height}:rate=${p.fps}:duration=${p.durationSec}`];
  const audio = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${p.durationSec}`];
  // A keyframe every 2 s so the 4-second HLS cut lands on keyframes.
  const gop = ['-g', String(p.fps * 2), '-keyint_min', String(p.fps * 2), '-sc_threshold', '0'];
  const ff = (args: string[]) => run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
  await Promise.all([
    ff([...video, ...audio, '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', `${p.videoKbps}k`, '-maxrate', `${p.videoKbps * 1.5}k`, '-bufsize', `${p.videoKbps * 2}k`, '-pix_fmt', 'yuv420p', ...gop,
      '-c:a', 'aac', '-b:a', `${p.audioKbps}k`, '-movflags', '+faststart', '-shortest', join(work, 'h264-aac.mp4')]),
    // HEVC + AC-3 in Matroska: neither codec nor container plays in Chromium, so this forces a transcode.
    ff([...video, ...audio, '-c:v', 'libx265', '-preset', 'ultrafast', '-b:v', `${p.videoKbps}k`, '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p',
      '-c:a', 'ac3', '-b:a', `${p.audioKbps}k`, '-shortest', join(work, 'hevc-ac3.mkv')]),
    ff([...audio, '-c:a', 'aac', '-b:a', `${p.audioKbps}k`, '-movflags', '+faststart', join(work, 'audio-aac.m4a')]),
  ]);
  // The same picture at a constant ~3 Mbps (x264's CBR pads with filler): a file whose bitrate
  // alone decides "direct play or transcode" against a cap. Encoded after the others: 2 cores.
  const high = p.highVideoKbps;
  await ff([...video, ...audio, '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', `${high}k`, '-minrate', `${high}k`, '-maxrate', `${high}k`, '-bufsize', `${high}k`, '-x264-params', 'nal-hrd=cbr',
    '-pix_fmt', 'yuv420p', ...gop, '-c:a', 'aac', '-b:a', `${p.audioKbps}k`, '-movflags', '+faststart', '-shortest', join(work, 'h264-aac-high.mp4')]);
  await ff(['-i', join(work, 'h264-aac.mp4'), '-c', 'copy', '-f', 'hls', '-hls_time', String(p.hlsSegmentSec), '-hls_list_size', '0', '-hls_playlist_type', 'vod',
    '-hls_segment_filename', join(work, 'hls', '%d.ts'), join(work, 'hls', 'index.m3u8')]);
  await writeFile(join(work, 'subtitles.vtt'), subtitlesVtt(p.durationSec));
  await writeFile(join(work, 'manifest.json'), JSON.stringify({ params: CLIP_PARAMS, builtAt: new Date().toISOString() }));
}

/** One cue every 10 s, saying where in the clip it is: easy to check on screen. */
export function subtitlesVtt(durationSec: number): string {
  const stamp = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000`;
  const cues = [];
  for (let s = 0; s < durationSec; s += 10) cues.push(`${s / 10 + 1}\n${stamp(s)} --> ${stamp(Math.min(s + 5, durationSec))}\nSimulated subtitle at ${s} s`);
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

async function describe(dir: string, builtInSec: number | undefined): Promise<ClipSet> {
  const p = CLIP_PARAMS;
  const file = async (variant: SimMediaVariant, fileName: string, container: ClipFile['container'], mimeType: string, videoCodec: ClipFile['videoCodec'], audioCodec: ClipFile['audioCodec']): Promise<ClipFile> => {
    const path = join(dir, fileName);
    const info = await stat(path);
    const durationMs = p.durationSec * 1000;
    return {
      variant, path, fileName, container, mimeType, videoCodec, audioCodec,
      size: info.size,
      bitrate: Math.round((info.size * 8) / p.durationSec),
      durationMs,
      etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
      lastModified: info.mtime,
    };
  };
  const files = {
    'h264-aac': await file('h264-aac', 'h264-aac.mp4', 'mp4', 'video/mp4', 'h264', 'aac'),
    'hevc-ac3': await file('hevc-ac3', 'hevc-ac3.mkv', 'mkv', 'video/x-matroska', 'hevc', 'ac3'),
    'audio-aac': await file('audio-aac', 'audio-aac.m4a', 'm4a', 'audio/mp4', null, 'aac'),
    'h264-aac-high': await file('h264-aac-high', 'h264-aac-high.mp4', 'mp4', 'video/mp4', 'h264', 'aac'),
  };
  const playlist = await readFile(join(dir, 'hls', 'index.m3u8'), 'utf8');
  const hls: HlsSegment[] = [];
  let startSec = 0;
  let duration = 0;
  for (const line of playlist.split('\n')) {
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    else if (/^\d+\.ts$/.test(line.trim())) {
      const path = join(dir, 'hls', line.trim());
      hls.push({ index: hls.length, path, size: (await stat(path)).size, durationSec: duration, startSec });
      startSec += duration;
    }
  }
  const vtt = await stat(join(dir, 'subtitles.vtt'));
  const subtitles = { path: join(dir, 'subtitles.vtt'), size: vtt.size, mimeType: 'text/vtt; charset=utf-8', etag: `"vtt-${vtt.size.toString(16)}"`, lastModified: vtt.mtime };
  return { dir, files, hls, subtitles, builtInSec };
}
