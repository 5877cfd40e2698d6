// "Is this a Jellyfin server?" makes Marquee fetch an address given by the caller. Without an API
// key any web page could make a browser send that request (a GET passes the Origin rule), so the
// probe is a POST under the Origin rule, and the old GET fetches nothing.
// A loopback listener counts what reaches it: the proof that nothing was fetched.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackends } from '../backends/index.js';
import { buildApp } from './app.js';
import { FakeEngine, FakePlexSignIn, testConfig } from '../../test/support/server-fakes.js';

const SERVER_ID = '0123456789abcdef0123456789abcdef';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A loopback "Jellyfin" that answers the public info and counts every request. */
async function countingJellyfin(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if ((req.url ?? '').toLowerCase().startsWith('/system/info/public')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ServerName: 'Counted', Version: '10.11.3', ProductName: 'Jellyfin Server', Id: SERVER_ID, StartupWizardCompleted: true }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

async function setup(): Promise<FastifyInstance> {
  const backends = createBackends({ clientIdentifier: 'probe-ssrf-test', signInTimeoutMs: 3000 });
  const app = await buildApp({ engine: new FakeEngine(), plexSignIn: new FakePlexSignIn(), jellyfinSignIn: backends.jellyfinSignIn, config: testConfig() });
  cleanups.push(async () => {
    await app.close();
    await backends.close();
  });
  return app;
}

const host = '127.0.0.1:8844';
const json = { 'content-type': 'application/json', host };

describe('POST /api/jellyfin/probe', () => {
  it('refuses a cross-origin POST with 403 and fetches nothing', async () => {
    const jellyfin = await countingJellyfin();
    const app = await setup();
    for (const headers of [
      { ...json, origin: 'https://evil.example' },
      { ...json, origin: 'null' },
      { ...json, 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/api/jellyfin/probe', headers, payload: { url: jellyfin.url } });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().error).toBe('cross_origin');
    }
    expect(jellyfin.hits()).toBe(0);
  });

  it('the old GET ?url= fetches nothing', async () => {
    const jellyfin = await countingJellyfin();
    const app = await setup();
    const res = await app.inject({ method: 'GET', url: `/api/jellyfin/probe?url=${encodeURIComponent(jellyfin.url)}`, headers: { host, origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json().message).toMatch(/POST/);
    expect(jellyfin.hits()).toBe(0);
  });

  it('probes for a same-origin POST', async () => {
    const jellyfin = await countingJellyfin();
    const app = await setup();
    const res = await app.inject({ method: 'POST', url: '/api/jellyfin/probe', headers: { ...json, origin: `http://${host}` }, payload: { url: jellyfin.url } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ serverId: SERVER_ID, name: 'Counted', url: jellyfin.url, alreadyAdded: false });
    expect(jellyfin.hits()).toBeGreaterThan(0);

    const missing = await app.inject({ method: 'POST', url: '/api/jellyfin/probe', headers: json, payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/^body\.url:/);
  });
});
