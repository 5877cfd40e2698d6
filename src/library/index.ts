// The library layer (issue 14), assembled: the cache sync, the service the HTTP layer asks, and
// the image proxy's cache. Built once in src/cli/runtime.ts.
import { join } from 'node:path';
import type { LibrarySettings } from '../core/settings.js';
import type { Clock } from '../monitor/clock.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { LibraryCacheRepo } from '../store/index.js';
import { ImageCache } from './image-cache.js';
import { LibraryService } from './service.js';
import { LibrarySync, type LibraryUpdate } from './sync.js';

export { ImageCache, sniffImage, type ImageAnswer } from './image-cache.js';
export { LibraryService, type HomeAnswer, type ItemAnswer, type LibraryInfoAnswer, type LibraryItemsAnswer, type NotFound, type SearchAnswer, type SourcedItem } from './service.js';
export { LibrarySync, type LibrarySyncStatus, type LibraryUpdate, type SyncOutcome } from './sync.js';
export { PassThroughCaller } from './pass-through-caller.js';

export interface LibraryLayer {
  sync: LibrarySync;
  service: LibraryService;
  images: ImageCache;
  settings: LibrarySettings;
  /** A sync changed or failed a library (the SSE `library` event); returns an unsubscribe function. */
  onUpdate(listener: (update: LibraryUpdate) => void): () => void;
  start(): void;
  stop(): Promise<void>;
}

export interface LibraryLayerOptions {
  engine: Pick<Engine, 'listSources' | 'getSource' | 'subscribe' | 'onLibraryActivity'>;
  caller: RoutedCaller;
  cache: LibraryCacheRepo;
  settings: LibrarySettings;
  clock: Clock;
  /** The image cache lives in `<dataDir>/images`. */
  dataDir: string;
  logger?: { warn(obj: object, msg: string): void };
}

export function createLibraryLayer(options: LibraryLayerOptions): LibraryLayer {
  const listeners = new Set<(update: LibraryUpdate) => void>();
  const sync = new LibrarySync({
    engine: options.engine,
    caller: options.caller,
    cache: options.cache,
    settings: options.settings,
    clock: options.clock,
    ...(options.logger ? { logger: options.logger } : {}),
    onUpdate: (update) => listeners.forEach((l) => l(update)),
  });
  const service = new LibraryService({ engine: options.engine, caller: options.caller, cache: options.cache, sync, settings: options.settings, clock: options.clock });
  const images = new ImageCache({
    dir: join(options.dataDir, 'images'),
    maxBytes: options.settings.imageCacheBytes,
    engine: options.engine,
    caller: options.caller,
    cache: options.cache,
    clock: options.clock,
    timeoutMs: options.settings.itemTimeoutMs,
  });
  return {
    sync,
    service,
    images,
    settings: options.settings,
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: () => sync.start(),
    async stop() {
      sync.stop();
      await sync.idle();
    },
  };
}
