// Keeps the library cache in step with the servers (issue 14). A cold sync pages through a library
// into the store's staging table and swaps it in at the end (items gone on the server disappear);
// later syncs ask only for changes since the high-water mark (Plex updatedAt, Jellyfin
// MinDateLastSaved), and a full sync comes again every `fullSyncMs` because incremental answers do
// not show deletions. The paging decisions are pure (src/core/library-sync.ts).
//
// Triggers: a source becoming connected (a reconnect refreshes in place), its library list changing,
// the server's own hint that contents changed (the push channel's library_changed, through the
// engine's `onLibraryActivity`, debounced per source), and a periodic timer.
// Never two syncs of one library at once (a second request joins the one running); at most
// `maxConcurrentSyncs` across the install. A failed sync keeps the old cache and records why.
import type { LibraryItem } from '../core/library.js';
import { afterPage, planSync, startPaging, type PagingStep } from '../core/library-sync.js';
import type { LibrarySettings } from '../core/settings.js';
import type { Clock, TimerHandle } from '../monitor/clock.js';
import type { Engine, RoutedCaller, SourceSnapshot } from '../monitor/engine-types.js';
import { Semaphore } from '../monitor/semaphore.js';
import type { LibraryCacheRepo } from '../store/index.js';

export type SyncState = 'never' | 'syncing' | 'synced' | 'failed';

export interface LibrarySyncStatus {
  state: SyncState;
  syncedAt: number | null;
  error?: string;
}

export type SyncOutcome = { ok: true; mode: 'full' | 'incremental'; changed: number; items: number } | { ok: false; error: string };

export interface LibraryUpdate {
  sourceId: string;
  libraryId: string;
  status: LibrarySyncStatus;
  changed: number;
}

export interface LibrarySyncOptions {
  engine: Pick<Engine, 'listSources' | 'getSource' | 'subscribe' | 'onLibraryActivity'>;
  caller: RoutedCaller;
  cache: LibraryCacheRepo;
  settings: LibrarySettings;
  clock: Clock;
  logger?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  /** A sync finished (changed or failed): the SSE `library` event. */
  onUpdate?(update: LibraryUpdate): void;
}

const SEEN_KEPT_MS = 30 * 24 * 3_600_000;
/** Lets timers and I/O that became due run before the next step (real time: not a schedule). */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const isOnline = (s: SourceSnapshot) => s.status.state === 'connected' || s.status.state === 'sync_failed';
const key = (sourceId: string, libraryId: string) => `${sourceId}\u0000${libraryId}`;

