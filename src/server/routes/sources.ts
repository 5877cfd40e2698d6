// /api/sources: thin bindings of HTTP to the engine and the sign-in service.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { notFound, parseInput } from '../errors.js';
import { toApiSource, toApiSourceDetail } from '../views.js';
import { addSourceBody, patchSourceBody, signInAgainBody, sourceIdParams } from '../../api/requests.js';
import type { RefusedRouteListener } from '../sign-in-service.js';

export const sourceRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { engine, signIn } = ctx;

  app.get('/api/sources', async () => engine.listSources().map(toApiSource));

  app.get('/api/sources/:id', async (request) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const detail = engine.getSourceDetail(id);
    if (!detail) throw notFound('source', id);
    return toApiSourceDetail(detail);
  });

  app.post('/api/sources', async (request, reply) => {
    const body = parseInput(addSourceBody, request.body, 'body');
    // An address the server reported that is not monitored (link-local, or another server answers
    // there): say so in the log, in words.
    const logRefused: RefusedRouteListener = (r) => request.log.warn({ address: r.url }, `the server reports the address ${r.url}, which was not added as a route: ${r.reason}`);
    const source =
      body.kind === 'plex'
        ? signIn.addPlexSource(body.pinId, body.serverId, body.name, logRefused)
        : await signIn.addJellyfinSource(
            body.quickConnectHandle ?? body.quickConnectSecret
              ? { quickConnectHandle: (body.quickConnectHandle ?? body.quickConnectSecret)! }
              : { url: body.url!, username: body.username!, password: body.password! },
            body.name,
            logRefused,
          );
    return reply.status(201).send(source);
  });

  app.post('/api/sources/:id/check', async (request, reply) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    if (!engine.checkNow(id)) throw notFound('source', id);
    return reply.status(202).send({ accepted: true });
  });

  app.patch('/api/sources/:id', async (request) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const patch = parseInput(patchSourceBody, request.body, 'body');
    const updated = engine.updateSource(id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.monitoring !== undefined ? { monitoring: patch.monitoring } : {}),
    });
    if (!updated) throw notFound('source', id);
    return toApiSource(updated);
  });

  app.delete('/api/sources/:id', async (request, reply) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    if (!engine.removeSource(id)) throw notFound('source', id);
    return reply.status(204).send();
  });

  app.post('/api/sources/:id/signin', async (request) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const body = parseInput(signInAgainBody, request.body, 'body');
    return signIn.signInAgain(id, body); // 404 for an unknown source
  });
};
