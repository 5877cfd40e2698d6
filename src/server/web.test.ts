import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import type { AppConfig } from './config.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, testConfig } from '../../test/support/server-fakes.js';
import { injectBase } from './web.js';

const webDir = mkdtempSync(join(tmpdir(), 'marquee-web-'));
mkdirSync(join(webDir, 'assets'));
writeFileSync(
  join(webDir, 'index.html'),
  '<!doctype html><html><head><meta charset="utf-8"><meta name="marquee-base" content="/"><script type="module" src="./assets/app.js"></script></head><body><div id="root"></div></body></html>',
);
writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log("marquee")');
// A source map left behind by a development build: never served (it holds the whole UI source).
writeFileSync(join(webDir, 'assets', 'app.js.map'), '{"version":3,"sources":["../../src/web/main.tsx"]}');
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function setup(config: Partial<AppConfig>) {
  const app = await buildApp({ engine: new FakeEngine(), plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn(), config: testConfig(config) });
  apps.push(app);
  return app;
}

describe('web UI and base URL', () => {
  it('serves everything under MARQUEE_BASE_URL with the base injected into index.html', async () => {
    const app = await setup({ basePath: '/marquee/', webDir });
    const index = await app.inject('/marquee/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.body).toContain('<meta name="marquee-base" content="/marquee/">');
    expect(index.body).toContain('window.__MARQUEE_BASE__="/marquee/";');
    expect(index.body).toContain('<base href="/marquee/">');

    const deep = await app.inject('/marquee/sources/src1');
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toBe(index.body);

    const asset = await app.inject('/marquee/assets/app.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log("marquee")');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await app.inject('/marquee/assets/missing.js')).statusCode).toBe(404);
    const map = await app.inject('/marquee/assets/app.js.map');
    expect(map.statusCode).toBe(404);
    expect(map.body).not.toContain('sources');

    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    const api = await app.inject('/marquee/api/sources');
    expect(api.json()).toEqual([]);
    expect(api.headers['cache-control']).toBe('no-store');
    expect((await app.inject('/marquee/healthz')).statusCode).toBe(200);
    expect((await app.inject('/marquee/metrics')).body).toContain('marquee_sse_clients');
    expect((await app.inject('/marquee/api/session')).statusCode).toBe(200);
    const apiMiss = await app.inject('/marquee/api/nope');
    expect(apiMiss.statusCode).toBe(404);
    expect(apiMiss.json().error).toBe('not_found');

    // Nothing answers outside the prefix except a redirect into it.
    expect((await app.inject('/api/sources')).statusCode).toBe(404);
    expect((await app.inject('/healthz')).statusCode).toBe(404);
    const root = await app.inject('/');
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/marquee/');
  });

  it('serves a plain page when the UI is not built', async () => {
    const app = await setup({ webDir: join(webDir, 'nope') });
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('UI not built: run npm run build:web');
    expect((await app.inject('/sources/x')).body).toContain('UI not built');
  });

  it('rewrites root-absolute asset URLs for a sub-path', () => {
    const html = '<html><head><script src="/assets/a.js"></script><link href="/assets/a.css"></head></html>';
    const out = injectBase(html, '/m/');
    expect(out).toContain('src="/m/assets/a.js"');
    expect(out).toContain('href="/m/assets/a.css"');
    expect(out).toContain('<meta name="marquee-base" content="/m/">');
    expect(injectBase(html, '/')).toContain('src="/assets/a.js"');
  });
});
