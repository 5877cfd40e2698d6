// Config generator for scale runs: N servers x 3 routes (local/remote/relay), spread over many
// loopback addresses so no single address needs tens of thousands of ports.
import type { SimConfig } from './config.js';

export function makeScaleConfig(serverCount: number, options: { jellyfinEvery?: number } = {}): SimConfig {
  if (!Number.isInteger(serverCount) || serverCount < 1) throw new Error('server count must be a positive integer');
  const jellyfinEvery = options.jellyfinEvery ?? 4;
  // Routes of server i live on 127.(10 + k).(i / 250).(i % 250 + 1): one address per route.
  const address = (i: number, k: number) => `127.${10 + k}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
  const kinds = ['local', 'remote', 'relay'] as const;
  return {
    plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }] },
    servers: Array.from({ length: serverCount }, (_, i) => {
      const jellyfin = jellyfinEvery > 0 && i % jellyfinEvery === jellyfinEvery - 1;
      const routes = kinds
        .filter((k) => !(jellyfin && k === 'relay'))
        .map((kind, k) => ({ id: `s${i}-${kind}`, kind, host: address(i, k), port: 0 }));
      return jellyfin
        ? { id: `s${i}`, kind: 'jellyfin' as const, name: `Jellyfin ${i}`, routes: [...routes, { id: `s${i}-alt`, kind: 'remote' as const, host: address(i, 2), port: 0 }], libraries: [{ name: 'Movies', collectionType: 'movies' as const }] }
        : { id: `s${i}`, kind: 'plex' as const, name: `Plex ${i}`, routes, libraries: [{ title: 'Movies', type: 'movie' as const }] };
    }),
  };
}
