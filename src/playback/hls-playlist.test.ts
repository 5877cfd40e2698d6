// Playlist rewriting (issue 15): every URI becomes a Marquee name, no token and no upstream host
// survives, and hostile playlists are refused in words or lose only what points elsewhere.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLAYLIST_LIMITS, rewritePlaylist, sequenceAt, upstreamPathOf } from './hls-playlist.js';

const ORIGINS = ['http://192.168.1.20:8096', 'https://jf.example.org'];
const TOKEN = 'sekret0123456789abcdef';

const JELLYFIN_MASTER = `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=360000,RESOLUTION=426x240,CODECS="avc1.64001e,mp4a.40.2"
main.m3u8?DeviceId=d1&MediaSourceId=abc&PlaySessionId=ps1&ApiKey=${TOKEN}
`;
const JELLYFIN_MEDIA = `#EXTM3U
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:15
#EXTINF:4.000000, nodesc ${TOKEN}
hls1/main/15.ts?PlaySessionId=ps1&api_key=${TOKEN}
#EXTINF:4.000000, nodesc
hls1/main/16.ts?PlaySessionId=ps1&api_key=${TOKEN}
#EXT-X-ENDLIST
`;
const PLEX_MASTER = `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=360000
session/abc123/base/index.m3u8
`;

