import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer } from './start.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, testConfig } from '../../test/support/server-fakes.js';

describe('startServer', () => {
  it('starts the engine, listens, and closes in order', async () => {
    const engine = new FakeEngine();
    const server = await startServer(testConfig({ basePath: '/m/' }), { engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn() });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/m\/$/);
      expect(engine.started).toBe(true);
      expect(engine.subscriberCount).toBe(1);
      expect((await fetch(`${server.url}healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await server.close(); // idempotent
    }
    expect(engine.started).toBe(false);
    expect(engine.subscriberCount).toBe(0);
  });

  it('stops the engine again when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const engine = new FakeEngine();
    try {
      await expect(
        startServer(testConfig({ port }), { engine, plexSignIn: new FakePlexSignIn(), jellyfinSignIn: new FakeJellyfinSignIn() }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(engine.started).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
