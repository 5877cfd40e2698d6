// /api/sources: thin bindings of HTTP to the engine and the sign-in service.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { HttpError, notFound, parseInput } from '../errors.js';
import { toApiSource, toApiSourceDetail } from '../views.js';
import { addRouteBody, addSourceBody, patchRouteBody, patchSourceBody, signInAgainBody, sourceIdParams, sourceRouteParams } from '../../api/requests.js';
import type { ApiRouteEdit } from '../../api/types.js';
import type { RouteEditErrorCode, RouteEditResult } from '../../monitor/engine-types.js';
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

  // ---- routes the user adds, moves and removes (issue 13 item 1) ----

  app.post('/api/sources/:id/routes', async (request, reply) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const body = parseInput(addRouteBody, request.body, 'body');
    const result = await engine.addRoute(id, {
      url: body.url,
      ...(body.kind !== undefined ? { kind: body.kind } : {}),
      ...(body.force !== undefined ? { force: body.force } : {}),
    });
    return reply.status(201).send(routeEdit(result));
  });

  app.patch('/api/sources/:id/routes/:routeId', async (request) => {
    const { id, routeId } = parseInput(sourceRouteParams, request.params, 'params');
    const body = parseInput(patchRouteBody, request.body, 'body');
    return routeEdit(engine.updateRoute(id, routeId, { ...(body.kind !== undefined ? { kind: body.kind } : {}), ...(body.position !== undefined ? { position: body.position } : {}) }));
  });

  app.delete('/api/sources/:id/routes/:routeId', async (request, reply) => {
    const { id, routeId } = parseInput(sourceRouteParams, request.params, 'params');
    throwIfRefused(engine.removeRoute(id, routeId));
    return reply.status(204).send();
  });

  app.post('/api/sources/:id/signin', async (request) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const body = parseInput(signInAgainBody, request.body, 'body');
    return signIn.signInAgain(id, body); // 404 for an unknown source
  });
};

/** How each refused route change answers: the status, and the engine's words as the message. */
const ROUTE_EDIT_STATUS: Record<RouteEditErrorCode, [number, string]> = {
  source_not_found: [404, 'not_found'],
  route_not_found: [404, 'not_found'],
  invalid_url: [400, 'invalid_url'],
  duplicate: [409, 'duplicate'],
  managed: [409, 'managed'],
  last_route: [409, 'last_route'],
  wrong_server: [422, 'wrong_server'],
  unreachable: [422, 'unreachable'],
};

function throwIfRefused(result: RouteEditResult): asserts result is Extract<RouteEditResult, { ok: true }> {
  if (result.ok) return;
  const [status, error] = ROUTE_EDIT_STATUS[result.code];
  throw new HttpError(status, error, result.message);
}

function routeEdit(result: RouteEditResult): ApiRouteEdit {
  throwIfRefused(result);
  const source = toApiSourceDetail(result.detail);
  const route = source.routes.find((r) => r.id === result.routeId);
  if (!route) throw new HttpError(404, 'not_found', 'The route is gone.');
  return { route, source };
}
