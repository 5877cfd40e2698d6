// Test parts of the library layer (issue 14): generated items, a scriptable fake LibraryBrowser
// (paging that lies, loops, hangs or fails on demand) and a pass-through RoutedCaller (the
// source's current connected route from the engine, its credentials, no retry) until the engine's
// failover caller is merged.
import type { BrowseResult, CallOptions, ImageBody, ImageSize, ItemDetail, ItemPage, ItemsQuery, LibraryBrowser, MediaBackend, RouteContext } from '../../src/backends/types.js';
import type { ImageRef, ItemType, LibraryItem } from '../../src/core/library.js';
import type { ProbeError, SourceKind } from '../../src/core/types.js';
import { createLibraryLayer, type LibraryLayer } from '../../src/library/index.js';
import { PassThroughCaller } from '../../src/library/pass-through-caller.js';
import { DEFAULT_LIBRARY_SETTINGS, type LibrarySettings } from '../../src/core/settings.js';
import { openDatabase, type Store } from '../../src/store/index.js';
import { FakeClock } from './fake-clock.js';
import { FakeEngine } from './server-fakes.js';
import type { RoutedCaller } from '../../src/monitor/engine-types.js';
import { makeTempDir } from './store.js';

const GENRES = ['Action', 'Comedy', 'Drama', 'Horror', 'Sci-Fi', 'Documentary', 'Animation', 'Thriller'];
const WORDS = ['Red', 'Silent', 'Last', 'Golden', 'Night', 'River', 'Storm', 'Glass', 'Iron', 'Paper', 'Winter', 'Lost'];

/** A deterministic item; `n` picks its title, year, genres, watched state… */
export function makeItem(n: number, overrides: Partial<LibraryItem> = {}): LibraryItem {
  const title = `${WORDS[n % WORDS.length]} ${WORDS[(n * 7 + 3) % WORDS.length]} ${n}`;
  const type: ItemType = overrides.type ?? 'movie';
  return {
    id: `item-${n}`,
    libraryId: '1',
    parentId: null,
    type,
    title,
    sortTitle: title,
    year: n % 13 === 0 ? null : 1950 + (n % 70),
    addedAt: n % 17 === 0 ? null : 1_600_000_000_000 + ((n * 7919) % 100_000) * 60_000,
    updatedAt: 1_700_000_000_000 + n,
    rating: n % 11 === 0 ? null : ((n * 37) % 100) / 10,
    durationMs: 5_400_000,
    overview: null,
    genres: [GENRES[n % GENRES.length]!, ...(n % 3 === 0 ? [GENRES[(n + 3) % GENRES.length]!] : [])],
    cast: [],
    index: null,
    parentIndex: null,
    parentTitle: null,
    grandparentTitle: null,
    childCount: null,
    watched: n % 4 === 0,
    resumeMs: n % 5 === 0 && n % 4 !== 0 ? 60_000 : null,
    lastViewedAt: n % 5 === 0 ? 1_700_000_000_000 + n * 1000 : null,
    poster: { kind: 'poster', path: `/library/metadata/${n}/thumb/1700000000` },
    backdrop: null,
    blurhash: null,
    ...overrides,
  };
}

export function makeItems(count: number, from = 0, overrides: Partial<LibraryItem> = {}): LibraryItem[] {
  return Array.from({ length: count }, (_, i) => makeItem(from + i, overrides));
}

/** A 1x1 PNG. */
export const PNG_BYTES = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));

type Answer<T> = BrowseResult<T> | 'hang';
const never = <T>(signal?: AbortSignal): Promise<T> =>
  new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

export const failure = (message: string, code: ProbeError['code'] = 'http_error'): { ok: false; error: ProbeError } => ({ ok: false, error: { code, message } });

/**
 * A LibraryBrowser over an in-memory library per id. Pages as a server does; each behaviour can be
 * replaced (`pageHook` to lie or loop, `answers` to fail or hang a method).
 */
export class FakeBrowser implements LibraryBrowser {
  readonly libraries = new Map<string, LibraryItem[]>();
  readonly calls: Array<{ method: string; arg: unknown }> = [];
  /** Replaces the page the fake would answer (lies about the total, repeats a page, …). */
  pageHook: ((query: ItemsQuery, honest: ItemPage) => BrowseResult<ItemPage> | 'hang') | null = null;
  continueRow: Answer<LibraryItem[]> = { ok: true, value: [] };
  recentRow: Answer<LibraryItem[]> = { ok: true, value: [] };
  searchAnswer: ((query: string) => Answer<LibraryItem[]>) | null = null;
  details = new Map<string, Answer<ItemDetail>>();
  images = new Map<string, Answer<ImageBody>>();

  async items(_call: RouteContext, query: ItemsQuery, options: CallOptions): Promise<BrowseResult<ItemPage>> {
    this.calls.push({ method: 'items', arg: query });
    const all = this.libraries.get(query.libraryId) ?? [];
    const matching = query.changedSinceMs === undefined ? all : all.filter((i) => (i.updatedAt ?? 0) >= query.changedSinceMs!);
    const honest: ItemPage = { items: matching.slice(query.start, query.start + query.limit), total: matching.length, start: query.start };
    const answer = this.pageHook ? this.pageHook(query, honest) : { ok: true as const, value: honest };
    return answer === 'hang' ? never(options.signal) : answer;
  }

