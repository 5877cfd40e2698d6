import { describe, expect, it } from 'vitest';
import { bufferedSpans, connectionLine, formatBitrate, formatPlayTime, seekTarget, shortcutFor } from './player';

describe('connectionLine', () => {
  it('says the server, the route and how the stream is made', () => {
    expect(connectionLine({ sourceName: 'Living-room Plex', routeKind: 'local', method: 'direct', bitrateKbps: null, reason: null })).toBe('Living-room Plex · local · direct play');
    expect(connectionLine({ sourceName: 'Living-room Plex', routeKind: 'relay', method: 'transcode', bitrateKbps: 2000, reason: 'relay' })).toBe('Living-room Plex · relay · 2 Mbps transcode');
    expect(connectionLine({ sourceName: 'Home Jellyfin', routeKind: 'remote', method: 'transcode', bitrateKbps: null, reason: null })).toBe('Home Jellyfin · remote · transcode');
    expect(connectionLine({ sourceName: 'Home Jellyfin', routeKind: null, method: 'direct', bitrateKbps: null, reason: null })).toBe('Home Jellyfin · reconnecting… · direct play');
  });

  it('formats bitrates in kbps and Mbps', () => {
    expect(formatBitrate(720)).toBe('720 kbps');
    expect(formatBitrate(1000)).toBe('1 Mbps');
    expect(formatBitrate(1500)).toBe('1.5 Mbps');
  });
});

describe('formatPlayTime', () => {
  it('reads like a player clock', () => {
    expect(formatPlayTime(0)).toBe('0:00');
    expect(formatPlayTime(7.9)).toBe('0:07');
    expect(formatPlayTime(125)).toBe('2:05');
    expect(formatPlayTime(3725)).toBe('1:02:05');
    expect(formatPlayTime(NaN)).toBe('--:--');
    expect(formatPlayTime(Infinity)).toBe('--:--');
    expect(formatPlayTime(null)).toBe('--:--');
  });
});

describe('shortcutFor', () => {
  const body = { tagName: 'BODY' };
  it('maps space, arrows, f and m', () => {
    expect(shortcutFor({ key: ' ' }, body)).toBe('toggle-play');
    expect(shortcutFor({ key: 'ArrowLeft' }, body)).toBe('back-10');
    expect(shortcutFor({ key: 'ArrowRight' }, body)).toBe('forward-10');
    expect(shortcutFor({ key: 'f' }, body)).toBe('fullscreen');
    expect(shortcutFor({ key: 'm' }, body)).toBe('mute');
    expect(shortcutFor({ key: 'x' }, body)).toBeNull();
  });

  it('stays out of the way while typing and of the browser’s own shortcuts', () => {
    expect(shortcutFor({ key: 'f' }, { tagName: 'INPUT', inputType: 'search' })).toBeNull();
    expect(shortcutFor({ key: ' ' }, { tagName: 'INPUT', inputType: 'text' })).toBeNull();
    expect(shortcutFor({ key: 'm' }, { tagName: 'TEXTAREA' })).toBeNull();
    expect(shortcutFor({ key: 'ArrowLeft' }, { tagName: 'SELECT' })).toBeNull();
    expect(shortcutFor({ key: 'f' }, { tagName: 'DIV', isContentEditable: true })).toBeNull();
    expect(shortcutFor({ key: 'f', ctrlKey: true }, body)).toBeNull();
    // The seek bar and the buttons are the player's own controls: the shortcuts work there.
    expect(shortcutFor({ key: 'ArrowRight' }, { tagName: 'INPUT', inputType: 'range' })).toBe('forward-10');
    expect(shortcutFor({ key: ' ' }, { tagName: 'BUTTON' })).toBe('toggle-play');
  });
});

describe('bufferedSpans and seekTarget', () => {
  it('turns buffered ranges into clipped fractions', () => {
    expect(bufferedSpans([{ start: 0, end: 45 }, { start: 90, end: 200 }], 180)).toEqual([
      { left: 0, width: 0.25 },
      { left: 0.5, width: 0.5 },
    ]);
    expect(bufferedSpans([{ start: 0, end: 10 }], NaN)).toEqual([]);
  });

  it('keeps seeks inside the media', () => {
    expect(seekTarget(5, -10, 180)).toBe(0);
    expect(seekTarget(175, 10, 180)).toBe(180);
    expect(seekTarget(60, 10, NaN)).toBe(70);
  });
});
