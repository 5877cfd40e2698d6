// Demo-only fault controls, registered only when a DemoControl is given.
import type { FastifyPluginAsync } from 'fastify';
import type { DemoControl } from '../demo-control.js';
import { HttpError, notFound, parseInput } from '../errors.js';
import { faultBody, routeIdParams, sourceIdParams } from '../../api/requests.js';

function checkMode(mode: string, allowed: readonly string[]): void {
  if (!allowed.includes(mode)) {
    throw new HttpError(400, 'invalid_request', `body.mode: must be one of ${allowed.map((m) => `"${m}"`).join(', ')}`);
  }
}

export const demoRoutes: FastifyPluginAsync<{ demo: DemoControl }> = async (app, { demo }) => {
  app.get('/api/demo/routes', async () => demo.listRoutes());

  app.post('/api/demo/routes/:id/fault', async (request) => {
    const { id } = parseInput(routeIdParams, request.params, 'params');
    const { mode } = parseInput(faultBody, request.body, 'body');
    checkMode(mode, demo.routeModes());
    if (!(await demo.setRouteFault(id, mode))) throw notFound('demo route', id);
    return { routeId: id, mode };
  });

  app.post('/api/demo/servers/:id/fault', async (request) => {
    const { id } = parseInput(sourceIdParams, request.params, 'params');
    const { mode } = parseInput(faultBody, request.body, 'body');
    checkMode(mode, demo.serverModes());
    if (!(await demo.setServerFault(id, mode))) throw notFound('demo server for source', id);
    return { sourceId: id, mode };
  });
};
