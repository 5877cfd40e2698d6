// An address a server reports that does not become a route is said in the log, in words.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { JellyfinSignInResult } from '../backends/types.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';
import { FakeEngine, FakeJellyfinSignIn, FakePlexSignIn, SECRETS, testConfig } from '../../test/support/server-fakes.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

class RefusingJellyfin extends FakeJellyfinSignIn {
  override async signInByName(url: string, username: string, password: string): Promise<JellyfinSignInResult> {
    const result = await super.signInByName(url, username, password);
    return { ...result, refusedRoutes: [{ url: 'http://10.9.9.9:8096', reason: 'a different Jellyfin server answers at the address this server reports' }] };
  }
}

describe('refused server-reported addresses', () => {
  it('are logged in words when a source is added', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const app = await buildApp({
      engine: new FakeEngine(),
      plexSignIn: new FakePlexSignIn(),
      jellyfinSignIn: new RefusingJellyfin(),
      config: testConfig(),
      logger: createLogger({ level: 'info', destination }),
    });
    apps.push(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/sources',
      headers: { 'content-type': 'application/json' },
      payload: { kind: 'jellyfin', url: 'http://127.0.0.3:8096', username: 'alice', password: SECRETS.jellyfinPassword },
    });
    expect(res.statusCode).toBe(201);
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; address?: string }).find((l) => l.address === 'http://10.9.9.9:8096');
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toBe(
      'the server reports the address http://10.9.9.9:8096, which was not added as a route: a different Jellyfin server answers at the address this server reports',
    );
  });
});
