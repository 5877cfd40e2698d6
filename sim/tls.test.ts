import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, type Simulation } from './index.js';

let sim: Simulation;
let url: string;

beforeAll(async () => {
  sim = await createSimulation({
    servers: [{ id: 'secure', kind: 'plex', name: 'Secure Plex', routes: [{ id: 'secure-remote', kind: 'remote', host: '127.0.0.9', port: 0, tls: true }] }],
  });
  url = sim.servers[0]!.routes[0]!.url;
});
afterAll(() => sim.close());

function get(options: https.RequestOptions): Promise<{ status: number } | { code: string }> {
  return new Promise((resolve) => {
    const req = https.get(`${url}/identity`, { ...options, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? err.message }));
  });
}

describe('TLS routes', () => {
  it('serve HTTPS with a certificate from the simulation CA', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.9:\d+$/);
    expect(sim.tlsCa).toContain('BEGIN CERTIFICATE');
    expect(await get({ ca: sim.tlsCa })).toEqual({ status: 200 });
    // Without the CA the issuer is unknown, as a self-signed server looks to a strict client.
    expect(await get({})).toEqual({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const resources = (await (await fetch(`${sim.plexTvUrl}/api/v2/resources?X-Plex-Token=${sim.plexTv.accountToken()}`, { headers: { Accept: 'application/json' } })).json()) as { connections: unknown[] }[];
    expect(resources[0]!.connections[0]).toMatchObject({ protocol: 'https', uri: url });
  });

  it('tls-mismatch presents a valid chain for another name', async () => {
    await sim.route('secure-remote').fault({ mode: 'tls-mismatch' });
    expect(await get({ ca: sim.tlsCa })).toEqual({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(await get({ ca: sim.tlsCa, rejectUnauthorized: false })).toEqual({ status: 200 });
    await sim.route('secure-remote').fault({ mode: 'up' });
    expect(await get({ ca: sim.tlsCa })).toEqual({ status: 200 });
  });

  it('hang stalls the TLS handshake itself until the client gives up', async () => {
    await sim.route('secure-remote').fault({ mode: 'hang' });
    const start = Date.now();
    expect(await get({ ca: sim.tlsCa, timeout: 500 })).toEqual({ code: 'CLIENT_TIMEOUT' });
    expect(Date.now() - start).toBeGreaterThanOrEqual(450);
    await sim.route('secure-remote').fault({ mode: 'up' });
  });
});