describe('rewritePlaylist', () => {
  it('rewrites a Jellyfin master: one variant, token gone, query kept', () => {
    const r = rewritePlaylist({ text: JELLYFIN_MASTER, upstreamPath: '/videos/x/master.m3u8?PlaySessionId=ps1', name: 'master.m3u8', serverOrigins: ORIGINS });
    expect(r.ok && r.kind).toBe('master');
    if (!r.ok) return;
    expect(r.text).toBe('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=360000,RESOLUTION=426x240,CODECS="avc1.64001e,mp4a.40.2"\np0.m3u8\n');
    expect(r.entries).toEqual([{ name: 'p0.m3u8', upstreamPath: '/videos/x/main.m3u8?DeviceId=d1&MediaSourceId=abc&PlaySessionId=ps1', kind: 'playlist' }]);
  });

  it('rewrites a Jellyfin media playlist: segments named by sequence, titles and tokens dropped', () => {
    const r = rewritePlaylist({ text: JELLYFIN_MEDIA, upstreamPath: '/videos/x/main.m3u8?PlaySessionId=ps1', name: 'p0.m3u8', serverOrigins: ORIGINS });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.kind).toBe('media');
    expect(r.text).not.toContain(TOKEN);
    expect(r.text.trim().split('\n')).toEqual([
      '#EXTM3U', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:4', '#EXT-X-MEDIA-SEQUENCE:15',
      '#EXTINF:4.000000,', 'p0-15.ts', '#EXTINF:4.000000,', 'p0-16.ts', '#EXT-X-ENDLIST',
    ]);
    expect(r.entries.map((e) => e.upstreamPath)).toEqual(['/videos/x/hls1/main/15.ts?PlaySessionId=ps1', '/videos/x/hls1/main/16.ts?PlaySessionId=ps1']);
    expect(r.mediaSequence).toBe(15);
    expect(r.segmentDurations).toEqual([4, 4]);
  });

  it('resolves Plex relative session URIs against the playlist', () => {
    const r = rewritePlaylist({ text: PLEX_MASTER, upstreamPath: '/video/:/transcode/universal/start.m3u8?session=abc123&X-Plex-Token=t', name: 'master.m3u8', serverOrigins: ORIGINS });
    expect(r.ok && r.entries).toEqual([{ name: 'p0.m3u8', upstreamPath: '/video/:/transcode/universal/session/abc123/base/index.m3u8', kind: 'playlist' }]);
  });

  it.each([
    ['absolute URI on the server’s own origin: kept as a path', 'https://jf.example.org/videos/x/seg1.ts?ApiKey=t', { ok: true, path: '/videos/x/seg1.ts' }],
    ['root-relative URI', '/videos/x/seg1.ts', { ok: true, path: '/videos/x/seg1.ts' }],
    ['dot segments stay on the server', '../../../etc/passwd', { ok: true, path: '/etc/passwd' }],
    ['another host', 'http://evil.example/seg.ts', { ok: false }],
    ['protocol-relative other host', '//evil.example/seg.ts', { ok: false }],
    ['a data: URI', 'data:text/plain,hi', { ok: false }],
    ['spaces', 'a b.ts', { ok: false }],
  ])('upstreamPathOf: %s', (_what, uri, expected) => {
    expect(upstreamPathOf(uri, '/videos/x/main.m3u8', ORIGINS)).toMatchObject(expected);
  });

  it('keys and init maps become Marquee names in the allow-list', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4?api_key=t"\n#EXT-X-KEY:METHOD=AES-128,URI="https://jf.example.org/k/1?api_key=t",IV=0x1\n#EXTINF:4,\nseg0.m4s\n#EXT-X-ENDLIST\n';
    const r = rewritePlaylist({ text, upstreamPath: '/v/main.m3u8', name: 'p0.m3u8', serverOrigins: ORIGINS });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.text).toContain('#EXT-X-MAP:URI="p0-map0.mp4"');
    expect(r.text).toContain('#EXT-X-KEY:METHOD=AES-128,URI="p0-key0.key",IV=0x1');
    expect(r.entries.map((e) => [e.name, e.upstreamPath])).toEqual([['p0-map0.mp4', '/v/init.mp4'], ['p0-key0.key', '/k/1'], ['p0-0.m4s', '/v/seg0.m4s']]);
  });

  it('drops variants and renditions on other hosts, and unknown tags', () => {
    const text = '#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="token=abc"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="http://evil.example/a.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://evil.example/v.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nv2.m3u8\n';
    const r = rewritePlaylist({ text, upstreamPath: '/v/master.m3u8', name: 'master.m3u8', serverOrigins: ORIGINS });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.dropped).toBe(2);
    expect(r.text).toBe('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\np0.m3u8\n');
  });

  it.each([
    ['empty', ''],
    ['HTML portal page', '<html><body>Sign in</body></html>'],
    ['garbage bytes', '\u0000\u0001\u0002binary'],
    ['segment on another host', '#EXTM3U\n#EXTINF:4,\nhttp://evil.example/1.ts\n'],
    ['segment without EXTINF', '#EXTM3U\n#EXT-X-TARGETDURATION:4\n1.ts\n'],
    ['EXTINF without a duration', '#EXTM3U\n#EXTINF:abc,\n1.ts\n'],
    ['variant without a URI', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n'],
    ['only variants on other hosts', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://evil.example/v.m3u8\n'],
    ['mixed master and media', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:4,\n1.ts\n'],
    ['byte ranges', '#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@0\n1.ts\n'],
    ['a huge line', `#EXTM3U\n#EXTINF:4,\n${'a'.repeat(PLAYLIST_LIMITS.maxLineLength + 1)}.ts\n`],
    ['too large', `#EXTM3U\n${'#EXTINF:4,\n1.ts\n'.repeat(Math.ceil(PLAYLIST_LIMITS.maxBytes / 14) + 1)}`],
    ['too many lines', `#EXTM3U\n${'\n'.repeat(PLAYLIST_LIMITS.maxLines)}`],
  ])('refuses %s with a message in words', (_what, text) => {
    const r = rewritePlaylist({ text, upstreamPath: '/v/main.m3u8', name: 'p0.m3u8', serverOrigins: ORIGINS });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^[a-z#].{5,}/i);
  });

  it('property: no output line holds a token, a host or an upstream path; every name is in the allow-list', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9]{16,32}$/);
    const segUri = fc.record({
      style: fc.constantFrom('relative', 'root', 'own-absolute', 'foreign-absolute'),
      file: fc.stringMatching(/^[a-z0-9]{1,8}\.(ts|m4s|aac)$/),
      param: fc.constantFrom('api_key', 'ApiKey', 'X-Plex-Token', 'api_KEY'),
    });
    fc.assert(
      fc.property(token, fc.array(segUri, { minLength: 1, maxLength: 20 }), fc.nat(1000), (secret, segs, seq) => {
        const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:4', `#EXT-X-MEDIA-SEQUENCE:${seq}`];
        for (const s of segs) {
          const q = `?${s.param}=${secret}&x=1`;
          const uri = s.style === 'relative' ? `hls/${s.file}${q}` : s.style === 'root' ? `/Videos/q/${s.file}${q}` : s.style === 'own-absolute' ? `https://jf.example.org/seg/${s.file}${q}` : `http://evil.example/${s.file}${q}`;
          lines.push(`#EXTINF:4.0, ${secret}`, uri);
        }
        lines.push('#EXT-X-ENDLIST');
        const r = rewritePlaylist({ text: lines.join('\n'), upstreamPath: `/Videos/q/main.m3u8?api_key=${secret}`, name: 'p0.m3u8', serverOrigins: ORIGINS });
        if (segs.some((s) => s.style === 'foreign-absolute')) return !r.ok;
        if (!r.ok) return false;
        const names = new Set(r.entries.map((e) => e.name));
        for (const line of r.text.split('\n')) {
          if (line.includes(secret) || /example|\/|Videos/i.test(line)) return false;
          if (line !== '' && !line.startsWith('#') && !names.has(line)) return false;
        }
        return r.entries.every((e) => !e.upstreamPath.includes(secret) && e.upstreamPath.startsWith('/')) && r.entries.length === segs.length;
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary text never throws and never echoes a foreign host', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (garbage) => {
        const r = rewritePlaylist({ text: `#EXTM3U\n${garbage}\n#EXTINF:4,\nhttp://evil.example/x.ts`, upstreamPath: '/v/p.m3u8', name: 'p0.m3u8', serverOrigins: ORIGINS });
        return !r.ok || !r.text.includes('evil.example');
      }),
      { numRuns: 300 },
    );
  });
});

describe('sequenceAt', () => {
  it.each([
    [0, 15],
    [3.9, 15],
    [4, 16],
    [7.99, 16],
    [8, null],
  ])('position %s s → segment %s', (pos, expected) => {
    expect(sequenceAt(15, [4, 4], pos)).toBe(expected);
  });
});
