// Helpers shared by the store's tests (and the crash suite): temp data dirs and sample records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StoreLogger } from '../../src/store/logger.js';
import type { NewSourceRecord } from '../../src/store/repos/sources-repo.js';

export function makeTempDir(prefix = 'marquee-store-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sampleSource(n: number, kind: 'plex' | 'jellyfin' = n % 2 === 0 ? 'plex' : 'jellyfin'): NewSourceRecord {
  const hex = n.toString(16).padStart(4, '0');
  return {
    name: `${kind === 'plex' ? 'Plex' : 'Jellyfin'} server ${n}`,
    kind,
    serverId: kind === 'plex' ? hex.repeat(10) : hex.repeat(8),
    routes: [
      { url: `http://127.0.0.2:${20000 + n}`, kind: 'local', priority: 0 },
      { url: `https://127.0.0.3:${20000 + n}`, kind: 'remote', priority: 0 },
      { url: `https://127.0.0.4:${20000 + n}`, kind: 'relay', priority: 0 },
    ],
    credentials: { token: `token-${n}-secret`, userId: `user-${n}` },
  };
}

/** A logger that remembers what was logged, to assert on warnings (and on the absence of secrets). */
export function recordingLogger(): StoreLogger & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

/** `node --import <this>` runs a TypeScript child from any working directory. */
export function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}
