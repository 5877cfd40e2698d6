// Sign-in flows that precede adding a source: Plex PIN, Jellyfin probe and Quick Connect.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { parseInput } from '../errors.js';
import { handleParams, pinIdParams, probeQuery, quickConnectBody } from '../../api/requests.js';

export const signInRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { signIn } = ctx;

  app.post('/api/plex/pins', async (_request, reply) => reply.status(201).send(await signIn.createPlexPin()));

  app.get('/api/plex/pins/:id', async (request) => {
    const { id } = parseInput(pinIdParams, request.params, 'params');
    return signIn.plexPinState(id);
  });

  app.get('/api/jellyfin/probe', async (request) => {
    const { url } = parseInput(probeQuery, request.query, 'query');
    return signIn.probeJellyfin(url);
  });

  app.post('/api/jellyfin/quickconnect', async (request, reply) => {
    const { url, sourceId } = parseInput(quickConnectBody, request.body, 'body');
    return reply.status(201).send(await signIn.startQuickConnect(url, sourceId));
  });

  app.get('/api/jellyfin/quickconnect/:handle', async (request) => {
    const { handle } = parseInput(handleParams, request.params, 'params');
    return signIn.quickConnectState(handle);
  });
};
