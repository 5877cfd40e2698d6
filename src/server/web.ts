// The built web UI (dist/web) under the base path, with SPA fallback to index.html. index.html gets
// the base path injected so the UI can build its URLs behind a reverse-proxy sub-path.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from './config.js';
import { inApiNamespace } from './request-path.js';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee</title></head>
<body style="font-family:system-ui,sans-serif;padding:2rem">
<h1>Marquee</h1><p>UI not built: run npm run build:web</p>
<p>The API is up: <a href="api/sources">api/sources</a>, <a href="healthz">healthz</a>.</p>
</body></html>
`;

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * Makes index.html work at any base path: sets <meta name="marquee-base">, defines
 * window.__MARQUEE_BASE__, adds <base href> (so relative asset URLs from a `base: './'` build
 * resolve from deep SPA paths) and rewrites root-absolute /assets/ URLs from a `base: '/'` build.
 */
export function injectBase(html: string, basePath: string): string {
  const meta = `<meta name="marquee-base" content="${escapeAttr(basePath)}">`;
  let out = /<meta\s+name=["']marquee-base["'][^>]*>/i.test(html)
    ? html.replace(/<meta\s+name=["']marquee-base["'][^>]*>/i, meta)
    : html.replace(/<head([^>]*)>/i, `<head$1>\n    ${meta}`);
  const script = `<script>window.__MARQUEE_BASE__=${JSON.stringify(basePath).replace(/</g, '\\u003c')};</script>`;
  const baseTag = /<base\s/i.test(out) ? '' : `<base href="${escapeAttr(basePath)}">`;
  out = out.replace(meta, `${meta}\n    ${baseTag}${script}`);
  if (basePath !== '/') out = out.replace(/(\s(?:src|href)=["'])\/assets\//g, `$1${basePath}assets/`);
  return out;
}

/** True for any spelling of a path under `<base>api` (percent-encoded, doubled slashes, any case). */
export function isApiPath(url: string, config: AppConfig): boolean {
  return inApiNamespace(url, config.basePath);
}

/** Registers static files and returns the handler for the SPA fallback (used by the not-found handler). */
export async function registerWeb(app: FastifyInstance, config: AppConfig): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const indexFile = join(config.webDir, 'index.html');
  const built = existsSync(indexFile);
  const page = built ? injectBase(readFileSync(indexFile, 'utf8'), config.basePath) : NOT_BUILT_PAGE;

  const sendIndex = (_request: FastifyRequest, reply: FastifyReply) =>
    reply.status(200).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);

  if (built) {
    await app.register(fastifyStatic, {
      root: config.webDir,
      prefix: config.basePath,
      index: false,
      wildcard: true,
      // Source maps (left by a development build) would publish the whole UI source: never served.
      allowedPath: (pathName) => !pathName.endsWith('.map'),
      setHeaders(reply, path) {
        reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.get(config.basePath, sendIndex);
  app.get(`${config.basePath}index.html`, sendIndex);
  if (config.basePath !== '/') {
    app.get(config.basePath.slice(0, -1), (_request, reply) => reply.redirect(config.basePath, 302));
    app.get('/', (_request, reply) => reply.redirect(config.basePath, 302));
  }
  return sendIndex;
}
