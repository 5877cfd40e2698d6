// GET /api/events: the SSE stream (see ../sse.ts). The reply is hijacked and written by hand.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { parseInput } from '../errors.js';
import { eventsQuery } from '../../api/requests.js';

export const eventRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/api/events', async (request, reply) => {
    const query = parseInput(eventsQuery, request.query, 'query');
    const header = request.headers['last-event-id'];
    const raw = (Array.isArray(header) ? header[0] : header)?.trim() || query.lastEventId;
    // A malformed Last-Event-ID is not worth a failed stream: start over with a snapshot.
    const lastEventId = raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
    // Refused before any work: a client looping on reconnects must not starve the others.
    const refusal = ctx.hub.refusal(request.ip);
    if (refusal) return reply.status(503).header('retry-after', '10').send({ error: 'too_many_streams', message: refusal });
    const initial = ctx.hub.prepare(lastEventId); // may throw: then the error handler answers
    reply.hijack();
    ctx.hub.attach(reply.raw, initial, request.ip);
  });
};
