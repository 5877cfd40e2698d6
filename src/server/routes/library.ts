// Library browsing (issue 14): thin bindings of HTTP to the library layer. Answers are built in
// ../library-views.ts. Without a library layer (an app built for tests of other parts) every
// route answers 503 in words.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { AppContext } from '../context.js';
import { HttpError, parseInput } from '../errors.js';
import { toApiHome, toApiItemDetail, toApiLibraryInfo, toApiLibraryItems, toApiSearch } from '../library-views.js';
import { itemImageQuery, libraryItemsQuery, searchQuery, sourceItemParams, sourceLibraryParams } from '../../api/requests.js';
import type { LibraryLayer, NotFound } from '../../library/index.js';

function layerOf(ctx: AppContext): LibraryLayer {
  if (!ctx.library) throw new HttpError(503, 'library_unavailable', 'Library browsing is not available in this server.');
  return ctx.library;
}

function throwNotFound(answer: NotFound): never {
  throw new HttpError(404, 'not_found', answer.message);
}

export const libraryRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const base = ctx.config.basePath;

  app.get('/api/home', async () => toApiHome(base, await layerOf(ctx).service.home()));

  app.get('/api/search', async (request) => {
    const query = parseInput(searchQuery, request.query, 'query');
    return toApiSearch(base, await layerOf(ctx).service.search(query.q, query.wait));
  });

  app.get('/api/sources/:id/libraries/:libraryId', async (request) => {
    const { id, libraryId } = parseInput(sourceLibraryParams, request.params, 'params');
    const answer = layerOf(ctx).service.libraryInfo(id, libraryId);
    if (!answer.ok) throwNotFound(answer);
    return toApiLibraryInfo(answer);
  });

  app.get('/api/sources/:id/libraries/:libraryId/items', async (request) => {
    const { id, libraryId } = parseInput(sourceLibraryParams, request.params, 'params');
    const query = parseInput(libraryItemsQuery, request.query, 'query');
    const answer = layerOf(ctx).service.libraryItems(id, libraryId, {
      offset: query.offset,
      limit: query.limit,
      sort: query.sort,
      ...(query.order ? { order: query.order } : {}),
      ...(query.filter ? { filter: query.filter } : {}),
      ...(query.genre !== undefined ? { genre: query.genre } : {}),
      ...(query.year !== undefined ? { year: query.year } : {}),
    });
    if (!answer.ok) throwNotFound(answer);
    return toApiLibraryItems(base, answer);
  });

  app.get('/api/sources/:id/items/:itemId', async (request) => {
    const { id, itemId } = parseInput(sourceItemParams, request.params, 'params');
    const answer = await layerOf(ctx).service.item(id, itemId);
    if (!answer.ok) throwNotFound(answer);
    return toApiItemDetail(base, answer);
  });

  // The image is the item's own, resolved from the cache: nothing in the request names a URL or path.
  app.get('/api/sources/:id/items/:itemId/image', async (request, reply: FastifyReply) => {
    const { id, itemId } = parseInput(sourceItemParams, request.params, 'params');
    const query = parseInput(itemImageQuery, request.query, 'query');
    const layer = layerOf(ctx);
    const answer = await layer.images.get(id, itemId, query.kind, query.w);
    if (!answer.ok) throw new HttpError(answer.reason === 'not_found' ? 404 : 502, answer.reason === 'not_found' ? 'not_found' : 'image_unavailable', answer.message);
    reply
      .header('etag', answer.etag)
      .header('cache-control', `private, max-age=${layer.settings.imageMaxAgeS}`)
      .header('x-content-type-options', 'nosniff');
    const match = request.headers['if-none-match'];
    if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === answer.etag)) return reply.status(304).send();
    return reply.type(answer.contentType).send(answer.bytes);
  });
};
