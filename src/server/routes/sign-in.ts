// Sign-in flows that precede adding a source: Plex PIN, Jellyfin probe and Quick Connect.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { HttpError, parseInput } from '../errors.js';
import { handleParams, pinIdParams, probeBody, quickConnectBody } from '../../api/requests.js';

export const signInRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { signIn } = ctx;

  app.post('/api/plex/pins', async (_request, reply) => reply.status(201).send(await signIn.createPlexPin()));

  app.get('/api/plex/pins/:id', async (request) => {
    const { id } = parseInput(pinIdParams, request.params, 'params');
    return signIn.plexPinState(id);
  });

  // A POST, so the Origin rule applies: a GET would let any web page make Marquee fetch an
  // address of its choosing. The old GET answers 405 and fetches nothing.
  app.post('/api/jellyfin/probe', async (request) => {
    const { url } = parseInput(probeBody, request.body, 'body');
    return signIn.probeJellyfin(url);
  });

  app.get('/api/jellyfin/probe', async (_request, reply) => {
    reply.header('allow', 'POST');
    throw new HttpError(405, 'method_not_allowed', 'Use POST /api/jellyfin/probe with a JSON body {"url": "…"}.');
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
