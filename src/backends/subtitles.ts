// Subtitles for the browser: <track> only reads WebVTT. SRT (the other text format servers hand
// out) differs in its header and the decimal comma; anything else is refused in words.
import type { BrowseResult } from './types.js';

/** A subtitle body as WebVTT, or a `malformed` failure. */
export function toWebVtt(body: string): BrowseResult<string> {
  const text = body.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (/^WEBVTT(?:[ \t\n]|$)/.test(text)) return { ok: true, value: text };
  // SRT: numbered cues with `00:00:01,000 --> 00:00:02,000`.
  if (/^\s*\d+\s*\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->/.test(text)) {
    const cues = text.replace(/(\d{1,2}:\d{2}:\d{2}),(\d{1,3})/g, '$1.$2');
    return { ok: true, value: `WEBVTT\n\n${cues.trim()}\n` };
  }
  return { ok: false, error: { code: 'malformed', message: 'the server sent a subtitle that is neither WebVTT nor SRT' } };
}