  async item(_call: RouteContext, itemId: string, options: CallOptions): Promise<BrowseResult<ItemDetail>> {
    this.calls.push({ method: 'item', arg: itemId });
    const answer = this.details.get(itemId);
    if (answer === 'hang') return never(options.signal);
    if (answer) return answer;
    for (const list of this.libraries.values()) {
      const item = list.find((i) => i.id === itemId);
      if (item) return { ok: true, value: { item: { ...item, overview: `About ${item.title}`, cast: [{ name: 'A. Actor', role: 'Lead' }] }, children: [] } };
    }
    return failure('the server has no such item', 'http_error');
  }

  async continueWatching(_call: RouteContext, _limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    this.calls.push({ method: 'continueWatching', arg: null });
    return this.continueRow === 'hang' ? never(options.signal) : this.continueRow;
  }

  async recentlyAdded(_call: RouteContext, _limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    this.calls.push({ method: 'recentlyAdded', arg: null });
    return this.recentRow === 'hang' ? never(options.signal) : this.recentRow;
  }

  async search(_call: RouteContext, query: string, limit: number, options: CallOptions): Promise<BrowseResult<LibraryItem[]>> {
    this.calls.push({ method: 'search', arg: query });
    const answer = this.searchAnswer
      ? this.searchAnswer(query)
      : { ok: true as const, value: [...this.libraries.values()].flat().filter((i) => i.title.toLowerCase().includes(query.toLowerCase())).slice(0, limit) };
    return answer === 'hang' ? never(options.signal) : answer;
  }

  async image(_call: RouteContext, ref: ImageRef, size: ImageSize, options: CallOptions): Promise<BrowseResult<ImageBody>> {
    this.calls.push({ method: 'image', arg: { ref, size } });
    const answer = this.images.get(ref.path);
    if (answer === 'hang') return never(options.signal);
    return answer ?? { ok: true, value: { contentType: 'image/png', bytes: PNG_BYTES } };
  }
}

/** A backend that only browses (probes are the monitor's business, not these tests'). */
export function browsingBackend(kind: SourceKind, browse: LibraryBrowser): MediaBackend {
  return {
    kind,
    browse,
    probe: async () => ({ ok: false, routeId: '', at: 0, latencyMs: 0, error: { code: 'refused', message: 'not used' } }),
    libraries: async () => ({ ok: true, libraries: [] }),
  };
}

export { PassThroughCaller } from '../../src/library/pass-through-caller.js';

// ---- A rig: a real store, a fake engine with one connected source, the fake browser ----------

export interface LibraryRig {
  store: Store;
  engine: FakeEngine;
  browser: FakeBrowser;
  clock: FakeClock;
  layer: LibraryLayer;
  /** The routed caller the layer uses (pass-through, one fake server per source). */
  caller: RoutedCaller;
  dataDir: string;
  /** Adds a source known to the engine and the store, with its libraries, connected unless told. */
  addSource(name: string, options?: { libraries?: string[]; connected?: boolean; browser?: FakeBrowser }): string;
  close(): Promise<void>;
}

export function startLibraryRig(settings: Partial<LibrarySettings> = {}): LibraryRig {
  const tmp = makeTempDir('marquee-library-');
  const store = openDatabase({ dataDir: tmp.dir, maintenanceIntervalMs: 0, flushDelayMs: 0 });
  const engine = new FakeEngine();
  const browser = new FakeBrowser();
  const browsers = new Map<string, FakeBrowser>();
  const clock = new FakeClock();
  // One fake server per source when given, else the shared one.
  const routed = {
    call: ((sourceId, run, options) => {
      const b = browsers.get(sourceId) ?? browser;
      return new PassThroughCaller(engine, (kind) => browsingBackend(kind, b)).call(sourceId, run, options);
    }) as PassThroughCaller['call'],
  };
  const layer = createLibraryLayer({ engine, caller: routed, cache: store.libraryCache, settings: { ...DEFAULT_LIBRARY_SETTINGS, ...settings }, clock, dataDir: tmp.dir });
  return {
    store,
    engine,
    browser,
    clock,
    layer,
    caller: routed,
    dataDir: tmp.dir,
    addSource(name, options = {}) {
      const snapshot = engine.addSource({ name, kind: 'plex', serverId: 'a'.repeat(40), routes: [{ url: 'http://127.0.0.1:32400', kind: 'local', priority: 0 }], credentials: { token: 'secret-token-abcdef' } });
      const id = snapshot.source.id;
      store.sqlite.prepare("INSERT INTO sources (id, name, kind, server_id, credential_ref, created_at) VALUES (?, ?, 'plex', ?, ?, 0)").run(id, name, 'a'.repeat(40), `cred-${id}`);
      if (options.browser) browsers.set(id, options.browser);
      engine.setLibraries(id, (options.libraries ?? ['1']).map((l) => ({ id: l, name: `Library ${l}`, type: 'movie' as const })));
      if (options.connected !== false) engine.setConnected(id, 'local', 5);
      return id;
    },
    async close() {
      await layer.stop();
      store.close();
      tmp.remove();
    },
  };
}
