// A minimal Jellyfin PlaybackApi for tests against the simulator, until the backends' own
// implementation is merged: PlaybackInfo with a profile that says what Chromium plays (an HEVC
// item transcodes), the keep-alive ping and the stop — each over the call's route, token in the
// Authorization header, the TranscodingUrl's ApiKey stripped as the real decision code must.
import type { BrowseResult, CallOptions, PlaybackApi, PlaybackDecision, PlaybackRequest, RouteContext } from '../../src/backends/types.js';

const CHROMIUM_PROFILE = {
  DirectPlayProfiles: [{ Container: 'mp4,m4v', Type: 'Video', VideoCodec: 'h264,vp9,av1', AudioCodec: 'aac,opus' }],
};

export interface SimPlaybackCalls {
  decide: PlaybackRequest[];
  ping: string[];
  stop: string[];
}

export function simJellyfinPlayback(deviceId = 'marquee-test-device'): PlaybackApi & { calls: SimPlaybackCalls } {
  const calls: SimPlaybackCalls = { decide: [], ping: [], stop: [] };
  const auth = (call: RouteContext) => ({ authorization: `MediaBrowser Client="Marquee", Device="Test", DeviceId="${deviceId}", Version="1.0.0", Token="${call.credentials.token}"` });
  const send = async (call: RouteContext, method: string, path: string, options: CallOptions, body?: unknown): Promise<Response | { error: string }> => {
    try {
      return await fetch(new URL(path, call.route.url), {
        method,
        headers: { ...auth(call), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]),
      });
    } catch (error) {
      return { error: error instanceof Error ? error.message : 'failed' };
    }
  };
  const empty = (res: Response | { error: string }): BrowseResult<null> =>
    'error' in res ? { ok: false, error: { code: 'refused', message: res.error } } : res.ok ? { ok: true, value: null } : { ok: false, error: { code: 'http_error', status: res.status, message: `HTTP ${res.status}` } };
  return {
    calls,
    async decide(call, request, options): Promise<BrowseResult<PlaybackDecision>> {
      calls.decide.push(request);
      const res = await send(call, 'POST', `/Items/${request.itemId}/PlaybackInfo`, options, {
        DeviceProfile: CHROMIUM_PROFILE,
        StartTimeTicks: request.startMs * 10_000,
        ...(request.maxBitrateKbps !== null ? { MaxStreamingBitrate: request.maxBitrateKbps * 1000 } : {}),
      });
      if ('error' in res) return { ok: false, error: { code: 'refused', message: res.error } };
      if (!res.ok) return { ok: false, error: { code: 'http_error', status: res.status, message: `HTTP ${res.status}` } };
      const info = (await res.json()) as { PlaySessionId: string; MediaSources: { Id: string; TranscodingUrl?: string; RunTimeTicks: number }[] };
      const source = info.MediaSources[0]!;
      const base = { itemId: request.itemId, mediaType: 'video' as const, durationMs: source.RunTimeTicks / 10_000, resumeMs: null, subtitles: [], audioTracks: [], playSessionId: info.PlaySessionId, mediaSourceId: source.Id };
      if (!source.TranscodingUrl) return { ok: true, value: { ...base, method: 'direct', mediaPath: `/Videos/${request.itemId}/stream?static=true&mediaSourceId=${source.Id}` } };
      const master = new URL(source.TranscodingUrl, 'http://x.invalid');
      master.searchParams.delete('ApiKey');
      master.searchParams.delete('api_key');
      return { ok: true, value: { ...base, method: 'transcode', masterPath: master.pathname + master.search, bitrateKbps: request.maxBitrateKbps ?? 0 } };
    },
    async report() {
      return { ok: true, value: null };
    },
    async ping(call, decision, options) {
      calls.ping.push(decision.playSessionId);
      return empty(await send(call, 'POST', `/Sessions/Playing/Ping?playSessionId=${decision.playSessionId}`, options));
    },
    async stop(call, decision, options) {
      calls.stop.push(decision.playSessionId);
      return empty(await send(call, 'DELETE', `/Videos/ActiveEncodings?deviceId=${deviceId}&playSessionId=${decision.playSessionId}`, options));
    },
    async subtitle() {
      return { ok: false, error: { code: 'malformed', message: 'not in this stub' } };
    },
  };
}
