// Health, metrics and the browser session (API key -> HttpOnly cookie).
import type { FastifyPluginAsync } from 'fastify';
import type { ApiHealth, ApiSessionState } from '../../api/types.js';
import type { AppContext } from '../context.js';
import { apiKeyMatches, clearSessionCookie, createSessionValue, isAuthenticated, isSecureRequest, sessionCookie } from '../auth.js';
import { HttpError, parseInput } from '../errors.js';
import { sessionBody } from '../../api/requests.js';
import { toApiHealth } from '../views.js';

export const systemRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { engine, config, metrics } = ctx;

  app.get('/healthz', async (request, reply) => {
    let health;
    try {
      health = engine.health();
    } catch (err) {
      request.log.error({ err }, 'health check failed');
      return reply.status(503).send({ status: 'degraded', database: 'degraded', monitor: 'stopped', detail: 'the health check itself failed' } satisfies ApiHealth);
    }
    const answer = toApiHealth(health);
    return reply.status(answer.status === 'ok' ? 200 : 503).send(answer);
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.render();
  });

  app.get('/api/session', async (request): Promise<ApiSessionState> => ({
    authRequired: config.apiKey !== null,
    authenticated: isAuthenticated(request, config, ctx.now()),
  }));

  app.post('/api/session', async (request, reply): Promise<ApiSessionState> => {
    const { apiKey } = parseInput(sessionBody, request.body, 'body');
    if (config.apiKey === null) return { authRequired: false, authenticated: true };
    if (!apiKeyMatches(apiKey, config.apiKey)) {
      // A short pause makes guessing slow without bothering a person who mistyped.
      await new Promise((r) => setTimeout(r, 250));
      throw new HttpError(401, 'wrong_api_key', 'That is not the API key of this Marquee.');
    }
    reply.header('set-cookie', sessionCookie(config, createSessionValue(config.apiKey, ctx.now()), isSecureRequest(request)));
    return { authRequired: true, authenticated: true };
  });

  app.delete('/api/session', async (_request, reply) => {
    reply.header('set-cookie', clearSessionCookie(config));
    return reply.status(204).send();
  });
};
