import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../store/errors.js';
import { installErrorHandler } from './errors.js';

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function appThrowing(error: Error) {
  const app = Fastify({ logger: false });
  apps.push(app);
  installErrorHandler(app);
  app.patch('/x', async () => {
    throw error;
  });
  await app.ready();
  return app;
}

describe('error handler', () => {
  it('answers 503 with the store\'s plain words when a change cannot be saved (disk full or read-only)', async () => {
    const message = 'Cannot save the change: the data directory is read-only (or not writable by Marquee).';
    const app = await appThrowing(new StoreUnavailableError(message, { cause: new Error('SQLITE_READONLY: attempt to write a readonly database') }));
    const res = await app.inject({ method: 'PATCH', url: '/x' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'storage_unavailable', message });
  });

  it('keeps internals out of any other 5xx', async () => {
    const app = await appThrowing(new Error('SQLITE_CORRUPT at /data/marquee.db'));
    const res = await app.inject({ method: 'PATCH', url: '/x' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('SQLITE');
  });
});
