// Play sessions (issue 15): create, read, progress, stop, the direct-play byte proxy and subtitles.
// The browser holds only the session id; what it plays and over which route stays server-side.
// The HLS side of a transcode is served by play-hls.ts.
import type { FastifyPluginAsync } from 'fastify';
import { createPlayBody, playProgressBody, playSessionParams, playSubtitleParams, stopPlayBody } from '../../api/requests.js';
import type { ApiPlaySession } from '../../api/types.js';
import { serveMedia } from '../../playback/byte-proxy.js';
import { hlsMasterUrl, type PlayError, type PlayService } from '../../playback/play-service.js';
import type { PlaySession } from '../../playback/sessions.js';
import type { AppContext, PlayDeps } from '../context.js';
import { HttpError, parseInput } from '../errors.js';

const toHttp = (error: PlayError) => new HttpError(error.status, error.code, error.message);

export const playRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const play = (): PlayDeps => {
    if (!ctx.play) throw new HttpError(503, 'playback_unavailable', 'Playback is not available in this Marquee.');
    return ctx.play;
  };

  app.post('/api/play', async (request, reply): Promise<ApiPlaySession> => {
    const body = parseInput(createPlayBody, request.body, 'body');
    const { service } = play();
    const created = await service.create(body);
    if (!created.ok) throw toHttp(created.error);
    reply.status(201);
    return toApiPlaySession(service, created.value);
  });

  app.get('/api/play/:session', async (request): Promise<ApiPlaySession> => {
    const { session: id } = parseInput(playSessionParams, request.params, 'params');
    const { service } = play();
    const session = service.get(id);
    if (!session) throw new HttpError(404, 'not_found', 'This play session has ended or never existed.');
    return toApiPlaySession(service, session);
  });

  app.post('/api/play/:session/progress', async (request, reply) => {
    const { session: id } = parseInput(playSessionParams, request.params, 'params');
    const body = parseInput(playProgressBody, request.body, 'body');
    const done = play().service.progress(id, body);
    if (!done.ok) throw toHttp(done.error);
    return reply.status(204).send();
  });

  app.delete('/api/play/:session', async (request, reply) => {
    const { session: id } = parseInput(playSessionParams, request.params, 'params');
    const body = parseInput(stopPlayBody, request.body, 'body');
    const done = play().service.stop(id, body?.positionMs);
    if (!done.ok) throw toHttp(done.error);
    return reply.status(204).send();
  });

  app.get('/api/play/:session/stream', async (request, reply) => {
    const { session: id } = parseInput(playSessionParams, request.params, 'params');
    const { service, caller } = play();
    const session = service.get(id);
    if (!session) throw new HttpError(404, 'not_found', 'This play session has ended or never existed.');
    if (session.method !== 'direct') throw new HttpError(409, 'not_direct', 'This session plays through HLS, not as a file.');
    // The proxy writes the raw response itself (ranges, backpressure, resume across routes).
    reply.hijack();
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    reply.raw.setHeader('referrer-policy', 'no-referrer');
    await serveMedia(request.raw, reply.raw, session, {
      caller,
      engine: ctx.engine,
      log: (level, obj, msg) => request.log[level](obj, msg),
    });
  });

  app.get('/api/play/:session/subtitles/:index', async (request, reply) => {
    const { session: id, index } = parseInput(playSubtitleParams, request.params, 'params');
    const vtt = await play().service.subtitle(id, index);
    if (!vtt.ok) throw toHttp(vtt.error);
    reply.header('content-type', 'text/vtt; charset=utf-8');
    return vtt.value;
  });
};

/** The wire view of a session: Marquee URLs only (stream, playlist, subtitles), never a server's. */
export function toApiPlaySession(service: PlayService, session: PlaySession): ApiPlaySession {
  const decision = session.decision;
  const base = service.basePath;
  const method = session.method;
  return {
    id: session.id,
    sourceId: session.sourceId,
    itemId: session.itemId,
    title: session.title,
    subtitle: session.subtitleLine,
    mediaType: decision?.mediaType ?? 'video',
    generation: session.generation,
    protocol: method === 'direct' ? 'file' : 'hls',
    streamUrl: method === 'direct' ? `${base}api/play/${session.id}/stream` : hlsMasterUrl(base, session.id),
    durationMs: decision?.durationMs ?? null,
    startMs: session.positionMs,
    subtitles: (decision?.subtitles ?? []).map((t, i) => ({ id: t.id, label: t.label, language: t.language, url: `${base}api/play/${session.id}/subtitles/${i}` })),
    audioTracks: (decision?.audioTracks ?? []).map((t) => ({ id: t.id, label: t.label, language: t.language, selected: t.selected })),
    nextItemId: session.nextItemId,
    connection: {
      sourceName: service.sourceName(session.sourceId),
      routeKind: service.routeKindOf(session.sourceId),
      method,
      bitrateKbps: decision?.method === 'transcode' ? decision.bitrateKbps : null,
      reason: session.decidedFor.reason,
    },
  };
}
