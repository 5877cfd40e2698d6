// GET /api/play/:session/hls/:name (issue 15): the HLS of a transcode, through Marquee. The name
// must be one the session's own playlists handed out (an allow-list per session): nothing the
// client sends becomes a URL Marquee fetches. The reply is hijacked and written by the HLS service
// (streaming, backpressure, failover mid-segment).
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { HttpError, parseInput } from '../errors.js';
import { playHlsParams } from '../../api/requests.js';

export const playHlsRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/api/play/:session/hls/:name', async (request, reply) => {
    const params = parseInput(playHlsParams, request.params, 'params');
    const session = ctx.playback?.sessions.get(params.session) ?? null;
    const stream = session ? ctx.playback!.hls.get(session.id) : null;
    if (!stream) throw new HttpError(404, 'not_found', 'no HLS stream in this play session (it ended, expired, or plays directly)');
    reply.hijack();
    // The app's onSend hook does not run for a hijacked reply: the same protective headers by hand.
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    reply.raw.setHeader('referrer-policy', 'no-referrer');
    await ctx.playback!.hls.serve(request.raw, reply.raw, stream, params.name);
  });
};
