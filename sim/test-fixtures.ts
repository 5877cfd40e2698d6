// Shared fixtures for the simulator's own tests: a small config and request helpers.
import type { SimConfig } from './config.js';

export function smallConfig(overrides: Partial<SimConfig> = {}): SimConfig {
  return {
    plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }, { username: 'friend' }] },
    jellyfinKeepAliveScale: 0.05,
    servers: [
      {
        id: 'plex-a',
        kind: 'plex',
        name: 'Living-room Plex',
        owner: 'demo',
        routes: [
          { id: 'plex-a-local', kind: 'local', host: '127.0.0.2', port: 0 },
          { id: 'plex-a-remote', kind: 'remote', host: '127.0.0.3', port: 0 },
          { id: 'plex-a-relay', kind: 'relay', host: '127.0.0.4', port: 0 },
        ],
        libraries: [
          { title: 'Movies', type: 'movie' },
          { title: 'TV Shows', type: 'show' },
        ],
      },
      {
        id: 'plex-b',
        kind: 'plex',
        name: "Friend's Plex",
        owner: 'friend',
        sharedWith: ['demo'],
        routes: [{ id: 'plex-b-remote', kind: 'remote', host: '127.0.0.5', port: 0 }],
        libraries: [{ title: 'Films', type: 'movie' }],
      },
      {
        id: 'jf',
        kind: 'jellyfin',
        name: 'Home Jellyfin',
        users: [
          { name: 'demo', password: 'secret pw', admin: true },
          { name: 'kid', password: 'kid' },
        ],
        routes: [
          { id: 'jf-local', kind: 'local', host: '127.0.0.6', port: 0 },
          { id: 'jf-remote', kind: 'remote', host: '127.0.0.7', port: 0 },
        ],
        libraries: [{ name: 'Movies', collectionType: 'movies' }, { name: 'Mixed' }],
      },
    ],
    ...overrides,
  };
}

export const PLEX_HEADERS = { Accept: 'application/json', 'X-Plex-Client-Identifier': 'test-client-1', 'X-Plex-Product': 'Marquee Test' };

export function mediaBrowser(fields: { token?: string; deviceId?: string } = {}): string {
  const enc = encodeURIComponent;
  const parts = [`Client="${enc('Marquee Test')}"`, `Device="${enc('Test Device')}"`, `DeviceId="${enc(fields.deviceId ?? 'device-1')}"`, `Version="1.0.0"`];
  if (fields.token) parts.push(`Token="${fields.token}"`);
  return `MediaBrowser ${parts.join(', ')}`;
}