export class LibrarySync {
  private readonly running = new Map<string, Promise<SyncOutcome>>();
  private readonly semaphore: Semaphore;
  /** What each source looked like last time: a reconnect or a new library list triggers a sync. */
  private readonly seen = new Map<string, { online: boolean; libraries: string }>();
  private unsubscribe: (() => void) | null = null;
  private unsubscribeActivity: (() => void) | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: LibrarySyncOptions) {
    this.semaphore = new Semaphore(options.settings.maxConcurrentSyncs);
  }

  start(): void {
    if (this.unsubscribe) return;
    this.stopped = false;
    this.unsubscribe = this.options.engine.subscribe((message) => {
      // Status changes arrive as engine events carrying the snapshot; library lists as `source` messages.
      if (message.type === 'source') this.observe(message.source);
      else if (message.type === 'engine' && message.message.source) this.observe(message.message.source);
      else if (message.type === 'removed') this.seen.delete(message.sourceId);
    });
    // The server's own word that its contents changed (debounced per source by the push supervisor):
    // an incremental refresh of that source's libraries now, not at the next timer tick.
    this.unsubscribeActivity =
      this.options.engine.onLibraryActivity?.((sourceId) => {
        const snapshot = this.options.engine.getSource(sourceId);
        if (!this.stopped && snapshot && isOnline(snapshot)) void this.syncSource(sourceId);
      }) ?? null;
    for (const snapshot of this.options.engine.listSources()) this.observe(snapshot);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unsubscribeActivity?.();
    this.unsubscribeActivity = null;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
  }

  /** Resolves when every sync running now has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  isSyncing(sourceId: string, libraryId: string): boolean {
    return this.running.has(key(sourceId, libraryId));
  }

  status(sourceId: string, libraryId: string, options: { settled?: boolean } = {}): LibrarySyncStatus {
    const record = this.options.cache.syncState(sourceId, libraryId);
    const syncedAt = record?.syncedAt ?? null;
    if (!options.settled && this.isSyncing(sourceId, libraryId)) return { state: 'syncing', syncedAt };
    if (record?.error && (record.errorAt ?? 0) >= (syncedAt ?? 0)) return { state: 'failed', syncedAt, error: record.error };
    return { state: syncedAt === null ? 'never' : 'synced', syncedAt };
  }

  /** Syncs every library of a source (full or incremental as due). */
  syncSource(sourceId: string): Promise<SyncOutcome[]> {
    const snapshot = this.options.engine.getSource(sourceId);
    if (!snapshot) return Promise.resolve([]);
    return Promise.all(snapshot.libraries.map((l) => this.syncLibrary(sourceId, l.id)));
  }

  /** One library; joins a sync of it already running. `full` forces a cold sync. */
  syncLibrary(sourceId: string, libraryId: string, options: { full?: boolean } = {}): Promise<SyncOutcome> {
    const k = key(sourceId, libraryId);
    const existing = this.running.get(k);
    if (existing) return existing;
    const run = this.run(sourceId, libraryId, options.full ?? false).finally(() => this.running.delete(k));
    this.running.set(k, run);
    return run;
  }

  private observe(snapshot: SourceSnapshot): void {
    const id = snapshot.source.id;
    const online = isOnline(snapshot);
    const libraries = snapshot.libraries.map((l) => l.id).join('\u0000');
    const before = this.seen.get(id);
    this.seen.set(id, { online, libraries });
    if (this.stopped || !online) return;
    if (!before || !before.online || before.libraries !== libraries) void this.syncSource(id);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      for (const snapshot of this.options.engine.listSources()) if (isOnline(snapshot)) void this.syncSource(snapshot.source.id);
      this.pruneSeen();
      this.schedule();
    }, this.options.settings.refreshMs);
  }

  /** Items seen only in home rows or searches, not seen for 30 days, go (they would pile up). */
  private pruneSeen(): void {
    try {
      this.options.cache.pruneSeen(this.options.clock.now() - SEEN_KEPT_MS);
    } catch {
      // A degraded store: the next tick tries again.
    }
  }

  private async run(sourceId: string, libraryId: string, forceFull: boolean): Promise<SyncOutcome> {
    const release = await this.semaphore.acquire(this.abort.signal);
    if (!release) return { ok: false, error: 'Marquee is shutting down' };
    const { cache, clock, settings } = this.options;
    try {
      const plan = forceFull ? { mode: 'full' as const } : planSync(cache.syncState(sourceId, libraryId), clock.now(), settings.fullSyncMs);
      const outcome = await this.page(sourceId, libraryId, plan.mode === 'incremental' ? plan.sinceMs : undefined);
      if (!outcome.ok) return this.failed(sourceId, libraryId, outcome.error);
      // In short steps that yield between them: the monitor, SSE and HTTP never wait on a big merge.
      const { changed } = await cache.commitStagedStepwise(sourceId, libraryId, plan.mode, clock.now(), yieldToEventLoop);
      this.options.onUpdate?.({ sourceId, libraryId, status: this.status(sourceId, libraryId, { settled: true }), changed });
      return { ok: true, mode: plan.mode, changed, items: outcome.items };
    } catch (error) {
      cache.stageDiscard(sourceId, libraryId);
      return this.failed(sourceId, libraryId, `the cache could not be written: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      release();
    }
  }

  /** Pages into the staging table; the cache itself is untouched until the commit. */
  private async page(sourceId: string, libraryId: string, changedSinceMs: number | undefined): Promise<{ ok: true; items: number } | { ok: false; error: string }> {
    const { cache, caller, settings } = this.options;
    cache.stageBegin(sourceId, libraryId);
    let step: PagingStep = { action: 'fetch', state: startPaging(settings.pageSize) };
    while (step.action === 'fetch') {
      if (this.stopped) return { ok: false, error: 'Marquee is shutting down' };
      const start = step.state.next;
      const answer = await caller.call(
        sourceId,
        (use, signal) => {
          const browse = use.backend.browse;
          if (!browse) return Promise.resolve({ ok: false as const, error: { code: 'http_error' as const, message: 'this kind of server cannot be browsed' } });
          return browse.items(use, { libraryId, start, limit: settings.pageSize, ...(changedSinceMs !== undefined ? { changedSinceMs } : {}) }, { timeoutMs: settings.pageTimeoutMs, signal });
        },
        { timeoutMs: settings.pageTimeoutMs, signal: this.abort.signal },
      );
      if (!answer.ok) {
        cache.stageDiscard(sourceId, libraryId);
        return { ok: false, error: answer.reason === 'offline' ? `the server is not reachable (${answer.message})` : answer.message };
      }
      const items = wellFormed(answer.value?.items);
      if (items === null) {
        cache.stageDiscard(sourceId, libraryId);
        return { ok: false, error: `the server's answer for items from ${start} was not a list of items` };
      }
      const before = cache.stagedCount(sourceId, libraryId);
      cache.stagePage(sourceId, libraryId, items);
      const fresh = cache.stagedCount(sourceId, libraryId) - before;
      const total = Number.isFinite(answer.value.total) ? answer.value.total : 0;
      step = afterPage(step.state, { count: items.length, fresh, total });
    }
    if (step.action === 'fail') {
      cache.stageDiscard(sourceId, libraryId);
      return { ok: false, error: step.reason };
    }
    return { ok: true, items: step.state.received };
  }

  private failed(sourceId: string, libraryId: string, error: string): SyncOutcome {
    const { cache, clock } = this.options;
    cache.recordSyncError(sourceId, libraryId, error, clock.now());
    this.options.logger?.warn({ sourceId, libraryId, error }, 'library sync failed; the cache keeps what it had');
    this.options.onUpdate?.({ sourceId, libraryId, status: { state: 'failed', syncedAt: cache.syncState(sourceId, libraryId)?.syncedAt ?? null, error }, changed: 0 });
    return { ok: false, error };
  }
}

/** The backend parsed the body already; this guards against a double that did not. */
function wellFormed(items: unknown): LibraryItem[] | null {
  if (!Array.isArray(items)) return null;
  return items.every((i) => typeof i === 'object' && i !== null && typeof (i as LibraryItem).id === 'string' && typeof (i as LibraryItem).title === 'string') ? (items as LibraryItem[]) : null;
}
