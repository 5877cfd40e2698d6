// A minimal Plex PlaybackApi for tests against the simulator, until the backends' own
// implementation is merged: the universal transcoder's decision (maxVideoBitrate = the route's
// cap), start.m3u8 as the master path, ping and stop — over the call's route, token in headers.
import type { BrowseResult, CallOptions, PlaybackApi, PlaybackDecision, PlaybackRequest, RouteContext } from '../../src/backends/types.js';

export function simPlexPlayback(): PlaybackApi & { calls: { decide: PlaybackRequest[]; ping: string[]; stop: string[] } } {
  const calls = { decide: [] as PlaybackRequest[], ping: [] as string[], stop: [] as string[] };
  const headers = (call: RouteContext) => ({ accept: 'application/json', 'x-plex-token': call.credentials.token, 'x-plex-client-identifier': 'marquee-test' });
  const get = async (call: RouteContext, path: string, options: CallOptions): Promise<BrowseResult<Response>> => {
    try {
      const res = await fetch(new URL(path, call.route.url), { headers: headers(call), signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]) });
      return res.ok ? { ok: true, value: res } : { ok: false, error: { code: 'http_error', status: res.status, message: `HTTP ${res.status}` } };
    } catch (error) {
      return { ok: false, error: { code: 'refused', message: error instanceof Error ? error.message : 'failed' } };
    }
  };
  const query = (request: PlaybackRequest) =>
    new URLSearchParams({
      path: `/library/metadata/${request.itemId}`,
      protocol: 'hls',
      directPlay: '1',
      directStream: '1',
      session: request.clientSessionId,
      offset: String(Math.floor(request.startMs / 1000)),
      ...(request.maxBitrateKbps !== null ? { maxVideoBitrate: String(request.maxBitrateKbps) } : {}),
    });
  return {
    calls,
    async decide(call, request, options): Promise<BrowseResult<PlaybackDecision>> {
      calls.decide.push(request);
      const res = await get(call, `/video/:/transcode/universal/decision?${query(request).toString()}`, options);
      if (!res.ok) return res;
      const body = (await res.value.json()) as { MediaContainer: { generalDecisionCode: number; Metadata: { duration: number; Media: { Part: { id: number; key: string }[] }[] }[] } };
      const meta = body.MediaContainer.Metadata[0]!;
      const part = meta.Media[0]!.Part[0]!;
      const base = { itemId: request.itemId, mediaType: 'video' as const, durationMs: meta.duration, resumeMs: null, subtitles: [], audioTracks: [], playSessionId: request.clientSessionId, mediaSourceId: String(part.id) };
      if (body.MediaContainer.generalDecisionCode === 1000) return { ok: true, value: { ...base, method: 'direct', mediaPath: part.key } };
      const start = query(request);
      start.set('directPlay', '0');
      return { ok: true, value: { ...base, method: 'transcode', masterPath: `/video/:/transcode/universal/start.m3u8?${start.toString()}`, bitrateKbps: request.maxBitrateKbps ?? 0 } };
    },
    async report() {
      return { ok: true, value: null };
    },
    async ping(call, decision, options) {
      calls.ping.push(decision.playSessionId);
      const res = await get(call, `/video/:/transcode/universal/ping?session=${decision.playSessionId}`, options);
      return res.ok ? { ok: true, value: null } : res;
    },
    async stop(call, decision, options) {
      calls.stop.push(decision.playSessionId);
      const res = await get(call, `/video/:/transcode/universal/stop?session=${decision.playSessionId}`, options);
      return res.ok ? { ok: true, value: null } : res;
    },
    async subtitle() {
      return { ok: false, error: { code: 'malformed', message: 'not in this stub' } };
    },
  };
}
