// Fixtures for the library tests: one Plex and one Jellyfin server with every kind of library.
import type { SimConfig } from './config.js';

export function libraryConfig(): SimConfig {
  return {
    plexTv: { host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }] },
    servers: [
      {
        id: 'plex-lib',
        kind: 'plex',
        name: 'Library Plex',
        routes: [{ id: 'plex-lib-local', kind: 'local', host: '127.0.0.2', port: 0 }],
        libraries: [
          { title: 'Movies', type: 'movie', itemCount: 250 },
          { title: 'TV Shows', type: 'show', itemCount: 30 },
          { title: 'Music', type: 'artist', itemCount: 12 },
          { title: 'Photos', type: 'photo', itemCount: 15 },
        ],
      },
      {
        id: 'jf-lib',
        kind: 'jellyfin',
        name: 'Library Jellyfin',
        users: [{ name: 'demo', password: 'pw', admin: true }],
        routes: [{ id: 'jf-lib-local', kind: 'local', host: '127.0.0.6', port: 0 }],
        libraries: [
          { name: 'Movies', collectionType: 'movies', itemCount: 120 },
          { name: 'Shows', collectionType: 'tvshows', itemCount: 20 },
          { name: 'Music', collectionType: 'music', itemCount: 8 },
          { name: 'Mixed', itemCount: 9 },
        ],
      },
    ],
  };
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(body: Buffer): { width: number; height: number } {
  return { width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
}

export const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
