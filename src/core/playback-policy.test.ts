// What Chromium plays and the quality per route (issue 15): table tests.
import { describe, expect, it } from 'vitest';
import { browserPlays, pastWatchedMark, plexLocation, qualityForRoute, RELAY_MAX_KBPS } from './playback-policy.js';

describe('browserPlays', () => {
  it.each([
    ['mp4', 'h264', 'aac', true],
    ['mov,mp4,m4a,3gp,3g2,mj2', 'h264', 'aac', true],
    ['webm', 'vp9', 'opus', true],
    ['mp4', 'av1', 'opus', true],
    ['mpegts', 'h264', 'mp3', true],
    ['mp4', 'avc1', 'mpeg4audio', true],
    ['mp4', 'h264', 'flac', true],
    ['mkv', 'hevc', 'ac3', false],
    ['mp4', 'hevc', 'aac', false],
    ['mp4', 'h264', 'ac3', false],
    ['mp4', 'h264', 'eac3', false],
    ['mp4', 'h264', 'dts', false],
    ['mkv', 'h264', 'aac', false],
    ['avi', 'h264', 'aac', false],
  ] as const)('%s %s %s → %s', (container, videoCodec, audioCodec, plays) => {
    expect(browserPlays({ container, videoCodec, audioCodec })).toBe(plays);
  });

  it('plays audio-only files in its audio codecs, not others', () => {
    expect(browserPlays({ container: 'm4a', videoCodec: null, audioCodec: 'aac' })).toBe(true);
    expect(browserPlays({ container: 'flac', videoCodec: null, audioCodec: 'flac' })).toBe(true);
    expect(browserPlays({ container: 'mp4', videoCodec: null, audioCodec: 'ac3' })).toBe(false);
  });

  it('refuses what it cannot know', () => {
    expect(browserPlays({ container: null, videoCodec: 'h264', audioCodec: 'aac' })).toBe(false);
    expect(browserPlays({ container: 'mp4', videoCodec: null, audioCodec: null })).toBe(false);
  });
});

describe('qualityForRoute', () => {
  it.each([
    ['plex', 'local', null],
    ['plex', 'remote', null],
    ['plex', 'relay', RELAY_MAX_KBPS],
    ['jellyfin', 'local', null],
    ['jellyfin', 'remote', null],
    ['plex', null, null],
  ] as const)('%s on %s → cap %s', (kind, route, cap) => {
    const q = qualityForRoute(kind, route);
    expect(q.maxBitrateKbps).toBe(cap);
    expect(q.reason === null).toBe(cap === null);
  });

  it('says why a relay is capped, in words', () => {
    expect(qualityForRoute('plex', 'relay').reason).toBe('relay: Plex caps relayed streams at 2 Mbps');
    expect(RELAY_MAX_KBPS).toBeLessThanOrEqual(2_000);
  });
});

describe('plexLocation and the watched mark', () => {
  it('is lan only on a local route', () => {
    expect(plexLocation('local')).toBe('lan');
    expect(plexLocation('remote')).toBe('wan');
    expect(plexLocation('relay')).toBe('wan');
  });
  it('is at 90 % of a known duration', () => {
    expect(pastWatchedMark(89_999, 100_000)).toBe(false);
    expect(pastWatchedMark(90_000, 100_000)).toBe(true);
    expect(pastWatchedMark(90_000, null)).toBe(false);
    expect(pastWatchedMark(0, 0)).toBe(false);
  });
});
